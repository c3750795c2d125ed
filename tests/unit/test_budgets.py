"""Budgets: thresholds fire once; the call after the limit is refused before it is sent."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import tokentrail as tt
from tokentrail.runs import BudgetWarning, load_settings, start_call


def _call(tokens: int = 100) -> None:
    """One 'SDK call' through the same path the instrumentation uses."""
    handle = start_call("openai", "gpt-4o", "chat")
    handle.finish(tt.Usage(tokens, 0))


def test_call_after_the_limit_raises_before_it_is_sent() -> None:
    alerts: list[tt.BudgetAlert] = []
    tt.on("budget", alerts.append)
    sent = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(tt.BudgetExceeded) as info, tt.track_usage("r", budget_tokens=1000) as run:
            for _ in range(20):
                _call(300)  # raises in start_call, before the "request" goes out
                sent += 1
    assert sent == 4  # 300, 600, 900, 1200: the fifth is refused
    assert run.usage.input_tokens == 1200 and run.calls == 4 and run.status == "error"
    err = info.value
    assert err.kind == "tokens" and err.limit == 1000 and err.spent == 1200
    assert "spent 1200 tokens of a 1000 tokens limit" in str(err)
    assert [(a.threshold, a.exceeded) for a in alerts] == [(0.5, False), (0.8, False), (1.0, True)]
    assert len([w for w in caught if issubclass(w.category, BudgetWarning)]) == 3


def test_usd_budget_and_warn_mode() -> None:
    alerts: list[tt.BudgetAlert] = []
    tt.on("budget", alerts.append)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tt.track_usage("r", budget_usd=0.001, on_exceed="warn", warn_at=(0.9,)) as run:
            for _ in range(5):
                _call(300)  # $0.00075 each at gpt-4o's $2.50/M
    assert run.calls == 5
    messages = [str(w.message) for w in caught if issubclass(w.category, BudgetWarning)]
    assert sum("budget exceeded" in m for m in messages) == 1  # warned once, not per call
    # the second call jumps from 75% to 150%: both thresholds fire as events, one warning says the worst
    assert [(a.threshold, a.kind) for a in alerts] == [(0.9, "usd"), (1.0, "usd")]
    assert len(messages) == 2  # "reached" once, then "exceeded" once at the next call


def test_calls_budget_and_nested_runs_inherit_the_outer_budget() -> None:
    with pytest.raises(tt.BudgetExceeded), tt.track_usage("outer", budget_calls=2), tt.track_usage("inner"):
        _call()
        _call()
        _call()


def test_global_budget_counts_from_when_it_was_set() -> None:
    _call(10_000)
    tt.set_budget(tokens=500)
    _call(400)
    _call(400)
    with pytest.raises(tt.BudgetExceeded, match="session"):
        _call(1)
    tt.set_budget()  # removed
    _call(1)


def test_manual_records_are_never_refused() -> None:
    with tt.track_usage("r", budget_calls=1) as run:
        tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)
        tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)
    assert run.calls == 2


def test_settings_from_env_and_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tokentrail]\nbudget_usd = 2.5\nmax_events = 500\nstream_usage = "never"\n'
    )
    found = load_settings({}, tmp_path)
    assert found == {"budget_usd": 2.5, "max_events": 500, "stream_usage": "never"}
    found = load_settings({"TOKENTRAIL_BUDGET_USD": "0.75", "TOKENTRAIL_BUDGET_TOKENS": "1000"}, tmp_path)
    assert found["budget_usd"] == 0.75 and found["budget_tokens"] == 1000
    with pytest.warns(UserWarning, match="TOKENTRAIL_BUDGET_TOKENS"):
        load_settings({"TOKENTRAIL_BUDGET_TOKENS": "lots"}, tmp_path)


def test_env_budget_applies_at_import(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import tokentrail as tt\n"
        "from tokentrail.runs import start_call\n"
        "start_call('openai','gpt-4o').finish(tt.Usage(60, 0))\n"
        "try:\n    start_call('openai','gpt-4o')\n"
        "except tt.BudgetExceeded as e:\n    print('refused', e.limit)\n"
    )
    env = {"TOKENTRAIL_BUDGET_TOKENS": "50", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "refused 50.0", out.stderr


@pytest.mark.parametrize(
    "kwargs",
    [{"usd": 0}, {"tokens": -1}, {"calls": "3"}, {"usd": 1, "warn_at": (1.5,)}, {"usd": 1, "on_exceed": "x"}],
)
def test_bad_budgets(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        tt.set_budget(**kwargs)  # type: ignore[arg-type]
