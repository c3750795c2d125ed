"""The append-only ledger: events in, exact totals updated under a short lock, subscribers told after.

When nobody needs each event as it happens (no ``usage`` subscriber, no budget), a finished call is
only queued (one deque append, no lock); it is added to the totals in a batch the next time anything
reads them, or every ``FOLD_AT`` calls. An SDK call arrives as a flat record (``records.py``): when
its group has flat rates, the batch's tokens are summed by column and priced once, and the record is
kept as it is until someone reads the events. Reads are exact either way.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from operator import itemgetter, sub
from typing import Any, TypeVar

from ..model import Accumulator, Usage, UsageEvent
from ..model.usage import summed
from ..pricing import PRICES
from . import _fast
from .aggregates import NO_MODEL, Aggregates
from .hub import Hub
from .records import ENDED, GROUP_KEY, PROVIDER_COST, STARTED, TOKENS, CallRecord, built
from .switches import Switches

log = logging.getLogger("tokentrail")
DEFAULT_MAX_EVENTS = 100_000
_GROUP_KEY = itemgetter(1, 2, 12, 3, 17)  # an event's kind, provider, response model, model, tool: in C
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
FOLD_AT = 256  # queued calls that trigger a fold by the caller: bounds memory, keeps the batch warm

Scopes = Sequence[Aggregates]
Pair = tuple[Any, Scopes]  # (an event or a call's record, the run scopes it counts in)
T = TypeVar("T")


def _sums(records: list[CallRecord]) -> tuple[Any, ...]:
    """(n, input, output, cached, cache write, reasoning, seconds) of ``records``: ``one_group`` in Python."""
    tokens = map(sum, zip(*map(TOKENS, records)))
    return (len(records), *tokens, sum(map(sub, map(ENDED, records), map(STARTED, records))))


def _built_pair(pair: Pair) -> tuple[UsageEvent, Scopes]:
    return built(pair[0]), pair[1]


def _each(build: Callable[[Any], T], items: list[Any], after: str) -> list[T]:
    """``build`` applied to each item; one that cannot be built is logged and left out (a bug in one
    must not lose the others). ``after`` says what becomes of its totals."""
    try:
        return list(map(build, items))
    except Exception:
        out = []
        for item in items:
            try:
                out.append(build(item))
            except Exception:
                log.exception("tokentrail: could not build the event of a finished call (%s)", after)
        return out


def _built_pairs(pairs: list[Pair]) -> list[tuple[UsageEvent, Scopes]]:
    """``pairs`` with each record built into its event, for the totals (one that fails is not counted)."""
    return _each(_built_pair, pairs, "it is not counted")


def _built_beside(pairs: list[Pair]) -> tuple[list[tuple[UsageEvent, Scopes]], list[CallRecord]]:
    """``_built_pairs`` of record pairs, and the records that were built, in the same order."""
    built_pairs = _built_pairs(pairs)  # logs any that cannot be built
    if len(built_pairs) == len(pairs):
        return built_pairs, list(map(_FIRST, pairs))
    ok = [pair for pair in pairs if _buildable(pair[0])]
    return [(built(r), s) for r, s in ok], list(map(_FIRST, ok))


def _buildable(record: CallRecord) -> bool:
    try:
        built(record)
    except Exception:
        return False
    return True


def _built_events(items: list[Any]) -> list[UsageEvent]:
    """Kept records built into events for a reader (one that fails is left out; its totals count)."""
    return _each(built, items, "its totals count")


def _grouped(keys: list[Any], things: list[Any], pairs: list[Any]) -> dict[Any, tuple[list[Any], Scopes]]:
    """``things`` (the pairs' firsts) by key, each group with its pairs' scopes (the key holds their
    id); the usual batch (one run, one model) is one group, made without a loop."""
    if keys and keys.count(keys[0]) == len(keys):
        return {keys[0]: (things, pairs[0][1])}
    groups: dict[Any, tuple[list[Any], Scopes]] = {}
    for key, thing, pair in zip(keys, things, pairs):
        found = groups.get(key)
        if found is None:
            groups[key] = found = ([], pair[1])
        found[0].append(thing)
    return groups


class Ledger:
    """Process-wide store: session aggregates, the scopes an event belongs to, and the subscriber hub."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self._lock = threading.RLock()  # re-entrant: a warning raised while folding may read totals
        self.max_events = max_events
        self.session = Aggregates(max_events, self)
        self.switches = Switches(
            FOLD_AT
        )  # what the hot path asks first: set by ``extra``, ``fold_at``, the hub
        self.hub = Hub(self.switches)
        self._extra: Accumulator | None = None
        self.appended = 0
        # (event or record, scopes) pairs, in the order they finished; the same deque for the ledger's
        # life: the SDK hot path appends to it directly, then folds at ``fold_at``
        self.pending: deque[Pair] = _fast.new_queue()  # a deque, or C's Queue (the same operations)
        self._lazy: weakref.WeakSet[Aggregates] = weakref.WeakSet()  # scopes keeping records
        PRICES.before_change(self.build_all)

    @property
    def extra(self) -> Accumulator | None:
        """A global budget's own counter, when one is set: every call is then counted as it ends."""
        return self._extra

    @extra.setter
    def extra(self, acc: Accumulator | None) -> None:
        self._extra = acc
        self.switches.update(counter=acc is not None)

    @property
    def fold_at(self) -> int:
        """Queued calls that make the caller fold the queue."""
        return self.switches.fold_at

    @fold_at.setter
    def fold_at(self, n: int) -> None:
        self.switches.fold_at = n

    def append(self, event: UsageEvent, scopes: Scopes = (), record: CallRecord | None = None) -> None:
        """Add ``event`` to the session and to each scope (its runs), then notify subscribers; where it
        has a flat ``record``, that is kept in its place until the events are read."""
        with self._lock:
            folded = self._fold() if self.pending else None
            self._add(event, scopes, record)
        if folded:
            self._tell_batched(folded)
        self.hub.emit("usage", event)

    def defer(self, item: Pair) -> None:
        """Queue an ``(event, scopes)`` or ``(record, scopes)`` pair for the next fold."""
        pending = self.pending
        pending.append(item)
        if len(pending) >= self.switches.fold_at:
            self.fold()

    def fold(self) -> None:
        """Bring every queued call into the totals (in the order they finished); batched subscribers
        then get the events, outside the lock. (``_fast.fold_now``: the same, the usual batch in C.)"""
        if self.pending:
            with self._lock:
                folded = self._fold()
            if folded:
                self._tell_batched(folded)

    def _tell_batched(self, events: list[UsageEvent]) -> None:
        subs = self.hub.batched_usage
        if subs:
            for event in events:
                self.hub.emit_to(subs, event)

    def _fold(self) -> list[UsageEvent]:
        """Add what is queued; returns the events built for batched subscribers (none are built when
        nobody wants them: records at flat rates stay records)."""
        items = _fast.drain(self.pending)  # under the lock, the only one who takes: in C, or popped
        if not self.hub.batched_usage and _fast.fold_flat(self, items):  # the usual batch, all in C
            return []
        return self._fold_items(items)

    def _fold_items(self, items: list[Pair]) -> list[UsageEvent]:
        """``_fold`` of the queue's ``items``, taken (under the lock) where C did not fold them."""
        kept: list[Any] = list(map(_FIRST, items))
        batched = self.hub.batched_usage
        sums = None if batched else _fast.one_group(items)  # the usual batch: one group, summed (C)
        if sums is not None and self._add_group(GROUP_KEY(kept[0]), sums, kept, items[0][1], True):
            self.appended += len(kept)
            return []
        kinds = set(map(type, kept))
        if tuple not in kinds or batched:  # events only, or each event is wanted now
            pairs = _built_pairs(items) if tuple in kinds else items
            ordered: list[UsageEvent] = list(map(_FIRST, pairs))
            self._add_events(pairs)
            self.session.keep(ordered)
            self.appended += len(ordered)
            return ordered
        if len(kinds) == 1:  # the usual batch: SDK calls only
            records, pairs = items, []
        else:
            records = [p for p in items if type(p[0]) is tuple]
            pairs = [p for p in items if type(p[0]) is not tuple]
        unflat = self._add_records(records, sums if records is items else _fast.one_group(records))
        if unflat:  # counted one by one, kept as records
            self._add_events(*_built_beside(unflat))
        if pairs:
            self._add_events(pairs)
        session = self.session
        if not session.lazy:  # a scope with records kept is in the set already
            self._lazy.add(session)
        session.keep(kept, True)  # records among them are built when the events are read
        self.appended += len(kept)
        return []

    def _add_group(self, key: tuple[Any, ...], sums: tuple[Any, ...], records: list[CallRecord],
                   scopes: Scopes, keep: bool) -> bool:  # fmt: skip
        """One group's ``records`` (its ``GROUP_KEY`` and column ``sums``) at its flat rates: priced once,
        then added to the session's and each scope's accumulators in one step. The scopes keep the
        records, and so does the session where ``keep`` (the whole batch; else the fold keeps it). False,
        having changed nothing, when the group has no flat rates (its records are added as events)."""
        kind, provider, answered, model, tool, tier = key
        usage = summed(*sums[1:6])  # sums of counts checked when each call was recorded
        cost = PRICES.flat_cost(provider, model, answered, tier, usage)
        if cost is None:
            return False
        n, ms = sums[0], sums[6] * 1000.0
        group = (kind == "tool", provider, answered or model or NO_MODEL, tool)
        lazy = self._lazy
        if keep and not self.session.lazy:  # a scope with records kept is in the set already
            lazy.add(self.session)
        self.session.absorb_flat(group, n, ms, usage, cost, records if keep else ())
        for scope in scopes:
            if not scope.lazy:
                lazy.add(scope)
            scope.absorb_flat(group, n, ms, usage, cost, records)
        if self._extra is not None:
            _fast.add_flat(self._extra, n, ms, usage, cost)
        return True

    def _add_records(self, records: list[Pair], one: tuple[Any, ...] | None) -> list[Pair]:
        """Add SDK calls' records per (scopes, group) at the group's flat rates: tokens summed by column
        in C, one cost per group (``one``: ``one_group``'s sums of them all, if they are one group).
        Returns the records of groups without flat rates (unknown model, long-context tiers,
        provider-reported costs): they are added as events."""
        firsts: list[CallRecord] = list(map(_FIRST, records))
        if one is not None:
            groups = {(0, GROUP_KEY(firsts[0])): (firsts, records[0][1])}
        else:
            keys = list(zip(map(id, map(_SECOND, records)), map(GROUP_KEY, firsts)))
            groups = _grouped(keys, firsts, records)
        unflat: list[Pair] = []
        for (_, key), (recs, scopes) in groups.items():
            n = len(recs)
            sums = one or (_sums(recs) if list(map(PROVIDER_COST, recs)).count(None) == n else None)
            if sums is None or not self._add_group(key, sums, recs, scopes, False):
                unflat.extend((record, scopes) for record in recs)
        return unflat

    def _add_events(
        self, pairs: list[tuple[UsageEvent, Scopes]], records: list[CallRecord] | None = None
    ) -> None:
        """Add built events per (scopes, group): one accumulator merge per group and scope, not one
        update per event per scope (the session keeps them: the caller extends it in order). Where the
        events were built from ``records`` (same order), the scopes keep the records."""
        ordered: list[UsageEvent] = list(map(_FIRST, pairs))
        keys = list(zip(map(id, map(_SECOND, pairs)), map(_GROUP_KEY, ordered)))
        batches = _grouped(keys, ordered if records is None else list(zip(ordered, records)), pairs)
        session, extra, lazy = self.session, self._extra, self._lazy
        for (_, (kind, provider, answered, model, tool)), (things, scopes) in batches.items():
            group = (kind == "tool", provider, answered or model or NO_MODEL, tool)
            events = things if records is None else list(map(_FIRST, things))
            delta = Accumulator()
            delta.add_many(events)
            session.absorb(group, delta, ())
            for scope in scopes:
                if records is None:
                    scope.absorb(group, delta, events)
                else:
                    scope.absorb(group, delta, list(map(_SECOND, things)), True)
                    lazy.add(scope)
            if extra is not None:
                extra.merge(delta)

    def snapshot(self, scope: Aggregates) -> tuple[UsageEvent, ...]:
        """The events ``scope`` keeps, its records built first (in place, once), copied under the lock."""
        with self._lock:
            if scope.lazy:
                self._build(scope)
            return tuple(scope._events)

    def _build(self, scope: Aggregates) -> None:
        """Turn the records ``scope`` keeps into events, in place; the caller holds the lock."""
        kept = scope._events
        n = min(scope.lazy, len(kept))
        if n:
            tail = [kept.pop() for _ in range(n)]
            tail.reverse()
            kept.extend(_built_events(tail))
        scope.lazy = 0
        self._lazy.discard(scope)

    def build_all(self) -> None:
        """Fold, then build every kept record: prices are about to change, and each event must carry
        the rates its totals were summed with."""
        self.fold()
        with self._lock:
            for scope in tuple(self._lazy):
                self._build(scope)

    def _add(self, event: UsageEvent, scopes: Scopes, record: CallRecord | None = None) -> None:
        if record is not None:
            lazy = self._lazy
            for scope in (self.session, *scopes):
                if not scope.lazy:  # a scope with records kept is already in the set
                    lazy.add(scope)
        self.session.add(event, record)
        for scope in scopes:
            scope.add(event, record)
        if self._extra is not None:
            self._extra.add(event)
        self.appended += 1

    @property
    def events(self) -> tuple[UsageEvent, ...]:
        self.fold()
        return self.snapshot(self.session)

    @property
    def dropped(self) -> int:
        """Events no longer kept in memory (their totals still count)."""
        self.fold()
        return self.appended - len(self.session._events)

    def reset(self) -> None:
        with self._lock:
            self.pending.clear()
            old = self.session
            self.session = Aggregates(self.max_events, self)
            # runs that outlive the reset keep their records, and stay where a price change finds them
            self._lazy = weakref.WeakSet(scope for scope in self._lazy if scope is not old)
            self.appended = 0


if _fast.COLUMNS is not None:  # what the C fold reads: scopes' slots, the ledger's and hub's, PRICES' rates
    _fast.COLUMNS.bind_fold(Aggregates, Ledger, Hub, PRICES, NO_MODEL, Usage)
