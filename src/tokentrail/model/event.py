"""One immutable record per LLM API call, manual record or tool span."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

from .cost import Cost
from .usage import ZERO_USAGE, Usage

EventKind = Literal["llm", "embedding", "tool", "manual"]
Status = Literal["ok", "error", "partial"]
UsageSource = Literal["provider", "manual", "estimated", "missing", "none"]

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CallContext:
    """Who made the call: agent, session, user, the handoff chain and free-form tags."""

    agent: str | None = None
    session_id: str | None = None
    user: str | None = None
    handoffs: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "session_id": self.session_id,
            "user": self.user,
            "handoffs": list(self.handoffs),
            "tags": dict(self.tags),
        }


EMPTY_CONTEXT = CallContext()


class UsageEvent(NamedTuple):
    """What one call used and cost, and where it belongs; prompts and completions are never kept.

    Immutable; a typed named tuple because it is built once per call on the hot path.
    """

    id: str
    kind: EventKind
    provider: str | None
    model: str | None
    operation: str
    method: Literal["generate", "stream", "record", "span"]
    started_at: float
    ended_at: float
    usage: Usage = ZERO_USAGE
    cost: Cost | None = None
    status: Status = "ok"
    usage_source: UsageSource = "provider"
    response_model: str | None = None
    is_async: bool = False
    error_type: str | None = None
    finish_reason: str | None = None
    tool_calls: tuple[str, ...] = ()
    tool: str | None = None
    run_id: str | None = None
    run_path: tuple[str, ...] = ()
    context: CallContext = EMPTY_CONTEXT
    attempt: int = 1
    response_id: str | None = None
    service_tier: str | None = None
    raw_usage: Mapping[str, Any] | None = None
    metadata: Mapping[str, Any] | None = None

    @property
    def duration_ms(self) -> float:
        return (self.ended_at - self.started_at) * 1000.0

    @property
    def model_name(self) -> str:
        """The model the provider says answered, else the one requested, else the tool name."""
        return self.response_model or self.model or self.tool or "unknown"

    def to_dict(self) -> dict[str, Any]:
        """A flat, JSON-ready row (the shape of exports and DataFrames)."""
        cost = self.cost
        return {
            "id": self.id,
            "kind": self.kind,
            "provider": self.provider,
            "model": self.model,
            "response_model": self.response_model,
            "operation": self.operation,
            "method": self.method,
            "is_async": self.is_async,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "duration_ms": self.duration_ms,
            **self.usage.to_dict(),
            "cost": None if cost is None else cost.total,
            "cost_status": "unpriced" if cost is None else cost.status,
            "cost_source": None if cost is None else cost.source,
            "status": self.status,
            "usage_source": self.usage_source,
            "error_type": self.error_type,
            "finish_reason": self.finish_reason,
            "tool_calls": list(self.tool_calls),
            "tool": self.tool,
            "run_id": self.run_id,
            "run_path": list(self.run_path),
            **self.context.to_dict(),
            "attempt": self.attempt,
            "response_id": self.response_id,
            "service_tier": self.service_tier,
            "metadata": dict(self.metadata or {}),
        }
