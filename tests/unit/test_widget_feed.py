"""The panel feed: throttled, seq-numbered deltas whose replay equals the snapshot, exact totals."""

from __future__ import annotations

import contextvars
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import tokentrail as tt
from tokentrail.jupyter.feed import Feed
from tokentrail.jupyter.feed_pump import Pump
from tokentrail.runs import start_call

pytestmark = pytest.mark.filterwarnings("ignore::tokentrail.UnpricedModelWarning")


class Clock:
    """A fake monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """Stands in for the widget: keeps every delta and snapshot, JSON round-tripped as the comm would."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []

    def delta(self, msg: dict[str, Any]) -> None:
        self.messages.append(("delta", json.loads(json.dumps(msg))))

    def snapshot(self, snap: dict[str, Any]) -> None:
        self.messages.append(("snapshot", json.loads(json.dumps(snap))))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for k, m in self.messages if k == kind]


def replay(initial: dict[str, Any], deltas: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """What the browser's state.js does: snapshot first, then deltas newer than it, by row id."""
    data = rows_of(initial)
    seq = initial["seq"]
    for msg in deltas:
        if msg["seq"] <= seq:
            continue
        seq = msg["seq"]
        if msg.get("type") != "delta":  # a later snapshot replaces everything
            data = rows_of(msg)
            continue
        for name, rows in msg.get("replace", {}).items():
            data[name] = {r["id"]: r for r in rows}
        for name, ids in msg.get("remove", {}).items():
            for i in ids:
                data[name].pop(i, None)
        for name, rows in msg.get("append", {}).items():
            for r in rows:
                data[name].setdefault(r["id"], r)
        for name, rows in msg.get("upsert", {}).items():
            for r in rows:
                data[name][r["id"]] = r
    return data


def rows_of(snap: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    out = {name: {r["id"]: r for r in rows} for name, rows in snap["rows"].items()}
    out["runs"] = {r["id"]: r for r in snap["runs"]}
    return out


NO_PERIODIC = {
    "snapshot_interval": 1e9
}  # only deltas until the end: replaying them must give the final state


@pytest.fixture
def feeds() -> Iterator[list[Feed]]:
    made: list[Feed] = []
    yield made
    for feed in made:
        feed.close()


def manual(
    feeds: list[Feed], run: tt.Run | None, clock: Clock, **kw: Any
) -> tuple[Feed, Recorder, dict[str, Any]]:
    feed = Feed(run, pump=None, clock=clock, **kw)
    feeds.append(feed)
    rec = Recorder()
    initial = json.loads(json.dumps(feed.snapshot()))
    feed.connect(rec.delta, rec.snapshot)
    return feed, rec, initial


def test_throttle_seq_and_snapshot_equal_to_replay_and_totals(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("trial", budget_usd=1.0) as run:
        feed, rec, initial = manual(feeds, run, clock)
        assert initial["seq"] == 0 and initial["status"] == "running" and initial["mode"] == "run"
        for i in range(40):
            tt.record(model="gpt-4o-mini", input_tokens=100 + i, output_tokens=10, cached_input_tokens=i)
            if i % 10 == 0:
                with tt.tool("search"):
                    tt.record(model="mystery-model-x", input_tokens=5, output_tokens=1)
            feed.tick()  # the pump may call as often as it likes
            clock.now += 0.01
        assert len(rec.messages) <= 40 * 0.01 / 0.05 + 1, "at most one message (of either kind) per 50 ms"
        assert len(rec.of("snapshot")) <= 40 * 0.01 / 0.5 + 1, "at most one snapshot per 500 ms"
        clock.now += 0.1
        feed.tick()  # publishes what is left (a delta, or a snapshot when one is due)
    assert not feed.closed
    clock.now += 1.0
    feed.tick()  # notices the run ended: the final snapshot, then it stops listening
    assert feed.closed and feed.due() is None
    seqs = [m["seq"] for _, m in rec.messages]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "seq strictly increasing"
    final = rec.of("snapshot")[-1]
    assert final["seq"] == seqs[-1] and final["status"] == "done" and final["ended_at"] is not None

    t = run.totals()
    assert final["totals"]["calls"] == t.calls == 44
    assert final["totals"]["input_tokens"] == t.input_tokens
    assert final["totals"]["cost"] == t.cost and final["totals"]["unpriced_calls"] == 4
    assert final["budgets"][0]["kind"] == "usd" and final["budgets"][0]["spent"] == pytest.approx(t.cost)

    before_final = [m for _, m in rec.messages][:-1]
    assert replay(initial, before_final) == rows_of(final), "what views had = the final snapshot"
    timeline = final["rows"]["timeline"]
    assert len(timeline) == 48 and {r["lane"] for r in timeline} == {"llm calls", "tool: search"}
    cum = final["rows"]["cumulative"]
    assert sum(r["tokens"] for r in cum) == t.total_tokens
    assert sum(r["cost"] for r in cum if r["cost"] is not None) == pytest.approx(t.cost)
    assert all(r["cost"] is None for r in cum if r["model"] == "mystery-model-x"), "unpriced stays None"
    by_model = {r["name"]: r for r in final["rows"]["by_model"]}
    assert by_model["mystery-model-x"]["cost"] is None and by_model["mystery-model-x"]["label"] == "n/a"
    assert by_model["gpt-4o-mini"]["calls"] == 40
    assert final["rows"]["by_tool"][0]["spans"] == 4


def test_nested_runs_count_sibling_and_outside_calls_do_not(feeds: list[Feed]) -> None:
    clock = Clock()
    tt.record(model="gpt-4o", input_tokens=1, output_tokens=1)  # before and outside
    with tt.track_usage("outer") as outer:
        feed, rec, _ = manual(feeds, outer, clock)
        tt.record(model="gpt-4o", input_tokens=2, output_tokens=1)
        with tt.track_usage("inner"):
            tt.record(model="gpt-4o", input_tokens=3, output_tokens=1)
    with tt.track_usage("sibling"):
        tt.record(model="gpt-4o", input_tokens=4, output_tokens=1)
    clock.now += 1
    feed.tick()
    final = rec.of("snapshot")[-1]
    assert sorted(r["input_tokens"] for r in final["rows"]["timeline"]) == [2, 3]
    assert final["totals"]["input_tokens"] == 5


def test_a_panel_leaves_calls_queued_and_shows_them_at_its_next_tick(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("live") as run:
        feed, rec, _ = manual(feeds, run, clock)
        for i in range(5):
            start_call("openai", "gpt-4o").finish(tt.Usage(10 + i, 2))
        assert len(tt.tracker().ledger.pending) == 5  # the calls did not build events for the panel
        clock.now += 0.05
        feed.tick()
        assert not tt.tracker().ledger.pending
        msg = rec.of("delta")[-1]
        rows = msg.get("append", {}).get("timeline", []) + msg.get("upsert", {}).get("timeline", [])
        assert sorted(r["input_tokens"] for r in rows) == [10, 11, 12, 13, 14]
        assert msg["totals"]["input_tokens"] == 60 == run.usage.input_tokens


def test_in_flight_calls_and_active_tools(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("live") as run:
        feed, rec, _ = manual(feeds, run, clock)
        handle = start_call("openai", "gpt-4o")
        span = tt.tool("search")
        started = span.__enter__()
        feed.tick()
        msg = rec.of("delta")[-1]
        assert [c["model"] for c in msg["in_flight"]] == ["gpt-4o"] and msg["in_flight_count"] == 1
        assert [t["name"] for t in msg["active_tools"]] == ["search"]
        handle.finish(tt.Usage(10, 2))
        span.__exit__(None, None, None)
        clock.now += 0.05
        feed.tick()
        msg = rec.of("delta")[-1]
        assert msg["in_flight"] == [] and msg["active_tools"] == [] and msg["in_flight_count"] == 0
        assert {r["id"] for r in msg["append"]["timeline"]} == {handle.id, started.id}


def test_in_flight_items_carry_the_lane_their_rows_will_have(feeds: list[Feed]) -> None:
    """The browser draws them as open bars in that lane until their rows (same id) arrive: no message of
    their own, the header every message carries is enough."""
    clock = Clock()
    with tt.track_usage("live") as run:
        feed, rec, _ = manual(feeds, run, clock)
        with tt.context(agent="planner"):
            handle = start_call("openai", "gpt-4o")
        span = tt.tool("search")
        started = span.__enter__()
        feed.tick()
        (call,) = rec.of("delta")[-1]["in_flight"]
        (tool,) = rec.of("delta")[-1]["active_tools"]
        assert call["lane"] == "agent: planner" and call["kind"] == "llm" and "run_ids" not in call
        assert tool["lane"] == "tool: search" and tool["id"] == started.id
        sent = len(rec.messages)
        handle.finish(tt.Usage(10, 2))
        span.__exit__(None, None, None)
        clock.now += 0.05
        feed.tick()
        assert len(rec.messages) == sent + 1, "both ends in one delta"
        rows = {r["id"]: r for r in rec.of("delta")[-1]["append"]["timeline"]}
        assert rows[handle.id]["lane"] == call["lane"] and rows[started.id]["lane"] == tool["lane"]

    dashboard, rec, _ = manual(feeds, None, clock)  # the session's: the runs of each, for its filter
    with tt.track_usage("outer") as outer, tt.track_usage("inner") as inner:
        handle = start_call("openai", "gpt-4o")
        clock.now += 0.05
        dashboard.tick()
        (call,) = rec.of("delta")[-1]["in_flight"]
        assert call["run_ids"] == [inner.id, outer.id] and call["lane"] == "llm calls"
        handle.finish(tt.Usage(1, 1))


def test_timeline_keeps_the_latest_spans_and_counts_the_rest(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("many") as run:
        feed, rec, initial = manual(feeds, run, clock, max_spans=5, **NO_PERIODIC)
        for _ in range(4):
            for _ in range(3):
                tt.record(model="m", input_tokens=1, output_tokens=1)
            clock.now += 0.05
            feed.tick()
    clock.now += 1
    feed.tick()
    final = rec.of("snapshot")[-1]
    assert len(final["rows"]["timeline"]) == 5 and final["hidden"]["timeline"] == 7
    assert any("timeline" in m.get("remove", {}) for m in rec.of("delta")), (
        "evicted rows are removed in views"
    )
    assert replay(initial, rec.of("delta")) == rows_of(final)


def test_cumulative_series_is_coarsened_and_stays_exact(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("long") as run:
        feed, rec, initial = manual(feeds, run, clock, max_points=20, **NO_PERIODIC)
        for i in range(300):
            tt.record(model=f"m{i % 2}", input_tokens=10, output_tokens=1)
            if i % 7 == 0:
                time.sleep(0.001)  # spread the calls over time buckets
                clock.now += 0.05
                feed.tick()
        clock.now += 0.05
        feed.tick()
    clock.now += 1
    feed.tick()
    final = rec.of("snapshot")[-1]
    cum = final["rows"]["cumulative"]
    assert len(cum) <= 20
    assert sum(r["tokens"] for r in cum) == run.totals().total_tokens == 3300
    assert sum(r["calls"] for r in cum) == 300
    assert any("cumulative" in m.get("replace", {}) for m in rec.of("delta"))
    assert replay(initial, rec.of("delta")) == rows_of(final)


def test_burst_draws_its_latest_spans_and_counts_the_rest(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("burst") as run:
        feed, rec, _ = manual(feeds, run, clock)
        for _ in range(500):
            tt.record(model="m", input_tokens=1, output_tokens=1)
        feed.tick()
    msg = rec.of("delta")[-1]
    assert len(msg["append"]["timeline"]) == 30 and msg["hidden"]["timeline"] == 470
    assert msg["totals"]["calls"] == 500


def test_close_is_final_and_idempotent_and_unsubscribes(feeds: list[Feed]) -> None:
    clock = Clock()
    hub = tt.tracker().ledger.hub
    before = len(hub.subscriptions())
    with tt.track_usage("c") as run:
        feed, rec, _ = manual(feeds, run, clock)
        assert len(hub.subscriptions()) == before + 3
        tt.record(model="m", input_tokens=1, output_tokens=1)
        feed.close()
        feed.close()
        tt.record(model="m", input_tokens=1, output_tokens=1)
    assert len(hub.subscriptions()) == before
    kinds = [k for k, _ in rec.messages]
    assert kinds == ["snapshot"], "the final snapshot carries everything"
    assert rec.of("snapshot")[0]["totals"]["calls"] == 1


def test_session_feed_lists_runs_backfills_and_follows_a_reset(feeds: list[Feed]) -> None:
    clock = Clock()
    with tt.track_usage("before", tags={"arch": "<b>x</b>"}):
        tt.record(model="gpt-4o", input_tokens=7, output_tokens=1)
    feed, rec, initial = manual(feeds, None, clock, **NO_PERIODIC)
    assert initial["mode"] == "session" and [r["name"] for r in initial["runs"]] == ["before"]
    assert len(initial["rows"]["timeline"]) == 1, "a late dashboard shows what came before"
    assert (
        initial["runs"][0]["tags"] == {"arch": "<b>x</b>"} and initial["runs"][0]["models"][0]["calls"] == 1
    )
    with tt.track_usage("outer") as outer:
        with tt.track_usage("inner") as inner:
            tt.record(model="gpt-4o", input_tokens=3, output_tokens=1)
        clock.now += 1
        feed.tick()
    clock.now += 1
    feed.tick()
    assert rec.of("snapshot") == [], "no periodic snapshot in this test: deltas alone"
    now = json.loads(json.dumps(feed.snapshot()))
    runs = {r["name"]: r for r in now["runs"]}
    assert runs["outer"]["status"] == "done" and runs["inner"]["path"] == ["outer", "inner"]
    row = next(r for r in now["rows"]["timeline"] if r["input_tokens"] == 3)
    assert row["run_ids"] == [inner.id, outer.id]
    assert replay(initial, rec.of("delta")) == rows_of(now)

    tt.tracker().reset()
    clock.now += 1
    feed.tick()
    last = rec.of("delta")[-1]
    assert last["replace"]["timeline"] == [] and last["replace"]["runs"] == []
    assert last["totals"]["calls"] == 0


def test_threads_with_the_real_pump_keep_the_message_rate_and_exact_totals(feeds: list[Feed]) -> None:
    rec = Recorder()
    pump = Pump()
    with tt.track_usage("threads") as run:
        feed = Feed(run, pump=pump)
        feeds.append(feed)
        feed.connect(rec.delta, rec.snapshot)
        started = time.monotonic()

        def work() -> None:
            for _ in range(300):
                tt.record(model="gpt-4o-mini", input_tokens=10, output_tokens=2)
                time.sleep(0.0005)

        # each thread runs in a copy of this context, so its calls belong to the run
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(work,)) for _ in range(6)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.monotonic() - started
    deadline = time.monotonic() + 5
    while not feed.closed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert feed.closed, "the pump closes a run's feed after the run ended"
    snaps = rec.of("snapshot")
    total_time = elapsed + 1.0
    assert len(rec.messages) <= 20 * total_time + 2 and len(snaps) <= 2 * total_time + 2
    assert snaps[-1]["totals"]["calls"] == run.calls == 1800
    assert sum(r["calls"] for r in snaps[-1]["rows"]["cumulative"]) == 1800


def test_a_burst_only_queues_on_the_recording_thread_and_one_tick_takes_it_all(feeds: list[Feed]) -> None:
    """What each costs is measured by benchmarks/bench_widget.py (no timed assertions here)."""
    feed = Feed(None, pump=None)
    feeds.append(feed)
    event = tt.record(model="m", input_tokens=1, output_tokens=1)
    queued = len(feed._queue)
    for _ in range(20_000):
        feed._on_usage(event)
    assert len(feed._queue) == queued + 20_000
    feed.connect(lambda m: None, lambda s: None)
    feed.tick()
    assert not feed._queue


class FlakyFeed:
    """A feed whose tick always raises: the pump logs it once and backs off instead of spinning."""

    def __init__(self) -> None:
        self.ticks = 0
        self.closed = False

    def due(self) -> float:
        return 0.0  # always due

    def tick(self, now: float) -> None:
        self.ticks += 1
        raise RuntimeError("boom")


def test_pump_isolates_a_failing_feed_and_serves_the_others(caplog: pytest.LogCaptureFixture) -> None:
    pump = Pump()
    flaky = FlakyFeed()
    rec = Recorder()
    with tt.track_usage("ok") as run:
        good = Feed(run, pump=pump)
        good.connect(rec.delta, rec.snapshot)
        pump.add(flaky)
        tt.record(model="gpt-4o-mini", input_tokens=1, output_tokens=1)
        time.sleep(0.3)
    deadline = time.monotonic() + 3
    while not good.closed and time.monotonic() < deadline:
        time.sleep(0.02)
    assert good.closed and rec.of("snapshot")[-1]["totals"]["calls"] == 1
    assert 1 <= flaky.ticks <= 5, "a failing feed is retried about once a second, not in a loop"
    assert sum("panel feed failed" in r.getMessage() for r in caplog.records) == 1
    flaky.closed = True
