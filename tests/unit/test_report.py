"""Reports: every view says n/a for unpriced, escapes user strings, and forwards to the run."""

from __future__ import annotations

import warnings

import tokentrail as tt


def test_report_views_escape_and_say_na() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tt.track_usage("<img src=x onerror=alert(1)>", tags={"k": "<b>v</b>"}, budget_tokens=100) as run:
            tt.record(model="<script>alert(1)</script>", provider="x", input_tokens=10, output_tokens=5)
            with tt.tool("search|pipe"):
                pass
    report = run.report()
    html = report._repr_html_()
    assert "<script>" not in html and "<img" not in html and "<b>v</b>" not in html
    assert "&lt;script&gt;" in html and "n/a" in html
    md = report._repr_markdown_()
    assert "<script>" not in md and "search\\|pipe" in md and "n/a" in md
    text = report.to_text()
    assert "n/a" in text and "budget tokens: 15 of 100 (15%)" in text
    assert report.usage == run.usage and report.calls == 1 and report.to_dict()["total_tokens"] == 15
    assert "cost           n/a" in repr(report)


def test_priced_report_shows_dollars() -> None:
    with tt.track_usage("r") as run:
        tt.record(model="gpt-4o", provider="openai", input_tokens=1_000_000, output_tokens=0)
    assert "$2.5000" in run.report().to_text()
    session = tt.tracker().report()
    assert session.title == "Session" and session.totals.calls == 1
