"""A run: a named scope whose calls are counted exactly, with its own budget, tags and timings."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from ..ledger import Aggregates
from ..ledger.aggregates import Owner, read_usage
from ..model import Cost, Totals, Usage, UsageEvent
from .budget import Budget, BudgetState

if TYPE_CHECKING:
    import altair
    import pandas

    from ..report import Report

RunStatus = Literal["running", "done", "error", "interrupted"]


class Run:
    """One tracked scope; nested runs count every event in each enclosing run too."""

    def __init__(
        self,
        run_id: str,
        name: str,
        *,
        tags: Mapping[str, str] | None = None,
        parent: Run | None = None,
        budget: Budget | None = None,
        max_events: int | None = None,
        owner: Owner | None = None,
    ) -> None:
        self.id = run_id
        self.name = name
        self.tags: dict[str, str] = dict(tags or {})
        self.parent = parent
        self.path: tuple[str, ...] = (*parent.path, name) if parent else (name,)
        self.agg = Aggregates(max_events, owner)  # owner: the ledger, which folds its queue before reads
        self.scopes: tuple[Aggregates, ...] = (self.agg, *parent.scopes) if parent else (self.agg,)
        self.budget = budget
        own = (BudgetState(budget, self.agg.total, f"run {name!r}", run_id),) if budget else ()
        self.budget_states: tuple[BudgetState, ...] = own + (parent.budget_states if parent else ())
        # what each call reads from its run, in one tuple (one lookup on the C hot path); all fixed here
        self.call_view: tuple[str, tuple[str, ...], tuple[Aggregates, ...], bool] = (
            run_id,
            self.path,
            self.scopes,
            bool(self.budget_states),
        )
        self.started_at = time.time()
        self.ended_at: float | None = None
        self.status: RunStatus = "running"
        self.error_type: str | None = None

    # --- what was spent -------------------------------------------------------------------------------
    def totals(self) -> Totals:
        return self.agg.snapshot()

    @property
    def usage(self) -> Usage:
        return read_usage(self.agg)

    @property
    def cost(self) -> Cost | None:
        return self.agg.cost()

    @property
    def calls(self) -> int:
        return self.agg.total().calls

    @property
    def errors(self) -> int:
        return self.agg.total().errors

    @property
    def events(self) -> tuple[UsageEvent, ...]:
        return tuple(sorted(self.agg.events, key=lambda e: e.started_at))

    def by_model(self) -> dict[str, Totals]:
        return self.agg.by_model()

    def by_provider(self) -> dict[str, Totals]:
        return self.agg.by_provider()

    def by_tool(self) -> dict[str, Totals]:
        return self.agg.by_tool()

    # --- when -----------------------------------------------------------------------------------------
    @property
    def start_time(self) -> datetime:
        return datetime.fromtimestamp(self.started_at, tz=timezone.utc)

    @property
    def end_time(self) -> datetime | None:
        return None if self.ended_at is None else datetime.fromtimestamp(self.ended_at, tz=timezone.utc)

    @property
    def duration_ms(self) -> float:
        end = time.time() if self.ended_at is None else self.ended_at
        return (end - self.started_at) * 1000.0

    def end(self, status: RunStatus = "done", error_type: str | None = None) -> None:
        if self.ended_at is None:
            self.ended_at = time.time()
            self.status = status
            self.error_type = error_type

    def budget_status(self) -> list[dict[str, object]]:
        return [row for state in self.budget_states[:1] if self.budget for row in state.status()]

    # --- views ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary in the trial-log shape (``total_calls``, ``prompt_tokens``, ...)."""
        t = self.totals()
        cost = self.cost
        return {
            "id": self.id,
            "name": self.name,
            "path": list(self.path),
            "tags": dict(self.tags),
            "status": self.status,
            "start_time": self.start_time.isoformat(),
            "end_time": None if self.end_time is None else self.end_time.isoformat(),
            "duration_ms": self.duration_ms,
            "total_calls": t.calls,
            "errors": t.errors,
            "prompt_tokens": t.input_tokens,
            "completion_tokens": t.output_tokens,
            "cached_input_tokens": t.cached_input_tokens,
            "cache_write_tokens": t.cache_write_tokens,
            "reasoning_tokens": t.reasoning_tokens,
            "total_tokens": t.total_tokens,
            "cost": None if cost is None else cost.total,
            "cost_status": "unpriced" if cost is None else cost.status,
            "currency": "USD",
            "calls_by_model": {m: v.calls for m, v in self.by_model().items()},
            "by_model": {m: v.to_dict() for m, v in self.by_model().items()},
            "by_tool": {m: v.to_dict() for m, v in self.by_tool().items()},
            "budgets": self.budget_status(),
        }

    def to_pandas(self) -> pandas.DataFrame:
        import pandas as pd

        return pd.DataFrame([e.to_dict() for e in self.events])

    def report(self) -> Report:
        from ..report import Report

        return Report.for_run(self)

    def chart(self) -> altair.Chart:
        """Cumulative cost/tokens over time, one line per model (an Altair chart)."""
        from ..report.chart import run_chart

        chart: altair.Chart = run_chart(self)
        return chart

    def __repr__(self) -> str:
        t = self.totals()
        cost = self.cost
        cost_s = "n/a" if cost is None else f"${cost.total:.6f}"
        return (
            f"<Run {self.name!r} {self.status}: {t.calls} calls, {t.input_tokens} in / {t.output_tokens} out "
            f"tokens, cost {cost_s}>"
        )
