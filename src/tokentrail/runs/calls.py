"""The hot path: a call starts (budgets checked first), then finishes exactly once into one event."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from ..model import (
    EMPTY_CONTEXT,
    NO_OUTCOME,
    ZERO_USAGE,
    CallContext,
    EventKind,
    Outcome,
    Status,
    Usage,
    UsageEvent,
    UsageSource,
    normalize_usage,
    raw_view,
    usage_of,
)
from ..model.ids import id_of, new_id, next_number
from ..pricing import PRICES
from .context import _CTX, _RUN, _TOOL, current_run
from .run import Run
from .tracker import TRACKER

_LEDGER = TRACKER.ledger  # one for the process (reset empties it); its hub and queue too
_HUB = _LEDGER.hub
_SWITCHES = _LEDGER.switches  # quiet_end: no global budget's counter, no per-event usage subscriber
_PENDING = _LEDGER.pending

log = logging.getLogger("tokentrail")

_time = time.time
_new = tuple.__new__  # events are built positionally on the hot path: 10x cheaper than keywords


def check_budgets(run: Run | None) -> None:
    """Raise :class:`BudgetExceeded` (or warn) if the run chain's or the global budget is spent."""
    if run is not None:
        for state in run.budget_states:
            state.check()
    if TRACKER.global_budget is not None:
        TRACKER.global_budget.check()


def _after(event: UsageEvent, run: Run | None, record: tuple[Any, ...] | None = None) -> None:
    """Count ``event``: at once when a ``usage`` subscriber or a budget needs it, else queued for the
    next read; its flat ``record`` (``ledger/records.py``), where it has one, is what is kept."""
    if not _SWITCHES.quiet_end or (run is not None and run.budget_states):
        _count_now(event, run, record)
    else:
        _LEDGER.defer((event if record is None else record, () if run is None else run.scopes))


def _count_now(event: UsageEvent, run: Run | None, record: tuple[Any, ...] | None = None) -> None:
    """Add ``event`` to the totals and tell its subscribers now, then check the budgets it counts in;
    ``record``, its flat record (``ledger/records.py``), is kept instead of it where there is one."""
    _LEDGER.append(event, () if run is None else run.scopes, record)
    if run is not None and run.budget_states:
        for state in run.budget_states:
            state.after_event(_HUB)
    if TRACKER.global_budget is not None:
        TRACKER.global_budget.after_event(_HUB)


Read = Callable[[Any, Any], Outcome]  # (handle, result) -> what the result reports


class CallHandle:
    """An LLM call in flight: who made it and when; it becomes one event, once (``finish``/``settle``).

    What the event takes from the start is kept as two tuples (``_head``, ``_tail``), so the event is
    built by unpacking them, in C; the named fields are read-only views of them. ``start_call`` makes
    one; ``open_call`` starts a handle (or a subclass's, the SDK's call) and its later attempts.
    """

    __slots__ = ("_head", "_n", "_tail", "done", "is_async", "run")
    _head: tuple[EventKind, str | None, str | None, str, str, float]
    _tail: tuple[str | None, str | None, tuple[str, ...], CallContext | None, int]  # None: no context
    _n: int
    run: Run | None
    is_async: bool
    done: bool

    @property
    def kind(self) -> EventKind:
        """llm, embedding, ..."""
        return self._head[0]  # type: ignore[no-any-return]

    @property
    def provider(self) -> str | None:
        return self._head[1]  # type: ignore[no-any-return]

    @property
    def model(self) -> str | None:
        """The model as requested."""
        return self._head[2]  # type: ignore[no-any-return]

    @property
    def operation(self) -> str:
        return self._head[3]  # type: ignore[no-any-return]

    @property
    def method(self) -> str:
        return self._head[4]  # type: ignore[no-any-return]

    @property
    def started_at(self) -> float:
        return self._head[5]  # type: ignore[no-any-return]

    @property
    def tool(self) -> str | None:
        return self._tail[0]  # type: ignore[no-any-return]

    @property
    def context(self) -> CallContext:
        return self._tail[3] or EMPTY_CONTEXT  # type: ignore[no-any-return]

    @property
    def attempt(self) -> int:
        return self._tail[4]  # type: ignore[no-any-return]

    @property
    def id(self) -> str:
        """The id its event will carry (formatted when read: the call itself only takes a number)."""
        return id_of(self._n)

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
        outcome: Outcome = (usage, response_model, finish_reason, tool_calls, response_id, raw_usage,
                            provider_cost, service_tier)  # fmt: skip
        return self.conclude(outcome, status, error_type, usage_source)

    def conclude(self, outcome: Outcome, status: Status = "ok", error_type: str | None = None,
                 usage_source: UsageSource | None = None) -> UsageEvent | None:  # fmt: skip
        """``finish`` with the provider's fields as one ``Outcome`` (the instrumentation's path)."""
        if self.done:
            return None
        self.done = True
        event = self._event(outcome, status, error_type, usage_source, _time())
        _after(event, self.run)
        return event

    def settle(self, read: Read, result: Any) -> None:
        """Finished with ``result``: ``read(self, result)`` gives the outcome now (the result is not
        kept), then as ``settled``."""
        if self.done:
            return
        try:
            outcome = read(self, result)
        except Exception as exc:
            outcome = unreadable(result, exc)
        self.settled(outcome)

    def settled(self, outcome: Outcome) -> None:
        """Finished, status ok, with ``outcome`` (a parsed result, a stream's end): the event is built
        at once if a subscriber or budget needs it; else the call is queued, as a flat record when
        usage came back, and its event is built only when someone reads the events. (``settle`` in
        ``instrument/_speedups.c`` writes the same record for a usual parsed OpenAI result: change
        both; ``tests/unit/test_speedups.py`` compares them.)"""
        if self.done:
            return
        self.done = True
        ended = _time()
        run = self.run
        if outcome[0] is None:  # no usage came back: its event says so, kept as it is
            _after(self._event(outcome, "ok", None, None, ended), run)
            return
        raw = outcome[5]  # the flat record of ledger/records.py (its layout): plain values, flat raw usage
        record = (self._n, *self._head, ended, *outcome[0], outcome[6], outcome[1], self.is_async,
                  outcome[2], outcome[3], *self._tail, outcome[4], outcome[7],
                  *(raw if type(raw) is tuple else (raw,)))  # fmt: skip
        # as _after: an event now for a subscriber or a budget, else queued
        if not _SWITCHES.quiet_end or (run is not None and run.budget_states):
            _count_now(self._event(outcome, "ok", None, None, ended), run, record)
        else:  # no event until someone reads it
            pending = _PENDING  # Ledger.defer, inlined
            pending.append((record, () if run is None else run.scopes))
            if len(pending) >= _SWITCHES.fold_at:
                _LEDGER.fold()

    def _event(self, f: Outcome, status: Status, error_type: str | None, usage_source: UsageSource | None,
               ended: float) -> UsageEvent:  # fmt: skip
        head = self._head
        counts, provider_cost = f[0], f[6]
        if counts is None:
            source: UsageSource = usage_source or "missing"
            cost = None if provider_cost is None else PRICES.cost(None, head[1], ZERO_USAGE, provider_cost)
            usage = ZERO_USAGE
        else:
            source = usage_source or "provider"
            usage = counts if type(counts) is Usage else _new(Usage, counts)
            cost = PRICES.call_cost(head[1], head[2], f[1], usage, provider_cost, f[7])
        tool, run_id, path, ctx, attempt = self._tail
        raw = f[5]
        event: UsageEvent = _new(UsageEvent, (
            id_of(self._n), *head, ended, usage, cost, status, source, f[1], self.is_async, error_type, f[2],
            f[3], tool, run_id, path, ctx or EMPTY_CONTEXT, attempt, f[4], f[7],
            raw_view(raw), None,
        ))  # fmt: skip
        return event


def unreadable(result: Any, exc: Exception) -> Outcome:
    """A reader failed on ``result``: usage ``missing``, logged once per result type."""
    what = type(result).__name__
    if what not in _unreadable_types:
        _unreadable_types.add(what)
        log.warning("tokentrail: could not read usage from a %s (%s: %s); recorded as missing "
                    "(logged once per type)", what, type(exc).__name__, exc)  # fmt: skip
    return NO_OUTCOME


_unreadable_types: set[str] = set()
_allocate = object.__new__


def open_call(handle: CallHandle, provider: str | None, model: str | None, operation: str, method: str,
              is_async: bool, kind: EventKind, attempt: int) -> None:  # fmt: skip
    """Start ``handle`` (a new one, or the next attempt of one): budgets are checked before anything is
    sent, then ``call_start`` fires. (``begin`` in ``instrument/_speedups.c`` does the same where there
    is no budget and no ``call_start`` subscriber: change both.)"""
    run = _RUN.get() or current_run()
    if (run is not None and run.budget_states) or TRACKER.global_budget is not None:
        check_budgets(run)
    handle._n = next_number()
    handle.run = run
    handle.is_async = is_async
    handle.done = False
    handle._head = (kind, provider, model, operation, method, _time())
    handle._tail = (
        (_TOOL.get(), None, (), _CTX.get(), attempt)
        if run is None
        else (_TOOL.get(), run.id, run.path, _CTX.get(), attempt)
    )
    if "call_start" in _HUB.active:
        _HUB.emit("call_start", handle)


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
    handle: CallHandle = _allocate(CallHandle)
    open_call(handle, provider, model, operation, method, is_async, kind, attempt)
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
    if model is not None and type(model) is not str and not isinstance(model, str):
        raise TypeError(f"model must be a str, got {type(model).__name__} {model!r}")
    tool_name = None if tool is None else _tool_name(getattr(tool, "value", tool))
    usage = usage_of(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens)
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, (int, float)) or cost < 0):
        raise ValueError(f"cost must be a number of USD >= 0, got {cost!r}")
    if status != "ok" and status not in ("error", "partial"):
        raise ValueError(f"status must be 'ok', 'error' or 'partial', got {status!r}")
    run = _RUN.get() or current_run()  # the contextvar, else the resolvers (the executing cell)
    now = _time()
    reported = None if cost is None else float(cost)
    priced = PRICES.cost(model, provider, usage, reported)  # None without a model or a reported cost
    ctx = _CTX.get()
    event: UsageEvent = _new(UsageEvent, (
        new_id(), "manual", provider, model, "record", "record",
        now - duration_ms / 1000.0, now, usage, priced, status, usage_source, None, False, None, None, (),
        tool_name or _TOOL.get(), None if run is None else run.id, () if run is None else run.path,
        ctx or EMPTY_CONTEXT, 1, None, None, raw_usage,
        None if metadata is None else MappingProxyType(dict(metadata)),
    ))  # fmt: skip
    # kept as a flat record of plain values (ledger/records.py), which the collector lets go of
    record = (*event[:8], *usage, reported, None, False, None, (), *event[17:20], ctx, 1, None, None,
              raw_usage, usage_source) if status == "ok" and metadata is None else None  # fmt: skip
    _after(event, run, record)
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
