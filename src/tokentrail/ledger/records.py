"""A finished SDK call kept as one flat tuple of plain values until someone reads its event.

Nobody needs a typed event for a call nobody watches one by one: its totals are summed from the
record's columns and its group's rates. A tuple of atoms is all the collector ever has to see of it
(it stops tracking it after one pass), where an event, its ``Usage`` and its ``Cost`` are three
objects it walks for as long as they are kept. ``build`` makes the event when it is first read,
priced with the rates its totals used (the ledger builds what it keeps before prices change).

Layout (``runs.calls.CallHandle.settled`` writes it; only finished calls with usage, status ok):

====  ==================================================================
0     the call's number (its id is ``id_of(number)``)
1-6   kind, provider, model, operation, method, started_at
7     ended_at
8-13  usage: input, output, total, cached input, cache write, reasoning
14    provider-reported cost (or None)
15    response model
16    is_async
17    finish reason
18    tool calls
19-23 tool, run id, run path, context (None: no context), attempt
24    response id
25    service tier
26-   raw usage: a plain dict or a read-only mapping (shown read-only), or None; or a flat raw
      usage's shape, its values from 27 on (``model.raw_view``: atoms only, so the collector
      untracks a kept record at its first collection)
====  ==================================================================

A manual ``tt.record()`` (status ok, no metadata) is kept the same way, so the columns above sum
and price it in the fold: 0 is its id (a str, where a call's is its number), 15-18 and 23-25 hold
what every manual event has (None, False, None, (), 1, None, None), 26 its raw usage as given (None
or a mapping) and 27 its usage source. Its event is priced as ``record()`` priced it.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from ..model import EMPTY_CONTEXT, Usage, UsageEvent, raw_view
from ..model.ids import id_of
from ..pricing import PRICES

CallRecord = tuple[Any, ...]

# (kind, provider, response model, model, tool, service tier): the calls one set of rates prices
# (``_columns.c`` reads these columns, and TOKENS, STARTED, ENDED, PROVIDER_COST, by number)
GROUP_KEY = itemgetter(1, 2, 15, 3, 19, 25)
STARTED, ENDED, PROVIDER_COST = itemgetter(6), itemgetter(7), itemgetter(14)
TOKENS = itemgetter(8, 9, 11, 12, 13)  # input, output, cached, cache write, reasoning

_new = tuple.__new__


def build(r: CallRecord) -> UsageEvent:
    """The typed, priced event of record ``r`` (the same event the call would have made at once)."""
    usage: Usage = _new(Usage, r[8:14])
    if type(r[0]) is str:  # a manual record()
        manual: UsageEvent = _new(UsageEvent, (
            *r[:8], usage, PRICES.cost(r[3], r[2], usage, r[14]), "ok", r[27], *r[15:17], None, *r[17:22],
            r[22] or EMPTY_CONTEXT, *r[23:26], r[26], None,
        ))  # fmt: skip
        return manual
    event: UsageEvent = _new(UsageEvent, (
        id_of(r[0]), *r[1:8], usage, PRICES.call_cost(r[2], r[3], r[15], usage, r[14], r[25]), "ok",
        "provider", r[15], r[16], None, r[17], r[18], *r[19:22], r[22] or EMPTY_CONTEXT, r[23], r[24], r[25],
        raw_view(r[26:] if type(r[26]) is tuple else r[26]), None,
    ))  # fmt: skip
    return event


def built(item: Any) -> UsageEvent:
    """``item`` (an event or a record) as an event: records are built, events pass through."""
    event: UsageEvent = build(item) if type(item) is tuple else item
    return event
