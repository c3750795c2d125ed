"""The append-only ledger: events in, exact totals updated under a short lock, subscribers told after.

When nobody needs each event as it happens (no ``usage`` subscriber, no budget), a finished call is
only queued (one deque append, no lock); it is built, priced and added to the totals in a batch the
next time anything reads them, or every ``FOLD_AT`` calls. Reads are exact either way.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, Protocol

from ..model import Accumulator, UsageEvent
from .aggregates import NO_MODEL, Aggregates
from .hub import Hub

log = logging.getLogger("tokentrail")
DEFAULT_MAX_EVENTS = 100_000
_GROUP_KEY = itemgetter(1, 2, 12, 3, 17)  # kind, provider, response model, model, tool: in C
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
FOLD_AT = 256  # queued calls that trigger a fold by the caller: bounds memory, keeps the batch warm

Scopes = Sequence[Aggregates]


class Settled(Protocol):
    """A call that finished but whose event is built later, when the ledger folds it in."""

    def resolve(self) -> tuple[UsageEvent, Scopes]: ...


def _resolve_each(items: list[Any]) -> list[tuple[UsageEvent, Scopes]]:
    out = []
    for item in items:
        try:
            out.append(item if type(item) is tuple else item.resolve())
        except Exception:
            log.exception("tokentrail: could not build the event of a finished call; it is not counted")
    return out


class Ledger:
    """Process-wide store: session aggregates, the scopes an event belongs to, and the subscriber hub."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self._lock = threading.RLock()  # re-entrant: a warning raised while folding may read totals
        self.max_events = max_events
        self.session = Aggregates(max_events, self.fold)
        self.hub = Hub()
        self.extra: Accumulator | None = None  # a global budget's own counter, when one is set
        self.appended = 0
        self.pending: deque[Any] = deque()  # (event, scopes) pairs and Settled calls, in order
        self.fold_at = FOLD_AT

    def append(self, event: UsageEvent, scopes: Scopes = ()) -> None:
        """Add ``event`` to the session and to each scope (its runs), then notify subscribers."""
        with self._lock:
            folded = self._fold() if self.pending else None
            self._add(event, scopes)
        if folded:
            self._tell_batched(folded)
        self.hub.emit("usage", event)

    def defer(self, item: Any) -> None:
        """Queue an ``(event, scopes)`` pair or a :class:`Settled` call for the next fold."""
        pending = self.pending
        pending.append(item)
        if len(pending) >= self.fold_at:
            self.fold()

    def fold(self) -> None:
        """Bring every queued call into the totals (in the order they finished); batched subscribers
        then get the events, outside the lock."""
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
        """Build what is queued, then add it per (scopes, group): one accumulator merge per group and
        scope, not one update per event per scope."""
        pending = self.pending
        pop = pending.popleft
        # only a folder pops, under the lock: the first n are there even while other threads append
        items = [pop() for _ in range(len(pending))]
        try:
            pairs = [item if type(item) is tuple else item.resolve() for item in items]
        except Exception:  # a bug in building one event must not lose the others
            pairs = _resolve_each(items)
        ordered: list[UsageEvent] = list(map(_FIRST, pairs))
        keys = list(zip(map(id, map(_SECOND, pairs)), map(_GROUP_KEY, ordered)))
        batches: dict[tuple[int, tuple[Any, ...]], tuple[list[UsageEvent], Scopes]] = {}
        if keys and keys.count(keys[0]) == len(keys):  # the usual batch: one run, one model
            batches[keys[0]] = (ordered, pairs[0][1])
        else:
            for key, (event, scopes) in zip(keys, pairs):
                batch = batches.get(key)
                if batch is None:
                    batches[key] = batch = ([], scopes)
                batch[0].append(event)
        session, extra = self.session, self.extra
        for (_, (kind, provider, answered, model, tool)), (events, scopes) in batches.items():
            group = (kind == "tool", provider, answered or model or NO_MODEL, tool)
            delta = Accumulator()
            delta.add_many(events)
            session.absorb(group, delta, ())
            for scope in scopes:
                scope.absorb(group, delta, events)
            if extra is not None:
                extra.merge(delta)
        session._events.extend(ordered)
        self.appended += len(ordered)
        return ordered

    def _add(self, event: UsageEvent, scopes: Scopes) -> None:
        self.session.add(event)
        for scope in scopes:
            scope.add(event)
        if self.extra is not None:
            self.extra.add(event)
        self.appended += 1

    @property
    def events(self) -> tuple[UsageEvent, ...]:
        self.fold()
        with self._lock:
            return tuple(self.session._events)

    @property
    def dropped(self) -> int:
        """Events no longer kept in memory (their totals still count)."""
        self.fold()
        return self.appended - len(self.session._events)

    def reset(self) -> None:
        with self._lock:
            self.pending.clear()
            self.session = Aggregates(self.max_events, self.fold)
            self.appended = 0
