"""Magic arguments and ``%usage``: strict parsing with usage messages, tables that escape and say n/a."""

from __future__ import annotations

import warnings

import pytest
from IPython.core.error import UsageError

import tokentrail as tt
from tokentrail.jupyter.cell_args import PARSER, CellOptions, parse_cell_line
from tokentrail.jupyter.magics import usage_command
from tokentrail.jupyter.usage_tables import Table
from tokentrail.report import Report


def test_parses_every_option() -> None:
    opts = parse_cell_line("trial-3 --budget-usd 0.10 --budget-tokens 500 --budget-calls 4 "
                           "--tag arch=mem0 --tag seed=7 --tag note='a b=c' --quiet --no-panel")  # fmt: skip
    assert opts == CellOptions("trial-3", 0.10, 500, 4, {"arch": "mem0", "seed": "7", "note": "a b=c"},
                               quiet=True, panel=False)  # fmt: skip
    assert parse_cell_line("") == CellOptions()
    assert parse_cell_line("--tag a=1").tags == {"a": "1"}
    assert parse_cell_line("--tag a=1").tags == {"a": "1"}  # the append default is not shared
    assert PARSER.format_help().startswith("usage: %%track_usage [NAME] [--budget-usd X]")  # %%track_usage?


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("--budget-usd abc", "argument --budget-usd: expected a number of USD, got 'abc'"),
        ("--budget-usd -1", "argument --budget-usd: must be a number of USD > 0"),
        ("--budget-usd nan", "argument --budget-usd: must be a number of USD > 0"),
        ("--budget-tokens 1.5", "argument --budget-tokens: expected a whole number of tokens"),
        ("--budget-calls 0", "argument --budget-calls: must be a whole number of calls > 0"),
        ("--budget-usd", "argument --budget-usd: expected one argument"),
        ("--tag novalue", "argument --tag: expected KEY=VALUE, got 'novalue'"),
        ("--tag =v", "argument --tag: expected KEY=VALUE"),
        ("one two", "unrecognized arguments: two"),
        ("--panel", "unrecognized arguments: --panel"),
        ("'unclosed", "No closing quotation"),
    ],
)
def test_bad_arguments_name_themselves(line: str, says: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_cell_line(line)
    assert says in str(info.value)
    assert "usage: %%track_usage [NAME]" in str(info.value)


def _two_runs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tt.track_usage("first", tags={"k": "<b>v</b>"}):
            tt.record(model="gpt-4o", provider="openai", input_tokens=1000, output_tokens=10)
            with tt.tool("search|x"):
                tt.record(model="local-unpriced", input_tokens=5, output_tokens=1)
        with tt.track_usage("second"):
            tt.record(model="gpt-4o", provider="openai", input_tokens=1, output_tokens=1)


def test_usage_summary_and_tables() -> None:
    _two_runs()
    session = usage_command("")
    assert isinstance(session, Report) and session.totals.calls == 3
    runs = usage_command("runs")
    assert isinstance(runs, Table)
    assert [r[0] for r in runs.rows] == ["first", "second"] and runs.rows[0][1] == "done"
    assert "(1 unpriced)" in runs.rows[0][8] and runs.rows[0][-1] == "k=<b>v</b>"
    html = runs._repr_html_()
    assert "<b>v</b>" not in html and "k=&lt;b&gt;v&lt;/b&gt;" in html
    models = usage_command("models")
    assert isinstance(models, Table)
    assert {r[0]: r[-1] for r in models.rows}["local-unpriced"] == "n/a"
    tools = usage_command(" TOOLS ")
    assert isinstance(tools, Table)
    assert [r[0] for r in tools.rows] == ["search|x"] and "search\\|x" in tools._repr_markdown_()
    assert "tokentrail runs" in repr(runs) and "run" in runs.to_text().splitlines()[1]


def test_empty_tables_say_so() -> None:
    runs = usage_command("runs")
    assert isinstance(runs, Table)
    assert "no runs yet" in runs.to_text() and "no runs yet" in runs._repr_html_()
    assert "nothing recorded" in repr(usage_command("models"))


def test_reset_and_budget(capsys: pytest.CaptureFixture[str]) -> None:
    _two_runs()
    assert usage_command("reset") is None
    assert "forgot 2 runs and 3 calls" in capsys.readouterr().out
    assert tt.tracker().runs() == [] and tt.tracker().calls == 0
    usage_command("budget")
    assert "no session budget" in capsys.readouterr().out
    usage_command("budget 5")
    assert "session budget $5.0000" in capsys.readouterr().out
    assert tt.tracker().global_budget is not None and tt.tracker().global_budget.budget.usd == 5.0
    usage_command("budget")
    assert "$0.000000 of $5.0000 (0%)" in capsys.readouterr().out
    usage_command("budget off")
    assert tt.tracker().global_budget is None


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("nope", "unknown %usage command 'nope'"),
        ("runs extra", "%usage runs takes no arguments"),
        ("budget -3", "expects a number of USD > 0"),
        ("budget lots", "expects a number of USD > 0"),
        ("budget 1 2", "takes one value"),
    ],
)
def test_usage_errors(line: str, says: str) -> None:
    with pytest.raises(UsageError, match=says.replace("%", "%")):
        usage_command(line)
