"""The real openai SDK against the embedded model over HTTP: every call one event, counts equal the server's.

Each event's tokens are checked against the server's own ``/metrics`` counters for that call, and the
run's totals against the counters over the whole test.
"""

from __future__ import annotations

from typing import Any

import pytest
from support.served import served

import tokentrail as tt
from tokentrail.demo import LocalModel

pytestmark = [pytest.mark.llm, pytest.mark.usefixtures("instrumented")]
MODEL = "gemma3-270m"
MSGS = [{"role": "user", "content": "Name a colour."}]


def only_event(run: tt.Run) -> tt.UsageEvent:
    assert len(run.events) == 1, run.events
    return run.events[0]


def check(event: tt.UsageEvent, served_in: int, served_out: int) -> None:
    assert event.status == "ok" and event.usage_source == "provider"
    assert (event.usage.input_tokens, event.usage.output_tokens) == (served_in, served_out)


def test_chat_create_sync_and_n2(local_model: LocalModel, openai_client: Any) -> None:
    with tt.track_usage("chat") as run, served(local_model) as s:
        r = openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=3, temperature=0)
    e = only_event(run)
    check(e, s.input_tokens, s.output_tokens)
    assert (e.usage.input_tokens, e.usage.output_tokens) == (r.usage.prompt_tokens, r.usage.completion_tokens)
    assert e.usage.cached_input_tokens == r.usage.prompt_tokens_details.cached_tokens
    assert (e.operation, e.method, e.is_async, e.kind, e.attempt) == ("chat", "generate", False, "llm", 1)
    assert (e.provider, e.model, e.response_model, e.finish_reason) == ("openai", MODEL, MODEL, "length")
    assert e.response_id == r.id and e.run_id == run.id

    with tt.track_usage("n2") as run2:
        r2 = openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=2, n=2)
    assert len(r2.choices) == 2
    assert only_event(run2).usage.output_tokens == r2.usage.completion_tokens  # one event, the server's usage


def test_chat_stream_asks_for_usage_and_hides_the_extra_chunk(
    local_model: LocalModel, openai_client: Any
) -> None:
    with tt.track_usage() as run, served(local_model) as s:
        stream = openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=4, stream=True)
        chunks = list(stream)
    assert chunks and all(c.choices for c in chunks) and all(c.usage is None for c in chunks)
    e = only_event(run)
    check(e, s.input_tokens, s.output_tokens)
    assert (e.method, e.finish_reason, e.response_model) == ("stream", "length", MODEL)
    assert s.output_tokens == 4


def test_chat_stream_helper_parse_and_raw_variants(local_model: LocalModel, openai_client: Any) -> None:
    completions = openai_client.chat.completions
    with tt.track_usage() as run, served(local_model) as s:
        with completions.stream(
            model=MODEL, messages=MSGS, max_tokens=12, stop=["<"], temperature=0
        ) as helper:
            assert helper.get_final_completion().usage is None  # exactly as uninstrumented
        parsed = completions.parse(model=MODEL, messages=MSGS, max_tokens=12, stop=["<"], temperature=0)
        raw = completions.with_raw_response.create(model=MODEL, messages=MSGS, max_tokens=3)
        with completions.with_streaming_response.create(model=MODEL, messages=MSGS, max_tokens=3) as resp:
            streamed_parse = resp.parse()
        raw_stream = completions.with_raw_response.create(
            model=MODEL, messages=MSGS, max_tokens=3, stream=True
        )
        raw_chunks = list(raw_stream.parse())
    assert type(raw).__name__ == "LegacyAPIResponse" and raw.parse().usage.completion_tokens == 3
    assert streamed_parse.usage.completion_tokens == 3 and parsed.choices[0].finish_reason == "stop"
    assert raw_chunks[-1].choices  # raw streams are sent exactly as written: nothing injected, nothing hidden
    events = run.events
    assert [e.method for e in events] == ["stream", "generate", "generate", "generate", "stream"]
    assert [e.usage_source for e in events] == ["provider"] * 4 + ["missing"]
    assert sum(e.usage.output_tokens for e in events[:4]) == s.output_tokens - 3
    assert events[-1].usage.total_tokens == 0 and events[-1].status == "ok"


def test_responses_completions_embeddings(local_model: LocalModel, openai_client: Any) -> None:
    with tt.track_usage() as run, served(local_model) as s:
        r = openai_client.responses.create(model=MODEL, input="Hi", max_output_tokens=3)
        events = list(
            openai_client.responses.create(model=MODEL, input="Hi", max_output_tokens=3, stream=True)
        )
        c = openai_client.completions.create(model=MODEL, prompt="Once upon", max_tokens=3)
        cs = list(
            openai_client.completions.create(model=MODEL, prompt="Once upon", max_tokens=3, stream=True)
        )
        emb = openai_client.embeddings.create(model=MODEL, input=["a red fox", "a blue bird"])
    assert events[-1].type == "response.completed" and cs[-1].usage is not None
    ops = [(e.operation, e.method, e.kind) for e in run.events]
    assert ops == [
        ("responses", "generate", "llm"),
        ("responses", "stream", "llm"),
        ("completion", "generate", "llm"),
        ("completion", "stream", "llm"),
        ("embedding", "generate", "embedding"),
    ]
    got = [(e.usage.input_tokens, e.usage.output_tokens) for e in run.events]
    assert got[0] == (r.usage.input_tokens, r.usage.output_tokens)
    assert got[1] == (events[-1].response.usage.input_tokens, events[-1].response.usage.output_tokens)
    assert got[2] == (c.usage.prompt_tokens, c.usage.completion_tokens)
    assert got[3] == (cs[-1].usage.prompt_tokens, cs[-1].usage.completion_tokens)
    assert got[4] == (emb.usage.prompt_tokens, 0)
    assert run.usage.input_tokens == s.input_tokens and run.usage.output_tokens == s.output_tokens


async def test_async_chat_stream_and_responses(local_model: LocalModel, async_openai_client: Any) -> None:
    client = async_openai_client
    with served(local_model) as s:
        async with tt.track_usage("async") as run:
            await client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=2)
            stream = await client.chat.completions.create(
                model=MODEL, messages=MSGS, max_tokens=3, stream=True
            )
            chunks = [c async for c in stream]
            helper_call = client.chat.completions.stream(
                model=MODEL, messages=MSGS, max_tokens=12, stop=["<"], temperature=0
            )
            async with helper_call as helper:
                await helper.get_final_completion()
            await client.responses.create(model=MODEL, input="Hi", max_output_tokens=2)
            raw = await client.chat.completions.with_raw_response.create(
                model=MODEL, messages=MSGS, max_tokens=2
            )
            await client.embeddings.create(model=MODEL, input="hello")
    assert all(c.choices for c in chunks) and raw.parse().usage.completion_tokens == 2
    assert all(e.is_async and e.status == "ok" and e.usage_source == "provider" for e in run.events)
    assert [e.method for e in run.events] == [
        "generate",
        "stream",
        "stream",
        "generate",
        "generate",
        "generate",
    ]
    assert (run.usage.input_tokens, run.usage.output_tokens) == (s.input_tokens, s.output_tokens)
    assert run.calls == 6
