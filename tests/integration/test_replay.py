"""Provider shapes the local model cannot produce, replayed over real HTTP to the real SDKs.

Reasoning and cached tokens, Anthropic cache writes and cumulative stream usage, retries (each attempt
its own event), endpoints that refuse ``stream_options``, and OpenRouter's reported cost.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anthropic
import openai
import pytest
from support import payloads as p
from support.replay import ReplayServer, error_reply, json_reply, sse_reply

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.instrument._fields import usage_copy

pytestmark = pytest.mark.usefixtures("instrumented")
MSGS = [{"role": "user", "content": "Hi"}]


_open: list[Any] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _open:
        _open.pop().close()


def oai(replay: ReplayServer, retries: int = 0) -> openai.OpenAI:
    client = openai.OpenAI(
        base_url=replay.openai_base_url, api_key="sk-test", max_retries=retries, timeout=10
    )
    _open.append(client)
    return client


def claude(replay: ReplayServer, retries: int = 0) -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=replay.base_url, api_key="sk-test", max_retries=retries, timeout=10)
    _open.append(client)
    return client


def test_reasoning_and_cached_tokens(replay: ReplayServer) -> None:
    replay.script(
        json_reply(p.openai_chat(p.REASONING_USAGE)), json_reply(p.responses_response(p.RESPONSES_USAGE))
    )
    client = oai(replay)
    with tt.track_usage() as run:
        reply = client.chat.completions.create(model="o3-mini", messages=MSGS)
        client.responses.create(model="o4-mini", input="Hi")
    chat, resp = run.events
    assert tuple(chat.usage) == (2006, 300, 2306, 1920, 0, 256)
    assert tuple(resp.usage) == (328, 1200, 1528, 256, 0, 1024)
    assert chat.response_model == "o3-mini-2025-01-31" and chat.service_tier == "default"
    assert (
        chat.raw_usage is not None and chat.raw_usage["completion_tokens_details"]["reasoning_tokens"] == 256
    )
    # raw usage is a read-only copy as plain data (the SDK's objects are not kept alive), JSON-ready
    assert resp.raw_usage is not None
    for raw in (chat.raw_usage, resp.raw_usage):
        with pytest.raises(TypeError):
            raw["input_tokens"] = 0  # type: ignore[index]
    assert json.loads(json.dumps(dict(resp.raw_usage)))["output_tokens_details"]["reasoning_tokens"] == 1024
    assert json.loads(json.dumps(dict(chat.raw_usage)))["prompt_tokens_details"]["cached_tokens"] == 1920
    assert reply.usage is not None and dict(chat.raw_usage) == dict(
        usage_copy(reply.usage)
    )  # the chat fast path


def test_a_kept_chat_call_is_left_alone_by_the_collector(replay: ReplayServer) -> None:
    # a kept call holds only atoms (raw usage spliced in flat): one collection untracks it, so the
    # collector does not walk every kept call again; a dict or nested tuple in it would keep it tracked
    plain = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    usages = [p.REASONING_USAGE, plain, p.REASONING_USAGE]
    replay.script(*[json_reply(p.openai_chat(u)) for u in usages * 2])
    client = oai(replay)
    for _ in usages:  # each layout's shape is learned once, and untracked at the next collection
        client.chat.completions.create(model="o3-mini", messages=MSGS)
    gc.collect()
    with tt.track_usage() as run:
        replies = [client.chat.completions.create(model="o3-mini", messages=MSGS) for _ in usages]
    assert run.usage.total_tokens == 2306 + 7 + 2306  # folded: the records are kept, not yet built
    kept = list(tt.tracker().ledger.session._events)[-3:]
    assert [type(k) for k in kept] == [tuple] * 3
    # one collection untracks a tuple of atoms; one that holds the run's path tuple waits for the next
    # if the path sits after it in the collector's list (it does when the run was promoted earlier)
    gc.collect()
    gc.collect()
    assert [gc.is_tracked(k) for k in kept] == [False] * 3
    for event, reply in zip(run.events, replies):  # the same mapping as the generic copy
        assert reply.usage is not None and event.raw_usage == usage_copy(reply.usage)
        assert json.loads(json.dumps(dict(event.raw_usage or {}))) == reply.usage.model_dump()


def test_odd_usage_counts_are_converted_or_marked_missing_never_zero(replay: ReplayServer) -> None:
    """Whole floats are counts; a negative count or a string is not usage (``missing``), never 0."""
    replay.script(
        json_reply(p.openai_chat({"prompt_tokens": 12.0, "completion_tokens": 3, "total_tokens": 15.0})),
        json_reply(p.openai_chat({"prompt_tokens": 5, "completion_tokens": -3, "total_tokens": 2})),
        json_reply(p.openai_chat({"prompt_tokens": "many", "completion_tokens": 3, "total_tokens": 3})),
        json_reply(p.openai_chat({"prompt_tokens": 7, "completion_tokens": None, "total_tokens": 7})),
    )
    client = oai(replay)
    with tt.track_usage() as run:
        replies = [client.chat.completions.create(model="gpt-4o-mini", messages=MSGS) for _ in range(4)]
    floats, negative, text, null = run.events
    assert tuple(floats.usage) == (12, 3, 15, 0, 0, 0) and floats.usage_source == "provider"
    assert all(type(n) is int for n in floats.usage)
    for odd in (negative, text):
        assert odd.usage_source == "missing" and odd.cost is None and odd.status == "ok"
    assert tuple(null.usage) == (7, 0, 7, 0, 0, 0)  # the provider said null: no output tokens
    assert (
        replies[0].usage is not None and replies[0].usage.prompt_tokens == 12.0
    )  # the user's object as sent


def test_anthropic_cache_write_and_cumulative_stream(replay: ReplayServer) -> None:
    stream = sse_reply(p.anthropic_stream(), named=True, done=False)
    replay.script(json_reply(p.anthropic_message(p.CACHE_WRITE_USAGE)), stream)
    client = claude(replay)
    with tt.track_usage() as run:
        client.messages.create(model="claude-sonnet-4-6", messages=MSGS, max_tokens=400)
        with client.messages.stream(model="claude-sonnet-4-6", messages=MSGS, max_tokens=400) as stream:
            final = stream.get_final_message()
    written, streamed = run.events
    assert tuple(written.usage) == (21 + 1880, 393, 21 + 1880 + 393, 0, 1880, 0)
    # last value, never the sum: 42 output (not 2 + 15 + 42); input revised to 480 in the last delta
    assert tuple(streamed.usage) == (480 + 100 + 50, 42, 480 + 150 + 42, 50, 100, 0)
    assert final.usage.output_tokens == 42 and streamed.finish_reason == "end_turn"
    assert written.cost is not None and written.cost.cache_write == pytest.approx(1880 * 3.75 / 1e6)


def test_every_retry_attempt_is_an_event(replay: ReplayServer) -> None:
    replay.script(error_reply(429, "rate limited"), error_reply(500, "boom"),
                  json_reply(p.openai_chat(p.REASONING_USAGE)))  # fmt: skip
    with tt.track_usage() as run:
        oai(replay, retries=2).chat.completions.create(model="o3-mini", messages=MSGS)
    assert len(replay.requests) == 3
    got = [(e.attempt, e.status, e.error_type, e.usage.total_tokens) for e in run.events]
    assert got == [
        (1, "error", "RateLimitError", 0),
        (2, "error", "InternalServerError", 0),
        (3, "ok", None, 2306),
    ]
    assert run.calls == 3 and run.usage.total_tokens == 2306

    replay.script(error_reply(500, "still down"))
    with tt.track_usage() as failed, pytest.raises(openai.InternalServerError, match="still down"):
        oai(replay, retries=1).chat.completions.create(model="o3-mini", messages=MSGS)
    assert [(e.attempt, e.status) for e in failed.events] == [(1, "error"), (2, "error")]


def test_retries_on_concurrent_threads_stay_with_their_own_call(replay: ReplayServer) -> None:
    # 4 rate limits land on whichever requests come first; with 4 retries allowed every call succeeds
    replay.script(*[error_reply(429, "rate limited") for _ in range(4)],
                  *[json_reply(p.openai_chat(p.REASONING_USAGE)) for _ in range(4)])  # fmt: skip
    client = oai(replay, retries=4)
    with tt.track_usage() as run, ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.chat.completions.create(model="o3-mini", messages=MSGS), range(4)))
    events = run.events
    ok = [e for e in events if e.status == "ok"]
    assert len(ok) == 4 and [e.error_type for e in events if e.status == "error"] == ["RateLimitError"] * 4
    assert sum(e.attempt - 1 for e in ok) == 4  # each failed attempt was counted by its own call's retry
    assert len({e.id for e in events}) == 8


async def test_async_retries_and_anthropic_overloaded(replay: ReplayServer) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    replay.script(
        error_reply(529, "overloaded", body=overloaded), json_reply(p.anthropic_message(p.CACHE_WRITE_USAGE))
    )
    client = anthropic.AsyncAnthropic(base_url=replay.base_url, api_key="sk-test", max_retries=1, timeout=10)
    async with client, tt.track_usage() as run:
        await client.messages.create(model="claude-sonnet-4-6", messages=MSGS, max_tokens=400)
    assert [(e.attempt, e.status, e.error_type, e.is_async) for e in run.events] == [
        (1, "error", "OverloadedError", True), (2, "ok", None, True)]  # fmt: skip


async def test_retries_on_concurrent_tasks_stay_with_their_own_call(replay: ReplayServer) -> None:
    # the async retry sleep finds its call up the chain of awaiting coroutines, not in a shared slot
    replay.script(*[error_reply(429, "rate limited") for _ in range(4)],
                  *[json_reply(p.openai_chat(p.REASONING_USAGE)) for _ in range(4)])  # fmt: skip
    client = openai.AsyncOpenAI(base_url=replay.openai_base_url, api_key="sk-test", max_retries=4, timeout=10)
    async with client, tt.track_usage() as run:
        calls = [client.chat.completions.create(model="o3-mini", messages=MSGS) for _ in range(4)]
        await asyncio.gather(*calls)
    events = run.events
    ok = [e for e in events if e.status == "ok"]
    assert len(ok) == 4 and [e.error_type for e in events if e.status == "error"] == ["RateLimitError"] * 4
    assert sum(e.attempt - 1 for e in ok) == 4 and len({e.id for e in events}) == 8
    assert all(e.is_async for e in events) and run.usage.total_tokens == 4 * 2306


@pytest.mark.parametrize("status,body", [(400, p.MISTRAL_STREAM_OPTIONS_400), (422, p.STREAM_OPTIONS_422)])
def test_refused_stream_options_are_resent_once_and_remembered(
    replay: ReplayServer, status: int, body: Any
) -> None:
    chunks = p.openai_chunks(["Hel", "lo"], None)
    replay.script(error_reply(status, "", body=body, retry_after_ms=None), sse_reply(chunks))
    client = oai(replay)
    with tt.track_usage() as run:
        got = list(client.chat.completions.create(model="mistral-small", messages=MSGS, stream=True))
    sent = replay.requests
    assert [("stream_options" in r.json) for r in sent] == [True, False]
    assert [c.model_dump(exclude_unset=True) for c in got] == chunks  # exactly the server's chunks
    (event,) = run.events  # the refused request is not billed: one event for the call
    assert (event.status, event.usage_source, event.usage.total_tokens) == ("ok", "missing", 0)

    replay.script(sse_reply(chunks))
    list(client.chat.completions.create(model="mistral-small", messages=MSGS, stream=True))
    assert ["stream_options" in r.json for r in replay.requests] == [False]  # remembered for this base URL


async def test_refused_stream_options_are_resent_once_async(replay: ReplayServer) -> None:
    # the async wrapper sends streams through its own step (``_send_async``): the same resend, the same
    # chunks, one event, the base URL remembered
    chunks = p.openai_chunks(["Hel", "lo"], None)
    refused = error_reply(400, "", body=p.MISTRAL_STREAM_OPTIONS_400, retry_after_ms=None)
    replay.script(refused, sse_reply(chunks))
    client = openai.AsyncOpenAI(base_url=replay.openai_base_url, api_key="sk-test", max_retries=0, timeout=10)
    async with client, tt.track_usage() as run:
        got = [c async for c in await client.chat.completions.create(model="m", messages=MSGS, stream=True)]
        assert [("stream_options" in r.json) for r in replay.requests] == [True, False]
        assert [c.model_dump(exclude_unset=True) for c in got] == chunks
        replay.script(sse_reply(chunks))
        [c async for c in await client.chat.completions.create(model="m", messages=MSGS, stream=True)]
        assert ["stream_options" in r.json for r in replay.requests] == [False]
    assert [(e.status, e.usage_source, e.is_async) for e in run.events] == [("ok", "missing", True)] * 2


async def test_an_async_stream_retried_is_one_event_per_attempt(replay: ReplayServer) -> None:
    # a stream's send is one coroutine deeper: the retry sleep still finds its call up the chain
    chunks = p.openai_chunks(["Hel", "lo"], {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11})
    replay.script(error_reply(429, "rate limited"), sse_reply(chunks))
    client = openai.AsyncOpenAI(base_url=replay.openai_base_url, api_key="sk-test", max_retries=1, timeout=10)
    async with client, tt.track_usage() as run:
        stream = await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
        got = [c async for c in stream]
    assert len(got) == len(chunks) - 1  # the usage-only chunk tokentrail asked for is hidden
    got_events = [(e.attempt, e.status, e.usage.total_tokens) for e in run.events]
    assert got_events == [(1, "error", 0), (2, "ok", 11)]


def test_other_400s_are_not_resent(replay: ReplayServer) -> None:
    replay.script(error_reply(400, "messages: field required", retry_after_ms=None))
    with tt.track_usage() as run, pytest.raises(openai.BadRequestError, match="field required"):
        oai(replay).chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
    assert len(replay.requests) == 1 and run.events[0].status == "error"


def test_injected_usage_chunk_is_hidden_and_counted(replay: ReplayServer) -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
    replay.script(sse_reply(p.openai_chunks(["Hel", "lo"], usage)))
    with tt.track_usage() as run:
        got = list(oai(replay).chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True))
    assert replay.requests[0].json["stream_options"] == {"include_usage": True}
    assert len(got) == 4 and all(c.choices for c in got)
    assert tuple(run.events[0].usage)[:2] == (9, 2) and run.events[0].finish_reason == "stop"

    ti.configure(stream_usage="never")
    replay.script(sse_reply(p.openai_chunks(["Hel", "lo"], None)))
    with tt.track_usage() as never:
        list(oai(replay).chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True))
    assert "stream_options" not in replay.requests[0].json
    assert never.events[0].usage_source == "missing"


def test_openrouter_reported_cost_wins(replay: ReplayServer) -> None:
    replay.script(json_reply(p.openai_chat(p.OPENROUTER_USAGE, model="openai/gpt-4o-mini")))
    with tt.track_usage() as run:
        reply = oai(replay).chat.completions.create(model="openai/gpt-4o-mini", messages=MSGS)
    cost = run.events[0].cost
    assert cost is not None and cost.total == pytest.approx(0.000123) and cost.provider_reported == 0.000123
    raw = run.events[0].raw_usage  # the chat fast path copies extras as usage_copy does
    assert raw is not None and reply.usage is not None and dict(raw) == dict(usage_copy(reply.usage))
    assert raw["cost"] == 0.000123


def test_responses_stream_helper(replay: ReplayServer) -> None:
    response = p.responses_response(p.RESPONSES_USAGE)
    events = [
        {"type": "response.created", "sequence_number": 0, "response": {**response, "status": "in_progress",
                                                                       "usage": None, "output": []}},
        {"type": "response.completed", "sequence_number": 1, "response": response},
    ]  # fmt: skip
    replay.script(sse_reply(events, named=True, done=False))
    with tt.track_usage() as run, oai(replay).responses.stream(model="o4-mini", input="Hi") as stream:
        final = stream.get_final_response()
    assert final.usage is not None and tuple(run.events[0].usage) == (328, 1200, 1528, 256, 0, 1024)


def test_a_responses_stream_that_fails_is_an_error_with_its_usage(replay: ReplayServer) -> None:
    usage = {**p.RESPONSES_USAGE, "output_tokens": 1100, "total_tokens": 1428}
    failed = {
        **p.responses_response(usage),
        "status": "failed",
        "output": [],
        "error": {"code": "server_error", "message": "The model failed to generate a response."},
    }
    events = [
        {"type": "response.created", "sequence_number": 0, "response": {**failed, "status": "in_progress",
                                                                       "usage": None, "error": None}},
        {"type": "response.failed", "sequence_number": 1, "response": failed},
    ]  # fmt: skip
    replay.script(sse_reply(events, named=True, done=False))
    with tt.track_usage() as run:
        got = [e.type for e in oai(replay).responses.create(model="o4-mini", input="Hi", stream=True)]
    assert got == ["response.created", "response.failed"]  # the user's loop is untouched
    (event,) = run.events
    assert (event.status, event.error_type, event.finish_reason) == ("error", "server_error", "failed")
    assert tuple(event.usage)[:2] == (328, 1100) and run.errors == 1  # billed tokens still count


def test_tool_calls_are_named(replay: ReplayServer) -> None:
    replay.script(json_reply(p.openai_chat(p.REASONING_USAGE, tool="get_weather")))
    with tt.track_usage() as run:
        oai(replay).chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert run.events[0].tool_calls == ("get_weather",) and run.events[0].finish_reason == "tool_calls"
