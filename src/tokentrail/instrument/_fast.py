"""The optional C hot path (``_speedups.c``): ``settle(call, result[, finish_reason])`` queues a usual
parsed OpenAI result's (or a chat stream's end's) flat record and returns True, or returns False
having done nothing (the Python path then reads it); ``PROXY`` is a sync chat stream as the user sees
it, relayed and ended in C; its ``begin`` is bound in ``_call.py``. Where the module was not built, or
``TOKENTRAIL_NO_SPEEDUPS=1``, ``settle`` always says False, ``PROXY`` is None and the same Python code
runs."""

from __future__ import annotations

import time
from typing import Any

from .._native import load
from ..runs.tracker import TRACKER
from ._flat import _SHAPES


def _python(call: Any, result: Any, finish_reason: Any = None) -> bool:
    """The pure-Python stand-in: never handles a call (``Call.succeeded`` reads it)."""
    return False


SPEEDUPS = load("tokentrail.instrument._speedups")
if SPEEDUPS is not None:
    _ledger = TRACKER.ledger  # one for the process, its queue one deque for its life
    SPEEDUPS.bind(_ledger, _ledger.switches, _ledger.pending, _SHAPES, time.time)
settle = _python if SPEEDUPS is None else SPEEDUPS.settle
PROXY: Any = None if SPEEDUPS is None else SPEEDUPS.Proxy
REQUEST: Any = None if SPEEDUPS is None else SPEEDUPS.Request  # the sync request wrapper (``_wrap``)


def _succeeded(call: Any, result: Any) -> Any:
    """The pure-Python stand-in for ``finish``: ``Call.succeeded``."""
    return call.succeeded(result)


finish = _succeeded if SPEEDUPS is None else SPEEDUPS.finish  # the async wrapper's ``succeeded``


def _no_call() -> Any:
    return None


current_call = _no_call if SPEEDUPS is None else SPEEDUPS.current_call  # the sync call a Request sends


def read_models_directly(chunk_types: tuple[type, ...]) -> None:
    """Let the C path read SDK models' fields from their instance dict and pydantic's slots, and these
    chunk types' in the relay, without attribute lookups; pydantic v1 (no such slots): by attribute."""
    if SPEEDUPS is None:
        return
    try:
        from pydantic import BaseModel

        SPEEDUPS.bind_models(BaseModel, tuple(t for t in chunk_types if issubclass(t, BaseModel)))
    except (ImportError, TypeError):
        pass
