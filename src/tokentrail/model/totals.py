"""Running totals over many events: exact, O(1) per event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter, sub

from .cost import Cost
from .event import UsageEvent
from .usage import Usage


@dataclass(frozen=True, slots=True)
class Totals:
    """A snapshot of an aggregate: calls, errors, tokens and cost (``None`` when nothing was priced)."""

    calls: int = 0
    errors: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float | None = None
    unpriced_calls: int = 0
    tool_spans: int = 0
    duration_ms: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def usage(self) -> Usage:
        return Usage(
            self.input_tokens,
            self.output_tokens,
            cached_input_tokens=self.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens,
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "cost": self.cost,
            "unpriced_calls": self.unpriced_calls,
            "tool_spans": self.tool_spans,
            "duration_ms": self.duration_ms,
        }


_KIND, _STARTED, _ENDED, _USAGE, _COST, _STATUS = (itemgetter(i) for i in (1, 6, 7, 8, 9, 10))
_sub = sub


class Accumulator:
    """Mutable running sums behind a :class:`Totals`; callers serialize ``add`` (the ledger's lock)."""

    __slots__ = (
        "cache_write", "cached", "calls", "cost", "cost_cache_write", "cost_cached", "cost_input",
        "cost_output", "duration_ms", "errors", "input", "output", "priced", "reasoning", "tool_spans",
        "unpriced",
    )  # fmt: skip

    def __init__(self) -> None:
        self.calls = self.errors = self.input = self.output = 0
        self.cached = self.cache_write = self.reasoning = 0
        self.unpriced = self.priced = self.tool_spans = 0
        self.cost = self.cost_input = self.cost_output = self.cost_cached = self.cost_cache_write = 0.0
        self.duration_ms = 0.0

    def add(self, e: UsageEvent) -> None:
        # by index: this runs once per event per scope, and tuple indexing is the cheapest read
        duration = (e[7] - e[6]) * 1000.0
        if e[1] == "tool":
            self.tool_spans += 1
            self.duration_ms += duration
            return
        u = e[8]
        self.calls += 1
        if e[10] == "error":
            self.errors += 1
        self.input += u[0]
        self.output += u[1]
        self.cached += u[3]
        self.cache_write += u[4]
        self.reasoning += u[5]
        self.duration_ms += duration
        cost = e[9]
        if cost is None:
            if u[2]:
                self.unpriced += 1
        else:
            self.priced += 1
            self.cost += cost[4]
            self.cost_input += cost[0]
            self.cost_output += cost[1]
            self.cost_cached += cost[2]
            self.cost_cache_write += cost[3]

    def add_many(self, events: Sequence[UsageEvent]) -> None:
        """``add`` each event; a batch of LLM calls (the ledger's fold) is summed by column in C."""
        n = len(events)
        if not n:
            return
        kinds = list(map(_KIND, events))
        if kinds.count("llm") + kinds.count("embedding") + kinds.count("manual") != n:
            for e in events:  # tool spans (or a mix): one at a time
                self.add(e)
            return
        self.calls += n
        self.errors += list(map(_STATUS, events)).count("error")
        self.duration_ms += sum(map(_sub, map(_ENDED, events), map(_STARTED, events))) * 1000.0
        usages = list(map(_USAGE, events))
        i, o, _, c, w, r = map(sum, zip(*usages))
        self.input += i
        self.output += o
        self.cached += c
        self.cache_write += w
        self.reasoning += r
        costs = list(map(_COST, events))
        priced = list(filter(None, costs))  # a Cost is a non-empty tuple: None is the only falsy one
        if len(priced) < n:
            self.unpriced += sum(1 for cost, u in zip(costs, usages) if cost is None and u[2])
        if priced:
            self.priced += len(priced)
            c_in, c_out, c_cached, c_write, c_total = map(sum, islice(zip(*priced), 5))
            self.cost += c_total
            self.cost_input += c_in
            self.cost_output += c_out
            self.cost_cached += c_cached
            self.cost_cache_write += c_write

    def add_flat(self, calls: int, duration_ms: float, usage: Usage, cost: Cost) -> None:
        """Add ``calls`` ok calls whose summed ``usage`` was priced once, as ``cost``."""
        self.calls += calls
        self.duration_ms += duration_ms
        self.input += usage[0]
        self.output += usage[1]
        self.cached += usage[3]
        self.cache_write += usage[4]
        self.reasoning += usage[5]
        self.priced += calls
        self.cost += cost[4]
        self.cost_input += cost[0]
        self.cost_output += cost[1]
        self.cost_cached += cost[2]
        self.cost_cache_write += cost[3]

    def merge(self, other: Accumulator) -> None:
        self.calls += other.calls
        self.errors += other.errors
        self.input += other.input
        self.output += other.output
        self.cached += other.cached
        self.cache_write += other.cache_write
        self.reasoning += other.reasoning
        self.unpriced += other.unpriced
        self.priced += other.priced
        self.tool_spans += other.tool_spans
        self.cost += other.cost
        self.cost_input += other.cost_input
        self.cost_output += other.cost_output
        self.cost_cached += other.cost_cached
        self.cost_cache_write += other.cost_cache_write
        self.duration_ms += other.duration_ms

    def snapshot(self) -> Totals:
        return Totals(
            self.calls,
            self.errors,
            self.input,
            self.output,
            self.cached,
            self.cache_write,
            self.reasoning,
            self.cost if self.priced else None,
            self.unpriced,
            self.tool_spans,
            self.duration_ms,
        )
