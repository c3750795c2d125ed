"""The ``anthropic`` SDK: messages (streamed or not) are LLM calls; ``count_tokens`` is not billed usage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import EventKind, Usage, usage_of
from ._call import Call, Reader
from ._fields import NO_FIELDS, Fields, checked_usage, dict_fields, usage_copy
from ._patch import Registry
from ._stainless import patch_client

_OPERATIONS: dict[str, tuple[str, EventKind]] = {"/v1/messages": ("messages", "llm")}  # not count_tokens
_COUNTS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def message_usage(u: Any) -> Usage:
    """Anthropic's ``input_tokens`` excludes cache reads and writes: all input is the sum of the three."""
    d = u if type(u) is dict else u.__dict__
    read = d.get("cache_read_input_tokens") or 0
    write = d.get("cache_creation_input_tokens") or 0
    return usage_of((d.get("input_tokens") or 0) + read + write, d.get("output_tokens") or 0, read, write, 0)


def _tools(content: Any) -> tuple[str, ...]:
    return tuple(b.name for b in content or () if b.type in ("tool_use", "server_tool_use"))


def _message_fields(call: Call, m: Any) -> Fields:
    d = getattr(m, "__dict__", None)
    if d is None or "usage" not in d:  # not an SDK model: a JSON body (dict), else nothing
        return dict_fields(m, call.provider)
    u = d.get("usage")
    return (
        None if u is None else checked_usage(message_usage, u, "anthropic"),
        d.get("model"),
        d.get("stop_reason"),
        _tools(d.get("content")),
        d.get("id"),
        None if u is None else usage_copy(u),
        None,
        None if u is None else u.__dict__.get("service_tier"),
    )


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump() if dump is not None else value


class MessageWatcher:
    """Stream usage is cumulative: ``message_start`` has the input, each ``message_delta`` the running
    totals (``input_tokens`` may be revised). Keep the last value of each count, never the sum."""

    __slots__ = ("call", "counts", "message", "stop_reason", "tools")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.message: Any = None
        self.counts: dict[str, Any] | None = None
        self.stop_reason: str | None = None
        self.tools: tuple[str, ...] = ()

    def see(self, event: Any) -> bool:
        kind = event.type
        if kind == "message_delta":
            self.stop_reason = event.delta.stop_reason
            u = event.usage
            if u is not None and self.counts is not None:
                self.counts.update((k, v) for k, v in u.__dict__.items() if v is not None)
        elif kind == "message_start":
            self.message = m = event.message
            self.counts = dict(m.usage.__dict__) if m.usage is not None else {}
        elif kind == "content_block_start":
            block = event.content_block
            if block.type in ("tool_use", "server_tool_use"):
                self.tools += (block.name,)
        return False

    def fields(self) -> Fields:
        m, counts = self.message, self.counts
        if m is None:
            return NO_FIELDS
        usage = None
        if counts is not None and any(counts.get(k) is not None for k in _COUNTS):
            usage = checked_usage(message_usage, counts, "anthropic")
        raw = None if counts is None else {k: _plain(v) for k, v in counts.items() if v is not None}
        tier = None if counts is None else counts.get("service_tier")
        return (usage, m.model, self.stop_reason, self.tools, m.id, raw, None, tier)

    def settled_in_c(self) -> bool:
        return False  # the C hot path reads OpenAI results only


class AnthropicAdapter:
    operations: Mapping[str, tuple[str, EventKind]] = _OPERATIONS
    readers: Mapping[str, Reader] = {"messages": _message_fields}
    sdk = "anthropic"
    stream_types: tuple[type, ...] = ()
    raw_types: tuple[type, ...] = ()
    fast_types: tuple[type, ...] = ()  # the C hot path reads OpenAI results only
    c_stream_ops: frozenset[str] = frozenset()  # and relays OpenAI chat streams only
    inject_ops: frozenset[str] = frozenset()  # its streams report usage unasked

    def prepare(self, call: Call, options: Any) -> Any:
        return options

    def watcher(self, call: Call) -> MessageWatcher:
        return MessageWatcher(call)

    def is_rejection(self, call: Call, exc: BaseException) -> bool:
        return False


ADAPTER = AnthropicAdapter()


def patch(registry: Registry) -> None:
    """Patch the anthropic SDK's classes (the streaming helpers close through the raw stream)."""
    patch_client(registry, "anthropic", ADAPTER)
