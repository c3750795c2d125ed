"""The hot path: a call starts (budgets checked first), then finishes exactly once into one event."""

from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..model import (
    ZERO_USAGE,
    CallContext,
    EventKind,
    Status,
    Usage,
    UsageEvent,
    UsageSource,
    normalize_usage,
)
from ..pricing import PRICES
from .context import _CTX, _TOOL, current_run
from .run import Run
from .tracker import TRACKER, new_id

_time = time.time
_new = tuple.__new__  # events are built positionally on the hot path: 10x cheaper than keywords


def check_budgets(run: Run | None) -> None:
    """Raise :class:`BudgetExceeded` (or warn) if the run chain's or the global budget is spent."""
    if run is not None:
        for state in run.budget_states:
            state.check()
    if TRACKER.global_budget is not None:
        TRACKER.global_budget.check()


def _after(event: UsageEvent, run: Run | None) -> None:
    TRACKER.ledger.append(event, run.scopes if run is not None else ())
    if run is not None and run.budget_states:
        for state in run.budget_states:
            state.after_event(TRACKER.ledger.hub)
    if TRACKER.global_budget is not None:
        TRACKER.global_budget.after_event(TRACKER.ledger.hub)


def _price(model: str | None, response_model: str | None, provider: str | None, usage: Usage,
           provider_cost: float | None, tier: str | None) -> Any:  # fmt: skip
    """Price by the model that answered (Azure and dated names) when known, else the one requested."""
    if response_model and response_model != model and PRICES.price_for(response_model, provider) is not None:
        return PRICES.cost(response_model, provider, usage, provider_cost, tier)
    return PRICES.cost(model or response_model, provider, usage, provider_cost, tier)


class CallHandle:
    """An LLM call in flight: who made it and when; ``finish`` turns it into one event, once."""

    __slots__ = (
        "attempt", "context", "done", "id", "is_async", "kind", "method", "model", "operation",
        "provider", "run", "started_at", "tool",
    )  # fmt: skip

    def __init__(self, provider: str | None, model: str | None, operation: str, method: str,
                 is_async: bool, kind: EventKind, attempt: int, run: Run | None) -> None:  # fmt: skip
        self.id = new_id()
        self.provider = provider
        self.model = model
        self.operation = operation
        self.method = method
        self.is_async = is_async
        self.kind = kind
        self.attempt = attempt
        self.run = run
        self.context: CallContext = _CTX.get()
        self.tool = _TOOL.get()
        self.started_at = _time()
        self.done = False

    @property
    def run_id(self) -> str | None:
        return None if self.run is None else self.run.id

    def finish(
        self,
        usage: Usage | None,
        *,
        status: Status = "ok",
        usage_source: UsageSource | None = None,
        response_model: str | None = None,
        finish_reason: str | None = None,
        tool_calls: tuple[str, ...] = (),
        error_type: str | None = None,
        response_id: str | None = None,
        raw_usage: Mapping[str, Any] | None = None,
        provider_cost: float | None = None,
        service_tier: str | None = None,
    ) -> UsageEvent | None:
        """Record the call's event (priced, totals updated, subscribers told); later calls return None."""
        if self.done:
            return None
        self.done = True
        if usage is None:
            source: UsageSource = usage_source or "missing"
            cost = (
                None if provider_cost is None else PRICES.cost(None, self.provider, ZERO_USAGE, provider_cost)
            )
            usage = ZERO_USAGE
        else:
            source = usage_source or "provider"
            cost = _price(self.model, response_model, self.provider, usage, provider_cost, service_tier)
        run = self.run
        event: UsageEvent = _new(UsageEvent, (
            self.id, self.kind, self.provider, self.model, self.operation, self.method, self.started_at,
            _time(), usage, cost, status, source, response_model, self.is_async, error_type, finish_reason,
            tool_calls, self.tool, None if run is None else run.id, () if run is None else run.path,
            self.context, self.attempt, response_id, service_tier, raw_usage, None,
        ))  # fmt: skip
        _after(event, run)
        return event


def start_call(
    provider: str | None,
    model: str | None,
    operation: str = "chat",
    method: str = "generate",
    is_async: bool = False,
    kind: EventKind = "llm",
    attempt: int = 1,
) -> CallHandle:
    """Begin a call: budgets are checked before anything is sent, then ``call_start`` fires."""
    run = current_run()
    if (run is not None and run.budget_states) or TRACKER.global_budget is not None:
        check_budgets(run)
    handle = CallHandle(provider, model, operation, method, is_async, kind, attempt, run)
    hub = TRACKER.ledger.hub
    if hub.has("call_start"):
        hub.emit("call_start", handle)
    return handle


def _tool_name(tool: object) -> str | None:
    if tool is None or isinstance(tool, str):
        return tool
    raise TypeError(f"tool must be a str or tt.Tool, got {type(tool).__name__} {tool!r}")


def record(
    model: str | None = None,
    input_tokens: int = 0,
    output_tokens: int = 0,
    *,
    provider: str | None = None,
    tool: str | None = None,
    cached_input_tokens: int = 0,
    cache_write_tokens: int = 0,
    reasoning_tokens: int = 0,
    cost: float | None = None,
    duration_ms: float = 0.0,
    status: Status = "ok",
    metadata: Mapping[str, Any] | None = None,
    usage_source: UsageSource = "manual",
    raw_usage: Mapping[str, Any] | None = None,
) -> UsageEvent:
    """Record usage the SDK patches cannot see (another API, a cached reply, a tool that bills tokens)."""
    if model is not None and not isinstance(model, str):
        raise TypeError(f"model must be a str, got {type(model).__name__} {model!r}")
    tool_name = _tool_name(getattr(tool, "value", tool))
    usage = Usage(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens)
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0):
        raise ValueError(f"cost must be a number of USD >= 0, got {cost!r}")
    if status != "ok" and status not in ("error", "partial"):
        raise ValueError(f"status must be 'ok', 'error' or 'partial', got {status!r}")
    run = current_run()
    now = _time()
    priced = PRICES.cost(model, provider, usage, None if cost is None else float(cost)) if (
        model or cost is not None) else None  # fmt: skip
    event: UsageEvent = _new(UsageEvent, (
        new_id(), "manual", provider, model, "record", "record", now - duration_ms / 1000.0, now, usage,
        priced, status, usage_source, None, False, None, None, (), tool_name or _TOOL.get(),
        None if run is None else run.id, () if run is None else run.path, _CTX.get(), 1, None, None,
        raw_usage, None if metadata is None else MappingProxyType(dict(metadata)),
    ))  # fmt: skip
    _after(event, run)
    return event


def record_usage(
    usage: object,
    *,
    model: str | None = None,
    provider: str | None = None,
    tool: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> UsageEvent:
    """Record a provider's usage object or dict (OpenAI, Anthropic, Gemini, LangChain shapes)."""
    norm = normalize_usage(usage, provider)
    u = norm.usage
    return record(
        model, u.input_tokens, u.output_tokens, provider=provider, tool=tool,
        cached_input_tokens=u.cached_input_tokens, cache_write_tokens=u.cache_write_tokens,
        reasoning_tokens=u.reasoning_tokens, cost=norm.provider_cost, metadata=metadata,
        usage_source="provider", raw_usage=MappingProxyType(dict(norm.raw)),
    )  # fmt: skip
