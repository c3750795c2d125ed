"""The extension in IPython's own shell: load/unload/reload symmetry, tracked cells, await, errors."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import tokentrail as tt
from tokentrail.instrument import is_instrumented
from tokentrail.jupyter.cells import EXECUTING
from tokentrail.jupyter.usage_tables import Table
from tokentrail.report import Report

resolvers = importlib.import_module("tokentrail.runs.context")._resolvers

SETUP = """
import asyncio, contextvars, threading
import tokentrail as tt
from tokentrail.model import Usage
from tokentrail.runs import start_call

def call(tokens_in=10, tokens_out=5):
    start_call("openai", "gpt-4o").finish(Usage(tokens_in, tokens_out))
"""


def footprint(ip: Any) -> dict[str, object]:
    """Everything the extension may add, counted."""
    return {
        "pre_run_cell": len(ip.events.callbacks["pre_run_cell"]),
        "post_run_cell": len(ip.events.callbacks["post_run_cell"]),
        "transformers": len(ip.input_transformers_post),
        "resolvers": len(resolvers),
        "subscribers": len(tt.tracker().ledger.hub.subscriptions()),
        "track_usage": "track_usage" in ip.magics_manager.magics["cell"],
        "usage": "usage" in ip.magics_manager.magics["line"],
        "registry": "TokentrailMagics" in ip.magics_manager.registry,
        "instrumented": is_instrumented(),
    }


@pytest.fixture
def ip() -> Iterator[Any]:
    shell = InteractiveShell.instance()
    unload(shell)
    was_instrumented = is_instrumented()
    tt.uninstrument()  # a known baseline, whatever ran before
    shell.run_cell(SETUP)
    yield shell
    unload(shell)
    if was_instrumented:
        tt.instrument()


def unload(shell: Any) -> None:
    if "tokentrail" in shell.extension_manager.loaded:
        shell.run_line_magic("unload_ext", "tokentrail")


def cell(ip: Any, source: str) -> Any:
    return ip.run_cell(source, store_history=True)


def test_load_unload_reload_leave_exactly_one_of_each(ip: Any) -> None:
    baseline = footprint(ip)
    assert baseline["track_usage"] is False and baseline["instrumented"] is False
    ip.run_line_magic("load_ext", "tokentrail")
    once = footprint(ip)
    assert once == {**baseline, "pre_run_cell": baseline["pre_run_cell"] + 1,  # type: ignore[operator]
                    "post_run_cell": baseline["post_run_cell"] + 1,  # type: ignore[operator]
                    "transformers": baseline["transformers"] + 1,  # type: ignore[operator]
                    "resolvers": baseline["resolvers"] + 1,  # type: ignore[operator]
                    "track_usage": True, "usage": True, "registry": True, "instrumented": True}  # fmt: skip
    ip.run_line_magic("load_ext", "tokentrail")
    for _ in range(3):
        ip.run_line_magic("reload_ext", "tokentrail")
    assert footprint(ip) == once
    r = cell(ip, "%%track_usage once\ncall()")
    assert r.success and tt.last_run() is not None and tt.last_run().calls == 1  # type: ignore[union-attr]
    ip.run_line_magic("unload_ext", "tokentrail")
    assert footprint(ip) == baseline


def test_unload_keeps_instrumentation_the_user_turned_on(ip: Any) -> None:
    tt.instrument()
    try:
        ip.run_line_magic("load_ext", "tokentrail")
        ip.run_line_magic("unload_ext", "tokentrail")
        assert is_instrumented()
    finally:
        tt.uninstrument()


@pytest.fixture
def loaded(ip: Any) -> Any:
    ip.run_line_magic("load_ext", "tokentrail")
    return ip


def test_the_cells_value_is_its_report(loaded: Any, capsys: pytest.CaptureFixture[str]) -> None:
    r = cell(loaded, "%%track_usage trial-3 --tag arch=mem0 --tag seed=7\ncall(10, 5)\ncall(1, 1)\n'last'")
    assert r.success and isinstance(r.result, Report)
    run = tt.last_run()
    assert run is not None and r.result.run is run
    assert run.name == "trial-3" and run.tags == {"arch": "mem0", "seed": "7"} and run.status == "done"
    assert loaded.user_ns["_"] is r.result and loaded.user_ns["Out"][r.execution_count] is r.result
    assert (
        r.result.usage == tt.Usage(11, 6) and r.result.calls == 2 and r.result.to_dict()["total_tokens"] == 17
    )
    out = capsys.readouterr().out
    assert "'last'" in out and "Run trial-3 [done]  arch=mem0 seed=7" in out  # terminal: printed as text
    r = cell(loaded, "%%track_usage\ncall()")
    assert tt.last_run().name == f"cell-{r.execution_count}"  # type: ignore[union-attr]


def test_quiet_shows_nothing_but_sets_the_value(loaded: Any, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    r = cell(loaded, "%%track_usage q --quiet\ncall()\n2 + 2;")
    assert r.success and isinstance(r.result, Report)  # the value, not displayed
    assert capsys.readouterr().out == ""
    assert isinstance(loaded.user_ns["_"], Report) and loaded.user_ns["_"].calls == 1


def test_a_bad_argument_runs_nothing(loaded: Any, capsys: pytest.CaptureFixture[str]) -> None:
    runs = len(tt.tracker().runs())
    r = cell(loaded, "%%track_usage x --budget-usd lots\nran = True\ncall()")
    assert type(r.error_in_exec).__name__ == "UsageError"
    assert "argument --budget-usd: expected a number of USD, got 'lots'" in str(r.error_in_exec)
    assert "ran" not in loaded.user_ns and len(tt.tracker().runs()) == runs
    assert "Traceback" not in capsys.readouterr().out


def test_an_error_is_shown_once_with_the_cells_line_numbers(
    loaded: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    r = cell(loaded, "%%track_usage boom\ncall()\n1 / 0\nafter = True")
    assert isinstance(r.error_in_exec, ZeroDivisionError) and "after" not in loaded.user_ns
    run = tt.last_run()
    assert (
        run is not None and run.status == "error" and run.error_type == "ZeroDivisionError" and run.calls == 1
    )
    assert isinstance(loaded.user_ns["_"], Report) and loaded.user_ns["_"].run is run
    out = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    assert out.count("ZeroDivisionError: division by zero") == 1
    assert "line 3" in out and "Run boom [error]" in out


def test_syntax_errors_start_no_run(loaded: Any) -> None:
    runs = len(tt.tracker().runs())
    r = cell(loaded, "%%track_usage s\nx = (")
    assert isinstance(r.error_in_exec, SyntaxError) and len(tt.tracker().runs()) == runs


def test_budget_stops_the_cell_at_the_next_call(loaded: Any) -> None:
    r = cell(loaded, "%%track_usage capped --budget-tokens 10\ncall(10, 5)\ncall(10, 5)\nafter = True")
    err = r.error_in_exec
    assert isinstance(err, tt.BudgetExceeded) and "after" not in loaded.user_ns
    assert "spent 15 tokens of a 10 tokens limit" in str(err)
    run = tt.last_run()
    assert run is not None and run.calls == 1 and run.usage.total_tokens == 15 and run.status == "error"


def test_keyboard_interrupt_ends_the_run_as_interrupted(loaded: Any) -> None:
    r = cell(loaded, "%%track_usage stop\ncall()\nraise KeyboardInterrupt")
    assert isinstance(r.error_in_exec, KeyboardInterrupt)
    run = tt.last_run()
    assert run is not None and run.status == "interrupted" and run.calls == 1 and not EXECUTING.cells


def test_top_level_await_runs_in_the_cells_run(loaded: Any) -> None:
    source = (
        "%%track_usage aw\n"
        "async def work():\n"
        "    await asyncio.sleep(0)\n"
        "    call(2, 2)\n"
        "    return tt.current_run()\n"
        "seen = await work()\n"
        "both = await asyncio.gather(work(), work())\n"
        "seen"
    )
    assert loaded.transform_cell(source).startswith("await __import__('tokentrail.jupyter.cells'")
    assert not loaded.transform_cell("%%track_usage\nx = 1").startswith("await")
    r = cell(loaded, source)
    assert r.success, r.error_in_exec
    run = tt.last_run()
    assert run is not None and run.name == "aw" and run.calls == 3
    assert loaded.user_ns["seen"] is run and set(loaded.user_ns["both"]) == {run}
    assert loaded.user_ns["_"].run is run


def test_variables_expand_in_the_magic_line_with_or_without_await(loaded: Any) -> None:
    cell(loaded, "seed, line, shell = 7, 'mine', 'theirs'")
    assert cell(loaded, "%%track_usage trial-$seed --tag who={line}\ncall()").success
    assert (tt.last_run().name, tt.last_run().tags) == ("trial-7", {"who": "mine"})  # type: ignore[union-attr]
    assert cell(loaded, "%%track_usage a-$seed --tag who={line}/{shell}\nawait asyncio.sleep(0)").success
    assert (tt.last_run().name, tt.last_run().tags) == ("a-7", {"who": "mine/theirs"})  # type: ignore[union-attr]


def test_the_resolver_finds_the_cell_only_on_its_thread(loaded: Any) -> None:
    cell(loaded, "go = threading.Event()\n"
                 "def later():\n    go.wait(5)\n    call(7, 7)\n"
                 "bg = threading.Thread(target=later)\nbg.start()")  # fmt: skip
    r = cell(loaded, "%%track_usage resolved\ncontextvars.Context().run(call, 3, 3)\ngo.set()\nbg.join(5)")
    assert r.success
    run = tt.last_run()
    assert run is not None and run.usage == tt.Usage(3, 3)  # the empty context finds the cell; bg does not
    orphan = tt.tracker().events[-1]
    assert orphan.usage == tt.Usage(7, 7) and orphan.run_id is None
    cell(loaded, "contextvars.Context().run(call, 1, 1)")
    assert tt.tracker().events[-1].run_id is None  # after the cell, nothing resolves to it


def test_nested_tracked_cells(loaded: Any) -> None:
    r = cell(loaded, "%%track_usage outer\ncall(1, 1)\n"
                     "get_ipython().run_cell('%%track_usage inner\\ncall(2, 2)')\ncall(1, 1)")  # fmt: skip
    assert r.success
    outer = tt.last_run()
    inner = next(run for run in tt.tracker().runs() if run.name == "inner")
    assert outer is not None and outer.name == "outer" and inner.parent is outer
    assert outer.calls == 3 and inner.calls == 1 and not EXECUTING.cells


def test_usage_line_magic(loaded: Any) -> None:
    cell(loaded, "%%track_usage one\ncall()")
    table = loaded.run_line_magic("usage", "runs")
    assert isinstance(table, Table) and table.rows[-1][0] == "one"
    assert isinstance(loaded.run_line_magic("usage", ""), Report)


def test_without_a_panel_the_report_is_shown_and_updated(
    loaded: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import tokentrail.jupyter.widget as widget

    def no_panel(run: Any) -> Any:
        raise RuntimeError("bundle missing")

    monkeypatch.setattr(
        loaded, "kernel", object(), raising=False
    )  # as in ipykernel: output goes to a frontend
    monkeypatch.setattr(widget, "panel_for_run", no_panel)
    capsys.readouterr()
    r = cell(loaded, "%%track_usage live\ncall()\ncall()")
    out = capsys.readouterr().out
    assert r.success and isinstance(loaded.user_ns["_"], Report) and loaded.user_ns["_"].calls == 2
    assert "Run live [running]" in out and out.count("Run live [done]") == 1  # one display, updated
    assert "Out[" not in out  # the value is not displayed a second time
    assert "no live panel (RuntimeError: bundle missing)" in caplog.text


def test_a_cell_left_open_is_ended_when_the_cell_is_over(loaded: Any) -> None:
    r = cell(loaded, "from tokentrail.jupyter.cells import TrackedCell\n"
                     "from tokentrail.jupyter.cell_args import CellOptions\n"
                     "left = TrackedCell(get_ipython(), CellOptions('left', quiet=True))\n"
                     "inside = tt.current_run()")  # fmt: skip
    assert r.success and loaded.user_ns["inside"] is loaded.user_ns["left"].run
    assert not EXECUTING.cells and loaded.user_ns["left"].run.status == "interrupted"
    assert tt.current_run() is None
