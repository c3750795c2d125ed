"""What a feed knows between flushes: rows, in-flight calls, active tools; builds deltas and snapshots.

Used only under the feed's lock, from the pump thread (or a caller of ``Feed.snapshot``/``close``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .feed_rows import (
    CumulativeSeries,
    Row,
    TimelineWindow,
    breakdown_rows,
    call_lane,
    run_row,
    timeline_row,
    tool_lane,
    totals_dict,
)

if TYPE_CHECKING:
    from ..model import Totals, UsageEvent
    from ..runs import Run, Tracker

T = TypeVar("T")
MAX_LISTED = 20  # in-flight calls and active tools listed by name; the rest are counted


def read(fn: Callable[[], T]) -> T:
    """Read the core's aggregates off the recording thread; a dict resized meanwhile is read again."""
    for _ in range(8):
        try:
            return fn()
        except RuntimeError:  # "dictionary changed size during iteration"
            time.sleep(0)
    return fn()


class FeedState:
    """Pre-aggregated rows of one run (``run``) or of the session (``run=None``)."""

    def __init__(
        self, run: Run | None, tracker: Tracker, *, max_spans: int, max_points: int, max_runs: int
    ) -> None:
        self.run, self.tracker, self.max_runs, self.max_spans = run, tracker, max_runs, max_spans
        self.max_new_spans = max(30, max_spans // 10)
        self._span_cap = self.max_new_spans
        self.session = run is None
        self.timeline = TimelineWindow(max_spans)
        self.cumulative = CumulativeSeries(max_points)
        self.breakdowns: dict[str, dict[str, Row]] = {"by_model": {}, "by_tool": {}}
        self.runs: dict[str, Row] = {}
        self.in_flight: dict[str, Row] = {}
        self.tools: dict[str, Row] = {}
        self.hidden_runs = 0
        self.changed = True
        self._events: list[UsageEvent] = []
        self._mine: set[str] = set() if run is None else {run.id}
        self._chains: dict[str, list[str]] = {}
        self._dirty_runs: set[str] = set()
        self._statuses: dict[str, str] = {}
        self._ledger_session = tracker.ledger.session
        self._reset_pending = False
        self.started_at = run.started_at if run is not None else self._session_start()
        self._backfilled: set[str] = set()
        if self.session:
            self._dirty_runs.update(r.id for r in tracker.runs()[-max_runs:])

    def backfill(self) -> None:
        """Take in the events recorded before this feed subscribed (a panel or dashboard opened late)."""
        if self.run is not None:
            run = self.run
            events = read(lambda: tuple(run.agg.events))
        else:
            events = self.tracker.ledger.events
        self._events.extend(events)
        self._span_cap = self.max_spans  # the first fold may draw a whole window of past spans
        # the few events recorded between subscribing and this copy are also queued: skip them once
        self._backfilled = {e.id for e in events[-1000:]}
        self.changed = True

    def _session_start(self) -> float:
        runs, events = self.tracker.runs(), self.tracker.ledger.session.events
        first = (runs[0].started_at if runs else None, events[0].started_at if events else None)
        times = [t for t in first if t]
        return min(times) if times else time.time()

    # --- which run an event belongs to --------------------------------------------------------------------
    def _find(self, run_id: str) -> Run | None:
        for r in reversed(self.tracker.runs()):
            if r.id == run_id:
                return r
        return None

    def _accept(self, run_id: str | None, foreign: set[str]) -> bool:
        if self.session:
            return True
        if run_id is None:
            return False
        if run_id in self._mine:
            return True
        if run_id in foreign:
            return False
        r = self._find(run_id)
        while r is not None and r is not self.run:
            r = r.parent
        (self._mine if r is not None else foreign).add(run_id)
        return r is not None

    def _chain(self, run_id: str | None) -> list[str] | None:
        """Ids of the event's run and every run around it (the session dashboard filters on them)."""
        if not self.session:
            return None
        if run_id is None:
            return []
        chain = self._chains.get(run_id)
        if chain is None:
            r, chain = self._find(run_id), []
            while r is not None:
                chain.append(r.id)
                r = r.parent
            self._chains[run_id] = chain or [run_id]
        return chain

    # --- events in ------------------------------------------------------------------------------------------
    def apply(self, items: Iterable[tuple[str, Any]], foreign: set[str]) -> None:
        for tag, obj in items:
            if tag == "u":
                if not self._accept(obj[18], foreign) or obj[0] in self._backfilled:
                    continue
                self.in_flight.pop(obj[0], None)
                if obj[1] == "tool":
                    self.tools.pop(obj[0], None)
                self._events.append(obj)
            else:
                if not self._accept(obj[3], foreign):
                    continue
                item = self._running(tag, obj)
                (self.in_flight if tag == "c" else self.tools)[item["id"]] = item
            self.changed = True
        self._backfilled = set()

    def _running(self, tag: str, obj: tuple[Any, ...]) -> Row:
        """A call in flight (``c``) or a tool running, with the lane (and runs) its row will have: the
        timeline draws it there as an open bar until that row comes."""
        item_id, name, started_at, run_id = obj[:4]
        if tag == "c":
            item: Row = {"id": item_id, "model": name, "started_at": started_at * 1e3,
                         "lane": call_lane(obj[4], obj[5], name), "kind": obj[4]}  # fmt: skip
        else:
            item = {"id": item_id, "name": name, "started_at": started_at * 1e3, "lane": tool_lane(name)}
        chain = self._chain(run_id)
        if chain is not None:
            item["run_ids"] = list(chain)
        return item

    def _fold_events(self) -> None:
        events, self._events = self._events, []
        # a burst gets its latest spans drawn, the rest counted: at most max_new_spans rows per delta
        first_span = len(events) - self._span_cap
        self._span_cap = self.max_new_spans
        if first_span > 0:
            self.timeline.skip(first_span)
        session = self.session
        for i, e in enumerate(events):
            chain = self._chain(e[18]) if session else None
            if i >= first_span:
                self.timeline.add(timeline_row(e, chain))
            if e[1] != "tool":
                self.cumulative.add(e, chain)
            if chain:
                self._dirty_runs.update(chain)

    # --- polling (run ended, runs started, ledger reset) ------------------------------------------------
    def poll(self) -> bool:
        """Look at what no event announces; True when that changed something worth a delta."""
        if self.session and self.tracker.ledger.session is not self._ledger_session:
            self._reset()
            return True
        if not self.session:
            return False
        for r in self.tracker.runs()[-self.max_runs :]:
            if self._statuses.get(r.id) != r.status:
                self._dirty_runs.add(r.id)
        if self._dirty_runs:
            self.changed = True
        return bool(self._dirty_runs)

    def _reset(self) -> None:
        self._ledger_session = self.tracker.ledger.session
        self.timeline = TimelineWindow(self.max_spans)
        self.cumulative = CumulativeSeries(self.cumulative.limit)
        self.breakdowns = {"by_model": {}, "by_tool": {}}
        self.runs, self._statuses, self._chains, self._events = {}, {}, {}, []
        self.hidden_runs, self.changed, self._reset_pending = 0, True, True

    # --- out: deltas and snapshots ------------------------------------------------------------------------
    def _scope_totals(self) -> Totals:
        return read(self.run.totals if self.run is not None else self.tracker.totals)

    def _breakdown_changes(self) -> tuple[dict[str, list[Row]], dict[str, list[str]]]:
        upsert: dict[str, list[Row]] = {}
        remove: dict[str, list[str]] = {}
        src = self.run if self.run is not None else self.tracker
        for name, fn, tools in (("by_model", src.by_model, False), ("by_tool", src.by_tool, True)):
            fresh, old = breakdown_rows(read(fn), tools), self.breakdowns[name]
            changed = [row for key, row in fresh.items() if old.get(key) != row]
            gone = [key for key in old if key not in fresh]
            if changed:
                upsert[name] = changed
            if gone:
                remove[name] = gone
            self.breakdowns[name] = fresh
        return upsert, remove

    def _run_changes(self) -> tuple[list[Row], list[str]]:
        if not self.session or not self._dirty_runs:
            return [], []
        all_runs = self.tracker.runs()
        keep = all_runs[-self.max_runs :]
        self.hidden_runs = len(all_runs) - len(keep)
        by_id = {r.id: r for r in keep}
        changed: list[Row] = []
        for run_id in self._dirty_runs:
            r = by_id.get(run_id)
            if r is None:
                continue
            row = run_row(r, read(r.totals), read(r.by_model), read(r.by_tool))
            self._statuses[r.id] = r.status
            if self.runs.get(r.id) != row:
                self.runs[r.id] = row
                changed.append(row)
        self._dirty_runs.clear()
        gone = [run_id for run_id in self.runs if run_id not in by_id]
        for run_id in gone:
            del self.runs[run_id]
            self._statuses.pop(run_id, None)
        return changed, gone

    def status(self) -> str:
        if self.run is not None:
            return self.run.status
        busy = self.in_flight or self.tools or any(row["status"] == "running" for row in self.runs.values())
        return "running" if busy else "done"

    def header(self, wall: float) -> dict[str, Any]:
        run = self.run
        ended = None if run is None else run.ended_at
        budgets: list[dict[str, object]] = []
        if run is not None:
            budgets = read(run.budget_status)
        elif self.tracker.global_budget is not None:
            budgets = read(self.tracker.global_budget.status)
        return {
            "status": self.status(), "now": wall * 1000.0, "started_at": self.started_at * 1000.0,
            "ended_at": None if ended is None else ended * 1000.0,
            "elapsed_ms": ((wall if ended is None else ended) - self.started_at) * 1000.0,
            "totals": totals_dict(self._scope_totals()),
            "in_flight": list(self.in_flight.values())[:MAX_LISTED], "in_flight_count": len(self.in_flight),
            "active_tools": list(self.tools.values())[:MAX_LISTED], "active_tools_count": len(self.tools),
            "budgets": budgets,
            "hidden": {"timeline": self.timeline.hidden, "runs": self.hidden_runs},
        }  # fmt: skip

    def delta(self, wall: float) -> dict[str, Any] | None:
        """What changed since the last delta, or None when nothing did."""
        if not self.changed and not self._events:
            return None
        self.changed = False
        self._fold_events()
        msg: dict[str, Any] = {"type": "delta", "seq": 0, **self.header(wall)}
        new_spans, evicted = self.timeline.take()
        replaced, points = self.cumulative.take()
        upsert, remove = self._breakdown_changes()
        runs, gone = self._run_changes()
        append = {k: v for k, v in (("timeline", new_spans), ("cumulative", points)) if v}
        if runs:
            upsert["runs"] = runs
        if evicted:
            remove["timeline"] = evicted
        if gone:
            remove["runs"] = gone
        replace: dict[str, list[Row]] = {}
        if replaced is not None:
            replace["cumulative"] = replaced
        if self._reset_pending:
            self._reset_pending = False
            replace.update(timeline=[], by_model=[], by_tool=[], runs=[], cumulative=replaced or [])
            remove = {}
        for key, value in (("append", append), ("upsert", upsert), ("replace", replace), ("remove", remove)):
            if value:
                msg[key] = value
        return msg

    def snapshot(self, wall: float) -> dict[str, Any]:
        """The whole state (call ``delta`` first so that pending rows are folded in)."""
        return {
            "seq": 0, "mode": "session" if self.session else "run", **self.header(wall),
            "rows": {
                "timeline": list(self.timeline.rows.values()), "cumulative": list(self.cumulative.rows),
                "by_model": list(self.breakdowns["by_model"].values()),
                "by_tool": list(self.breakdowns["by_tool"].values()),
            },
            "runs": list(self.runs.values()),
        }  # fmt: skip
