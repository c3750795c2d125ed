"""Handlers and subscribers: isolated, sync and async, removable; a failing one never breaks a call."""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings

import pytest

import tokentrail as tt


def test_raising_handler_and_slow_async_handler(caplog: pytest.LogCaptureFixture) -> None:
    async_seen: list[str] = []
    loop_threads: set[int] = set()
    gate = threading.Event()  # closed while the records are made: a record() that waited would hang

    def always_fails(event: tt.UsageEvent) -> None:
        raise RuntimeError("handler bug")

    async def slow(event: tt.UsageEvent) -> None:
        loop_threads.add(threading.get_ident())
        while not gate.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        async_seen.append(event.id)

    tt.configure(handlers=[always_fails, slow])
    with caplog.at_level(logging.ERROR, logger="tokentrail"), tt.track_usage("r") as run:
        events = [
            tt.record(model="gpt-4o", provider="openai", input_tokens=5, output_tokens=5) for _ in range(200)
        ]
    assert all(isinstance(e, tt.UsageEvent) for e in events)
    assert run.calls == 200 and run.usage.total_tokens == 2000
    # every record() returned while the async handler could not finish a single event: none waited
    assert async_seen == []
    gate.set()
    errors = [r for r in caplog.records if "handler bug" in r.getMessage()]
    assert len(errors) == 1
    assert tt.tracker().ledger.hub.runner.flush(timeout=10)
    assert sorted(async_seen) == sorted(e.id for e in events)
    assert len(loop_threads) == 1 and threading.get_ident() not in loop_threads


def test_on_returns_removable_subscription() -> None:
    starts: list[object] = []
    usages: list[object] = []
    sub = tt.on("usage", usages.append)
    with tt.on("tool_start", starts.append), tt.tool("search"):
        pass
    with tt.tool("search"):
        pass
    assert len(starts) == 1
    assert [e.kind for e in usages] == ["tool", "tool"]  # type: ignore[attr-defined]
    sub.remove()
    tt.record(model="x", input_tokens=0, output_tokens=0)
    assert len(usages) == 2


def test_configure_replaces_handlers_and_reset_config_removes_all() -> None:
    a: list[object] = []
    b: list[object] = []
    tt.configure(handlers=[a.append])
    tt.configure(handlers=[b.append])
    tt.on("usage", b.append)
    tt.record(model="x", input_tokens=0, output_tokens=0)
    assert len(a) == 0 and len(b) == 2
    tt.reset_config()
    tt.record(model="x", input_tokens=0, output_tokens=0)
    assert len(b) == 2


def test_bad_subscriptions() -> None:
    with pytest.raises(ValueError, match="unknown event kind 'usages'"):
        tt.on("usages", print)
    with pytest.raises(TypeError, match="callable"):
        tt.on("usage", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="handlers must be callables"):
        tt.configure(handlers=["print"])  # type: ignore[list-item]


def test_call_start_fires_with_the_run() -> None:
    from tokentrail.runs import start_call

    seen: list[object] = []
    tt.on("call_start", seen.append)
    with tt.track_usage("r") as run:
        handle = start_call("openai", "gpt-4o", "chat")
        event = handle.finish(tt.Usage(3, 4), response_model="gpt-4o-2024-08-06", finish_reason="stop")
        assert handle.finish(tt.Usage(3, 4)) is None  # exactly once
    assert seen == [handle] and handle.run_id == run.id
    assert event is not None and event.response_model == "gpt-4o-2024-08-06" and event.cost is not None
    assert run.calls == 1


def test_missing_usage_is_marked_not_zero() -> None:
    from tokentrail.runs import start_call

    event = start_call("openai", "gpt-4o", "chat", "stream").finish(None, status="partial")
    assert event is not None
    assert event.usage_source == "missing" and event.status == "partial" and event.cost is None


def test_run_start_and_end_events_and_lookup_by_id() -> None:
    seen: list[tuple[str, str, str]] = []
    tt.on("run_start", lambda r: seen.append(("start", r.name, r.status)))
    tt.on("run_end", lambda r: seen.append(("end", r.name, r.status)))
    with tt.track_usage("a") as run:
        pass
    assert seen == [("start", "a", "running"), ("end", "a", "done")]
    assert tt.tracker().get_run(run.id) is run
    assert tt.tracker().get_run("nope") is None


def test_reading_totals_while_another_thread_adds_models() -> None:
    stop = threading.Event()
    errors: list[BaseException] = []

    def reader(run: tt.Run) -> None:
        while not stop.is_set():
            try:
                run.totals(), run.by_model(), run.by_provider(), run.by_tool()
            except BaseException as exc:
                errors.append(exc)
                return

    with warnings.catch_warnings(), tt.track_usage("r") as run:
        warnings.simplefilter("ignore")  # 300 made-up models, each unpriced
        t = threading.Thread(target=reader, args=(run,))
        t.start()
        for i in range(3000):
            tt.record(
                model=f"m{i % 300}", provider=f"p{i % 7}", tool=f"t{i}", input_tokens=1, output_tokens=1
            )
        stop.set()
        t.join()
    assert errors == []
    assert run.calls == 3000 and len(run.by_model()) == 300
