"""A usage report of a run or of the session, as text, Markdown and HTML (every user string escaped)."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import Cost, Totals
from .format import fmt_cost, fmt_ms
from .table import (
    TABLE_CSS,
    TOKEN_COLUMNS,
    Table,
    html_table,
    markdown_lines,
    md_cell,
    text_lines,
    token_cells,
)

if TYPE_CHECKING:
    from ..runs import Run, Tracker


__all__ = ["Report", "Table", "fmt_cost", "fmt_ms"]


def _rows(totals: Mapping[str, Totals]) -> list[list[str]]:
    return [[name, *token_cells(t)] for name, t in totals.items()]


@dataclass(frozen=True)
class Report:
    """What a run (or the session) used and cost; ``_repr_*_`` give Jupyter its views."""

    title: str
    status: str
    totals: Totals
    snapshot_cost: Cost | None
    duration_ms: float
    by_model: Mapping[str, Totals]
    by_tool: Mapping[str, Totals]
    tags: Mapping[str, str] = field(default_factory=dict)
    budgets: tuple[Mapping[str, Any], ...] = ()
    run: Run | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_run(cls, run: Run) -> Report:
        return cls(f"Run {run.name}", run.status, run.totals(), run.cost, run.duration_ms, run.by_model(),
                   run.by_tool(), dict(run.tags), tuple(run.budget_status()), run)  # fmt: skip

    @classmethod
    def for_tracker(cls, tracker: Tracker) -> Report:
        runs = tracker.runs()
        duration = sum(r.duration_ms for r in runs if r.parent is None)
        return cls("Session", f"{len(runs)} runs", tracker.totals(), tracker.cost, duration,
                   tracker.by_model(), tracker.by_tool())  # fmt: skip

    # --- the run's values, so that `_.usage` works on a cell's output ----------------------------------
    def __getattr__(self, name: str) -> Any:
        run = self.__dict__.get("run")
        if run is not None and not name.startswith("_"):
            return getattr(run, name)
        raise AttributeError(name)

    @property
    def usage(self) -> Any:
        """The run's usage now (a late thread's calls included); the session's at report time."""
        return self.run.usage if self.run is not None else self.totals.usage

    @property
    def cost(self) -> Cost | None:
        """The run's cost now; the session's at report time. The rendered views show report time."""
        return self.run.cost if self.run is not None else self.snapshot_cost

    # --- shared content -----------------------------------------------------------------------------
    def _summary(self) -> list[tuple[str, str]]:
        t = self.totals
        c = self.snapshot_cost
        cost = "n/a" if c is None else fmt_cost(c.total, c.currency)
        if c is not None and c.status == "partial":
            cost += f" (partial: {t.unpriced_calls} unpriced)"
        return [
            ("input tokens", f"{t.input_tokens:,}"),
            ("output tokens", f"{t.output_tokens:,}"),
            ("cached input", f"{t.cached_input_tokens:,}"),
            ("cache writes", f"{t.cache_write_tokens:,}"),
            ("reasoning", f"{t.reasoning_tokens:,}"),
            ("total tokens", f"{t.total_tokens:,}"),
            ("cost", cost),
            ("calls", str(t.calls)),
            ("errors", str(t.errors)),
            ("duration", fmt_ms(self.duration_ms)),
        ]

    def _tables(self) -> list[tuple[str, list[list[str]]]]:
        out = []
        if self.by_model:
            out.append(("model", _rows(self.by_model)))
        if self.by_tool:
            out.append(("tool", _rows(self.by_tool)))
        return out

    def _budget_lines(self) -> list[str]:
        lines = []
        for b in self.budgets:
            kind, limit, spent = b["kind"], float(b["limit"]), float(b["spent"])
            show: Callable[[float], str] = fmt_cost if kind == "usd" else (lambda v: f"{int(v):,}")  # type: ignore[assignment]
            flag = " EXCEEDED" if b["exceeded"] else ""
            lines.append(f"budget {kind}: {show(spent)} of {show(limit)} ({spent / limit:.0%}){flag}")
        return lines

    # --- text -----------------------------------------------------------------------------------------
    def to_text(self) -> str:
        tags = " ".join(f"{k}={v}" for k, v in self.tags.items())
        lines = [f"{self.title} [{self.status}]" + (f"  {tags}" if tags else "")]
        lines += [f"  {k:<14} {v}" for k, v in self._summary()]
        lines += [f"  {line}" for line in self._budget_lines()]
        for label, rows in self._tables():
            lines += [f"  {line}" for line in text_lines([label, *TOKEN_COLUMNS], rows)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.to_text())

    # --- markdown -------------------------------------------------------------------------------------
    def _repr_markdown_(self) -> str:
        out = [f"**{md_cell(self.title)}** · {md_cell(self.status)}", "", "| | |", "|---|---|"]
        out += [f"| {k} | {md_cell(v)} |" for k, v in self._summary()]
        out += [f"\n{md_cell(line)}" for line in self._budget_lines()]
        for label, rows in self._tables():
            out += ["", *markdown_lines([label, *TOKEN_COLUMNS], rows)]
        return "\n".join(out)

    # --- html -----------------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        e = html.escape
        tags = "".join(f"<span class='tt-tag'>{e(k)}={e(v)}</span> " for k, v in self.tags.items())
        cells = "".join(
            f"<div class='tt-stat'><div class='tt-k'>{e(k)}</div><div class='tt-v'>{e(v)}</div></div>"
            for k, v in self._summary()
        )
        budgets = "".join(f"<div class='tt-budget'>{e(line)}</div>" for line in self._budget_lines())
        tables = "".join(html_table([label, *TOKEN_COLUMNS], rows) for label, rows in self._tables())
        return (
            "<div class='tokentrail-report' style='font-family:sans-serif;font-size:13px'>"
            "<style>.tokentrail-report .tt-stats{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0}"
            ".tokentrail-report .tt-k{color:#666;font-size:11px}.tokentrail-report .tt-v{font-weight:600}"
            ".tokentrail-report .tt-tag{background:#eef;border-radius:3px;padding:0 4px;font-size:11px}"
            f"{TABLE_CSS.format(root='.tokentrail-report')}</style>"
            f"<div><b>{e(self.title)}</b> · {e(self.status)} {tags}</div>"
            f"<div class='tt-stats'>{cells}</div>{budgets}{tables}</div>"
        )

    def to_dict(self) -> dict[str, Any]:
        if self.run is not None:
            return self.run.to_dict()
        return {"title": self.title, **self.totals.to_dict()}
