"""The UsagePanel widget: traits, the static fallback, the bundle, the run panel and the dashboard."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tokentrail as tt
from tokentrail.jupyter import widget
from tokentrail.jupyter.widget import UsagePanel, WidgetBundleMissing, dashboard, panel_for_run

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
needs_bundle = pytest.mark.skipif(
    not widget.BUNDLE.exists() and not os.environ.get("CI"),
    reason="the widget bundle is not built (make widget); CI always builds it",
)


@pytest.fixture
def panels() -> Iterator[list[UsagePanel]]:
    made: list[UsagePanel] = []
    yield made
    for panel in made:
        panel.close()


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert predicate()


class Evil:
    """A fallback report whose text would be markup if anyone forgot to escape it."""

    def _repr_html_(self) -> str:
        return "<div class='report'>final report</div>"

    def __repr__(self) -> str:
        return "Run <b>x</b>: 3 calls"


@needs_bundle
def test_panel_traits_and_static_fallback(panels: list[UsagePanel]) -> None:
    panel = UsagePanel(title="t", fallback=Evil())
    panels.append(panel)
    assert panel._esm == widget.BUNDLE.read_text(encoding="utf-8")
    assert set(panel.specs) == {"cumulative_cost", "cumulative_tokens", "timeline", "by_model", "by_tool"}
    data, _ = panel._repr_mimebundle_()
    assert data[WIDGET_VIEW]["model_id"] == panel.model_id
    assert data["text/html"] == "<div class='report'>final report</div>"
    assert data["text/plain"] == "Run <b>x</b>: 3 calls"

    calls: list[int] = []

    def late() -> Evil:  # a callable fallback is evaluated when displayed, so it shows the final state
        calls.append(1)
        return Evil()

    other = UsagePanel(fallback=late)
    panels.append(other)
    assert calls == []
    assert "text/html" in other._repr_mimebundle_()[0] and calls == [1]
    plain = UsagePanel()
    panels.append(plain)
    data, _ = plain._repr_mimebundle_()
    assert data["text/plain"] == "<tokentrail panel: tokentrail>" and "text/html" not in data


def test_missing_bundle_names_the_build_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(widget, "BUNDLE", tmp_path / "widget.js")
    with pytest.raises(WidgetBundleMissing, match=r"make widget.*npm run build"):
        UsagePanel()


@needs_bundle
def test_run_panel_is_live_and_finishes_with_its_run(panels: list[UsagePanel]) -> None:
    sent: list[dict[str, Any]] = []
    with tt.track_usage("trial-9", budget_tokens=1000, tags={"k": "v"}) as run:
        panel = panel_for_run(run)
        panels.append(panel)
        panel.send = sent.append  # type: ignore[method-assign]
        assert panel.mode == "run" and panel.title == "Run trial-9" and panel.snapshot["seq"] == 0
        assert panel.snapshot["budgets"][0]["limit"] == 1000
        tt.record(model="gpt-4o-mini", input_tokens=300, output_tokens=20)
        wait_for(lambda: any(m.get("append", {}).get("timeline") for m in sent))
        assert all(m["type"] == "delta" for m in sent)
    assert panel.feed is not None
    wait_for(lambda: panel.feed is not None and panel.feed.closed)
    assert panel.snapshot["status"] == "done" and panel.snapshot["totals"]["calls"] == 1
    assert panel.snapshot["seq"] > max(m["seq"] for m in sent)
    data, _ = panel._repr_mimebundle_()
    assert "trial-9" in data["text/html"] and "trial-9" in data["text/plain"], "the run's report"


@needs_bundle
def test_close_feed_publishes_the_final_state_at_once(panels: list[UsagePanel]) -> None:
    with tt.track_usage("quick") as run:
        panel = panel_for_run(run)
        panels.append(panel)
        tt.record(model="gpt-4o-mini", input_tokens=5, output_tokens=1)
    panel.close_feed()
    assert panel.feed is not None and panel.feed.closed
    assert panel.snapshot["status"] == "done" and panel.snapshot["totals"]["input_tokens"] == 5


@needs_bundle
def test_dashboard_is_one_per_kernel_until_closed() -> None:
    tt.record(model="gpt-4o-mini", input_tokens=5, output_tokens=1)
    board = dashboard()
    try:
        assert board is dashboard() and board.mode == "session"
        assert board.snapshot["totals"]["calls"] == 1
    finally:
        board.close()
    assert board.feed is not None and board.feed.closed
    fresh = dashboard()
    try:
        assert fresh is not board
    finally:
        fresh.close()


@needs_bundle
def test_bundle_is_self_contained() -> None:
    code = widget.BUNDLE.read_text(encoding="utf-8")
    assert not re.search(r"""\bimport\s*\(?\s*["'`]https?:""", code), "no import of a URL"
    assert not re.search(r"""\bfrom\s*["'`]https?:""", code), "no import ... from 'https://...'"
    assert not re.search(r"https?://(cdn\.|unpkg\.com|esm\.sh|cdn\.jsdelivr|cdnjs|skypack)", code, re.I)
    assert "define.amd" not in code
    assert 400_000 < len(code) < 2_000_000
