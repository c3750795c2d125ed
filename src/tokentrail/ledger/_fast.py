"""The fold's optional C helpers (``_columns.c``): ``drain`` takes the queue at once, ``one_group`` sums
a batch that is one group. Where the module was not built, or ``TOKENTRAIL_NO_SPEEDUPS=1``, the same
work runs in Python (``drain_queue`` here; ``one_group`` says None and the fold groups and sums)."""

from __future__ import annotations

import os
from collections import deque
from typing import Any


def drain_queue(queue: deque[Any]) -> list[Any]:
    """Every queued item, oldest first: only a folder pops, so the first n are there while others append."""
    pop = queue.popleft
    return [pop() for _ in range(len(queue))]


def no_group(pairs: list[Any]) -> tuple[Any, ...] | None:
    """The pure-Python stand-in for ``one_group``: never sums (the fold groups and sums in Python)."""
    return None


def _load() -> Any:
    if os.environ.get("TOKENTRAIL_NO_SPEEDUPS"):
        return None
    try:
        from . import _columns  # type: ignore[attr-defined]
    except ImportError:
        return None
    return _columns


COLUMNS = _load()
drain = drain_queue if COLUMNS is None else COLUMNS.drain
one_group = no_group if COLUMNS is None else COLUMNS.one_group
