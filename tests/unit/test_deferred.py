"""Calls nobody watches one by one are queued and folded into the totals when read: exact either way."""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import threading
from typing import Any

import pytest

import tokentrail as tt
from tokentrail.ledger.ledger import FOLD_AT
from tokentrail.model import Accumulator, Outcome, outcome
from tokentrail.runs.calls import start_call

LEDGER = tt.tracker().ledger


def _outcome(handle: object, result: dict[str, Any]) -> Outcome:
    return outcome(tt.Usage(result["in"], result["out"]), result["model"], "stop", (), result["id"])


def test_a_settled_call_waits_in_the_queue_and_counts_when_read() -> None:
    with tt.track_usage("r") as run:
        start_call("openai", "gpt-4o-mini").settle(_outcome, {"in": 100, "out": 20, "model": "gpt-4o-mini",
                                                              "id": "resp-1"})  # fmt: skip
        assert len(LEDGER.pending) == 1  # nothing built yet: the caller paid for one append
        assert run.usage == tt.Usage(100, 20)
        assert not LEDGER.pending
    (event,) = run.events
    assert (event.response_id, event.finish_reason, event.usage_source, event.status) == (
        "resp-1", "stop", "provider", "ok")  # fmt: skip
    assert event.cost is not None and event.cost.total == pytest.approx((100 * 0.15 + 20 * 0.6) / 1e6)
    assert tt.tracker().events == (event,)


def test_a_settled_call_is_the_same_event_as_a_finished_one() -> None:
    result = {"in": 7, "out": 3, "model": "gpt-4o-2024-08-06", "id": "x"}
    start_call("openai", "gpt-4o").settle(_outcome, result)
    start_call("openai", "gpt-4o").finish(tt.Usage(7, 3), response_model="gpt-4o-2024-08-06",
                                          finish_reason="stop", response_id="x")  # fmt: skip
    settled, finished = tt.tracker().events
    skip = {"id", "started_at", "ended_at"}
    assert {k: v for k, v in settled._asdict().items() if k not in skip} == {
        k: v for k, v in finished._asdict().items() if k not in skip
    }


def test_with_a_subscriber_each_event_is_built_at_once() -> None:
    seen: list[tt.UsageEvent] = []
    tt.configure(handlers=[seen.append])
    start_call("openai", "gpt-4o").settle(_outcome, {"in": 1, "out": 1, "model": "gpt-4o", "id": "a"})
    assert not LEDGER.pending
    assert [e.response_id for e in seen] == ["a"]


def test_a_reader_that_fails_records_usage_missing_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    def broken(handle: object, result: object) -> Outcome:
        raise KeyError("usage")

    with caplog.at_level(logging.WARNING, logger="tokentrail"):
        for _ in range(3):
            start_call("openai", "gpt-4o").settle(broken, {"odd": True})
        events = tt.tracker().events
    assert [(e.usage_source, e.usage.total_tokens, e.cost) for e in events] == [("missing", 0, None)] * 3
    assert len([r for r in caplog.records if "could not read usage" in r.getMessage()]) == 1


def test_the_queue_is_bounded() -> None:
    for i in range(FOLD_AT * 3 + 5):
        start_call("openai", "gpt-4o").settle(_outcome, {"in": 1, "out": 1, "model": "gpt-4o", "id": str(i)})
        assert len(LEDGER.pending) < FOLD_AT
    assert tt.tracker().calls == FOLD_AT * 3 + 5


def test_a_global_budget_does_not_count_calls_queued_before_it() -> None:
    for _ in range(5):
        tt.record(model="gpt-4o", provider="openai", input_tokens=100, output_tokens=0)
    assert len(LEDGER.pending) == 5
    tt.set_budget(tokens=250)
    tt.record(model="gpt-4o", provider="openai", input_tokens=100, output_tokens=0)
    start_call("openai", "gpt-4o")  # 100 of 250 since the budget was set: allowed
    with pytest.warns(tt.BudgetWarning, match="reached its tokens budget"):
        tt.record(model="gpt-4o", provider="openai", input_tokens=200, output_tokens=0)
    with pytest.raises(tt.BudgetExceeded):
        start_call("openai", "gpt-4o")
    assert tt.tracker().usage.input_tokens == 800


def test_writers_and_readers_at_once_count_every_event_exactly_once() -> None:
    writers, per_writer = 8, 2000
    done = threading.Event()
    reads: list[list[int]] = [[], []]

    def write() -> None:
        for _ in range(per_writer):
            tt.record(model="gpt-4o-mini", provider="openai", input_tokens=2, output_tokens=1)

    def read(seen: list[int]) -> None:
        while not done.is_set():
            seen.append(tt.tracker().usage.input_tokens)

    readers = [threading.Thread(target=read, args=(seen,)) for seen in reads]
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in readers + threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    for t in readers:
        t.join()
    n = writers * per_writer
    assert tt.tracker().usage == tt.Usage(2 * n, n)
    events = tt.tracker().events
    assert len(events) == n and len({e.id for e in events}) == n
    for seen in reads:  # each reader folded as it went, and never saw the totals go back
        assert seen == sorted(seen) and len(seen) > 1


def test_a_batched_subscriber_gets_every_event_once_without_making_calls_build_them() -> None:
    batched: list[tt.UsageEvent] = []
    tt.on("usage", batched.append, batched=True)
    for i in range(10):
        start_call("openai", "gpt-4o").settle(_outcome, {"in": 1, "out": 1, "model": "gpt-4o", "id": str(i)})
    assert len(LEDGER.pending) == 10 and batched == []  # the calls only queued
    assert tt.tracker().calls == 10  # a read folds, then tells the batched subscriber
    assert [e.response_id for e in batched] == [str(i) for i in range(10)]

    each: list[tt.UsageEvent] = []
    tt.on("usage", each.append)  # someone wants each event as it happens: no more queueing
    tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)
    assert not LEDGER.pending and len(batched) == 11 and len(each) == 1


def test_only_usage_subscribers_can_be_batched() -> None:
    with pytest.raises(ValueError, match="only usage"):
        tt.on("call_start", print, batched=True)


def test_folded_totals_equal_the_events_added_one_by_one() -> None:
    with tt.track_usage("outer") as outer, pytest.warns(tt.UnpricedModelWarning):
        for i in range(40):  # priced, unpriced, error and zero-token calls
            tt.record(model="gpt-4o-mini", provider="openai", input_tokens=100 + i, output_tokens=7,
                      cached_input_tokens=i, reasoning_tokens=i % 3, duration_ms=1.5)  # fmt: skip
            tt.record(model="no-such-model-x", provider="acme", input_tokens=3, output_tokens=i % 2)
            tt.record(model="gpt-4o", provider="openai", input_tokens=0, output_tokens=0, status="error")
        with tt.track_usage("inner") as inner, tt.tool("search"):
            for i in range(30):  # cache writes, provider-reported cost, inside a tool span
                tt.record(model="claude-sonnet-4-5", provider="anthropic", input_tokens=50,
                          output_tokens=i, cache_write_tokens=10)  # fmt: skip
                tt.record(provider="openrouter", input_tokens=5, output_tokens=5, cost=0.001)
        with tt.tool("rerank"):
            pass
        assert len(LEDGER.pending) > 100  # all of it still queued
    for scope in (outer, inner, tt.tracker()):
        one_by_one = Accumulator()
        for event in scope.events:
            one_by_one.add(event)
        want, got = one_by_one.snapshot(), scope.totals()
        assert (got.calls, got.errors, got.usage, got.unpriced_calls, got.tool_spans) == (
            want.calls, want.errors, want.usage, want.unpriced_calls, want.tool_spans)  # fmt: skip
        assert got.cost == pytest.approx(want.cost, rel=1e-12)
        calls_ms = sum(e.duration_ms for e in scope.events if e.kind != "tool")  # totals time the calls
        assert got.duration_ms == pytest.approx(calls_ms, rel=1e-9)
    assert (
        outer.totals().unpriced_calls == 40 and outer.errors == 40 and inner.by_tool()["search"].calls == 60
    )


def _break_build_of_response(monkeypatch: pytest.MonkeyPatch, response_id: str) -> None:
    """A bug in building one record's event: the record of the call with ``response_id`` raises."""
    from tokentrail.ledger import records

    real = records.build

    def broken(record: records.CallRecord) -> tt.UsageEvent:
        if record[24] == response_id:
            raise RuntimeError("a bug")
        return real(record)

    monkeypatch.setattr(records, "build", broken)


def test_a_call_whose_event_cannot_be_built_does_not_lose_the_others(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    handles = [start_call("openai", "gpt-4o") for _ in range(5)]
    for i, handle in enumerate(handles):
        handle.settle(_outcome, {"in": 1, "out": 1, "model": "gpt-4o", "id": str(i)})
    _break_build_of_response(monkeypatch, "2")
    with caplog.at_level(logging.ERROR, logger="tokentrail"):
        assert [e.response_id for e in tt.tracker().events] == ["0", "1", "3", "4"]
    assert "could not build the event" in caplog.text and not LEDGER.pending
    assert tt.tracker().totals().calls == 5  # its totals were summed from its record


def test_a_settled_call_is_kept_as_a_record_and_built_once_when_read() -> None:
    with tt.track_usage("r") as run:
        for i in range(3):
            start_call("openai", "gpt-4o-mini").settle(_outcome, {"in": 10, "out": i, "model": "gpt-4o-mini",
                                                                  "id": str(i)})  # fmt: skip
        assert run.usage == tt.Usage(30, 3)  # folded: summed from the records
        assert run.agg.lazy == 3 and all(type(x) is tuple for x in run.agg._events)
        first = run.events
        assert run.agg.lazy == 0 and all(type(x) is tt.UsageEvent for x in run.agg._events)
        assert run.events == first and run.events[0] is first[0]  # built once, kept
    assert [e.response_id for e in first] == ["0", "1", "2"]


def test_a_price_change_builds_kept_records_with_the_rates_their_totals_used() -> None:
    a_million = {"in": 1_000_000, "out": 0, "model": "gpt-4o-mini"}
    with tt.track_usage("r") as run:
        start_call("openai", "gpt-4o-mini").settle(_outcome, {**a_million, "id": "a"})
        before = run.cost
        tt.set_price("gpt-4o-mini", input_per_mtok=100.0, output_per_mtok=100.0)  # conftest clears it
        start_call("openai", "gpt-4o-mini").settle(_outcome, {**a_million, "id": "b"})
        a, b = run.events
    assert before is not None and a.cost is not None and b.cost is not None
    assert a.cost.total == pytest.approx(0.15) == before.total  # the rate when it was counted
    assert b.cost.total == pytest.approx(100.0)
    assert run.cost is not None and run.cost.total == pytest.approx(100.15)


def test_readers_racing_folds_only_ever_see_built_events() -> None:
    """Threads settle calls (kept as records) while another reads the events: every snapshot holds
    events only, and in the end every call is there once and the totals are exact."""
    stop = threading.Event()
    seen_types: set[type] = set()

    def read() -> None:
        while not stop.is_set():
            seen_types.update(map(type, run.events))
            seen_types.update(map(type, tt.tracker().events))

    def work(k: int) -> None:
        for i in range(300):
            start_call("openai", "gpt-4o-mini").settle(_outcome, {"in": 3, "out": 1, "model": "gpt-4o-mini",
                                                                  "id": f"{k}-{i}"})  # fmt: skip

    with tt.track_usage("race") as run:
        reader = threading.Thread(target=read)
        reader.start()
        workers = [threading.Thread(target=contextvars.copy_context().run, args=(work, k)) for k in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        stop.set()
        reader.join()
    assert seen_types <= {tt.UsageEvent}
    events = run.events
    assert sorted(e.response_id for e in events) == sorted(f"{k}-{i}" for k in range(4) for i in range(300))
    assert run.usage == tt.Usage(3 * 1200, 1200) and run.calls == 1200
    assert run.cost is not None
    assert run.cost.total == pytest.approx(sum(e.cost.total for e in events if e.cost is not None), rel=1e-12)


def _kept(scope: Any) -> list[Any]:
    """What a scope keeps now (records and events), without building anything."""
    return list(scope._events)


def test_recorded_calls_are_kept_as_plain_values_and_read_back_as_record_returned_them() -> None:
    """A manual ``record()`` is kept as a flat record of atoms (the collector untracks it after one
    pass); reading the events gives back what ``record()`` returned, priced the same."""
    import gc

    with tt.track_usage("r") as run, tt.tool("search"):
        returned = [
            tt.record(model="gpt-4o-mini", provider="openai", input_tokens=1200, output_tokens=350,
                      cached_input_tokens=400, reasoning_tokens=64),
            tt.record(model="gpt-4o-mini", provider="openai", input_tokens=10, output_tokens=5, cost=0.25),
            tt.record(model="no-such-model-xyz", provider="openai", input_tokens=0, output_tokens=0),
            tt.record(input_tokens=3, output_tokens=4, duration_ms=250.0),
            tt.record_usage({"prompt_tokens": 9, "completion_tokens": 2}, model="gpt-4o", provider="openai"),
            tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1, status="error"),
            tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1, metadata={"k": 1}),
        ]  # fmt: skip
        totals = run.totals()
        kept = _kept(run.agg)
        records = [x for x in kept if type(x) is tuple]
        assert len(records) == 5 and len(kept) == 7  # an error and one with metadata: kept as built
        plain = [x for x in records if x[26] is None]  # record_usage's keeps its raw usage mapping
        gc.collect()
        assert len(plain) == 4 and not any(map(gc.is_tracked, plain))
        assert run.events == tuple(sorted(returned, key=lambda e: e.started_at))  # by start, as runs give
        assert tt.tracker().events == tuple(returned)  # the session: in the order they were recorded
        assert [type(x) for x in _kept(run.agg)] == [tt.UsageEvent] * 7  # built once, in place
    assert returned[1].cost is not None and returned[1].cost.total == 0.25
    assert returned[4].raw_usage == {"prompt_tokens": 9, "completion_tokens": 2}
    assert {e.tool for e in returned} == {"search"} and returned[3].duration_ms == pytest.approx(250.0)
    by_hand = Accumulator()
    for e in returned:
        by_hand.add(e)
    expected = by_hand.snapshot()  # the same sums; a group's cost may differ in the last ulps (rates x sums)
    assert totals.cost == pytest.approx(expected.cost, rel=1e-12)
    assert dataclasses.replace(totals, cost=0.0) == dataclasses.replace(expected, cost=0.0)


def test_events_counted_at_once_keep_their_records_too() -> None:
    """With a usage handler or a budget each event is built and delivered at once, but what the run
    keeps is its flat record: read back, the events equal the ones delivered."""
    seen: list[tt.UsageEvent] = []
    tt.configure(handlers=[seen.append])
    with tt.track_usage("r", budget_usd=100.0) as run:
        start_call("openai", "gpt-4o-mini").settle(_outcome, {"in": 5, "out": 2, "model": "gpt-4o-mini",
                                                              "id": "a"})  # fmt: skip
        tt.record(model="gpt-4o-mini", provider="openai", input_tokens=7, output_tokens=1)
        assert not LEDGER.pending and [type(x) for x in _kept(run.agg)] == [tuple, tuple]
        assert run.agg.lazy == 2 and LEDGER.session.lazy >= 2
        assert run.events == tuple(seen) and tt.tracker().events[-2:] == tuple(seen)
    assert run.usage == tt.Usage(12, 3)


@pytest.mark.parametrize("counted_at_once", [False, True])
def test_a_price_change_builds_recorded_calls_with_the_rates_their_totals_used(counted_at_once: bool) -> None:
    if counted_at_once:  # a usage handler: each event is built and counted at once, its record kept
        tt.configure(handlers=[lambda event: None])
    with tt.track_usage("r") as run:
        first = tt.record(model="gpt-4o-mini", provider="openai", input_tokens=1_000_000, output_tokens=0)
        before = run.cost
        assert [type(x) for x in run.agg._events] == [tuple]  # kept as its record until read
        tt.set_price("gpt-4o-mini", input_per_mtok=100.0, output_per_mtok=100.0)  # conftest clears it
        (kept,) = run.events
    assert before is not None and kept == first and kept.cost is not None
    assert kept.cost.total == pytest.approx(0.15) == before.total


def test_a_call_without_flat_rates_whose_event_cannot_be_built_does_not_lose_the_others(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calls of a model without a price are counted one by one in the fold; one that cannot be built
    is logged and left out, and the others are counted and kept as their records."""
    _break_build_of_response(monkeypatch, "2")
    with tt.track_usage("r") as run, caplog.at_level(logging.ERROR, logger="tokentrail"):
        for i in range(4):
            start_call("openai", "no-such-model-xyz").settle(
                _outcome, {"in": 1, "out": 1, "model": "no-such-model-xyz", "id": str(i)}
            )
        assert run.totals().calls == 3  # folded: the broken one is not counted
        assert [type(x) for x in run.agg._events] == [tuple] * 3
        assert sorted(e.response_id for e in run.events) == ["0", "1", "3"]
    assert "could not build the event" in caplog.text
