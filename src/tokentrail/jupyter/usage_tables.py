"""``%usage`` tables (runs, models, tools) as text, Markdown and HTML; every user string escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..report import fmt_cost, fmt_ms

if TYPE_CHECKING:
    from ..model import Totals
    from ..runs import Run

_TOKENS = ("calls", "errors", "input", "output", "cached", "reasoning", "cost")


def _cost(t: Totals) -> str:
    if t.cost is not None and t.unpriced_calls:
        return f"{fmt_cost(t.cost)} ({t.unpriced_calls} unpriced)"
    return fmt_cost(t.cost)


def _token_cells(t: Totals) -> tuple[str, ...]:
    return (str(t.calls), str(t.errors), f"{t.input_tokens:,}", f"{t.output_tokens:,}",
            f"{t.cached_input_tokens:,}", f"{t.reasoning_tokens:,}", _cost(t))  # fmt: skip


@dataclass(frozen=True)
class Table:
    """A titled table of strings; ``_repr_*_`` give Jupyter its views, ``to_text`` the terminal's."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "nothing recorded yet"

    def to_text(self) -> str:
        if not self.rows:
            return f"{self.title}: {self.empty}"
        widths = [max(len(r[i]) for r in (self.header, *self.rows)) for i in range(len(self.header))]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

        return "\n".join([self.title, line(self.header), *(line(r) for r in self.rows)])

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.to_text())

    def _repr_markdown_(self) -> str:
        def cell(s: str) -> str:
            return html.escape(s).replace("|", "\\|")

        if not self.rows:
            return f"**{cell(self.title)}**: {cell(self.empty)}"
        out = [f"**{cell(self.title)}**", "", "| " + " | ".join(map(cell, self.header)) + " |",
               "|" + "---|" * len(self.header)]  # fmt: skip
        out += ["| " + " | ".join(map(cell, r)) + " |" for r in self.rows]
        return "\n".join(out)

    def _repr_html_(self) -> str:
        e = html.escape
        if not self.rows:
            return f"<div class='tokentrail-table'><b>{e(self.title)}</b>: {e(self.empty)}</div>"
        head = "".join(f"<th>{e(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in self.rows)
        return (
            "<div class='tokentrail-table' style='font-family:sans-serif;font-size:13px'>"
            "<style>.tokentrail-table table{border-collapse:collapse}.tokentrail-table td,"
            ".tokentrail-table th{padding:2px 8px;text-align:right}.tokentrail-table td:first-child,"
            ".tokentrail-table th:first-child{text-align:left}</style>"
            f"<div><b>{e(self.title)}</b></div><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )


def runs_table(runs: Iterable[Run]) -> Table:
    """One row per run of this session, oldest first (nested runs as ``outer / inner``)."""
    rows = []
    for run in runs:
        tags = " ".join(f"{k}={v}" for k, v in run.tags.items())
        rows.append(
            (" / ".join(run.path), run.status, *_token_cells(run.totals()), fmt_ms(run.duration_ms), tags)
        )
    return Table("tokentrail runs", ("run", "status", *_TOKENS, "duration", "tags"), tuple(rows),
                 empty="no runs yet (use %%track_usage or tt.track_usage)")  # fmt: skip


def totals_table(title: str, label: str, totals: Mapping[str, Totals]) -> Table:
    """One row per key (model, tool, provider) of session totals."""
    rows = tuple((key, *_token_cells(t)) for key, t in totals.items())
    return Table(title, (label, *_TOKENS), rows)
