"""What a finished call reports (usage, model, finish reason ...), read from SDK objects without copies."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..model import NO_OUTCOME, Outcome, Usage, normalize_usage

Fields = Outcome  # the core's name for what a finished call reported (positions: model/outcome.py)
NO_FIELDS = NO_OUTCOME


def usage_copy(usage: Any) -> Mapping[str, Any]:
    """The provider's usage object as read-only plain data (nested models as dicts, extras included):
    a copy, so the event does not keep the SDK's objects alive (see docs/decisions.md)."""
    return MappingProxyType(_plain(usage))


def _plain(obj: Any) -> Any:
    fields = getattr(obj, "__dict__", None)
    if fields is None:
        return [_plain(v) for v in obj] if isinstance(obj, list) else obj
    out = {k: _plain(v) for k, v in fields.items()}
    extra = getattr(obj, "__pydantic_extra__", None)
    if extra:
        out.update({k: _plain(v) for k, v in extra.items()})
    return out


def fields_of(obj: Any) -> dict[str, Any]:
    """An SDK model's field values without copying (pydantic keeps them in ``__dict__``)."""
    return obj.__dict__ if hasattr(obj, "__dict__") else {}


def extra_cost(usage: Any) -> float | None:
    """A provider-reported cost sent beside the token counts (OpenRouter ``usage.cost``)."""
    try:
        extra = usage.__pydantic_extra__
    except AttributeError:  # pydantic v1 or a plain object
        extra = None
    if not extra:
        return None
    cost = extra.get("cost")
    return float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None


def checked_usage(make: Any, obj: Any, provider: str | None) -> Usage | None:
    """``make(obj)`` on the fast path; the core's normalizer if the counts are odd; None if unusable."""
    try:
        usage: Usage = make(obj)
        return usage
    except (TypeError, ValueError, AttributeError):
        return normalized_usage(obj, provider)


def normalized_usage(obj: Any, provider: str | None) -> Usage | None:
    """The core's normalizer on usage a fast reader found odd (strings, floats ...); None if unusable."""
    try:
        return normalize_usage(obj, provider).usage
    except (TypeError, ValueError):
        return None


def dict_fields(data: Any, provider: str | None) -> Fields:
    """Fields from a JSON body (raw responses, error bodies): slow path, normalized by the core."""
    if not isinstance(data, Mapping):
        return NO_FIELDS
    raw = data.get("usage") or (data.get("response") or {}).get("usage")
    usage = None
    cost = None
    if isinstance(raw, Mapping):
        try:
            norm = normalize_usage(raw, provider)
            usage, cost = norm.usage, norm.provider_cost
        except (TypeError, ValueError):
            usage = None
    choices = data.get("choices")
    finish = data.get("stop_reason")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        finish = choices[0].get("finish_reason")
    model = data.get("model")
    rid = data.get("id")
    return (
        usage,
        model if isinstance(model, str) else None,
        finish if isinstance(finish, str) else None,
        (),
        rid if isinstance(rid, str) else None,
        dict(raw) if isinstance(raw, Mapping) else None,
        cost,
        None,
    )
