"""Rows the panel's charts read, pre-aggregated so Vega holds hundreds of rows, never every event.

Rows are plain JSON-ready dicts, never mutated once built (a changed row is a new dict), so the
same dict can sit in a snapshot and in a delta. Field lists: ``docs/widget-protocol.md``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..report import fmt_cost, fmt_ms

if TYPE_CHECKING:
    from ..model import Totals, UsageEvent
    from ..runs import Run

Row = dict[str, Any]
_LANES = {"llm": "llm calls", "embedding": "embeddings", "manual": "records"}


def timeline_row(e: UsageEvent, run_ids: Sequence[str] | None) -> Row:
    """One bar of the Gantt: a call (lane: its agent, else its kind) or a tool span (lane: the tool)."""
    if e.kind == "tool":
        lane, name = f"tool: {e.tool}", e.tool or "tool"
    else:
        agent = e.context.agent
        lane, name = (f"agent: {agent}" if agent else _LANES.get(e.kind, e.kind)), e.model_name
    u, cost = e.usage, e.cost
    row: Row = {
        "id": e.id, "lane": lane, "kind": e.kind, "name": name, "status": e.status,
        "start": e.started_at * 1000.0, "end": e.ended_at * 1000.0, "duration_ms": e.duration_ms,
        "input_tokens": u[0], "output_tokens": u[1], "total_tokens": u[2], "cached_input_tokens": u[3],
        "reasoning_tokens": u[5], "cost": None if cost is None else cost.total,
        "finish_reason": e.finish_reason, "error_type": e.error_type, "run_id": e.run_id,
    }  # fmt: skip
    if run_ids is not None:
        row["run_ids"] = list(run_ids)
    return row


def cumulative_row(e: UsageEvent, run_ids: Sequence[str] | None) -> Row:
    """One step of the cumulative series: the call's own cost and tokens (Vega sums them per model)."""
    cost = e.cost
    row: Row = {
        "id": e.id, "t": e.ended_at * 1000.0, "model": e.model_name,
        "cost": None if cost is None else cost.total, "tokens": e.usage[2], "calls": 1,
    }  # fmt: skip
    if run_ids is not None:
        row["run_ids"] = list(run_ids)
    return row


class TimelineWindow:
    """The latest ``limit`` spans; older ones are evicted (their ids reported) and counted as hidden."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.rows: OrderedDict[str, Row] = OrderedDict()
        self.hidden = 0
        self.new: dict[str, Row] = {}  # added since the last delta, not sent yet
        self.evicted: list[str] = []  # sent earlier, evicted since the last delta

    def skip(self, n: int) -> None:
        """Count ``n`` spans that would be evicted at once without building their rows."""
        self.hidden += n

    def add(self, row: Row) -> None:
        self.rows[row["id"]] = row
        self.new[row["id"]] = row
        while len(self.rows) > self.limit:
            old, _ = self.rows.popitem(last=False)
            self.hidden += 1
            if self.new.pop(old, None) is None:
                self.evicted.append(old)

    def take(self) -> tuple[list[Row], list[str]]:
        """Rows to append and ids to remove since the last call."""
        new, evicted = list(self.new.values()), self.evicted
        self.new, self.evicted = {}, []
        return new, evicted


def _merge(rows: list[Row], width: float, generation: int) -> list[Row]:
    buckets: dict[tuple[Any, ...], Row] = {}
    for r in rows:
        key = (math.floor(r["t"] / width), r["model"], tuple(r.get("run_ids", ())))
        b = buckets.get(key)
        if b is None:
            buckets[key] = {**r, "id": f"g{generation}-{len(buckets)}"}
            continue
        cost = r["cost"] if b["cost"] is None else b["cost"] if r["cost"] is None else b["cost"] + r["cost"]
        b.update(t=max(b["t"], r["t"]), cost=cost, tokens=b["tokens"] + r["tokens"])
        b["calls"] += r["calls"]
    return list(buckets.values())


class CumulativeSeries:
    """Per-call steps, coarsened into time buckets (doubling their width) past ``limit`` rows."""

    def __init__(self, limit: int) -> None:
        self.limit = max(4, limit)
        self.rows: list[Row] = []
        self.new: list[Row] = []
        self.replaced = False
        self.width = 0.0  # ms; 0 until the first coarsening
        self.generation = 0

    def add(self, row: Row) -> None:
        self.rows.append(row)
        self.new.append(row)

    def compact(self) -> None:
        """Merge rows into buckets until at most half the limit are left; the next delta replaces all."""
        if len(self.rows) <= self.limit:
            return
        ts = [r["t"] for r in self.rows]
        span = max(max(ts) - min(ts), 1.0)
        width = max(self.width * 2, span / (self.limit / 4))
        self.generation += 1
        merged = _merge(self.rows, width, self.generation)
        while len(merged) > self.limit // 2 and width < span * 2:
            width *= 2
            merged = _merge(self.rows, width, self.generation)
        self.rows, self.width, self.new, self.replaced = merged, width, [], True

    def take(self) -> tuple[list[Row] | None, list[Row]]:
        """``(rows to replace everything with, or None; rows to append)`` since the last call."""
        self.compact()
        replaced, new = (self.rows if self.replaced else None), self.new
        self.replaced, self.new = False, []
        return (list(replaced) if replaced is not None else None), ([] if replaced is not None else new)


def breakdown_rows(groups: Mapping[str, Totals], tools: bool) -> dict[str, Row]:
    """Per-model (or per-tool) rows from the core's exact totals, keyed by id, with a ready label."""
    out: dict[str, Row] = {}
    for name, t in groups.items():
        row: Row = {
            "id": name, "name": name, "calls": t.calls, "errors": t.errors, "input_tokens": t.input_tokens,
            "cached_input_tokens": t.cached_input_tokens, "output_tokens": t.output_tokens,
            "reasoning_tokens": t.reasoning_tokens, "total_tokens": t.total_tokens, "cost": t.cost,
            "unpriced_calls": t.unpriced_calls, "duration_ms": t.duration_ms,
        }  # fmt: skip
        cost = fmt_cost(t.cost) if t.calls else "no LLM calls"
        if tools:
            row["spans"] = t.tool_spans
            spans = f"{t.tool_spans} span{'s' if t.tool_spans != 1 else ''}"
            row["label"] = f"{spans} · {fmt_ms(t.duration_ms)} · {cost}"
        else:
            row["label"] = cost
        out[name] = row
    return out


def totals_dict(t: Totals, currency: str = "USD") -> Row:
    """The header's totals: the core's, plus the currency."""
    out = t.to_dict()
    out["currency"] = currency
    return out


def run_row(run: Run, totals: Totals, models: Mapping[str, Totals], tools: Mapping[str, Totals]) -> Row:
    """A row of the session's runs table, with the run's own breakdowns (shown when it is picked)."""
    return {
        "id": run.id, "name": run.name, "path": list(run.path), "tags": dict(run.tags), "status": run.status,
        "calls": totals.calls, "errors": totals.errors, "input_tokens": totals.input_tokens,
        "output_tokens": totals.output_tokens, "total_tokens": totals.total_tokens, "cost": totals.cost,
        "currency": "USD", "started_at": run.started_at * 1000.0,
        "ended_at": None if run.ended_at is None else run.ended_at * 1000.0,
        "duration_ms": run.duration_ms if run.ended_at is not None else None,
        "models": list(breakdown_rows(models, tools=False).values()),
        "tools": list(breakdown_rows(tools, tools=True).values()),
    }  # fmt: skip
