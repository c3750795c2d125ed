"""What a finished call reported: usage and the provider's own fields, read from its answer.

A plain tuple, not a named one: the SDK hot path builds one per call, and a tuple display is a
fifth of what building a tuple subclass costs. Positions (``None``: the provider did not say):

====  =================================================================================
0     usage: the six counts of a ``Usage`` (a ``Usage`` is one; a reader may give the bare six)
1     response model
2     finish reason
3     tool calls (names)
4     response id
5     raw usage (a plain dict or a read-only mapping)
6     provider-reported cost
7     service tier
====  =================================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Counts = tuple[int, int, int, int, int, int]  # input, output, total, cached input, cache write, reasoning
Outcome = tuple[
    Counts | None, str | None, str | None, tuple[str, ...], str | None, Mapping[str, Any] | None,
    float | None, str | None,
]  # fmt: skip

NO_OUTCOME: Outcome = (None, None, None, (), None, None, None, None)


def outcome(
    usage: Counts | None = None,
    response_model: str | None = None,
    finish_reason: str | None = None,
    tool_calls: tuple[str, ...] = (),
    response_id: str | None = None,
    raw_usage: Mapping[str, Any] | None = None,
    provider_cost: float | None = None,
    service_tier: str | None = None,
) -> Outcome:
    """An :data:`Outcome` by field name (the readers off the hot path, tests)."""
    return (usage, response_model, finish_reason, tool_calls, response_id, raw_usage, provider_cost,
            service_tier)  # fmt: skip
