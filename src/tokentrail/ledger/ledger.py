"""The append-only ledger: events in, exact totals updated under a short lock, subscribers told after."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..model import Accumulator, UsageEvent
from .aggregates import Aggregates
from .hub import Hub

DEFAULT_MAX_EVENTS = 100_000


class Ledger:
    """Process-wide store: session aggregates, the scopes an event belongs to, and the subscriber hub."""

    def __init__(self, max_events: int = DEFAULT_MAX_EVENTS) -> None:
        self._lock = threading.Lock()
        self.max_events = max_events
        self.session = Aggregates(max_events)
        self.hub = Hub()
        self.extra: Accumulator | None = None  # a global budget's own counter, when one is set
        self.appended = 0

    def append(self, event: UsageEvent, scopes: Sequence[Aggregates] = ()) -> None:
        """Add ``event`` to the session and to each scope (its runs), then notify subscribers."""
        with self._lock:
            self.session.add(event)
            for scope in scopes:
                scope.add(event)
            if self.extra is not None:
                self.extra.add(event)
            self.appended += 1
        self.hub.emit("usage", event)

    @property
    def events(self) -> tuple[UsageEvent, ...]:
        with self._lock:
            return tuple(self.session.events)

    @property
    def dropped(self) -> int:
        """Events no longer kept in memory (their totals still count)."""
        return self.appended - len(self.session.events)

    def reset(self) -> None:
        with self._lock:
            self.session = Aggregates(self.max_events)
            self.appended = 0
