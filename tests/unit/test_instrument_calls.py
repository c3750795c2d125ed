"""One call, one event: budgets before sending, raw responses, count_tokens, providers, error bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import openai
import pytest
from support import payloads as p
from support.mock_http import Body, Canned, anthropic_client, openai_client, sse

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.instrument._provider import provider_for_host

MSGS = [{"role": "user", "content": "Hi"}]
CHAT = p.openai_chat(p.REASONING_USAGE, model="gpt-4o-mini-2024-07-18")


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    ti.instrument()
    yield
    ti.uninstrument()


@pytest.mark.filterwarnings("ignore::tokentrail.BudgetWarning")
def test_budget_is_checked_before_the_request_is_sent() -> None:
    handler = Canned(CHAT)
    client = openai_client(handler)
    started: list[object] = []
    tt.on("call_start", started.append)
    with tt.track_usage(budget_calls=1) as run:
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
        with pytest.raises(tt.BudgetExceeded):
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert len(handler.requests) == 1 and run.calls == 1 and len(started) == 1


def test_raw_responses_read_and_unread() -> None:
    unread = httpx2.Response(
        200, headers={"content-type": "application/json"}, stream=Body([json.dumps(CHAT).encode()])
    )
    client = openai_client(Canned(CHAT, unread))
    with tt.track_usage() as run:
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MSGS)
        assert run.events[0].usage.total_tokens == 2306  # the body was read: accounted at once
        assert raw.parse().usage.total_tokens == 2306 and len(run.events) == 1
        with client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MSGS
        ) as resp:
            assert resp.http_response.status_code == 200  # never parsed, never read
            assert len(run.events) == 1
        assert len(run.events) == 2  # recorded when the block closed it, though `resp` lives on
    assert [(e.status, e.usage_source) for e in run.events] == [("ok", "provider"), ("ok", "missing")]


def test_a_response_parsed_later_is_counted_once() -> None:
    unread = httpx2.Response(
        200, headers={"content-type": "application/json"}, stream=Body([json.dumps(CHAT).encode()])
    )
    client = openai_client(Canned(unread))
    create = client.chat.completions.with_streaming_response.create
    with tt.track_usage() as run:
        with create(model="gpt-4o-mini", messages=MSGS) as resp:
            assert run.events == ()  # not read yet: it waits for parse()
            assert resp.parse().usage.total_tokens == 2306
            assert resp.parse().usage.total_tokens == 2306  # the SDK's cached parse: no second event
        del resp
    events = [(e.status, e.usage_source, e.usage.total_tokens) for e in run.events]
    assert events == [("ok", "provider", 2306)]


def test_streaming_response_parsed_to_a_stream() -> None:
    usage = {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}
    client = openai_client(Canned(Body(sse(p.openai_chunks(["a", "b"], usage)))))
    with (
        tt.track_usage() as run,
        client.chat.completions.with_streaming_response.create(
            model="gpt-4o-mini", messages=MSGS, stream=True, stream_options={"include_usage": True}
        ) as resp,
    ):
        chunks = list(resp.parse())
    assert chunks[-1].usage.total_tokens == 6 and run.events[0].usage.total_tokens == 6


def test_count_tokens_records_nothing() -> None:
    client = anthropic_client(Canned({"input_tokens": 12}))
    with tt.track_usage() as run:
        assert client.messages.count_tokens(model="claude-haiku-4-5", messages=MSGS).input_tokens == 12
    assert run.events == ()


def test_error_keeps_the_usage_its_body_carried() -> None:
    body = {"error": {"message": "content filtered", "type": "invalid_request_error"},
            "usage": {"prompt_tokens": 11, "completion_tokens": 0, "total_tokens": 11}}  # fmt: skip
    client = openai_client(Canned(httpx2.Response(400, json=body)))
    with tt.track_usage() as run, pytest.raises(openai.BadRequestError, match="content filtered"):
        client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    (e,) = run.events
    assert (e.status, e.error_type, e.usage.input_tokens, e.usage_source) == (
        "error",
        "BadRequestError",
        11,
        "provider",
    )


def test_a_raising_handler_never_reaches_the_caller() -> None:
    def boom(event: object) -> None:
        raise RuntimeError("handler bug")

    tt.configure(handlers=[boom])
    tt.on("call_start", boom)
    result = openai_client(Canned(CHAT)).chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert result.usage is not None and result.usage.total_tokens == 2306


def test_provider_from_the_base_url_host() -> None:
    cases = {
        "api.openai.com": "openai", "openrouter.ai": "openrouter", "myres.openai.azure.com": "azure",
        "api.anthropic.com": "anthropic", "127.0.0.1": "openai", "API.OPENAI.COM.": "openai",
    }  # fmt: skip
    assert {host: provider_for_host(host, "openai") for host in cases} == cases
    assert provider_for_host("localhost", "anthropic") == "anthropic"
    client = openai_client(Canned(CHAT))
    client.base_url = "https://openrouter.ai/api/v1"
    with tt.track_usage() as run:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=MSGS)
    assert run.events[0].provider == "openrouter"


def test_embeddings_are_their_own_kind() -> None:
    body = {
        "object": "list", "model": "text-embedding-3-small", "usage": {"prompt_tokens": 5, "total_tokens": 5},
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
    }  # fmt: skip
    with tt.track_usage() as run:
        openai_client(Canned(body)).embeddings.create(model="text-embedding-3-small", input="hello")
    (e,) = run.events
    assert (e.kind, e.operation, e.usage.input_tokens, e.usage.output_tokens) == (
        "embedding",
        "embedding",
        5,
        0,
    )
    assert e.cost is not None and e.cost.total == pytest.approx(5 * 0.02 / 1e6)


def test_an_older_request_signature_is_forwarded_whole() -> None:
    """openai 1.x's ``request(self, cast_to, options, remaining_retries=None, *, stream, stream_cls)``:
    extra arguments, positional or keyword, reach the SDK exactly as the caller passed them."""
    from openai._models import FinalRequestOptions
    from openai.types.chat import ChatCompletion

    from tokentrail.instrument._wrap import sync_request
    from tokentrail.instrument.openai import ADAPTER

    seen: list[tuple[object, ...]] = []
    result = ChatCompletion.model_validate(CHAT)

    def request(self: object, cast_to: object, options: object, remaining_retries: int | None = None, *,
                stream: bool = False, stream_cls: object = None) -> object:  # fmt: skip
        seen.append((cast_to, remaining_retries, stream, stream_cls))
        return result

    wrapped = sync_request(ADAPTER)(request)
    client = openai_client(Canned(CHAT))
    options = FinalRequestOptions.construct(method="post", url="/chat/completions",
                                            json_data={"model": "gpt-4o-mini", "messages": MSGS})  # fmt: skip
    with tt.track_usage() as run:
        assert wrapped(client, ChatCompletion, options, 2) is result
        assert wrapped(client, ChatCompletion, options, remaining_retries=1, stream_cls=str) is result
        assert wrapped(client, ChatCompletion, options) is result
    assert seen == [
        (ChatCompletion, 2, False, None),
        (ChatCompletion, 1, False, str),
        (ChatCompletion, None, False, None),
    ]
    assert run.calls == 3 and run.usage.input_tokens == 3 * CHAT["usage"]["prompt_tokens"]


def test_a_request_path_with_a_query_is_recognised_by_its_path() -> None:
    from openai._models import FinalRequestOptions

    from tokentrail.instrument._call import begin
    from tokentrail.instrument.openai import ADAPTER

    client = openai_client(Canned(CHAT))
    body = {"model": "gpt-4o-mini", "messages": MSGS}
    chat = FinalRequestOptions.construct(method="post", url="/chat/completions?api-version=1", json_data=body)
    models = FinalRequestOptions.construct(method="get", url="/models?limit=5")
    with tt.track_usage() as run:
        call = begin(ADAPTER, client, chat, False, False)
        assert call is not None and (call.operation, call.model, call.run) == ("chat", "gpt-4o-mini", run)
        assert begin(ADAPTER, client, models, False, False) is None  # not an LLM call: passed through


def test_raw_usage_reads_back_as_the_sdk_parsed_it_for_every_openai_layout() -> None:
    # the chat reader keeps raw usage flat (a shape learned per layout, then atoms); what an event shows
    # must be the SDK's own usage, detail models as mappings, whichever details came back
    only_prompt = {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12,
                   "prompt_tokens_details": {"cached_tokens": 4}}  # fmt: skip
    bodies = [CHAT, p.openai_chat(only_prompt), p.openai_chat({"prompt_tokens": 1, "completion_tokens": 1,
              "total_tokens": 2}), CHAT]  # fmt: skip
    embedding = {"object": "list", "model": "text-embedding-3-small",
                 "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}],
                 "usage": {"prompt_tokens": 8, "total_tokens": 8}}  # fmt: skip
    client = openai_client(Canned(*bodies, embedding))
    with tt.track_usage() as run:
        replies: list[object] = [
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS) for _ in bodies
        ]
        replies.append(client.embeddings.create(model="text-embedding-3-small", input="Hi"))
    events = run.events
    assert len(events) == 5
    for event, reply in zip(events, replies):
        usage = reply.usage  # type: ignore[attr-defined]
        assert event.raw_usage is not None and dict(event.raw_usage) == usage.model_dump()
        with pytest.raises(TypeError):
            event.raw_usage["prompt_tokens"] = 0  # type: ignore[index]
    assert events[1].raw_usage is not None and events[1].raw_usage["completion_tokens_details"] is None
    assert tuple(events[1].usage) == (9, 3, 12, 4, 0, 0) and tuple(events[4].usage) == (8, 0, 8, 0, 0, 0)
