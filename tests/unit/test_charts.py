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


@pytest.mark.skipif(
    shutil.which("node") is None or not (JS / "node_modules" / "vega-lite").exists(),
    reason="needs node and js/node_modules (make jstest installs them)",
)
def test_specs_render_with_real_rows_in_vega(
    tmp_path: Path, sample_rows: dict[str, list[dict[str, Any]]]
) -> None:
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"specs": panel_specs(), "rows": sample_rows}))
    done = subprocess.run(
        ["node", "tests/render_specs.mjs", str(path)], cwd=JS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for name, r in result.items():
        assert r["marks"] > 10, f"{name} drew nothing: {r['errors']}"
        assert not [e for e in r["errors"] if "Infinite extent" not in e], f"{name}: {r['errors']}"
    texts = {name: " ".join(r["texts"]) for name, r in result.items()}
    assert "no-price-model" in texts["cumulative_tokens"] and "gpt-4o-mini" in texts["cumulative_cost"]
    assert "agent: planner" in texts["timeline"] and "tool: search" in texts["timeline"]
    assert "n/a" in texts["by_model"], "an unpriced model is labelled n/a, not $0"
    assert "1 span" in texts["by_tool"]
