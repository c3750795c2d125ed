"""Calls belong to the active run: hidden libraries, threads, executors, asyncio tasks, any import order."""

from __future__ import annotations

import asyncio
import importlib
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from support import payloads as p
from support.replay import ReplayServer, json_reply
from support.served import served

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.demo import LocalModel

MODEL = "gemma3-270m"
MSGS = [{"role": "user", "content": "Hi"}]


@pytest.mark.llm
def test_hidden_library_built_before_instrument(
    local_model: LocalModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", local_model.openai_base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    sys.modules.pop("support.hidden_library", None)
    hidden = importlib.import_module("support.hidden_library")  # its client exists before instrument()
    ti.instrument()
    with tt.track_usage("hidden") as run, served(local_model) as s:
        pooled = hidden.remember("red")
        threaded = hidden.remember_in_thread("blue")
    assert [e.run_id for e in run.events] == [run.id, run.id]
    assert run.usage.output_tokens == pooled.usage.completion_tokens + threaded.usage.completion_tokens
    assert (run.usage.input_tokens, run.usage.output_tokens) == (s.input_tokens, s.output_tokens)


@pytest.mark.llm
def test_threads_and_executors_inside_a_run(openai_client: Any) -> None:
    ti.instrument()

    def ask() -> Any:
        return openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=1)

    pool = ThreadPoolExecutor(2)
    pool.submit(ask).result()  # a worker started outside any run must not keep that context
    with tt.track_usage("threads") as run:
        worker = threading.Thread(target=ask)
        worker.start()
        worker.join()
        list(pool.map(lambda _: ask(), range(2)))
        with tt.context(agent="planner"):
            pool.submit(ask).result()
    outside = pool.submit(ask)
    outside.result()
    pool.shutdown()
    assert len(run.events) == 4 and {e.run_id for e in run.events} == {run.id}
    assert run.events[-1].context.agent == "planner"
    last = tt.tracker().events[-1]
    assert last.run_id is None  # submitted after the run: no run, still in the global tracker


@pytest.mark.llm
async def test_tasks_and_run_in_executor_inside_a_run(openai_client: Any, async_openai_client: Any) -> None:
    ti.instrument()
    create = async_openai_client.chat.completions.create
    async with tt.track_usage("tasks") as run:
        tasks = [asyncio.create_task(create(model=MODEL, messages=MSGS, max_tokens=1)) for _ in range(3)]
        await asyncio.gather(*tasks)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=1)
        )
    assert len(run.events) == 4 and {e.run_id for e in run.events} == {run.id}
    assert [e.is_async for e in run.events].count(True) == 3


@pytest.mark.llm
def test_calls_outside_any_run_reach_tracker_and_handlers(openai_client: Any) -> None:
    seen: list[tt.UsageEvent] = []
    tt.configure(handlers=[seen.append])
    ti.instrument()
    r = openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=2)
    tt.tracker().ledger.hub.runner.flush()
    (event,) = tt.tracker().events
    assert event.run_id is None and seen == [event]
    assert event.usage.output_tokens == r.usage.completion_tokens == tt.tracker().usage.output_tokens


SCRIPT = """
import json, os, sys
import tokentrail as tt
tt.instrument()
assert "openai" not in sys.modules
import openai                                     # imported after instrument(): the hook patches it
client = openai.OpenAI(base_url=os.environ["URL"], api_key="sk-test", max_retries=0)
with tt.track_usage() as run:
    client.chat.completions.create(model="o3-mini", messages=[{"role": "user", "content": "Hi"}])
original = openai._base_client.SyncAPIClient.request.__tokentrail_original__
tt.uninstrument()
print(json.dumps({"tokens": [tuple(e.usage) for e in run.events],
                  "restored": openai._base_client.SyncAPIClient.__dict__["request"] is original}))
"""


def test_sdk_imported_after_instrument(replay: ReplayServer) -> None:
    replay.script(json_reply(p.openai_chat(p.REASONING_USAGE)))
    env = {"URL": replay.openai_base_url, "PATH": "", "PYTHONPATH": str(Path(tt.__file__).parents[1])}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"tokens": [[2006, 300, 2306, 1920, 0, 256]], "restored": True}
