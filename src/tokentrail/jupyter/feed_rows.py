"""Rows the panel's charts read, pre-aggregated so Vega holds hundreds of rows, never every event.

Rows are plain JSON-ready dicts, never mutated once built (a changed row is a new dict), so the
same dict can sit in a snapshot and in a delta. Field lists: ``docs/widget-protocol.md``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..report import fmt_cost, fmt_ms

if TYPE_CHECKING:
    from ..model import Totals, UsageEvent
    from ..runs import Run

Row = dict[str, Any]
_LANES = {"llm": "llm calls", "embedding": "embeddings"}


def call_lane(kind: str, agent: str | None, model: str | None) -> str:
    """The Gantt lane of a call: its agent's, else its kind's (manual records with a model: LLM calls)."""
    if agent:
        return f"agent: {agent}"
    return _LANES.get(kind) or ("llm calls" if model else "records")


def tool_lane(name: str | None) -> str:
    return f"tool: {name}"


def timeline_row(e: UsageEvent, run_ids: Sequence[str] | None) -> Row:
    """One bar of the Gantt: a call (lane: its agent, else its kind) or a tool span (lane: the tool)."""
    if e.kind == "tool":
        lane, name = tool_lane(e.tool), e.tool or "tool"
    else:
        lane, name = call_lane(e.kind, e.context.agent, e.model), e.model_name
    u, cost = e.usage, e.cost
    row: Row = {
        "id": e.id, "lane": lane, "kind": e.kind, "name": name, "status": e.status,
        "start": round(e.started_at * 1000.0, 1), "end": round(e.ended_at * 1000.0, 1),
        "input_tokens": u[0], "output_tokens": u[1], "cost": None if cost is None else cost.total,
    }  # fmt: skip
    if e.finish_reason is not None:
        row["finish_reason"] = e.finish_reason
    if e.error_type is not None:
        row["error_type"] = e.error_type
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
        """Count ``n`` spans that get no row (too many at once to show)."""
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


def _add_cost(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else a + b


class CumulativeSeries:
    """Cost and tokens per (time bucket, model, run): Vega sums them into cumulative lines.

    Calls in one bucket merge in O(1) until their row is sent (sent rows are never changed); past
    ``limit`` rows every row is merged into buckets of double width and the next delta replaces all.
    """

    def __init__(self, limit: int, width_ms: float = 50.0) -> None:
        self.limit = max(4, limit)
        self.width = width_ms
        self.rows: list[Row] = []
        self.new: list[Row] = []
        self.open: dict[tuple[Any, ...], Row] = {}  # bucket key -> its unsent row
        self.replaced = False
        self.generation = 0
        self._ids = 0

    def add(self, e: UsageEvent, run_ids: Sequence[str] | None) -> None:
        t = e.ended_at * 1000.0
        model = e.model_name
        key = (int(t // self.width), model, tuple(run_ids) if run_ids else ())
        cost = None if e.cost is None else e.cost.total
        row = self.open.get(key)
        if row is not None:
            row["t"] = max(row["t"], round(t, 1))
            row["cost"] = _add_cost(row["cost"], cost)
            row["tokens"] += e.usage[2]
            row["calls"] += 1
            return
        self._ids += 1
        row = {"id": f"p{self.generation}.{self._ids}", "t": round(t, 1), "model": model, "cost": cost,
               "tokens": e.usage[2], "calls": 1}  # fmt: skip
        if run_ids is not None:
            row["run_ids"] = list(run_ids)
        self.open[key] = row
        self.rows.append(row)
        self.new.append(row)

    def compact(self) -> None:
        """Past the limit, merge rows into buckets of doubling width until half the limit is left."""
        if len(self.rows) <= self.limit:
            return
        self.generation += 1
        ts = [r["t"] for r in self.rows]
        span = max(max(ts) - min(ts), 1.0)
        while True:
            self.width *= 2
            buckets: dict[tuple[Any, ...], Row] = {}
            for r in self.rows:
                key = (int(r["t"] // self.width), r["model"], tuple(r.get("run_ids", ())))
                b = buckets.get(key)
                if b is None:
                    buckets[key] = {**r, "id": f"p{self.generation}.{len(buckets)}"}
                else:
                    b.update(t=max(b["t"], r["t"]), cost=_add_cost(b["cost"], r["cost"]))
                    b["tokens"] += r["tokens"]
                    b["calls"] += r["calls"]
            if len(buckets) <= self.limit // 2 or self.width > span * 2:
                break
        self.rows, self.new, self.open, self.replaced = list(buckets.values()), [], {}, True

    def take(self) -> tuple[list[Row] | None, list[Row]]:
        """``(rows to replace everything with, or None; rows to append)`` since the last call."""
        self.compact()
        self.open = {}  # rows sent from now on are never changed
        if self.replaced:
            self.replaced, self.new = False, []
            return list(self.rows), []
        new, self.new = self.new, []
        return None, new


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
