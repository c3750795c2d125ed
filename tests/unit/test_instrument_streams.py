"""Streams end exactly once, whatever way they end: exhausted, broken out of, closed, interrupted, dropped."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx2
import openai
import pytest
from support import payloads as p
from support.mock_http import Body, Canned, anthropic_client, openai_client, sse

import tokentrail as tt
import tokentrail.instrument as ti

USAGE = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
MSGS = [{"role": "user", "content": "Hi"}]


@pytest.fixture(autouse=True)
def instrumented() -> Iterator[None]:
    ti.instrument()
    yield
    ti.uninstrument()


def chat_stream(fail: BaseException | None = None, fail_after: int = 0, usage: Any = USAGE) -> Any:
    body = Body(sse(p.openai_chunks(["a", "b", "c"], usage)), fail, fail_after)
    return openai_client(Canned(body)).chat.completions.create(
        model="gpt-4o-mini", messages=MSGS, stream=True
    )


def events(run: tt.Run) -> list[tuple[str, str | None, int]]:
    return [(e.status, e.error_type, e.usage.total_tokens) for e in run.events]


def test_exhausted_stream_is_ok_and_hides_the_usage_chunk() -> None:
    with tt.track_usage() as run:
        stream = chat_stream()
        assert isinstance(stream, openai.Stream)
        first = next(stream)
        rest = list(stream)
    assert first.choices[0].delta.role == "assistant" and len(rest) == 4
    assert events(run) == [("ok", None, 10)] and run.events[0].finish_reason == "stop"


def test_break_then_drop_is_partial_once() -> None:
    with tt.track_usage() as run:
        stream = chat_stream()
        for _ in stream:
            break
        assert run.events == ()  # still open: the user may resume it
        del stream
        gc.collect()
    assert events(run) == [("partial", None, 0)] and run.events[0].usage_source == "missing"


def test_close_and_context_exit_end_once() -> None:
    with tt.track_usage() as run:
        stream = chat_stream()
        next(stream)
        stream.close()
        stream.close()
        with chat_stream() as second:
            next(second)
        list(chat_stream())  # exhausted first ...
        del stream, second
        gc.collect()
    assert events(run) == [("partial", None, 0), ("partial", None, 0), ("ok", None, 10)]


def test_never_iterated_stream_dropped_is_partial() -> None:
    with tt.track_usage() as run:
        chat_stream()
        gc.collect()
    assert events(run) == [("partial", None, 0)]


def test_keyboard_interrupt_and_errors_mid_stream() -> None:
    with tt.track_usage() as run:
        with pytest.raises(KeyboardInterrupt):
            list(chat_stream(KeyboardInterrupt(), fail_after=2))
        with pytest.raises(openai.APIConnectionError):
            list(chat_stream(httpx2.ReadError("reset"), fail_after=1))
    got = events(run)
    assert got[0] == ("partial", "KeyboardInterrupt", 0)
    assert got[1] == ("partial", "APIConnectionError", 0)


def test_keyboard_interrupt_in_the_users_loop() -> None:
    with tt.track_usage() as run:
        stream = chat_stream()
        with pytest.raises(KeyboardInterrupt):
            for _ in stream:
                raise KeyboardInterrupt
        del stream
        gc.collect()
    assert events(run) == [("partial", None, 0)]


def test_users_own_usage_request_is_not_hidden() -> None:
    with tt.track_usage() as run:
        stream = openai_client(Canned(Body(sse(p.openai_chunks(["a"], USAGE))))).chat.completions.create(
            model="gpt-4o-mini", messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 10
    assert events(run) == [("ok", None, 10)]


def test_chat_helper_left_early_is_partial() -> None:
    client = openai_client(Canned(Body(sse(p.openai_chunks(["a", "b"], USAGE)))))
    with tt.track_usage() as run:
        with client.chat.completions.stream(model="gpt-4o-mini", messages=MSGS) as helper:
            next(iter(helper))
        assert events(run) == [("partial", None, 0)]  # at the block's end, though `helper` lives on
    with (
        tt.track_usage() as whole,
        client.chat.completions.stream(model="gpt-4o-mini", messages=MSGS) as helper,
    ):
        helper.get_final_completion()
    assert events(whole) == [("ok", None, 10)]


def test_a_broken_watcher_never_breaks_the_users_loop() -> None:
    odd = Body(sse([{"not": "a chunk"}, {"still": "not"}]))
    client = openai_client(Canned(odd))
    with tt.track_usage() as run:
        items = list(client.post("/chat/completions", cast_to=object, body={"model": "m"}, stream=True,
                                 stream_cls=openai.Stream[dict]))  # fmt: skip
    assert items == [{"not": "a chunk"}, {"still": "not"}]
    assert events(run) == [("ok", None, 0)]


async def test_async_stream_break_close_and_exhaust() -> None:
    def client() -> Any:
        return openai_client(Canned(Body(sse(p.openai_chunks(["a", "b"], USAGE)))), is_async=True)

    async with tt.track_usage() as run:
        stream = await client().chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
        assert isinstance(stream, openai.AsyncStream)
        chunks = [c async for c in stream]
        stream = await client().chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True)
        await stream.__anext__()
        await stream.close()
        async with await client().chat.completions.create(
            model="gpt-4o-mini", messages=MSGS, stream=True
        ) as s:
            async for _ in s:
                break
    assert len(chunks) == 4 and all(c.choices for c in chunks)
    assert events(run) == [("ok", None, 10), ("partial", None, 0), ("partial", None, 0)]


def test_anthropic_stream_cumulative_and_early_close() -> None:
    body = Body(sse(p.anthropic_stream(), named=True, done=False))
    client = anthropic_client(Canned(body))
    with tt.track_usage() as run:
        list(client.messages.create(model="claude-haiku-4-5", messages=MSGS, max_tokens=50, stream=True))
        stream = client.messages.create(model="claude-haiku-4-5", messages=MSGS, max_tokens=50, stream=True)
        for event in stream:
            if event.type == "message_delta":
                break  # after the first (cumulative) delta: 15 output tokens so far
        stream.close()
    whole, early = run.events
    assert (whole.status, whole.usage.input_tokens, whole.usage.output_tokens) == ("ok", 630, 42)
    assert (early.status, early.usage.input_tokens, early.usage.output_tokens) == ("partial", 622, 15)


def test_chunks_serialize_as_if_usage_had_never_been_asked() -> None:
    """Asked for usage, OpenAI adds ``"usage": null`` to every chunk; the user's chunks must not show it."""

    def openai_like(request: httpx2.Request) -> httpx2.Response:
        asked = b"include_usage" in request.content
        chunks = p.openai_chunks(["a", "b"], USAGE if asked else None)
        if asked:
            chunks = [c if "usage" in c else {**c, "usage": None} for c in chunks]
        body = b"".join(sse(chunks))
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    def run_once() -> list[str]:
        http = openai.DefaultHttpxClient(transport=httpx2.MockTransport(openai_like))
        client = openai.OpenAI(api_key="sk-test", max_retries=0, http_client=http)
        return [c.to_json() for c in client.chat.completions.create(model="m", messages=MSGS, stream=True)]

    ti.uninstrument()
    bare = run_once()
    ti.instrument()
    with tt.track_usage() as run:
        assert run_once() == bare
    assert run.events[0].usage.total_tokens == 10


async def test_looping_over_the_call_itself_keeps_the_stream_open() -> None:
    """``for chunk in client...create(stream=True)`` drops the returned object at once: still ``ok``."""
    with tt.track_usage() as run:
        for _ in openai_client(Canned(Body(sse(p.openai_chunks(["a"], USAGE))))).chat.completions.create(
            model="gpt-4o-mini", messages=MSGS, stream=True
        ):
            gc.collect()
        client = openai_client(Canned(Body(sse(p.openai_chunks(["a"], USAGE)))), is_async=True)
        async for _ in await client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True):
            gc.collect()
    assert events(run) == [("ok", None, 10), ("ok", None, 10)]


T = TypeVar("T")


class CountingStream(openai.Stream[T]):
    """A stream class whose own ``__iter__`` does more than relay (anthropic's feeds an observer)."""

    seen = 0

    def __iter__(self) -> Iterator[T]:
        for item in self._iterator:
            CountingStream.seen += 1
            yield item


def test_a_stream_class_with_its_own_iter_is_iterated_through_it() -> None:
    """The relay skips ``Stream.__iter__`` only where it merely relays (openai's); any other runs."""
    import anthropic
    from openai.types.chat import ChatCompletionChunk

    from tokentrail.instrument._stream import _PLAIN, learn_plain

    learn_plain(CountingStream)
    assert openai.Stream.__dict__["__iter__"] in _PLAIN and openai.AsyncStream.__dict__["__aiter__"] in _PLAIN
    assert CountingStream.__dict__["__iter__"] not in _PLAIN
    assert anthropic.Stream.__dict__["__iter__"] not in _PLAIN  # it feeds an observer
    client = openai_client(Canned(Body(sse(p.openai_chunks(["a", "b"], USAGE)))))
    CountingStream.seen = 0
    with tt.track_usage() as run:
        chunks = list(client.post("/chat/completions", cast_to=ChatCompletionChunk, stream=True,
                                  body={"model": "gpt-4o-mini", "messages": MSGS, "stream": True},
                                  stream_cls=CountingStream[ChatCompletionChunk]))  # fmt: skip
    assert CountingStream.seen == 5 and len(chunks) == 4  # its own loop saw the usage chunk; the user not
    assert events(run) == [("ok", None, 10)] and run.events[0].finish_reason == "stop"


def test_a_stream_iter_replaced_after_it_was_seen_is_iterated_through_the_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The C watch relays ``_iterator`` only while the type's ``__iter__`` is the plain one it saw."""
    plain = openai.Stream.__dict__["__iter__"]
    client = openai_client(Canned(Body(sse(p.openai_chunks(["a", "b"], USAGE)))))
    with tt.track_usage() as run:
        assert len(list(client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True))) == 4
        seen = []

        def counting(self: Any) -> Iterator[Any]:
            for chunk in plain(self):
                seen.append(chunk)
                yield chunk

        monkeypatch.setattr(openai.Stream, "__iter__", counting)
        chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True))
    assert len(chunks) == 4 and len(seen) == 5  # the new __iter__ ran (and saw the usage chunk)
    assert [e.usage.total_tokens for e in run.events] == [10, 10]


def test_chunks_the_fast_path_cannot_read_take_the_generic_one() -> None:
    """Chunks without ``__pydantic_fields_set__`` (pydantic v1's) are watched one ``see`` at a time:
    the same chunks reach the user and the same fields are read as on the fast path."""
    from types import SimpleNamespace

    from openai.types.chat import ChatCompletionChunk

    from tokentrail.instrument import _call
    from tokentrail.instrument._stream import StreamProxy
    from tokentrail.instrument.openai import InjectedChunkWatcher

    call = _call.Call.__new__(_call.Call)
    call.injected, call._head = True, ("llm", "openai", "gpt-4o-mini", "chat", "stream", 0.0)
    parsed = [ChatCompletionChunk.model_validate(c) for c in p.openai_chunks(["a", "b"], USAGE)]
    plain = [SimpleNamespace(**c.__dict__) for c in parsed]  # the same attributes, no fields set
    seen = []
    for source in (parsed, plain):
        ends: list[str] = []
        watcher = InjectedChunkWatcher(call)
        out = list(StreamProxy(source, watcher, lambda status, exc, ends=ends: ends.append(status)))
        seen.append(([i for i, c in enumerate(source) if any(c is o for o in out)], watcher.fields(), ends))
    assert seen[0] == seen[1]
    assert seen[0][0] == [0, 1, 2, 3] and seen[0][2] == ["ok"] and seen[0][1][2] == "stop"


@pytest.mark.parametrize("in_c", [True, False], ids=["C proxy", "Python proxy"])
def test_the_proxy_is_the_sdk_stream_to_its_user(monkeypatch: pytest.MonkeyPatch, in_c: bool) -> None:
    """What the SDK's Stream has is forwarded, on the C proxy (where built) as on the Python one."""
    from tokentrail.instrument import _fast
    from tokentrail.instrument.openai import ADAPTER

    if in_c and _fast.PROXY is None:
        pytest.skip("the C module was not built")
    if not in_c:
        monkeypatch.setattr(ADAPTER, "c_stream_ops", frozenset())
    with tt.track_usage() as run:
        stream = chat_stream()
        assert (type(stream) is _fast.PROXY) is in_c
        raw = stream.__wrapped__
        assert isinstance(stream, openai.Stream) and stream.__class__ is type(raw)
        assert stream.response is raw.response and stream.response.status_code == 200
        assert repr(stream) == repr(raw) and iter(stream) is iter(stream)
        stream.mine = 1  # set on the SDK's stream, as the user would on the bare one
        assert raw.mine == 1 and stream.mine == 1
        with stream as entered:
            assert entered is stream
            assert len(list(entered)) == 5  # the usage-only chunk hidden
    assert events(run) == [("ok", None, 10)]


def test_a_stream_closed_then_iterated_goes_on_as_the_sdks_own() -> None:
    """``close()`` ends the call (partial) at once; chunks the SDK still gives reach the user as they
    would uninstrumented (the usage chunk tokentrail asked for stays hidden)."""

    def closed_then_read() -> list[str | None]:
        stream = chat_stream()
        seen = [next(stream).choices[0].delta.content]
        stream.close()
        return seen + [c.choices[0].delta.content if c.choices else "usage" for c in stream]

    ti.uninstrument()
    bare = closed_then_read()
    ti.instrument()
    with tt.track_usage() as run:
        ours = closed_then_read()
    assert ours == bare[:-1] and bare[-1] == "usage"  # the canned server always sends usage
    assert events(run) == [("partial", None, 0)]
