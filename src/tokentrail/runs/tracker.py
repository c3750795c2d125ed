"""The process-wide tracker: the ledger, the runs of this session, and the global budget."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..ledger import Ledger
from ..model import Accumulator, Cost, Totals, Usage, UsageEvent
from ..model.ids import new_id
from .budget import Budget, BudgetState
from .run import Run

if TYPE_CHECKING:
    import pandas

    from ..report import Report

MAX_RUNS = 10_000


class Tracker:
    """Everything recorded in this process: session totals, runs, budgets and subscribers."""

    def __init__(self) -> None:
        self.ledger = Ledger()
        self._runs: deque[Run] = deque(maxlen=MAX_RUNS)
        self._by_id: dict[str, Run] = {}
        self._lock = threading.Lock()
        self.last: Run | None = None
        self.global_budget: BudgetState | None = None
        self._run_numbers = itertools.count(1)

    # --- runs -----------------------------------------------------------------------------------------
    def start_run(
        self,
        name: str | None,
        *,
        tags: Mapping[str, str] | None,
        parent: Run | None,
        budget: Budget | None,
    ) -> Run:
        run = Run(
            "run-" + new_id(),
            name or f"run-{next(self._run_numbers)}",
            tags=tags,
            parent=parent,
            budget=budget,
            max_events=self.ledger.max_events,
            owner=self.ledger,
        )
        with self._lock:
            if len(self._runs) == self._runs.maxlen:
                self._by_id.pop(self._runs[0].id, None)
            self._runs.append(run)
            self._by_id[run.id] = run
        self.ledger.hub.emit("run_start", run)
        return run

    def end_run(self, run: Run, status: str = "done", error_type: str | None = None) -> None:
        run.end(status, error_type)  # type: ignore[arg-type]
        self.last = run
        self.ledger.hub.emit("run_end", run)

    def get_run(self, run_id: str) -> Run | None:
        """The run with this id, if this session still holds it."""
        return self._by_id.get(run_id)

    def runs(self) -> list[Run]:
        with self._lock:
            return list(self._runs)

    # --- budgets --------------------------------------------------------------------------------------
    def set_budget(self, budget: Budget | None) -> BudgetState | None:
        """Install (or with ``None`` remove) the global budget; it counts from now on."""
        self.ledger.fold()  # calls already queued happened before it
        if budget is None:
            self.global_budget = None
            self.ledger.extra = None
            return None
        acc = Accumulator()
        state = BudgetState(budget, lambda: acc, "session", None)
        self.ledger.extra = acc
        self.global_budget = state
        return state

    # --- totals ---------------------------------------------------------------------------------------
    def totals(self) -> Totals:
        return self.ledger.session.snapshot()

    @property
    def usage(self) -> Usage:
        return self.totals().usage

    @property
    def cost(self) -> Cost | None:
        return self.ledger.session.cost()

    @property
    def calls(self) -> int:
        return self.ledger.session.total().calls

    @property
    def events(self) -> tuple[UsageEvent, ...]:
        return self.ledger.events

    def by_model(self) -> dict[str, Totals]:
        return self.ledger.session.by_model()

    def by_provider(self) -> dict[str, Totals]:
        return self.ledger.session.by_provider()

    def by_tool(self) -> dict[str, Totals]:
        return self.ledger.session.by_tool()

    def to_pandas(self) -> pandas.DataFrame:
        import pandas as pd

        return pd.DataFrame([e.to_dict() for e in self.events])

    def report(self) -> Report:
        from ..report import Report

        return Report.for_tracker(self)

    def print_summary(self) -> None:
        print(self.report().to_text())

    def reset(self) -> None:
        """Forget every event and run (subscribers, prices and budgets' settings stay)."""
        self.ledger.reset()
        with self._lock:
            self._runs.clear()
            self._by_id.clear()
        self.last = None
        if self.global_budget is not None:
            self.set_budget(self.global_budget.budget)


TRACKER = Tracker()


def tracker() -> Tracker:
    """The process-wide tracker."""
    return TRACKER


def last_run() -> Run | None:
    """The run that ended most recently."""
    return TRACKER.last
