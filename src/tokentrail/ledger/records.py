"""A finished SDK call kept as one small tuple of what it already has until someone reads its event.

Nobody needs a typed event for a call nobody watches one by one: its totals are summed from the
records' columns and its group's rates. A record is the handle's own pieces, referenced, not copied
(building it costs one 6-tuple on the caller's path); ``build`` makes the event when it is first
read, priced with the rates its totals used (the ledger builds what it keeps before prices change).

Layout (``runs.calls.CallHandle.settled`` writes it; only finished calls with usage, status ok):
``(number, head, ended_at, outcome, tail, is_async)`` where

- number: the call's number (its id is ``id_of(number)``)
- head: ``(kind, provider, model, operation, method, started_at)`` (``CallHandle._head``)
- outcome: the :class:`~tokentrail.model.Outcome` read from the provider's answer (usage not None;
  raw usage a plain dict, shown read-only, or a read-only mapping, or None)
- tail: ``(tool, run id, run path, context or None, attempt)`` (``CallHandle._tail``)
"""

from __future__ import annotations

from operator import itemgetter
from types import MappingProxyType
from typing import Any

from ..model import EMPTY_CONTEXT, UsageEvent
from ..model.ids import id_of
from ..pricing import PRICES

CallRecord = tuple[Any, ...]

HEAD, ENDED, OUTCOME, TAIL = itemgetter(1), itemgetter(2), itemgetter(3), itemgetter(4)
KIND_PROVIDER_MODEL, STARTED = itemgetter(0, 1, 2), itemgetter(5)  # of a head
USAGE, ANSWERED_TIER, PROVIDER_COST = itemgetter(0), itemgetter(1, 7), itemgetter(6)  # of an outcome
TOOL = itemgetter(0)  # of a tail
TOKENS = itemgetter(0, 1, 3, 4, 5)  # of a usage: input, output, cached, cache write, reasoning

_new = tuple.__new__
_proxy = MappingProxyType


def build(r: CallRecord) -> UsageEvent:
    """The typed, priced event of record ``r`` (the same event the call would have made at once)."""
    number, head, ended, f, tail, is_async = r
    usage, raw = f[0], f[5]
    cost = PRICES.call_cost(head[1], head[2], f[1], usage, f[6], f[7])
    raw = _proxy(raw) if type(raw) is dict else raw
    event: UsageEvent = _new(UsageEvent, (
        id_of(number), *head, ended, usage, cost, "ok", "provider", f[1], is_async, None, f[2], f[3],
        *tail[:3], tail[3] or EMPTY_CONTEXT, tail[4], f[4], f[7], raw, None,
    ))  # fmt: skip
    return event


def built(item: Any) -> UsageEvent:
    """``item`` (an event or a record) as an event: records are built, events pass through."""
    event: UsageEvent = build(item) if type(item) is tuple else item
    return event
