"""The real anthropic SDK against the embedded model: input = input_tokens + cache reads + cache writes."""

from __future__ import annotations

from typing import Any

import pytest
from support.served import served

import tokentrail as tt
from tokentrail.demo import LocalModel

pytestmark = [pytest.mark.llm, pytest.mark.usefixtures("instrumented")]
MODEL = "gemma3-270m"
MSGS = [{"role": "user", "content": "Name a colour."}]


def all_input(u: Any) -> int:
    return u.input_tokens + (u.cache_read_input_tokens or 0) + (u.cache_creation_input_tokens or 0)


def test_messages_create_stream_and_helper(local_model: LocalModel, anthropic_client: Any) -> None:
    client = anthropic_client
    with tt.track_usage("anthropic") as run, served(local_model) as s:
        m = client.messages.create(model=MODEL, messages=MSGS, max_tokens=3)
        raw_events = list(client.messages.create(model=MODEL, messages=MSGS, max_tokens=4, stream=True))
        with client.messages.stream(model=MODEL, messages=MSGS, max_tokens=5) as helper:
            text = "".join(helper.text_stream)
            final = helper.get_final_message()
        client.messages.count_tokens(model=MODEL, messages=MSGS)  # not billed usage: no event
    start = raw_events[0].message.usage
    assert [e.operation for e in run.events] == ["messages"] * 3
    assert [e.method for e in run.events] == ["generate", "stream", "stream"]
    first, streamed, helped = run.events
    assert (first.usage.input_tokens, first.usage.output_tokens) == (
        all_input(m.usage),
        m.usage.output_tokens,
    )
    assert first.usage.cached_input_tokens == (m.usage.cache_read_input_tokens or 0)
    assert streamed.usage.input_tokens == all_input(start) and streamed.usage.output_tokens == 4
    assert helped.usage.input_tokens == all_input(final.usage) and helped.usage.output_tokens == 5
    assert text == final.content[0].text
    assert (first.provider, first.response_model, first.finish_reason) == ("anthropic", MODEL, "max_tokens")
    assert all(e.status == "ok" and e.usage_source == "provider" for e in run.events)
    assert (run.usage.input_tokens, run.usage.output_tokens) == (s.input_tokens, s.output_tokens)
    expected = (run.usage.uncached_input_tokens * 1.0 + run.usage.cached_input_tokens * 0.5
                + run.usage.output_tokens * 4.0) / 1e6  # fmt: skip
    assert run.cost is not None and run.cost.total == pytest.approx(expected)


def test_helper_left_early_is_partial_once(local_model: LocalModel, anthropic_client: Any) -> None:
    with tt.track_usage() as run:
        with anthropic_client.messages.stream(model=MODEL, messages=MSGS, max_tokens=40) as helper:
            for _ in helper.text_stream:
                break
        assert len(run.events) == 1  # recorded when the block exits, though `helper` is still referenced
    e = run.events[0]
    assert e.status == "partial" and e.usage.input_tokens > 0 and e.usage.output_tokens < 40
    del helper


async def test_async_messages(local_model: LocalModel, async_anthropic_client: Any) -> None:
    client = async_anthropic_client
    with served(local_model) as s:
        async with tt.track_usage() as run:
            await client.messages.create(model=MODEL, messages=MSGS, max_tokens=2)
            stream = await client.messages.create(model=MODEL, messages=MSGS, max_tokens=3, stream=True)
            kinds = [e.type async for e in stream]
            async with client.messages.stream(model=MODEL, messages=MSGS, max_tokens=2) as helper:
                await helper.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert [(e.is_async, e.method, e.usage.output_tokens) for e in run.events] == [
        (True, "generate", 2), (True, "stream", 3), (True, "stream", 2)]  # fmt: skip
    assert (run.usage.input_tokens, run.usage.output_tokens) == (s.input_tokens, s.output_tokens)
