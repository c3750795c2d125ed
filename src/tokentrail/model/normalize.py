"""Turn any provider's usage object or dict into one :class:`Usage` (rules in DESIGN.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .usage import Usage, check_count

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalized usage, the provider's raw dict, and a provider-reported cost if it sent one."""

    usage: Usage
    raw: Mapping[str, Any]
    shape: str
    provider_cost: float | None = None


def to_mapping(obj: object) -> dict[str, Any]:
    """A plain dict from a pydantic model, a dataclass-like object or a mapping; keys in snake_case."""
    if obj is None:
        raise TypeError("usage is None: pass the provider's usage object or a dict of token counts")
    if isinstance(obj, Mapping):
        data = dict(obj)
    elif hasattr(obj, "model_dump"):
        data = obj.model_dump(exclude_none=False)
    elif hasattr(obj, "to_dict"):
        data = obj.to_dict()
    elif hasattr(obj, "__dict__"):
        data = {k: v for k, v in vars(obj).items() if not k.startswith("_")}
    else:
        raise TypeError(
            f"cannot read token counts from {type(obj).__name__}: expected a usage object or dict"
        )
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping) or (hasattr(value, "model_dump") and not isinstance(value, type)):
            value = to_mapping(value)
        out[_CAMEL.sub("_", str(key)).lower()] = value
    return out


def _count(data: Mapping[str, Any], key: str, where: str = "") -> int:
    value = data.get(key)
    if value is None:
        return 0
    return check_count(f"{where}{key}", value)


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _openai_chat(d: Mapping[str, Any]) -> Usage:
    details = _sub(d, "prompt_tokens_details")
    out_details = _sub(d, "completion_tokens_details")
    return Usage(
        _count(d, "prompt_tokens"),
        _count(d, "completion_tokens"),
        cached_input_tokens=_count(details, "cached_tokens", "prompt_tokens_details."),
        cache_write_tokens=_count(details, "cache_write_tokens", "prompt_tokens_details."),
        reasoning_tokens=_count(out_details, "reasoning_tokens", "completion_tokens_details."),
    )


def _anthropic(d: Mapping[str, Any]) -> Usage:
    read = _count(d, "cache_read_input_tokens")
    write = _count(d, "cache_creation_input_tokens")
    return Usage(
        _count(d, "input_tokens") + read + write,
        _count(d, "output_tokens"),
        cached_input_tokens=read,
        cache_write_tokens=write,
    )


def _gemini(d: Mapping[str, Any]) -> Usage:
    prompt = _count(d, "prompt_token_count") + _count(d, "tool_use_prompt_token_count")
    return Usage(
        prompt,
        _count(d, "candidates_token_count") + _count(d, "thoughts_token_count"),
        cached_input_tokens=_count(d, "cached_content_token_count"),
        reasoning_tokens=_count(d, "thoughts_token_count"),
    )


def _input_output(d: Mapping[str, Any]) -> Usage:
    """OpenAI Responses, LangChain ``UsageMetadata`` and tokentrail's own field names."""
    in_details = _sub(d, "input_tokens_details") or _sub(d, "input_token_details")
    out_details = _sub(d, "output_tokens_details") or _sub(d, "output_token_details")
    cached = (
        _count(d, "cached_input_tokens")
        or _count(in_details, "cached_tokens")
        or _count(in_details, "cache_read")
    )
    write = _count(d, "cache_write_tokens") or _count(in_details, "cache_creation")
    reasoning = (
        _count(d, "reasoning_tokens")
        or _count(out_details, "reasoning_tokens")
        or _count(out_details, "reasoning")
    )
    return Usage(
        _count(d, "input_tokens"),
        _count(d, "output_tokens"),
        cached_input_tokens=cached,
        cache_write_tokens=write,
        reasoning_tokens=reasoning,
    )


_KNOWN = frozenset(
    {
        "prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens",
        "prompt_token_count", "candidates_token_count", "total_token_count", "thoughts_token_count",
        "cached_content_token_count", "cache_read_input_tokens", "cache_creation_input_tokens",
        "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
    }
)  # fmt: skip


def normalize_usage(obj: object, provider: str | None = None) -> Normalized:
    """Normalize one usage payload; raise ``TypeError``/``ValueError`` naming the bad field."""
    d = to_mapping(obj)
    if not _KNOWN.intersection(d):
        raise ValueError(
            f"no token counts found in usage keys {sorted(d)}: expected OpenAI (prompt_tokens), "
            "Anthropic/Responses (input_tokens), Gemini (prompt_token_count) or LangChain shapes"
        )
    if "prompt_token_count" in d or "candidates_token_count" in d:
        usage, shape = _gemini(d), "gemini"
    elif "prompt_tokens" in d or "completion_tokens" in d:
        usage, shape = _openai_chat(d), "openai.chat"
    elif "cache_read_input_tokens" in d or "cache_creation_input_tokens" in d or provider == "anthropic":
        usage, shape = _anthropic(d), "anthropic"
    else:
        usage, shape = _input_output(d), "input_output"
    cost = d.get("cost")
    provider_cost = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None
    return Normalized(usage, d, shape, provider_cost)
