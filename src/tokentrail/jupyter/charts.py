"""The live panel's charts: Altair specs over named datasets the front end fills with Vega changesets.

Each builder returns a plain Vega-Lite dict (``chart.to_dict()``); rows arrive later by name
(``timeline``, ``cumulative``, ``by_model``, ``by_tool``; their fields are listed in
``docs/widget-protocol.md``). ``usermeta.tokentrail`` tells the front end the chart's name and
whether it spans the panel's full width.
"""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

STATUS_COLORS = {"ok": "#4c78a8", "partial": "#f58518", "error": "#e45756", "running": "#a8c4e0"}
RUNNING = "datum.status === 'running'"  # open bars the front end draws for calls and tools in flight
TOKEN_PARTS = {"input (uncached)": "#4c78a8", "cached input": "#9ecae9", "output": "#f58518"}
TIME_FORMAT = "%H:%M:%S.%L"
LABEL_PX = 90  # room per time label ("12:34:56" is ~45 px at 10 px), so labels rarely need thinning
# Vega keys axis ticks by String(date), which has whole seconds: ticks less than a second apart collapse
# into one per second at uneven places, where labels collide. So a tick per second at the finest.
# (Vega's interval names are plural, "seconds"; Vega-Lite's singular ones reach Vega unknown, hence exprs.)
TICK_COUNT = (
    f"span(domain('x')) < 1000 * ceil(width / {LABEL_PX})"
    f" ? {{interval: 'seconds', step: 1}} : ceil(width / {LABEL_PX})"
)
COST_EXPR = (
    "datum.cost == null ? 'n/a' : datum.cost < 1 ? format(datum.cost, '$.6f') : format(datum.cost, '$,.4f')"
)


def _finish(chart: Any, name: str, *, span: str = "half") -> dict[str, Any]:
    spec: dict[str, Any] = (
        chart.properties(
            width="container", background="transparent", usermeta={"tokentrail": {"name": name, "span": span}}
        )
        .configure_view(stroke=None)
        .configure_axis(labelFontSize=10, titleFontSize=10, gridOpacity=0.5)
        .configure_legend(labelFontSize=10, titleFontSize=10, orient="bottom", labelLimit=180)
        .configure_title(fontSize=12, anchor="start", offset=6)
        .to_dict()
    )
    return spec


def _time_x(field: str) -> Any:
    """A time x encoding whose labels never collide: whole seconds at the finest, thinned when dense."""
    import altair as alt

    return alt.X(
        field,
        title=None,
        scale=alt.Scale(nice=alt.ExprRef("'seconds'")),  # a burst within a second still gets two labels
        axis=alt.Axis(
            format="%H:%M:%S",
            tickCount=alt.ExprRef(TICK_COUNT),
            labelOverlap="greedy",  # hide any label that would touch the last one shown
            labelSeparation=6,
            labelFlush=True,
        ),
    )


def cumulative_chart(metric: str) -> dict[str, Any]:
    """Cumulative cost (USD) or tokens over time, a line per model; an unpriced model has no cost line."""
    import altair as alt

    field, title, fmt = ("cost", "Cumulative cost (USD)", "$.6f") if metric == "cost" else (
        "tokens", "Cumulative tokens", ",d")  # fmt: skip
    cum = f"cum_{field}"
    chart = (
        alt.Chart(alt.NamedData("cumulative"), title=title)
        .transform_window(
            **{cum: f"sum({field})", "known": f"valid({field})", "calls_so_far": "sum(calls)"},  # type: ignore[arg-type]
            sort=[alt.SortField("t")],
            groupby=["model"],
            frame=[None, 0],
        )
        # never a silent 0: a model with no priced call so far has no value (and no line), but it keeps
        # its place in the colour scale so every chart colours a model alike
        .transform_calculate(**{cum: f"datum.known > 0 ? datum.{cum} : null"})
        .mark_line(
            interpolate="step-after",
            point=alt.OverlayMarkDef(size=18),
            strokeWidth=1.8,
            invalid="break-paths-show-domains",
        )
        .encode(
            x=_time_x("t:T"),
            y=alt.Y(f"{cum}:Q", title=None, axis=alt.Axis(format="$.2~r" if field == "cost" else "~s")),
            color=alt.Color("model:N", title="model", scale=alt.Scale(scheme="tableau10")),
            tooltip=[
                alt.Tooltip("model:N"),
                alt.Tooltip("t:T", title="time", format=TIME_FORMAT),
                alt.Tooltip(f"{cum}:Q", title=f"cumulative {field}", format=fmt),
                alt.Tooltip("calls_so_far:Q", title="calls"),
            ],
        )
        .properties(height=150)
    )
    return _finish(chart, f"cumulative_{field}")


def timeline_chart() -> dict[str, Any]:
    """A Gantt of LLM calls and tool spans: one lane per agent or tool, coloured by status.

    Calls and tools still running come as rows of status ``running`` ending "now" (the front end
    makes them from the header's in-flight lists): drawn as open, dashed bars until their row arrives.
    """
    import altair as alt

    base = alt.Chart(alt.NamedData("timeline"), title="Timeline of calls and tool spans")
    first = alt.EncodingSortField("start", op="min")
    x = _time_x("start:T")
    y = alt.Y("lane:N", title=None, sort=first, axis=alt.Axis(labelLimit=160))
    color = alt.Color(
        "status:N",
        title="status",
        scale=alt.Scale(domain=list(STATUS_COLORS), range=list(STATUS_COLORS.values())),
    )
    name = alt.Tooltip("name:N", title="model / tool")
    started = alt.Tooltip("start:T", title="started", format=TIME_FORMAT)
    tooltip = [
        name,
        alt.Tooltip("kind:N"),
        alt.Tooltip("status:N"),
        alt.Tooltip("duration_ms:Q", title="duration (ms)", format=",.0f"),
        alt.Tooltip("input_tokens:Q", title="input tokens", format=","),
        alt.Tooltip("output_tokens:Q", title="output tokens", format=","),
        alt.Tooltip("cost_label:N", title="cost"),
        alt.Tooltip("outcome:N", title="finish reason / error"),
        started,
    ]
    running_tooltip = [
        name,
        alt.Tooltip("kind:N"),
        alt.Tooltip("status:N"),
        alt.Tooltip("duration_ms:Q", title="running for (ms)", format=",.0f"),
        started,
    ]
    bars = (
        base.transform_filter(f"!({RUNNING})")
        .mark_bar(cornerRadius=2, opacity=0.85)
        .encode(x=x, x2="end:T", y=y, color=color, tooltip=tooltip)
        .properties(name="spans")
    )
    running = (
        base.transform_filter(RUNNING)
        .mark_bar(
            cornerRadius=2, fillOpacity=0.45, stroke=STATUS_COLORS["ok"], strokeDash=[4, 3], strokeWidth=1.2
        )
        .encode(x=x, x2="end:T", y=y, color=color, tooltip=running_tooltip)
        .properties(name="running")
    )
    # a short call is narrower than a pixel at a minute's scale: a tick at its start keeps it visible
    ticks = base.mark_tick(thickness=2, bandSize=14, opacity=0.9).encode(
        x=x, y=y, color=color, tooltip=tooltip
    )
    chart = (
        alt.layer(bars, running, ticks)
        .transform_calculate(
            cost_label=COST_EXPR,
            duration_ms="datum.end - datum.start",
            outcome="datum.error_type ? 'error: ' + datum.error_type : datum.finish_reason || '-'",
        )
        .properties(height=alt.Step(22))
    )
    return _finish(chart, "timeline", span="full")


def breakdown_chart(dataset: str, title: str) -> dict[str, Any]:
    """Horizontal stacked bars of input (uncached, cached) and output tokens per key, labelled with cost."""
    import altair as alt

    base = alt.Chart(alt.NamedData(dataset), title=title)
    order = alt.EncodingSortField("total_tokens", op="max", order="descending")
    room = 150 if dataset == "by_tool" else 80  # pixels right of the longest bar, for its label
    # every row at 0 tokens (tools that made no LLM call) leaves a zero-width domain, for which Vega's tick
    # format prints "NaN": the axis always reaches at least 1 token, in whole tokens
    x_range: list[Any] = [0, alt.ExprRef(f"max(width - {room}, 40)")]
    x_scale = alt.Scale(range=x_range, domain=alt.DomainUnionWith([0, 1]))
    x_axis = alt.Axis(format="~s", tickMinStep=1)
    y = alt.Y("name:N", title=None, sort=order, axis=alt.Axis(labelLimit=160))
    tooltip = [
        alt.Tooltip("name:N", title="model" if dataset == "by_model" else "tool"),
        alt.Tooltip("calls:Q", title="LLM calls"),
        alt.Tooltip("input_tokens:Q", title="input tokens", format=","),
        alt.Tooltip("cached_input_tokens:Q", title="cached input", format=","),
        alt.Tooltip("output_tokens:Q", title="output tokens", format=","),
        alt.Tooltip("reasoning_tokens:Q", title="reasoning", format=","),
        alt.Tooltip("cost_label:N", title="cost"),
    ]
    if dataset == "by_tool":
        tooltip[1:1] = [
            alt.Tooltip("spans:Q", title="spans"),
            alt.Tooltip("duration_ms:Q", title="time (ms)", format=",.0f"),
        ]
    parts = alt.Scale(domain=list(TOKEN_PARTS), range=list(TOKEN_PARTS.values()))
    bars = (
        base.transform_calculate(
            **{
                "input (uncached)": "datum.input_tokens - datum.cached_input_tokens",
                "cached input": "datum.cached_input_tokens",
                "output": "datum.output_tokens",
            }
        )
        .transform_fold(list(TOKEN_PARTS), as_=["part", "tokens"])
        .transform_calculate(part_rank=f"indexof({list(TOKEN_PARTS)!r}, datum.part)")
        .mark_bar(cornerRadius=1)
        .encode(
            x=alt.X("sum(tokens):Q", title="tokens", axis=x_axis, scale=x_scale),
            y=y,
            color=alt.Color("part:N", title=None, scale=parts),
            order=alt.Order("part_rank:Q"),
            tooltip=tooltip,
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=10).encode(
        x=alt.X("total_tokens:Q", scale=alt.Scale(range=x_range)),  # one domain (above) for both layers
        y=y,
        text=alt.Text("label:N"),
        tooltip=tooltip,
    )
    chart = alt.layer(bars, labels).transform_calculate(cost_label=COST_EXPR).properties(height=alt.Step(20))
    return _finish(chart, dataset)


def build_specs() -> dict[str, dict[str, Any]]:
    """Every chart of a panel, in display order, built with Altair now."""
    return {
        "cumulative_cost": cumulative_chart("cost"),
        "cumulative_tokens": cumulative_chart("tokens"),
        "timeline": timeline_chart(),
        "by_model": breakdown_chart("by_model", "Tokens and cost by model"),
        "by_tool": breakdown_chart("by_tool", "Tokens and cost by tool"),
    }


SPECS_FILE = pathlib.Path(__file__).with_name("chart_specs.json")


@functools.lru_cache(maxsize=1)
def _specs_json() -> str:
    try:
        return SPECS_FILE.read_text(encoding="utf-8")
    except FileNotFoundError:
        return json.dumps(build_specs())


def panel_specs() -> dict[str, dict[str, Any]]:
    """A fresh copy of the specs ``build_specs`` wrote to ``chart_specs.json`` (importing Altair takes
    seconds: a panel must not hold up the first tracked cell that long)."""
    specs: dict[str, dict[str, Any]] = json.loads(_specs_json())
    return specs


if __name__ == "__main__":  # python -m tokentrail.jupyter.charts: rewrite chart_specs.json
    SPECS_FILE.write_text(json.dumps(build_specs(), indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {SPECS_FILE}")
