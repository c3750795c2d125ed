"""``%usage`` tables (runs, models, tools) as text, Markdown and HTML; every user string escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..report.format import fmt_ms
from ..report.table import TOKEN_COLUMNS, Table, token_cells

if TYPE_CHECKING:
    from ..model import Totals
    from ..runs import Run


def runs_table(runs: Iterable[Run]) -> Table:
    """One row per run of this session, oldest first (nested runs as ``outer / inner``)."""
    rows = []
    for run in runs:
        tags = " ".join(f"{k}={v}" for k, v in run.tags.items())
        rows.append(
            (" / ".join(run.path), run.status, *token_cells(run.totals()), fmt_ms(run.duration_ms), tags)
        )
    return Table("tokentrail runs", ("run", "status", *TOKEN_COLUMNS, "duration", "tags"), tuple(rows),
                 empty="no runs yet (use %%track_usage or tt.track_usage)")  # fmt: skip


def totals_table(title: str, label: str, totals: Mapping[str, Totals]) -> Table:
    """One row per key (model, tool, provider) of session totals."""
    rows = tuple((key, *token_cells(t)) for key, t in totals.items())
    return Table(title, (label, *TOKEN_COLUMNS), rows)
