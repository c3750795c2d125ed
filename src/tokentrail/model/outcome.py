"""What a finished call reported: usage and the provider's own fields, read from its answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .usage import Usage


class Outcome(NamedTuple):
    """The parts of an event that come from the provider's answer (``None``: it did not say)."""

    usage: Usage | None = None
    response_model: str | None = None
    finish_reason: str | None = None
    tool_calls: tuple[str, ...] = ()
    response_id: str | None = None
    raw_usage: Mapping[str, Any] | None = None
    provider_cost: float | None = None
    service_tier: str | None = None


NO_OUTCOME = Outcome()
