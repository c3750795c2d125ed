"""The fold's optional C helpers (``_columns.c``): ``drain`` takes the queue at once, ``one_group`` sums
a batch that is one group, ``add_flat`` adds a priced batch to an accumulator's slots in place, and
``fold_flat`` folds the usual batch (one group at cached flat rates) in one step. Where the module
was not built, or ``TOKENTRAIL_NO_SPEEDUPS=1``, the same work runs in Python (``drain_queue`` here;
``one_group`` says None and the fold groups and sums; ``fold_flat`` says False and ``_fold`` folds)."""

from __future__ import annotations

from collections import deque
from typing import Any

from .._native import load
from ..model import Accumulator


def drain_queue(queue: deque[Any]) -> list[Any]:
    """Every queued item, oldest first: only a folder pops, so the first n are there while others append."""
    pop = queue.popleft
    return [pop() for _ in range(len(queue))]


def no_fold(ledger: Any, items: list[Any]) -> bool:
    """The pure-Python stand-in for ``fold_flat``: never folds (``Ledger._fold`` does)."""
    return False


def fold_owner(owner: Any) -> None:
    """The pure-Python stand-in for ``fold_now``: the owner's own ``fold``."""
    owner.fold()


def no_group(pairs: list[Any]) -> tuple[Any, ...] | None:
    """The pure-Python stand-in for ``one_group``: never sums (the fold groups and sums in Python)."""
    return None


COLUMNS = load("tokentrail.ledger._columns")
# the ledger's queue: C's sums each pair's columns as it is queued (``drain`` takes it whole)
new_queue: Any = deque if COLUMNS is None else COLUMNS.Queue
drain = drain_queue if COLUMNS is None else COLUMNS.drain
one_group = no_group if COLUMNS is None else COLUMNS.one_group
fold_flat = no_fold if COLUMNS is None else COLUMNS.fold_flat  # bound in ledger.py (Aggregates, prices)
fold_now = fold_owner if COLUMNS is None else COLUMNS.fold_now  # Ledger.fold: the usual batch all in C
add_flat: Any = Accumulator.add_flat  # (accumulator, calls, duration_ms, usage, cost)
if COLUMNS is not None:
    COLUMNS.bind_accumulator(Accumulator)
    add_flat = COLUMNS.add_flat
