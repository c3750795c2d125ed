"""A cell body compiled and run the way IPython runs a cell, so that its exceptions reach the caller.

``shell.run_cell`` shows and swallows the body's exceptions (the outer cell would then "succeed"),
fires the cell events a second time, and cannot run top-level ``await`` while ipykernel's event loop
is running. Compiling the body here keeps IPython's transforms, ``__future__`` flags, AST hooks,
last-expression display and tracebacks ("Cell In[n], line k"), and lets errors propagate once.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Sequence
from types import CodeType
from typing import Any

AWAIT_FLAG: int = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)


def _ends_with_semicolon(shell: Any, source: str) -> bool:
    try:
        return bool(shell.displayhook.semicolon_at_end_of_expression(source))
    except Exception:  # a tokenize error: the parse below reports it
        return False


def _chunks(shell: Any, nodes: list[ast.stmt], body: str) -> list[tuple[ast.mod, str]]:
    """Split the statements as IPython does: values of displayed expressions go to the displayhook."""
    mode = getattr(shell, "ast_node_interactivity", "last_expr")
    if mode == "all":
        return [(ast.Interactive([n]), "single") if isinstance(n, ast.Expr) else (ast.Module([n], []), "exec")
                for n in nodes]  # fmt: skip
    if mode != "none" and nodes and isinstance(nodes[-1], ast.Expr) and not _ends_with_semicolon(shell, body):
        return [(ast.Module(nodes[:-1], []), "exec"), (ast.Interactive(nodes[-1:]), "single")]
    return [(ast.Module(nodes, []), "exec")]


def compile_body(shell: Any, body: str, number: int) -> list[CodeType]:
    """Compile ``body`` (the lines after ``%%magic``) into code objects, numbered as lines of the cell."""
    transformed = shell.transform_cell(body)
    source = "\n" + transformed  # line 1 of the cell is the magic's own line
    compiler = shell.compile
    filename = compiler.cache(source, number, raw_code="\n" + body)
    tree = shell.transform_ast(compiler.ast_parse(source, filename=filename))
    flags = AWAIT_FLAG if getattr(shell, "autoawait", True) else 0
    with compiler.extra_flags(flags):
        return [compiler(mod, filename, mode) for mod, mode in _chunks(shell, list(tree.body), body)]


def needs_await(codes: Sequence[CodeType]) -> bool:
    """Whether the compiled body uses top-level ``await`` (and so must run as a coroutine)."""
    return any(code.co_flags & inspect.CO_COROUTINE for code in codes)


def run_body(shell: Any, codes: Sequence[CodeType]) -> None:
    """Run a synchronous body in the user's namespace; exceptions propagate."""
    __tracebackhide__ = True
    for code in codes:
        exec(code, shell.user_global_ns, shell.user_ns)


async def run_body_async(shell: Any, codes: Sequence[CodeType]) -> None:
    """Run a body with top-level ``await`` in the current task (so its context is the cell's)."""
    __tracebackhide__ = True
    for code in codes:
        value = eval(code, shell.user_global_ns, shell.user_ns)
        if code.co_flags & inspect.CO_COROUTINE:
            await value
