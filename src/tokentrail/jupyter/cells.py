"""A ``%%track_usage`` cell as one run, and the resolver that finds the executing cell's run.

The run starts before the body and ends however the body ends (done, error, interrupted); the
body's exception propagates once, so the cell fails as a normal cell does. A body with top-level
``await`` is rewritten (an input transformer) into an awaited call, so it runs in the kernel's
event loop in the cell's own task.
"""

from __future__ import annotations

import ast
import asyncio
import threading
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..runs import Run, track_usage
from .cell_args import CellOptions, parse_cell_line
from .cell_body import compile_body, needs_await, run_body, run_body_async
from .cell_view import CellView, open_view

if TYPE_CHECKING:
    from ..report import Report

MAGIC = "track_usage"


class Executing:
    """The tracked cells executing now, innermost last; ``resolve`` is registered as a run resolver.

    A call whose context has no run (ipykernel#749: contextvars lost around ``await``) gets the
    executing cell's run, but only on the thread running that cell: threads started inside the cell
    carry their run in their context, and other threads must never land in this cell.
    """

    def __init__(self) -> None:
        self.cells: tuple[TrackedCell, ...] = ()  # replaced, never mutated: readers need no lock

    def push(self, cell: TrackedCell) -> None:
        self.cells = (*self.cells, cell)

    def remove(self, cell: TrackedCell) -> None:
        self.cells = tuple(c for c in self.cells if c is not cell)

    def resolve(self) -> Run | None:
        thread = threading.get_ident()
        for cell in reversed(self.cells):
            if cell.thread == thread:
                return cell.run
        return None

    def abandon(self, thread: int | None = None) -> None:
        """End the runs of cells left executing (on ``thread``, else anywhere): the cell is over."""
        for cell in reversed(self.cells):
            if thread is None or cell.thread == thread:
                cell.finish(KeyboardInterrupt())


EXECUTING = Executing()


def set_value(shell: Any, report: Report) -> None:
    """Make ``report`` the cell's value (``_``, ``Out[n]``) without displaying it a second time."""
    hook = shell.displayhook
    hook.update_user_ns(report)
    hook.fill_exec_result(report)


class TrackedCell:
    """One executing ``%%track_usage`` cell: its run, its view, and its end (exactly once)."""

    def __init__(self, shell: Any, options: CellOptions) -> None:
        self.shell = shell
        name = options.name or f"cell-{shell.displayhook.prompt_count}"
        self.scope = track_usage(name, budget_usd=options.budget_usd, budget_tokens=options.budget_tokens,
                                 budget_calls=options.budget_calls, tags=options.tags)  # fmt: skip
        self.run = self.scope.start()
        self.thread = threading.get_ident()
        self.finished = False
        EXECUTING.push(self)
        self.view: CellView = open_view(shell, self.run, quiet=options.quiet, panel=options.panel)

    def finish(self, exc: BaseException | None) -> None:
        """End the run; its status comes from ``exc`` (a cancelled await-cell counts as interrupted)."""
        if self.finished:
            return
        self.finished = True
        try:
            self.scope.stop(KeyboardInterrupt() if isinstance(exc, asyncio.CancelledError) else exc)
        finally:
            EXECUTING.remove(self)

    def end(self, exc: BaseException | None) -> Report | None:
        """Finish, show the final report, and return the cell's value (None when already on screen)."""
        self.finish(exc)
        report = self.run.report()
        self.view.close(report, failed=exc is not None)
        if self.view.shows_report or exc is not None:
            set_value(self.shell, report)
            return None
        return report


def run_tracked_cell(shell: Any, options: CellOptions, body: str) -> Report | None:
    """Run ``body`` as one run (the ``%%track_usage`` magic); returns the cell's value."""
    __tracebackhide__ = True
    codes = compile_body(shell, body, shell.displayhook.prompt_count)
    if needs_await(codes):
        if _loop_running():
            raise UsageError(
                "top-level await in %%track_usage needs tokentrail's input transformer: "
                "load the extension with %load_ext tokentrail (and keep %autoawait on)"
            )
        result: Report | None = shell.loop_runner(_run_async(shell, options, codes))
        return result
    cell = TrackedCell(shell, options)
    try:
        run_body(shell, codes)
    except BaseException as exc:
        cell.end(exc)
        raise
    return cell.end(None)


async def _run_async(shell: Any, options: CellOptions, codes: list[Any]) -> Report | None:
    __tracebackhide__ = True
    cell = TrackedCell(shell, options)
    try:
        await run_body_async(shell, codes)
    except BaseException as exc:
        cell.end(exc)
        raise
    return cell.end(None)


async def run_cell_async(line: str, body: str) -> Report | None:
    """What an awaiting ``%%track_usage`` cell is rewritten into: the magic, run in the cell's task."""
    __tracebackhide__ = True
    from IPython import get_ipython

    shell = get_ipython()
    options = parse_cell_line(_expand(shell, line))
    codes = compile_body(shell, body, shell.displayhook.prompt_count)
    return await _run_async(shell, options, codes)


def _expand(shell: Any, line: str) -> str:
    """Expand ``$name`` and ``{expr}`` in the magic's line from the user's namespace, as IPython does."""
    from IPython.utils.text import DollarFormatter

    try:
        expanded: str = DollarFormatter().vformat(line, args=[], kwargs=shell.user_ns)
    except Exception:  # IPython leaves a line it cannot format as it is
        return line
    return expanded


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class AwaitTransformer:
    """An ``input_transformers_post`` step: a tracked cell whose body awaits becomes ``await run_cell_async``.

    IPython turns ``%%track_usage`` cells into a synchronous ``run_cell_magic`` call, and a synchronous
    call cannot await in ipykernel's running loop; an awaited call makes the whole cell a coroutine.
    """

    prefix = f"get_ipython().run_cell_magic({MAGIC!r},"

    def __init__(self, shell: Any) -> None:
        self.shell = shell

    def __call__(self, lines: list[str]) -> list[str]:
        if len(lines) != 1 or not lines[0].startswith(self.prefix):
            return lines
        try:
            call = ast.parse(lines[0]).body[0].value  # type: ignore[attr-defined]
            line, body = (ast.literal_eval(arg) for arg in call.args[1:3])
            transformed = self.shell.transform_cell(body)
            if not self.shell.should_run_async(body, transformed_cell=transformed):
                return lines
        except Exception:  # not the shape IPython writes: leave it to the magic
            return lines
        return [f"await __import__({__name__!r}, fromlist=['_']).run_cell_async({line!r}, {body!r})\n"]


class CellHooks:
    """``pre_run_cell``/``post_run_cell``: once a thread's outermost cell is over, no tracked cell runs there.

    Only a safety net: a tracked cell ends its run itself, however it ends. Depth is per thread because
    a tracked body may call ``shell.run_cell`` (the events nest) and ipykernel subshells run cells in
    other threads.
    """

    def __init__(self) -> None:
        self._depth = threading.local()

    def pre_run_cell(self, info: Any) -> None:
        self._depth.n = getattr(self._depth, "n", 0) + 1

    def post_run_cell(self, result: Any) -> None:
        self._depth.n = max(0, getattr(self._depth, "n", 0) - 1)
        if self._depth.n == 0 and EXECUTING.cells:
            EXECUTING.abandon(threading.get_ident())
