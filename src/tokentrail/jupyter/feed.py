"""A ledger subscriber that turns events into a panel's snapshot and seq-numbered, throttled deltas.

The subscriber callbacks (the hot path) only append to a deque; the pump thread drains it at most
every ``delta_interval`` seconds, builds rows, reads exact totals from the core and publishes one
delta; a full snapshot at most every ``snapshot_interval``. Protocol: ``docs/widget-protocol.md``.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..runs import TRACKER, Run, Tracker
from .feed_pump import PUMP, Pump
from .feed_state import FeedState

if TYPE_CHECKING:
    from ..ledger import Subscription

Sink = Callable[[dict[str, Any]], None]
EPSILON = 1e-6  # seconds: a tick scheduled for a deadline counts as on time despite float rounding


class Feed:
    """Live rows and totals of one run (with its nested runs) or, with ``run=None``, the whole session."""

    def __init__(
        self,
        run: Run | None = None,
        *,
        tracker: Tracker = TRACKER,
        delta_interval: float = 0.05,
        snapshot_interval: float = 0.5,
        poll_interval: float = 0.5,
        max_spans: int = 300,
        max_points: int = 500,
        max_runs: int = 200,
        pump: Pump | None = PUMP,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.run, self.tracker, self.pump = run, tracker, pump
        self.delta_interval, self.snapshot_interval, self.poll_interval = (
            delta_interval, snapshot_interval, poll_interval)  # fmt: skip
        self.clock, self.wall = clock, wall
        self.state = FeedState(run, tracker, max_spans=max_spans, max_points=max_points, max_runs=max_runs)
        self._queue: deque[tuple[str, Any]] = deque()
        self._kicked = False
        self._lock = threading.RLock()
        self._on_delta: Sink | None = None
        self._on_snapshot: Sink | None = None
        self._seq = 0
        self._last_delta = self._last_snapshot = -1e18
        self._snapshot_due = False
        self._poll_changed = False
        self._next_poll: float | None = None
        self._closed = False
        self._foreign: set[str] = set()  # run ids outside this feed's run (skipped on the hot path)
        tracker.ledger.fold()  # calls queued before this feed existed come in through the backfill
        hub = tracker.ledger.hub
        self._subs: list[Subscription] = [
            # batched: calls stay queued in the ledger (cheap); each tick folds them in, see _drain
            hub.subscribe("usage", self._on_usage, batched=True),
            hub.subscribe("call_start", self._on_call_start),
            hub.subscribe("tool_start", self._on_tool_start),
        ]
        self.state.backfill()

    # --- the hot path: O(1), no lock, no allocation beyond one tuple --------------------------------------
    def _on_usage(self, e: Any) -> None:
        rid = e[18]
        if self.run is not None and (rid is None or rid in self._foreign):
            return
        self._queue.append(("u", e))
        if not self._kicked:
            self._kick()

    def _on_call_start(self, handle: Any) -> None:
        rid = handle.run_id
        if self.run is not None and (rid is None or rid in self._foreign):
            return
        item = (handle.id, handle.model, handle.started_at, rid, handle.kind, handle.context.agent)
        self._queue.append(("c", item))
        if not self._kicked:
            self._kick()

    def _on_tool_start(self, span: Any) -> None:
        rid = span.run_id
        if self.run is not None and (rid is None or rid in self._foreign):
            return
        self._queue.append(("t", (span.id, span.name, span.started_at, rid)))
        if not self._kicked:
            self._kick()

    def _kick(self) -> None:
        self._kicked = True
        if self.pump is not None:
            self.pump.wake()

    # --- publishing ----------------------------------------------------------------------------------------
    def connect(self, on_delta: Sink, on_snapshot: Sink) -> None:
        """Start publishing to a widget (``send`` and the ``snapshot`` trait)."""
        with self._lock:
            self._on_delta, self._on_snapshot = on_delta, on_snapshot
            self._next_poll = self._last_snapshot = self.clock()  # the widget starts from snapshot()
        if self.pump is not None:
            self.pump.add(self)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def seq(self) -> int:
        return self._seq

    def due(self) -> float | None:
        """When the pump should tick this feed next (monotonic seconds), or None."""
        if self._closed or self._on_delta is None:
            return None
        times = [t for t in (self._next_poll, self._snapshot_at()) if t is not None]
        if self._wants_delta() or self.tracker.ledger.pending:  # queued calls: fold them at the next slot
            times.append(self._last_delta + self.delta_interval)
        return min(times) if times else None

    def _snapshot_at(self) -> float | None:
        return self._last_snapshot + self.snapshot_interval if self._snapshot_due else None

    def tick(self, now: float | None = None) -> None:
        """Publish one delta or snapshot if the throttles allow; finish when the run has ended."""
        now = self.clock() if now is None else now
        late = now + EPSILON  # compared with deadlines; `now` itself is what gets stored
        with self._lock:
            if self._closed or self._on_delta is None:
                return
            self.tracker.ledger.fold()  # calls that finished since: their events reach _on_usage now
            if self._next_poll is not None and late >= self._next_poll:
                self._next_poll = now + self.poll_interval
                if self.run is not None and self.run.ended_at is not None:
                    self.close()
                    return
                self._poll_changed = self.state.poll() or self._poll_changed
            if late - self._last_delta < self.delta_interval:
                return  # one message per slot, whichever kind: <= 20 per second in all
            at = self._snapshot_at()
            if at is not None and late >= at:
                self._publish_snapshot(now)  # it carries everything the delta would have
            elif self._wants_delta():
                self._publish_delta(now)

    def _wants_delta(self) -> bool:
        return self._kicked or bool(self._queue) or self._poll_changed

    def _drain(self) -> bool:
        self.tracker.ledger.fold()  # queued calls reach _on_usage now, in this thread
        self._kicked = False
        items: list[tuple[str, Any]] = []
        pop = self._queue.popleft
        while True:
            try:
                items.append(pop())
            except IndexError:
                break
        self.state.apply(items, self._foreign)
        return bool(items)

    def _publish_delta(self, now: float) -> None:
        self._poll_changed = False
        self._drain()
        msg = self.state.delta(self.wall())
        self._last_delta = now
        if msg is None:
            return
        self._seq += 1
        msg["seq"] = self._seq
        self._snapshot_due = True
        assert self._on_delta is not None
        self._on_delta(msg)

    def _publish_snapshot(self, now: float) -> None:
        self._poll_changed = False
        self._drain()
        self.state.delta(self.wall())  # fold pending rows in; the snapshot replaces this delta
        self._seq += 1
        self._last_snapshot = self._last_delta = now
        self._snapshot_due = False
        assert self._on_snapshot is not None
        self._on_snapshot(self._build_snapshot())

    def _build_snapshot(self) -> dict[str, Any]:
        snap = self.state.snapshot(self.wall())
        snap["seq"] = self._seq
        return snap

    def snapshot(self) -> dict[str, Any]:
        """The whole state now (everything queued applied): what a newly created widget starts from."""
        with self._lock:
            self._drain()
            self.state.delta(self.wall())  # fold pending rows into the state without sending them
            return self._build_snapshot()

    def close(self) -> None:
        """Publish the final snapshot, then stop listening (idempotent)."""
        with self._lock:
            if self._closed:
                return
            for sub in self._subs:
                sub.remove()
            if self._on_delta is not None:
                self._publish_snapshot(self.clock())
            self._closed = True
        if self.pump is not None:
            self.pump.remove(self)
