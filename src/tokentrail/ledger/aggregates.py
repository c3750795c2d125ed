"""Running totals of one scope (the session or a run): overall, per (provider, model), per tool."""

from __future__ import annotations

from collections import deque

from ..model import Accumulator, Cost, CostStatus, Totals, UsageEvent


def merged(accs: list[Accumulator]) -> Totals:
    """Sum of several accumulators as one :class:`Totals`."""
    out = Accumulator()
    for a in accs:
        out.calls += a.calls
        out.errors += a.errors
        out.input += a.input
        out.output += a.output
        out.cached += a.cached
        out.cache_write += a.cache_write
        out.reasoning += a.reasoning
        out.cost += a.cost
        out.priced += a.priced
        out.unpriced += a.unpriced
        out.tool_spans += a.tool_spans
        out.duration_ms += a.duration_ms
    return out.snapshot()


class Aggregates:
    """O(1) per event; events themselves are kept up to a cap, the totals stay exact past it."""

    __slots__ = ("cost_parts", "events", "models", "tools", "totals")

    def __init__(self, max_events: int | None) -> None:
        self.totals = Accumulator()
        self.models: dict[tuple[str | None, str], Accumulator] = {}
        self.tools: dict[str, Accumulator] = {}
        self.cost_parts = [0.0, 0.0, 0.0, 0.0]
        self.events: deque[UsageEvent] = deque(maxlen=max_events)

    def add(self, e: UsageEvent) -> None:
        self.totals.add(e)
        if e.kind != "tool":
            key = (e.provider, e.response_model or e.model or "(no model)")
            acc = self.models.get(key)
            if acc is None:
                acc = self.models[key] = Accumulator()
            acc.add(e)
            cost = e.cost
            if cost is not None:
                parts = self.cost_parts
                parts[0] += cost.input
                parts[1] += cost.output
                parts[2] += cost.cached_input
                parts[3] += cost.cache_write
        if e.tool is not None:
            acc = self.tools.get(e.tool)
            if acc is None:
                acc = self.tools[e.tool] = Accumulator()
            acc.add(e)
        self.events.append(e)

    def snapshot(self) -> Totals:
        return self.totals.snapshot()

    def cost(self) -> Cost | None:
        """Summed cost; ``None`` when calls had tokens but none could be priced."""
        t = self.totals
        if not t.priced and t.unpriced:
            return None
        p = self.cost_parts
        status: CostStatus = "partial" if t.unpriced else "priced"
        return Cost(p[0], p[1], p[2], p[3], t.cost, source="sum", status=status)

    def by_model(self) -> dict[str, Totals]:
        groups: dict[str, list[Accumulator]] = {}
        for (_, model), acc in self.models.items():
            groups.setdefault(model, []).append(acc)
        return {k: merged(v) for k, v in groups.items()}

    def by_provider(self) -> dict[str, Totals]:
        groups: dict[str, list[Accumulator]] = {}
        for (provider, _), acc in self.models.items():
            groups.setdefault(provider or "unknown", []).append(acc)
        return {k: merged(v) for k, v in groups.items()}

    def by_tool(self) -> dict[str, Totals]:
        return {k: v.snapshot() for k, v in self.tools.items()}
