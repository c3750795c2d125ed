"""Totals stay exact under threads and asyncio tasks; nested runs attribute to the right run."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import tokentrail as tt

THREADS, PER_THREAD = 32, 1000


def test_32_threads_x_1000_records_are_exact() -> None:
    barrier = threading.Barrier(THREADS)

    def worker(run_name: str) -> None:
        barrier.wait()
        with tt.track_usage(run_name) as inner:
            for _ in range(PER_THREAD):
                tt.record(model="gpt-4o-mini", provider="openai", input_tokens=3, output_tokens=2,
                          cached_input_tokens=1)  # fmt: skip
        assert inner.calls == PER_THREAD

    with tt.track_usage("outer") as outer:
        threads = [
            threading.Thread(target=contextvars.copy_context().run, args=(worker, f"t{i}"))
            for i in range(THREADS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    n = THREADS * PER_THREAD
    assert outer.calls == n
    assert outer.usage.input_tokens == 3 * n
    assert outer.usage.output_tokens == 2 * n
    assert outer.usage.cached_input_tokens == n
    assert outer.cost is not None
    expected = n * (2 * 0.15 + 1 * 0.075 + 2 * 0.6) / 1_000_000
    assert abs(outer.cost.total - expected) < 1e-9
    assert tt.tracker().calls == n
    inner_runs = [r for r in tt.tracker().runs() if r.parent is outer]
    assert len(inner_runs) == THREADS
    assert all(r.calls == PER_THREAD and r.path == ("outer", r.name) for r in inner_runs)
    assert sum(r.usage.total_tokens for r in inner_runs) == outer.usage.total_tokens


async def test_100_concurrent_tasks_attribute_to_their_own_runs() -> None:
    async def task(i: int) -> tt.Run:
        async with tt.track_usage(f"task-{i}") as run:
            for _ in range(10):
                tt.record(model="gpt-4o", provider="openai", input_tokens=i, output_tokens=1)
                await asyncio.sleep(0)
        return run

    async with tt.track_usage("batch") as batch:
        runs = await asyncio.gather(*(task(i) for i in range(100)))

    for i, run in enumerate(runs):
        assert run.calls == 10
        assert run.usage.input_tokens == 10 * i
        assert run.parent is batch
        assert {e.run_id for e in run.events} == {run.id}
    assert batch.calls == 1000
    assert batch.usage.input_tokens == 10 * sum(range(100))


def test_calls_outside_any_run_reach_the_tracker_and_handlers() -> None:
    seen: list[tt.UsageEvent] = []
    tt.configure(handlers=[seen.append])
    event = tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)
    assert event.run_id is None and event.run_path == ()
    assert seen == [event]
    assert tt.tracker().calls == 1
