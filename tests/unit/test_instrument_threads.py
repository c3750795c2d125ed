"""While instrumented, threads and executor tasks started inside a run see its context; others don't."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

import tokentrail as tt
import tokentrail.instrument as ti


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    ti.instrument()
    yield
    ti.uninstrument()


def in_thread() -> tt.Run | None:
    seen: list[tt.Run | None] = []
    worker = threading.Thread(target=lambda: seen.append(tt.current_run()))
    worker.start()
    worker.join()
    return seen[0]


def test_threads_started_inside_a_run_carry_it() -> None:
    assert in_thread() is None
    with tt.track_usage() as run:
        assert in_thread() is run
        with tt.track_usage() as inner:
            assert in_thread() is inner
    assert in_thread() is None


def test_executor_tasks_carry_the_submitters_run_not_the_workers() -> None:
    with ThreadPoolExecutor(1) as pool:
        with tt.track_usage() as run:
            assert pool.submit(tt.current_run).result() is run  # this submit also starts the worker
            with tt.context(agent="planner"):
                assert pool.submit(lambda: tt.current_run() and tt.current_run()).result() is run
        assert pool.submit(tt.current_run).result() is None  # the worker kept no run of its own
        with tt.track_usage() as other:
            assert list(pool.map(lambda _: tt.current_run(), range(3))) == [other] * 3


def test_uninstrumented_threads_are_plain() -> None:
    ti.uninstrument()
    with tt.track_usage():
        assert in_thread() is None
