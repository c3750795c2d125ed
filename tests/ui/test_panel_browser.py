"""The live panel in a real JupyterLab: it grows while the kernel is busy, ends equal to the run,
draws its charts (a running tool as an open bar, time labels apart, tools without LLM calls at
0 tokens), logs no console error, and comes back after a page reload."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import Error as PlaywrightError

pytestmark = [pytest.mark.browser, pytest.mark.llm]

SETUP = """\
%load_ext tokentrail
import time, openai, tokentrail as tt
from tokentrail.demo import connect
client = openai.OpenAI(base_url=connect(), api_key="sk-local", max_retries=0, timeout=60)
tt.set_price("gemma3-270m", input_per_mtok=0.15, output_per_mtok=0.6)
"""
TRACKED = """\
%%track_usage browser-run --tag suite=ui
for i in range(24):
    with tt.tool("search" if i % 2 else "rerank"):
        time.sleep(0.1)
    client.chat.completions.create(model="gemma3-270m", max_tokens=4,
                                   messages=[{"role": "user", "content": f"Count to {i}"}])
    time.sleep(0.25)
with tt.tool("slow step"):  # long enough to be seen running on the timeline
    time.sleep(3)
"""
CHECK = """\
r = tt.last_run()
spans = r.by_tool()["search"].tool_spans
print("FINAL", r.usage.input_tokens, r.usage.output_tokens, r.calls, f"{r.cost.total:.6f}", spans)
"""


def _notebook(root: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, TRACKED, CHECK)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, root / "panel.ipynb")
    return "panel.ipynb"


def _stat(page: Any, name: str) -> str:
    return str(page.locator(f".tt-panel .tt-stat-{name} .tt-v").first.inner_text()).strip()


TIMELINE = '.tt-panel .tt-chart[data-chart="timeline"]'
BY_TOOL = '.tt-panel .tt-chart[data-chart="by_tool"]'
OPEN_BARS = f"{TIMELINE} svg .running_marks path"
# the shown time labels of the timeline's x axis, left to right, as the browser laid them out
TIME_LABELS = """(sel) => [...document.querySelectorAll(sel + ' svg .role-axis-label text')]
  .filter((t) => /^\\d\\d:\\d\\d:\\d\\d$/.test(t.textContent) && t.getAttribute('opacity') !== '0')
  .map((t) => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.right]; })
  .sort((a, b) => a[1] - b[1])"""


def _dismiss_news(page: Any) -> None:
    """JupyterLab asks (in a toast) whether to fetch its news: answer, so that the toast hides no chart."""
    no = page.get_by_role("button", name="No", exact=True)
    if no.count():
        no.first.click()


def _check_charts(page: Any) -> None:
    labels = page.evaluate(TIME_LABELS, TIMELINE)
    assert len(labels) >= 2, labels
    for (a, _, a_right), (b, b_left, _) in itertools.pairwise(labels):
        assert b_left - a_right >= 2, f"time labels {a} and {b} collide: {labels}"
    assert len({text for text, _, _ in labels}) == len(labels), f"a time label repeats: {labels}"
    assert page.locator(OPEN_BARS).count() == 0, "every call and tool ended: no open bar left"
    by_tool = page.locator(f"{BY_TOOL} svg").first.text_content() or ""
    assert "no LLM calls" in by_tool and "NaN" not in by_tool, by_tool


def _run_all(page: Any, cells: Any) -> None:
    """Queue the three cells one by one; a key pressed before the kernel is connected is dropped: retry it."""
    for index in range(3):
        prompt = cells.nth(index).locator(".jp-InputPrompt")
        for _ in range(10):
            prompt.click()
            page.keyboard.press("Control+Enter")
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                if re.search(r"\[(\d+|\*)\]", prompt.inner_text()):
                    break
                time.sleep(0.1)
            else:
                continue
            break
        else:
            raise AssertionError(f"cell {index} never started running")


def test_live_panel_in_jupyterlab(lab: Any, browser: Any, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))

    page.goto(lab.url(_notebook(lab.root)))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function(  # the kernel is up (the toolbar's status text, shown or not)
        "() => [...document.querySelectorAll('span')]"
        ".some(s => s.textContent.includes('Kernel status: Idle'))",
        timeout=60_000,
    )
    cells = page.locator(".jp-Notebook .jp-Cell")
    _run_all(page, cells)

    tracked = cells.nth(1)
    try:
        tracked.locator(".tt-panel").wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(artifacts / "panel-start.png"), full_page=True)
    seen: list[str] = []
    shot_taken = False
    open_bar_seen = False
    open_bar_shots = 0.0  # when the last one was taken: the last shows the slow step running
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        busy = "[*]" in tracked.locator(".jp-InputPrompt").inner_text()
        if not busy:
            break
        value = _stat(page, "total-tokens")
        if not seen or seen[-1] != value:
            seen.append(value)
        if len(seen) >= 4 and not shot_taken:
            page.screenshot(path=str(artifacts / "panel-running.png"), full_page=True)
            shot_taken = True
        if page.locator(OPEN_BARS).count() > 0:
            open_bar_seen = True
            if time.monotonic() - open_bar_shots > 1.0:
                _dismiss_news(page)
                try:
                    page.locator(TIMELINE).screenshot(path=str(artifacts / "timeline-running.png"))
                    open_bar_shots = time.monotonic()
                except PlaywrightError:  # the live chart was redrawn under the shot: the next one
                    pass
        time.sleep(0.15)
    assert open_bar_seen, "a tool running for 3 s was never drawn as an open bar on the timeline"
    rises = [b for a, b in itertools.pairwise(seen) if int(b.replace(",", "")) > int(a.replace(",", ""))]
    assert len(rises) >= 3, f"the token counter rose {len(rises)} times while the kernel was busy: {seen}"

    final = cells.nth(2).locator(".jp-OutputArea-output").filter(has_text="FINAL")
    final.wait_for(timeout=60_000)
    match = re.search(r"FINAL (\d+) (\d+) (\d+) (\S+) (\d+)", final.inner_text())
    assert match is not None
    inp, out, calls, cost, spans = match.groups()
    assert calls == "24" and spans == "12"

    def check_final() -> None:
        page.wait_for_function(
            "() => document.querySelector('.tt-panel .tt-status')?.textContent === 'done'", timeout=30_000
        )
        assert _stat(page, "input") == f"{int(inp):,}"
        assert _stat(page, "output") == f"{int(out):,}"
        assert _stat(page, "calls") == calls
        assert _stat(page, "cost") == f"${cost}"
        # the charts rendered: Vega drew marks into SVG
        page.wait_for_function(
            "() => document.querySelectorAll('.tt-panel .tt-chart svg .mark-rect path, "
            ".tt-panel .tt-chart svg .mark-line path, .tt-panel .tt-chart svg .mark-area path').length >= 3",
            timeout=30_000,
        )
        assert page.locator(".tt-panel .tt-chart svg").count() >= 3

    check_final()
    page.screenshot(path=str(artifacts / "panel-final.png"), full_page=True)
    _check_charts(page)
    _dismiss_news(page)
    page.locator(TIMELINE).screenshot(path=str(artifacts / "timeline-final.png"))
    page.locator(BY_TOOL).screenshot(path=str(artifacts / "by-tool-final.png"))

    # a reload re-reads the notebook from disk: save it first, as a user would
    page.keyboard.press("Control+s")
    page.wait_for_function(
        "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
        timeout=30_000,
    )
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    try:
        page.locator(".tt-panel").first.wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(artifacts / "panel-reloaded.png"), full_page=True)
    check_final()
    page.screenshot(path=str(artifacts / "panel-reloaded.png"), full_page=True)

    assert console_errors == [], console_errors
    page.close()
