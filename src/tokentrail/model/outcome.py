"""What a finished call reported: usage and the provider's own fields, read from its answer.

A plain tuple, not a named one: the SDK hot path builds one per call, and a tuple display is a
fifth of what building a tuple subclass costs. Positions (``None``: the provider did not say):

====  =================================================================================
0     usage: the six counts of a ``Usage`` (a ``Usage`` is one; a reader may give the bare six)
1     response model
2     finish reason
3     tool calls (names)
4     response id
5     raw usage: a plain dict, a read-only mapping, or ``Flat`` (see ``raw_view``)
6     provider-reported cost
7     service tier
====  =================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

Counts = tuple[int, int, int, int, int, int]  # input, output, total, cached input, cache write, reasoning
Flat = tuple[Any, ...]  # (shape, *values): a mapping as atoms (instrument/_flat.py), see raw_view
Raw = Mapping[str, Any] | Flat | None
Outcome = tuple[
    Counts | None, str | None, str | None, tuple[str, ...], str | None, Raw, float | None, str | None
]

NO_OUTCOME: Outcome = (None, None, None, (), None, None, None, None)


def outcome(
    usage: Counts | None = None,
    response_model: str | None = None,
    finish_reason: str | None = None,
    tool_calls: tuple[str, ...] = (),
    response_id: str | None = None,
    raw_usage: Raw = None,
    provider_cost: float | None = None,
    service_tier: str | None = None,
) -> Outcome:
    """An :data:`Outcome` by field name (the readers off the hot path, tests)."""
    return (usage, response_model, finish_reason, tool_calls, response_id, raw_usage, provider_cost,
            service_tier)  # fmt: skip


def raw_view(raw: Raw) -> Mapping[str, Any] | None:
    """Raw usage as an event shows it: read-only. ``Flat`` is ``(shape, *values)``: the shape is the
    keys in order, where a nested mapping is its number of keys, its name, then its keys; the values
    follow in the same order."""
    if isinstance(raw, tuple):
        keys, values = iter(raw[0]), iter(raw[1:])
        out: dict[str, Any] = {}
        for key in keys:
            if type(key) is int:
                name = next(keys)
                out[name] = {next(keys): next(values) for _ in range(key)}
            else:
                out[key] = next(values)
        return MappingProxyType(out)
    return MappingProxyType(raw) if type(raw) is dict else raw
