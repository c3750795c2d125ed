"""One background thread that flushes every live feed when it is due: never a thread per event or panel."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("tokentrail")

IDLE_WAIT = 1.0  # seconds; the longest sleep while no feed has a deadline


class Pumped(Protocol):
    """What the pump needs from a feed."""

    def due(self) -> float | None: ...  # monotonic time it wants a tick at, or None
    def tick(self, now: float) -> None: ...

    @property
    def closed(self) -> bool: ...


class Pump:
    """Sleeps until a feed is kicked or due, then ticks the feeds that are due, in one thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._feeds: list[Pumped] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: set[int] = set()
        self._backoff: dict[int, float] = {}  # a feed whose tick raised waits this long before the next

    def add(self, feed: Pumped) -> None:
        with self._lock:
            if feed not in self._feeds:
                self._feeds.append(feed)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tokentrail-panel-feed", daemon=True)
                self._thread.start()
        self._wake.set()

    def remove(self, feed: Pumped) -> None:
        with self._lock:
            if feed in self._feeds:
                self._feeds.remove(feed)

    def wake(self) -> None:
        """Called by a feed the first time it has work since its last tick (not once per event)."""
        self._wake.set()

    def feeds(self) -> list[Pumped]:
        with self._lock:
            return list(self._feeds)

    def _run(self) -> None:
        while True:
            now = self.clock()
            next_due = now + IDLE_WAIT
            for feed in self.feeds():
                due = feed.due()
                if due is not None and self._backoff:
                    due = max(due, self._backoff.get(id(feed), due))
                if due is not None and due <= now:
                    self._tick(feed, now)
                    due = feed.due()
                    if due is not None and self._backoff:
                        due = max(due, self._backoff.get(id(feed), due))
                if feed.closed:
                    self.remove(feed)
                elif due is not None:
                    next_due = min(next_due, due)
            self._wake.wait(max(0.0, next_due - self.clock()))
            self._wake.clear()

    def _tick(self, feed: Pumped, now: float) -> None:
        try:
            feed.tick(now)
            self._backoff.pop(id(feed), None)
        except Exception as exc:  # a failing panel never stops the others
            self._backoff[id(feed)] = now + IDLE_WAIT
            if id(feed) not in self._failed:
                self._failed.add(id(feed))
                log.error("tokentrail: a panel feed failed (%s: %s); logged once", type(exc).__name__, exc,
                          exc_info=exc)  # fmt: skip


PUMP = Pump()
