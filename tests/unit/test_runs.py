"""Runs: context manager, async, decorator; nesting, context, handoffs, tool spans, views."""

from __future__ import annotations

import time

import pytest

import tokentrail as tt


def test_run_views_and_trial_log_shape() -> None:
    with tt.track_usage("trial-17", tags={"arch": "mem0"}) as run:
        with tt.context(agent="planner", session_id="s1"):
            tt.record(model="gpt-4o-mini", provider="openai", input_tokens=1200, output_tokens=350,
                      cached_input_tokens=400, reasoning_tokens=64)  # fmt: skip
            tt.handoff("researcher")
            with tt.tool("search", args={"q": "..."}):
                tt.record(tool=tt.Tool.SEARCH, provider="jina", input_tokens=0, output_tokens=812)
        tt.record_usage({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100},
                        model="claude-sonnet-4-5", provider="anthropic")  # fmt: skip
    assert run.usage == tt.Usage(1310, 1167, cached_input_tokens=500, reasoning_tokens=64)
    assert run.calls == 3 and run.errors == 0
    assert [e.kind for e in run.events] == ["manual", "tool", "manual", "manual"]
    assert set(run.by_model()) == {"gpt-4o-mini", "(no model)", "claude-sonnet-4-5"}
    assert run.by_tool()["search"].tool_spans == 1 and run.by_tool()["search"].output_tokens == 812
    assert set(run.by_provider()) == {"openai", "jina", "anthropic"}
    assert run.cost is not None and run.cost.status == "partial"  # the jina record has no price
    d = run.to_dict()
    for key in ("total_calls", "prompt_tokens", "completion_tokens", "reasoning_tokens", "total_tokens",
                "calls_by_model"):  # fmt: skip
        assert key in d
    assert d["total_calls"] == 3 and d["prompt_tokens"] == 1310 and d["calls_by_model"]["gpt-4o-mini"] == 1
    assert run.end_time is not None and run.duration_ms >= 0 and run.status == "done"
    df = run.to_pandas()
    assert len(df) == 4 and int(df["input_tokens"].sum()) == 1310
    first = run.events[0]
    assert first.context.agent == "planner" and first.context.session_id == "s1"
    search = run.events[2]
    assert search.context.agent == "researcher" and search.context.handoffs == ("researcher",)
    assert tt.last_run() is run


def test_nested_runs_count_in_every_enclosing_run() -> None:
    with tt.track_usage("outer") as outer:
        tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)
        with tt.track_usage("inner") as inner:
            event = tt.record(model="gpt-4o", provider="openai", input_tokens=10, output_tokens=10)
    assert inner.calls == 1 and outer.calls == 2
    assert event.run_path == ("outer", "inner") and event.run_id == inner.id
    assert inner.parent is outer
    assert tt.current_run() is None


async def test_async_context_manager_and_decorators() -> None:
    @tt.track_usage(tags={"kind": "sync"})
    def sync_job() -> tt.Run | None:
        tt.record(model="gpt-4o", provider="openai", input_tokens=2, output_tokens=2)
        return tt.current_run()

    @tt.track_usage("async-job")
    async def async_job() -> tt.Run | None:
        tt.record(model="gpt-4o", provider="openai", input_tokens=3, output_tokens=3)
        return tt.current_run()

    r1, r2 = sync_job(), sync_job()
    assert r1 is not None and r2 is not None and r1 is not r2
    assert r1.name.endswith("sync_job") and r1.tags == {"kind": "sync"} and r1.calls == 1
    r3 = await async_job()
    assert r3 is not None and r3.name == "async-job" and r3.usage.total_tokens == 6
    async with tt.track_usage("awith") as r4:
        tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=0)
    assert r4.calls == 1


def test_run_status_on_error_and_interrupt() -> None:
    with pytest.raises(ZeroDivisionError), tt.track_usage("boom") as run:
        tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=0)
        _ = 1 / 0
    assert run.status == "error" and run.error_type == "ZeroDivisionError" and run.calls == 1
    with pytest.raises(KeyboardInterrupt), tt.track_usage("stop") as run2:
        raise KeyboardInterrupt
    assert run2.status == "interrupted"


def test_tool_spans_fire_start_and_end_with_duration() -> None:
    spans: list[tt.ToolSpan] = []
    tt.on("tool_end", spans.append)

    @tt.tool(tt.Tool.RERANK)
    def rerank(items: list[int], *, top: int) -> list[int]:
        time.sleep(0.01)
        return sorted(items)[:top]

    with tt.track_usage("r") as run:
        assert rerank([3, 1, 2], top=2) == [1, 2]
        with pytest.raises(ValueError), tt.tool("read"):
            raise ValueError("nope")
    assert [s.name for s in spans] == ["rerank", "read"]
    assert spans[0].status == "ok" and spans[1].status == "error" and spans[1].error_type == "ValueError"
    assert spans[0].ended_at is not None and spans[0].ended_at - spans[0].started_at >= 0.01
    assert spans[0].arg_names == ("top",)
    assert run.by_tool()["rerank"].tool_spans == 1
    assert run.by_tool()["rerank"].duration_ms >= 10
    assert run.calls == 0  # spans are not LLM calls


def test_context_merges_and_tags_combine() -> None:
    with tt.context(agent="a", tags={"x": "1"}), tt.context(session_id="s", y="2") as ctx:
        assert ctx.agent == "a" and ctx.session_id == "s" and dict(ctx.tags) == {"x": "1", "y": "2"}
        event = tt.record(model="m", input_tokens=0, output_tokens=0)
    assert event.context == ctx


def test_report_every_calls_back_from_a_daemon_thread() -> None:
    reports: list[object] = []
    periodic = tt.report_every(0.02, reports.append)
    time.sleep(0.15)
    periodic.remove()
    n = len(reports)
    assert n >= 2
    time.sleep(0.06)
    assert len(reports) <= n + 1


def test_tracker_summary_and_reset(capsys: pytest.CaptureFixture[str]) -> None:
    with tt.track_usage("x"):
        tt.record(model="gpt-4o", provider="openai", input_tokens=100, output_tokens=10)
    tt.tracker().print_summary()
    out = capsys.readouterr().out
    assert "Session" in out and "100" in out and "gpt-4o" in out
    assert len(tt.tracker().to_pandas()) == 1
    tt.tracker().reset()
    assert tt.tracker().calls == 0 and tt.tracker().runs() == [] and tt.last_run() is None


def test_bad_run_arguments() -> None:
    with pytest.raises(TypeError, match="run name"):
        tt.track_usage(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="budget usd must be a number > 0"):
        tt.track_usage("r", budget_usd=0)
    with pytest.raises(ValueError, match="budget tokens"):
        tt.track_usage("r", budget_tokens=-5)
    with pytest.raises(TypeError, match="tool name"):
        tt.tool(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="tool must be a str"):
        tt.record(model="m", tool=3.5, input_tokens=1, output_tokens=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="agent"), tt.context(agent=5):  # type: ignore[arg-type]
        pass
    with pytest.raises(ValueError, match="cost"):
        tt.record(model="m", input_tokens=1, output_tokens=1, cost=-1.0)


def test_events_past_the_cap_keep_totals_exact() -> None:
    tt.configure(max_events=100)
    tt.tracker().reset()
    for _ in range(250):
        tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)
    assert len(tt.tracker().events) == 100
    assert tt.tracker().ledger.dropped == 150
    assert tt.tracker().calls == 250 and tt.tracker().usage.total_tokens == 500
    tt.configure(max_events=100_000)
