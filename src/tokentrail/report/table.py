"""Tables of strings as text, Markdown and HTML (every cell escaped): one renderer for every report."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .format import fmt_cost

if TYPE_CHECKING:
    from ..model import Totals

TOKEN_COLUMNS = ("calls", "errors", "input", "output", "cached", "reasoning", "cost")
Row = Sequence[str]


def token_cells(t: Totals) -> tuple[str, ...]:
    """The cells under :data:`TOKEN_COLUMNS` for one aggregate (cost "n/a" or partial, never 0)."""
    cost = fmt_cost(t.cost)
    if t.cost is not None and t.unpriced_calls:
        cost += f" ({t.unpriced_calls} unpriced)"
    return (str(t.calls), str(t.errors), f"{t.input_tokens:,}", f"{t.output_tokens:,}",
            f"{t.cached_input_tokens:,}", f"{t.reasoning_tokens:,}", cost)  # fmt: skip


def md_cell(s: str) -> str:
    return html.escape(s).replace("|", "\\|")


def text_lines(header: Row, rows: Sequence[Row]) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in (header, *rows)]


def markdown_lines(header: Row, rows: Sequence[Row]) -> list[str]:
    out = ["| " + " | ".join(map(md_cell, header)) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(map(md_cell, r)) + " |" for r in rows]


def html_table(header: Row, rows: Sequence[Row]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='tt-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


TABLE_CSS = (
    "{root} table{{border-collapse:collapse;margin-top:6px}}{root} td,{root} th{{padding:2px 8px;"
    "text-align:right}}{root} td:first-child,{root} th:first-child{{text-align:left}}"
)


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
        return "\n".join([self.title, *text_lines(self.header, self.rows)])

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.to_text())

    def _repr_markdown_(self) -> str:
        if not self.rows:
            return f"**{md_cell(self.title)}**: {md_cell(self.empty)}"
        return "\n".join([f"**{md_cell(self.title)}**", "", *markdown_lines(self.header, self.rows)])

    def _repr_html_(self) -> str:
        e = html.escape
        if not self.rows:
            return f"<div class='tokentrail-table'><b>{e(self.title)}</b>: {e(self.empty)}</div>"
        return (
            "<div class='tokentrail-table' style='font-family:sans-serif;font-size:13px'>"
            f"<style>{TABLE_CSS.format(root='.tokentrail-table')}</style>"
            f"<div><b>{e(self.title)}</b></div>{html_table(self.header, self.rows)}</div>"
        )
