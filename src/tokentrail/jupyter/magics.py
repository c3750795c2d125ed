"""The magics: ``%%track_usage`` (a cell as one run) and ``%usage`` (session summary, tables, budget)."""

from __future__ import annotations

import math
import shlex
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from ..report import fmt_cost
from ..runs import TRACKER, set_budget
from .cell_args import PARSER, parse_cell_line
from .cells import run_tracked_cell
from .usage_tables import runs_table, totals_table

if TYPE_CHECKING:
    from ..report import Report

USAGE_COMMANDS = "%usage [runs | models | tools | reset | budget [USD | off] | persist PATH]"


def _amount(kind: str, value: float) -> str:
    return fmt_cost(value) if kind == "usd" else f"{int(value):,} {kind}"


def _budget_line() -> str:
    state = TRACKER.global_budget
    if state is None:
        return "tokentrail: no session budget (set one with %usage budget USD)"
    parts = []
    for row in state.status():
        kind, spent, limit = str(row["kind"]), float(row["spent"]), float(row["limit"])  # type: ignore[arg-type]
        done = " EXCEEDED" if row["exceeded"] else ""
        parts.append(f"{_amount(kind, spent)} of {_amount(kind, limit)} ({spent / limit:.0%}){done}")
    return "tokentrail: session budget: " + ", ".join(parts)


def _budget(args: list[str]) -> None:
    if not args:
        print(_budget_line())
        return
    if len(args) > 1:
        raise UsageError(f"%usage budget takes one value, got {' '.join(args)!r}\nusage: {USAGE_COMMANDS}")
    if args[0].lower() in ("off", "none", "0"):
        set_budget()
        print("tokentrail: session budget removed")
        return
    try:
        usd = float(args[0].lstrip("$"))
    except ValueError:
        usd = math.nan
    if not usd > 0 or math.isinf(usd):
        raise UsageError(f"%usage budget expects a number of USD > 0 (or off), got {args[0]!r}")
    set_budget(usd=usd)
    print(f"tokentrail: session budget {fmt_cost(usd)}, counted from now; the call after it is refused")


def _persist(args: list[str]) -> object:
    import tokentrail

    persist = getattr(tokentrail, "persist", None)
    if persist is None:
        raise UsageError("%usage persist: this tokentrail has no persistence (tt.persist is missing)")
    if len(args) != 1:
        raise UsageError(f"%usage persist takes one PATH\nusage: {USAGE_COMMANDS}")
    return persist(args[0])


def usage_command(line: str) -> object:
    """Run one ``%usage`` command; returns what to display (a report or a table), if anything."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot split {line!r}: {exc}\nusage: {USAGE_COMMANDS}") from None
    if not words:
        return TRACKER.report()
    command, args = words[0].lower(), words[1:]
    if command != "budget" and command != "persist" and args:
        raise UsageError(
            f"%usage {command} takes no arguments, got {' '.join(args)!r}\nusage: {USAGE_COMMANDS}"
        )
    if command == "runs":
        return runs_table(TRACKER.runs())
    if command == "models":
        return totals_table("tokentrail models", "model", TRACKER.by_model())
    if command == "tools":
        return totals_table("tokentrail tools", "tool", TRACKER.by_tool())
    if command == "reset":
        runs, calls = len(TRACKER.runs()), TRACKER.calls
        TRACKER.reset()
        print(f"tokentrail: forgot {runs} runs and {calls} calls (prices, budgets and handlers stay)")
        return None
    if command == "budget":
        _budget(args)
        return None
    if command == "persist":
        return _persist(args)
    raise UsageError(f"unknown %usage command {words[0]!r}\nusage: {USAGE_COMMANDS}")


@magics_class
class TokentrailMagics(Magics):  # type: ignore[misc]
    """tokentrail's magics; registered by ``%load_ext tokentrail``."""

    @cell_magic  # type: ignore[misc]
    def track_usage(self, line: str, cell: str) -> Report | None:
        __tracebackhide__ = True
        return run_tracked_cell(self.shell, parse_cell_line(line), cell)

    track_usage.__doc__ = PARSER.format_help()

    @line_magic  # type: ignore[misc]
    def usage(self, line: str) -> Any:
        """The session's usage: ``%usage [runs | models | tools | reset | budget [USD|off] | persist PATH]``.

        ``%usage`` alone is the session report; ``runs``, ``models`` and ``tools`` are tables;
        ``reset`` forgets every run and call; ``budget 5`` sets a session budget of $5 (``off`` removes it).
        """
        return usage_command(line)
