"""``%%track_usage`` arguments, parsed strictly: a bad one is a usage message naming it, and nothing runs."""

from __future__ import annotations

import argparse
import math
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from IPython.core.error import UsageError

USAGE = (
    "%%track_usage [NAME] [--budget-usd X] [--budget-tokens N] [--budget-calls N] [--tag K=V]... "
    "[--quiet] [--no-panel]"
)


@dataclass(frozen=True)
class CellOptions:
    """What a ``%%track_usage`` line asked for."""

    name: str | None = None
    budget_usd: float | None = None
    budget_tokens: int | None = None
    budget_calls: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    quiet: bool = False
    panel: bool = True


def _positive(cast: Callable[[str], float], what: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not value > 0 or math.isinf(value):
            raise argparse.ArgumentTypeError(f"must be {what} > 0, got {text!r}")
        return value

    return parse


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\nusage: {USAGE}")


PARSER = _Parser(
    prog="%%track_usage",
    usage=USAGE.replace("%", "%%"),  # argparse %-formats its usage
    add_help=False,
    description="Track every LLM call the cell makes (threads and awaits included) as one run, "
    "show its usage live, and make the run's report the cell's value (_).",
)
PARSER.add_argument(
    "name", nargs="?", metavar="NAME", help="the run's name (default: cell-<execution count>)"
)
PARSER.add_argument("--budget-usd", type=_positive(float, "a number of USD"), metavar="X",
                    help="stop the cell at the next call once X USD are spent")  # fmt: skip
PARSER.add_argument("--budget-tokens", type=_positive(int, "a whole number of tokens"), metavar="N",
                    help="stop the cell at the next call once N tokens are used")  # fmt: skip
PARSER.add_argument("--budget-calls", type=_positive(int, "a whole number of calls"), metavar="N",
                    help="stop the cell at the next call once N calls are made")  # fmt: skip
PARSER.add_argument("--tag", type=_tag, action="append", metavar="K=V", help="tag the run (repeatable)")
PARSER.add_argument("--quiet", action="store_true", help="show no report (the value _ is still the report)")
PARSER.add_argument("--no-panel", action="store_true", help="show a static report instead of the live panel")


def parse_cell_line(line: str) -> CellOptions:
    """Parse the text after ``%%track_usage``; raises :class:`UsageError` naming the bad argument."""
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot split {line!r}: {exc}\nusage: {USAGE}") from None
    ns = PARSER.parse_args(argv)
    return CellOptions(
        name=ns.name,
        budget_usd=ns.budget_usd,
        budget_tokens=None if ns.budget_tokens is None else int(ns.budget_tokens),
        budget_calls=None if ns.budget_calls is None else int(ns.budget_calls),
        tags=dict(ns.tag or ()),
        quiet=ns.quiet,
        panel=not ns.no_panel,
    )
