"""The panel's chart specs: named data only, container width, fields the feed's rows provide; they render."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tokentrail as tt
from tokentrail.jupyter.charts import build_specs, panel_specs
from tokentrail.jupyter.feed import Feed

JS = Path(__file__).resolve().parents[2] / "js"
DATASETS = {"timeline", "cumulative", "by_model", "by_tool"}
OPTIONAL = {"finish_reason", "error_type"}  # left out of a row when None


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def produced_fields(spec: dict[str, Any]) -> set[str]:
    """Fields that the spec's own transforms compute."""
    out: set[str] = set()
    for node in walk(spec):
        for t in node.get("transform", []):
            if "calculate" in t:
                out.add(t["as"])
            for w in t.get("window", []):
                out.add(w["as"])
            if "fold" in t:
                out.update(t.get("as", ["key", "value"]))
    return out


def used_fields(spec: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for node in walk(spec):
        for channel in node.get("encoding", {}).values():
            for enc in channel if isinstance(channel, list) else [channel]:
                if isinstance(enc, dict) and "field" in enc:
                    out.add(enc["field"])
                if isinstance(enc, dict) and isinstance(enc.get("sort"), dict) and "field" in enc["sort"]:
                    out.add(enc["sort"]["field"])
    return out


@pytest.fixture
def sample_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows as a real feed builds them: two models (one unpriced), a tool, an agent, an error."""
    with tt.track_usage("sample") as run:
        feed = Feed(run, pump=None)
        with pytest.warns(tt.UnpricedModelWarning):
            tt.record(model="no-price-model", input_tokens=40, output_tokens=4)
        tt.record(
            model="gpt-4o-mini", input_tokens=1200, output_tokens=80, cached_input_tokens=200, duration_ms=900
        )
        with tt.context(agent="planner"), tt.tool("search"):
            tt.record(model="gpt-4o-mini", input_tokens=300, output_tokens=30, status="error")
        snap = feed.snapshot()
        feed.close()
    rows: dict[str, list[dict[str, Any]]] = snap["rows"]
    return rows


def test_the_shipped_specs_are_what_altair_builds() -> None:
    assert panel_specs() == json.loads(json.dumps(build_specs())), (
        "chart_specs.json is stale: run `python -m tokentrail.jupyter.charts`"
    )


def test_specs_read_named_data_only_at_container_width() -> None:
    specs = panel_specs()
    assert list(specs) == ["cumulative_cost", "cumulative_tokens", "timeline", "by_model", "by_tool"]
    for name, spec in specs.items():
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
        assert spec["width"] == "container" and spec["usermeta"]["tokentrail"]["name"] == name
        data = [n["data"] for n in walk(spec) if isinstance(n.get("data"), dict)]
        assert data and all(set(d) == {"name"} and d["name"] in DATASETS for d in data), (
            "no inline values, no URL"
        )
        assert "datasets" not in spec
        assert len(json.dumps(spec)) < 8000
    assert specs["timeline"]["usermeta"]["tokentrail"]["span"] == "full"
    assert panel_specs() == specs and panel_specs() is not specs, "a fresh copy per panel"


def test_every_encoded_field_is_in_the_rows_or_computed(sample_rows: dict[str, list[dict[str, Any]]]) -> None:
    for name, spec in panel_specs().items():
        dataset = next(n["data"]["name"] for n in walk(spec) if isinstance(n.get("data"), dict))
        row_fields = set().union(*(r.keys() for r in sample_rows[dataset]))
        missing = used_fields(spec) - row_fields - produced_fields(spec) - OPTIONAL
        assert not missing, f"{name} encodes {missing}, which no {dataset} row has"


def x_axis_of(spec: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The x encoding's axis and scale, of the chart or of its first layer."""
    x = (spec["layer"][0] if "layer" in spec else spec)["encoding"]["x"]
    return x.get("axis", {}), x.get("scale", {})


@pytest.mark.parametrize("name", ["timeline", "cumulative_cost", "cumulative_tokens"])
def test_time_axes_thin_their_labels_and_tick_each_second_at_the_finest(name: str) -> None:
    axis, scale = x_axis_of(panel_specs()[name])
    assert axis["labelOverlap"] and axis["labelSeparation"] > 0 and axis["format"] == "%H:%M:%S"
    # Vega keys ticks by String(date) (whole seconds): sub-second ticks would collapse unevenly
    count = axis["tickCount"]["expr"]
    assert "{interval: 'seconds', step: 1}" in count and "ceil(width / 90)" in count
    assert scale["nice"] == {"expr": "'seconds'"}, "Vega's own interval name: 'second' is unknown to it"


def test_open_bars_for_running_calls_are_a_layer_of_their_own() -> None:
    spec = panel_specs()["timeline"]
    layers = {layer.get("name"): layer for layer in spec["layer"]}
    running, spans = layers["running"], layers["spans"]
    assert running["transform"] == [{"filter": "datum.status === 'running'"}]
    assert spans["transform"] == [{"filter": "!(datum.status === 'running')"}]
    assert running["mark"]["strokeDash"] and running["mark"]["fillOpacity"] < 1
    assert running["encoding"]["color"]["scale"]["domain"] == ["ok", "partial", "error", "running"]
    assert [t.get("title", t["field"]) for t in running["encoding"]["tooltip"]] == [
        "model / tool", "kind", "status", "running for (ms)", "started"
    ]  # fmt: skip


def test_breakdown_axes_reach_one_token_so_all_zero_rows_have_a_scale() -> None:
    for name in ("by_model", "by_tool"):
        bars = panel_specs()[name]["layer"][0]["encoding"]["x"]
        assert bars["scale"]["domain"] == {"unionWith": [0, 1]} and bars["axis"]["tickMinStep"] == 1


def test_tool_rows_without_llm_calls_hold_zeros() -> None:
    with tt.track_usage("tools only") as run:
        feed = Feed(run, pump=None)
        with tt.tool("search"):
            pass
        snap = feed.snapshot()
        feed.close()
    (row,) = snap["rows"]["by_tool"]
    assert row["calls"] == 0 and row["spans"] == 1 and row["label"].endswith("no LLM calls")
    for field in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens", "total_tokens"):
        assert row[field] == 0 and type(row[field]) is int, field


needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (JS / "node_modules" / "vega-lite").exists(),
    reason="needs node and js/node_modules (make jstest installs them)",
)


def render(tmp_path: Path, specs: dict[str, Any], rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"specs": specs, "rows": rows}))
    done = subprocess.run(
        ["node", "tests/render_specs.mjs", str(path)], cwd=JS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@needs_node
def test_a_by_tool_chart_of_tools_without_llm_calls_shows_zero_never_nan(tmp_path: Path) -> None:
    with tt.track_usage("tools only") as run:
        feed = Feed(run, pump=None)
        for name in ("search", "rerank", "search"):
            with tt.tool(name):
                pass
        snap = feed.snapshot()
        feed.close()
    result = render(tmp_path, {"by_tool": panel_specs()["by_tool"]}, snap["rows"])["by_tool"]
    assert not result["errors"], result["errors"]
    assert not [t for t in result["texts"] if "NaN" in t], result["texts"]
    assert "0" in result["texts"] and "2 spans · 0 ms · no LLM calls" in result["texts"]


@needs_node
def test_specs_render_with_real_rows_in_vega(
    tmp_path: Path, sample_rows: dict[str, list[dict[str, Any]]]
) -> None:
    first, last = sample_rows["timeline"][0], sample_rows["timeline"][-1]
    running = {"id": "live-1", "lane": "tool: fetch", "kind": "tool", "name": "fetch", "status": "running",
               "start": first["start"], "end": last["end"] + 500}  # fmt: skip
    rows = {**sample_rows, "timeline": [*sample_rows["timeline"], running]}  # as the front end adds it
    result = render(tmp_path, panel_specs(), rows)
    for name, r in result.items():
        assert r["marks"] > 10, f"{name} drew nothing: {r['errors']}"
        assert not [e for e in r["errors"] if "Infinite extent" not in e], f"{name}: {r['errors']}"
    texts = {name: " ".join(r["texts"]) for name, r in result.items()}
    assert "no-price-model" in texts["cumulative_tokens"] and "gpt-4o-mini" in texts["cumulative_cost"]
    assert "agent: planner" in texts["timeline"] and "tool: search" in texts["timeline"]
    assert "tool: fetch" in texts["timeline"] and "running" in texts["timeline"], "its lane, and the legend"
    assert "NaN" not in " ".join(texts.values())
    assert "n/a" in texts["by_model"], "an unpriced model is labelled n/a, not $0"
    assert "1 span" in texts["by_tool"]
