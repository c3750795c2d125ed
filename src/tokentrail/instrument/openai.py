"""The ``openai`` SDK: which requests are LLM calls, how their usage reads, how their streams end."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from ..model import EventKind, Usage, usage_of
from . import _fast
from ._call import Call, Reader
from ._config import REJECTING, stream_usage
from ._fields import (
    NO_FIELDS,
    Fields,
    checked_usage,
    dict_fields,
    extra_cost,
    normalized_usage,
    usage_copy,
)
from ._flat import flat_usage
from ._patch import Registry
from ._stainless import optional_module, patch_client
from ._stream import End, Ending, source
from ._wrap import async_helper_close, sync_helper_close

_OPERATIONS: dict[str, tuple[str, EventKind]] = {
    "/chat/completions": ("chat", "llm"),
    "/responses": ("responses", "llm"),
    "/completions": ("completion", "llm"),
    "/embeddings": ("embedding", "embedding"),
}
_INJECTABLE = frozenset({"chat", "completion"})
_RESPONSE_DONE = frozenset(
    {"response.created", "response.completed", "response.incomplete", "response.failed"}
)
_RAW_HEADER = "X-Stainless-Raw-Response"
# stream chunks whose usage the C hot path reads (of _FAST_CHUNK_TYPES; none without it)
FAST_CHUNKS: frozenset[type] = frozenset()
_FAST_CHUNK_TYPES = (("openai.types.chat", "ChatCompletionChunk"), ("openai.types", "Completion"))
_FAST_TYPES = (  # results _completion_fields reads, exactly these types (parse()'s subclass is not one)
    ("openai.types.chat", "ChatCompletion"),
    ("openai.types", "Completion"),
    ("openai.types", "CreateEmbeddingResponse"),
)
_EMPTY: dict[str, Any] = {}


def responses_usage(u: Any) -> Usage:
    d = u.__dict__
    i = d.get("input_tokens_details")
    o = d.get("output_tokens_details")
    return usage_of(
        d.get("input_tokens") or 0,
        d.get("output_tokens") or 0,
        (i.__dict__.get("cached_tokens") or 0) if i is not None else 0,
        0,
        (o.__dict__.get("reasoning_tokens") or 0) if o is not None else 0,
    )


def _choice_tools(choices: Any) -> tuple[str, ...]:
    names: list[str] = []
    for choice in choices:
        calls = choice.message.tool_calls
        for tc in calls or ():
            fn = tc.__dict__.get("function") or tc.__dict__.get("custom")
            if fn is not None:
                names.append(fn.name)
    return tuple(names)


def _completion_fields(call: Call, r: Any, tools: bool = True) -> Fields:
    """``ChatCompletion``, ``Completion``, ``CreateEmbeddingResponse`` and stream chunks. (``settle`` in
    ``_speedups.c`` reads the usual result the same way: change both.)"""
    d = getattr(r, "__dict__", None)
    if d is None or "usage" not in d:  # not an SDK model: a JSON body (dict), else nothing
        return dict_fields(r, call.provider)
    u = d["usage"]
    choices = d.get("choices") or ()
    usage = cost = None
    raw: Any = None
    if u is not None:
        # the usage read and copied in one pass over this one known shape (prompt tokens include cached
        # ones, completion tokens include reasoning); the generic walk (usage_copy) costs ~8k
        # instructions a call more on the hot path; a test checks the two give the same mapping
        ud = u.__dict__
        p, c = ud.get("prompt_tokens_details"), ud.get("completion_tokens_details")
        pd = _EMPTY if p is None else p.__dict__
        cd = _EMPTY if c is None else c.__dict__
        raw = flat_usage(u, ud, p, pd, c, cd)  # atoms only, spliced into a kept call (_flat.py says why)
        i, o = ud.get("prompt_tokens") or 0, ud.get("completion_tokens") or 0
        hit, put = pd.get("cached_tokens") or 0, pd.get("cache_write_tokens") or 0
        think = cd.get("reasoning_tokens") or 0
        if type(i) is type(o) is type(hit) is type(put) is type(think) is int and (
            (i | o | hit | put | think) >= 0 and hit + put <= i and think <= o
        ):  # usage_of's check, inlined: plainly valid counts, kept as the six a Usage holds
            usage = (i, o, i + o, hit, put, think)
        else:  # odd counts (strings, floats, negatives): the core's normalizer names what is wrong
            usage = normalized_usage(u, call.provider)
        extra = getattr(u, "__pydantic_extra__", None)
        if extra or raw is None:  # extras (OpenRouter's cost ...) as they came, nested ones as dicts
            raw = usage_copy(u)
            cost = extra_cost(u)
    if choices:
        first = choices[0]
        message = first.__dict__.get("message")
        finish = first.finish_reason
        called = (
            _choice_tools(choices)
            if tools and (len(choices) > 1 or (message is not None and message.tool_calls))
            else ()
        )
    else:
        finish, called = None, ()
    return (usage, d.get("model"), finish, called, d.get("id"), raw, cost, d.get("service_tier"))


def _response_fields(call: Call, r: Any) -> Fields:
    """A Responses API ``Response``: status (or the incomplete reason) as the finish reason."""
    d = getattr(r, "__dict__", None)
    if d is None or "usage" not in d:  # not an SDK model: a JSON body (dict), else nothing
        return dict_fields(r, call.provider)
    u = d.get("usage")
    incomplete = d.get("incomplete_details")
    tools = tuple(o.name for o in d.get("output") or () if o.type in ("function_call", "custom_tool_call"))
    return (
        None if u is None else checked_usage(responses_usage, u, call.provider),
        d.get("model"),
        incomplete.reason if incomplete is not None else d.get("status"),
        tools,
        d.get("id"),
        None if u is None else usage_copy(u),
        None if u is None else extra_cost(u),
        d.get("service_tier"),
    )


class ChunkWatcher:
    """Chat and completions streams: usage arrives on one chunk (the last), when the request asked."""

    __slots__ = ("call", "last", "usage_chunk")
    hides = False  # the usage-only chunk is the user's (they asked for it)

    def __init__(self, call: Call) -> None:
        self.call = call
        self.last: Any = None
        self.usage_chunk: Any = None

    def see(self, chunk: Any) -> bool:
        """The async path's ``relay``, a call per chunk: True hides the chunk."""
        if chunk.usage is None:
            self.last = chunk
            if self.hides:
                try:
                    chunk.__pydantic_fields_set__.discard("usage")
                except AttributeError:  # pydantic v1
                    pass
            return False
        self.usage_chunk = chunk
        if chunk.choices:
            self.last = chunk
            return False
        return self.hides  # the usage-only chunk: ours to hide when we asked for it

    def _relay_python(self, stream: Any, end: End) -> Iterator[Any]:
        """``see`` and the stream's end as one primed generator (the sync hot path; ``_stream.Watcher``
        says why). It reads the SDK's own generator where ``Stream.__iter__`` only relays it
        (``_stream.source``)."""
        hide = self.hides
        last = None
        with Ending(end):
            yield None  # primed (``_stream._relaying``)
            it = iter(source(stream))
            try:
                if hide:  # two loops, so that neither asks per chunk which one it is
                    for chunk in it:
                        try:
                            if chunk.usage is None:  # every chunk but the last: 20 bytecodes in all
                                chunk.__pydantic_fields_set__.discard("usage")
                                yield (last := chunk)
                                continue
                        except AttributeError:  # not an SDK chunk, or pydantic v1: the generic path
                            break
                        self.usage_chunk = chunk
                        if chunk.choices:
                            yield (last := chunk)
                        # else the usage-only chunk we asked for: hidden
                    else:
                        return
                else:
                    for chunk in it:
                        try:
                            if chunk.usage is None:
                                yield (last := chunk)
                                continue
                        except AttributeError:
                            break
                        self.usage_chunk = chunk
                        if chunk.choices:
                            last = chunk
                        yield chunk  # the usage chunk the user asked for is theirs
                    else:
                        return
                if last is not None:
                    self.last, last = last, None
                yield from self._generic(chunk, it)
            finally:  # before ``end``, which reads it
                if last is not None:
                    self.last = last

    relay = _relay_python

    def _generic(self, first: Any, it: Iterator[Any]) -> Iterator[Any]:
        """The rest of a stream whose chunks the fast path cannot read: ``see`` each (pydantic v1), or
        relay them unwatched when they are not chunks of this SDK at all."""
        if not hasattr(first, "usage"):
            yield first
            yield from it
            return
        for chunk in itertools.chain((first,), it):
            if not self.see(chunk):
                yield chunk

    def settled_in_c(self) -> bool:
        """The usual end (a usage chunk of an SDK type): ``fields`` and ``settled`` in C, as for a parsed
        result (``_fast.settle``, with the last chunk's finish reason); False: nothing was done."""
        last, with_usage = self.last, self.usage_chunk
        if type(with_usage) not in FAST_CHUNKS:
            return False
        if last is not None and last is not with_usage and last.choices:
            return _fast.settle(self.call, with_usage, last.choices[0].finish_reason)
        return _fast.settle(self.call, with_usage)

    def fields(self) -> Fields:
        last, with_usage = self.last, self.usage_chunk
        if last is None and with_usage is None:
            return NO_FIELDS
        f = _completion_fields(self.call, with_usage if with_usage is not None else last, tools=False)
        if last is not None and last is not with_usage and last.choices:
            f = (*f[:2], last.choices[0].finish_reason, *f[3:])  # type: ignore[assignment]
        return f


class InjectedChunkWatcher(ChunkWatcher):
    """We asked for usage: the server then sends ``"usage": null`` on every chunk; unmark it, so that a
    chunk's ``to_json()``/``model_dump(exclude_unset=True)`` is what it would have been, and hide the
    usage-only chunk."""

    __slots__ = ()
    hides = True


class ResponseWatcher:
    """Responses streams: usage only on ``response.completed`` (or incomplete/failed)."""

    __slots__ = ("call", "error", "response")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.response: Any = None
        self.error: str | None = None  # the stream ended in ``response.failed``: the call is an error

    def see(self, event: Any) -> bool:
        kind = event.type
        if kind in _RESPONSE_DONE:
            self.response = response = event.response
            if kind == "response.failed":
                error = getattr(response, "error", None)
                self.error = getattr(error, "code", None) or "response.failed"
        return False

    def fields(self) -> Fields:
        return NO_FIELDS if self.response is None else _response_fields(self.call, self.response)

    def settled_in_c(self) -> bool:
        return False


class OpenAIAdapter:
    operations: Mapping[str, tuple[str, EventKind]] = _OPERATIONS
    readers: Mapping[str, Reader] = {
        "chat": _completion_fields, "completion": _completion_fields, "embedding": _completion_fields,
        "responses": _response_fields,
    }  # fmt: skip
    sdk = "openai"
    stream_types: tuple[type, ...] = ()
    raw_types: tuple[type, ...] = ()
    fast_types: tuple[type, ...] = ()
    c_stream_ops: frozenset[str] = frozenset()
    inject_ops: frozenset[str] = _INJECTABLE

    def prepare(self, call: Call, options: Any) -> Any:
        """Ask a chat/completions stream for its usage (``stream_options.include_usage``) if allowed."""
        if call.op not in self.inject_ops or stream_usage() != "auto" or call.base_url in REJECTING.urls:
            return options
        headers, data, extra = options.headers, options.json_data, options.extra_json
        if isinstance(headers, dict) and headers.get(_RAW_HEADER):
            return options  # the user reads raw bytes: they must see exactly what they asked for
        if type(data) is not dict or (isinstance(extra, dict) and "stream_options" in extra):
            return options
        asked = data.get("stream_options")
        if asked is None:
            wanted: dict[str, Any] = {"include_usage": True}
        elif isinstance(asked, dict) and "include_usage" not in asked:
            wanted = {**asked, "include_usage": True}
        else:
            return options
        call.injected = True
        fields = getattr(options, "__dict__", None)
        if type(fields) is dict and "json_data" in fields:
            # the SDK built these options for this call alone (``post()``): set the body in place, a
            # tenth of a copy; ``Call.refused`` puts the user's body back if the endpoint says no
            call.asked = (fields, data)
            fields["json_data"] = {**data, "stream_options": wanted}
            return options
        sent = copy.copy(options)
        sent.json_data = {**data, "stream_options": wanted}
        return sent

    def watcher(self, call: Call) -> ChunkWatcher | ResponseWatcher:
        if call.op == "responses":
            return ResponseWatcher(call)
        return InjectedChunkWatcher(call) if call.injected else ChunkWatcher(call)

    def is_rejection(self, call: Call, exc: BaseException) -> bool:
        """400/422 naming ``stream_options`` (Mistral, old Azure API versions, some compatible servers)."""
        return (
            getattr(exc, "status_code", None) in (400, 422)
            and "stream_options" in f"{exc} {getattr(exc, 'body', '')}"
        )


ADAPTER = OpenAIAdapter()


def _types(names: tuple[tuple[str, str], ...]) -> tuple[type, ...]:
    """The classes of these (module, name) pairs that this SDK version has."""
    found = (getattr(optional_module(module), name, None) for module, name in names)
    return tuple(t for t in found if isinstance(t, type))


def patch(registry: Registry) -> None:
    """Patch the openai SDK's classes (1.x-3.x: whatever of these exists), and its stream helpers."""
    patch_client(registry, "openai", ADAPTER)
    global FAST_CHUNKS
    if _fast.SPEEDUPS is not None:  # what the C hot path reads, where it was built
        ADAPTER.fast_types = _types(_FAST_TYPES)
        FAST_CHUNKS = frozenset(_types(_FAST_CHUNK_TYPES))
        ADAPTER.c_stream_ops = _INJECTABLE  # sync chat/completions streams: the C proxy (ChunkWatcher's work)
        _fast.read_models_directly(tuple(FAST_CHUNKS))
    for mod, sync_name, async_name in (
        ("openai.lib.streaming.chat._completions", "ChatCompletionStream", "AsyncChatCompletionStream"),
        ("openai.lib.streaming.responses._responses", "ResponseStream", "AsyncResponseStream"),
    ):
        m = optional_module(mod)
        if m is not None and hasattr(m, sync_name):
            registry.patch("openai", getattr(m, sync_name), "close", sync_helper_close)
            registry.patch("openai", getattr(m, async_name), "close", async_helper_close)
