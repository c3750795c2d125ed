"""Running totals of one scope (the session or a run): per (provider, model) and per tool.

One accumulator update per event per scope keeps the hot path short; overall totals are the sum
of the per-model accumulators (a handful), computed when read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from ..model import Accumulator, Cost, CostStatus, Totals, Usage, UsageEvent
from ..model.usage import summed
from ._fast import COLUMNS, add_flat, fold_now

Group = tuple[bool, "str | None", str, "str | None"]  # is a tool span, provider, model, tool
NO_MODEL = "(no model)"


def merged(accs: Iterable[Accumulator]) -> Accumulator:
    """Sum of several accumulators."""
    out = Accumulator()
    for a in accs:
        out.merge(a)
    return out


class Owner(Protocol):
    """The ledger a scope belongs to: it folds its queue before reads and builds kept records."""

    def fold(self) -> None: ...

    def snapshot(self, scope: Aggregates) -> tuple[UsageEvent, ...]: ...


class Aggregates:
    """O(1) per event; events themselves are kept up to a cap, the totals stay exact past it.

    The owner's ``fold`` runs before every read, so calls still queued count. Calls folded as flat
    records (``records.py``) are kept as such until ``events`` is read: ``lazy`` counts the newest
    kept items among which records may still be.
    """

    __slots__ = ("__weakref__", "_events", "_owner", "lazy", "models", "tools")

    def __init__(self, max_events: int | None, owner: Owner | None = None) -> None:
        self.models: dict[tuple[str | None, str], Accumulator] = {}
        self.tools: dict[str, Accumulator] = {}
        self._events: deque[Any] = deque(maxlen=max_events)  # events, and records until read
        self._owner = owner
        self.lazy = 0

    def _synced(self) -> None:
        """Fold the ledger's queue first, so what is read counts every finished call (``fold_now``:
        the ledger's ``fold``, the usual batch folded in C where built)."""
        if self._owner is not None:
            fold_now(self._owner)

    @property
    def events(self) -> tuple[UsageEvent, ...]:
        """The kept events, oldest first, as they are now (records kept since the last read are built)."""
        if self._owner is None:
            return tuple(self._events)
        self._owner.fold()
        return self._owner.snapshot(self)

    def add(self, e: UsageEvent, record: Any = None) -> None:
        """Count ``e``; keep it, or its flat ``record`` in its place (built when the events are read)."""
        if e[1] != "tool":
            key = (e[2], e[12] or e[3] or NO_MODEL)
            acc = self.models.get(key)
            if acc is None:
                acc = self.models[key] = Accumulator()
            acc.add(e)
        tool = e[17]
        if tool is not None:
            acc = self.tools.get(tool)
            if acc is None:
                acc = self.tools[tool] = Accumulator()
            acc.add(e)
        if record is None:
            self.keep((e,))
        else:
            self.keep((record,), True)

    def keep(self, items: Sequence[Any], records: bool = False) -> None:
        """Keep ``items`` (events, or flat records if ``records``): once a record is kept, everything
        kept after it is counted in ``lazy``, the newest items the next read must look at."""
        self._events.extend(items)
        if records or self.lazy:
            self.lazy += len(items)

    def absorb(self, group: Group, delta: Accumulator, events: Sequence[Any], records: bool = False) -> None:
        """Add a batch: ``delta`` is the sum of ``events`` (flat records if ``records``), which share one
        (kind, provider, model, tool)."""
        is_tool, provider, model, tool = group
        if not is_tool:
            acc = self.models.get((provider, model))
            if acc is None:
                acc = self.models[(provider, model)] = Accumulator()
            acc.merge(delta)
        if tool is not None:
            acc = self.tools.get(tool)
            if acc is None:
                acc = self.tools[tool] = Accumulator()
            acc.merge(delta)
        self.keep(events, records)

    def absorb_flat(self, group: Group, n: int, duration_ms: float, usage: Usage, cost: Cost,
                    records: Sequence[Any]) -> None:  # fmt: skip
        """``absorb`` of ``n`` flat ``records`` of one group, priced once as ``cost``: added to the
        accumulators directly, with no batch accumulator to merge."""
        _, provider, model, tool = group
        acc = self.models.get((provider, model))
        if acc is None:
            acc = self.models[(provider, model)] = Accumulator()
        add_flat(acc, n, duration_ms, usage, cost)
        if tool is not None:
            acc = self.tools.get(tool)
            if acc is None:
                acc = self.tools[tool] = Accumulator()
            add_flat(acc, n, duration_ms, usage, cost)
        self.keep(records, True)

    def usage(self) -> Usage:
        """The tokens of every LLM call in this scope (``total().snapshot().usage``, without building
        the totals: a run's usage is what a loop reads after each step)."""
        self._synced()
        accs = tuple(self.models.values())
        if len(accs) == 1:
            a = accs[0]
            return summed(a.input, a.output, a.cached, a.cache_write, a.reasoning)
        return summed(sum(a.input for a in accs), sum(a.output for a in accs), sum(a.cached for a in accs),
                      sum(a.cache_write for a in accs), sum(a.reasoning for a in accs))  # fmt: skip

    def total(self) -> Accumulator:
        """Everything in this scope: the LLM calls (by model) plus the tool spans' count and time."""
        self._synced()
        # tuple(...) copies in one C call under the GIL: safe while another thread adds a model
        out = merged(tuple(self.models.values()))
        for acc in tuple(self.tools.values()):
            out.tool_spans += acc.tool_spans
        return out

    def snapshot(self) -> Totals:
        return self.total().snapshot()

    def cost(self) -> Cost | None:
        """Summed cost; ``None`` when calls had tokens but none could be priced."""
        t = self.total()
        if not t.priced and t.unpriced:
            return None
        status: CostStatus = "partial" if t.unpriced else "priced"
        return Cost(t.cost_input, t.cost_output, t.cost_cached, t.cost_cache_write, t.cost,
                    source="sum", status=status)  # fmt: skip

    def by_model(self) -> dict[str, Totals]:
        self._synced()
        groups: dict[str, Accumulator] = {}
        for (_, model), acc in tuple(self.models.items()):
            groups.setdefault(model, Accumulator()).merge(acc)
        return {k: v.snapshot() for k, v in groups.items()}

    def by_provider(self) -> dict[str, Totals]:
        self._synced()
        groups: dict[str, Accumulator] = {}
        for (provider, _), acc in tuple(self.models.items()):
            groups.setdefault(provider or "unknown", Accumulator()).merge(acc)
        return {k: v.snapshot() for k, v in groups.items()}

    def by_tool(self) -> dict[str, Totals]:
        self._synced()
        return {k: v.snapshot() for k, v in tuple(self.tools.items())}


# ``Aggregates.usage``; where C is built, the same with no Python frame (what a loop reads each step)
read_usage: Callable[[Aggregates], Usage] = Aggregates.usage if COLUMNS is None else COLUMNS.usage_of
