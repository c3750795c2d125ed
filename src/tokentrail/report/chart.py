"""``run.chart()``: cumulative cost (or tokens) over time, one line per model, as an Altair chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runs import Run


def run_chart(run: Run) -> Any:
    import altair as alt
    import pandas as pd

    rows: list[dict[str, Any]] = []
    cum: dict[str, list[float]] = {}
    for e in run.events:
        if e.kind == "tool":
            continue
        c = cum.setdefault(e.model_name, [0.0, 0.0])
        c[0] += 0.0 if e.cost is None else e.cost.total
        c[1] += e.usage.total_tokens
        rows.append({"time": pd.Timestamp(e.ended_at, unit="s"), "model": e.model_name,
                     "cost": c[0], "tokens": c[1]})  # fmt: skip
    data = pd.DataFrame(rows, columns=["time", "model", "cost", "tokens"])
    priced = any(e.cost is not None for e in run.events)
    y = "cost" if priced else "tokens"
    return (
        alt.Chart(data, title=f"{run.name}: cumulative {y}")
        .mark_line(point=True, interpolate="step-after")
        .encode(
            x=alt.X("time:T", title="time"),
            y=alt.Y(f"{y}:Q", title=y),
            color="model:N",
            tooltip=["model:N", "time:T", "cost:Q", "tokens:Q"],
        )
    )
