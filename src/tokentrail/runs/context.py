"""Who is calling: the active run and call context, carried by contextvars (with a fallback resolver)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ..model import EMPTY_CONTEXT, CallContext

if TYPE_CHECKING:
    from .run import Run

_RUN: ContextVar[Run | None] = ContextVar("tokentrail_run", default=None)
# None when no ``context()`` is active: what a call keeps is then plain values the collector can skip
_CTX: ContextVar[CallContext | None] = ContextVar("tokentrail_context", default=None)
_TOOL: ContextVar[str | None] = ContextVar("tokentrail_tool", default=None)
_resolvers: list[Callable[[], Run | None]] = []


def add_run_resolver(fn: Callable[[], Run | None]) -> Callable[[], None]:
    """Register where to find the run when the contextvar is empty (the executing cell); returns a remover."""
    _resolvers.append(fn)

    def remove() -> None:
        if fn in _resolvers:
            _resolvers.remove(fn)

    return remove


def current_run() -> Run | None:
    """The innermost active run: the contextvar's, else the one a registered resolver finds."""
    run = _RUN.get()
    if run is None and _resolvers:
        for resolve in _resolvers:
            try:
                run = resolve()
            except Exception:
                run = None
            if run is not None:
                break
    return run


def current_context() -> CallContext:
    return _CTX.get() or EMPTY_CONTEXT


def _str_or_none(name: str, value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")


@contextmanager
def context(
    agent: str | None = None,
    session_id: str | None = None,
    user: str | None = None,
    tags: Mapping[str, str] | None = None,
    **more_tags: str,
) -> Iterator[CallContext]:
    """Annotate every call inside: nested contexts merge (inner values win, tags are combined)."""
    outer = _CTX.get() or EMPTY_CONTEXT
    merged_tags = {**outer.tags, **{str(k): str(v) for k, v in {**(tags or {}), **more_tags}.items()}}
    ctx = CallContext(
        agent=_str_or_none("agent", agent) or outer.agent,
        session_id=_str_or_none("session_id", session_id) or outer.session_id,
        user=_str_or_none("user", user) or outer.user,
        handoffs=outer.handoffs,
        tags=merged_tags,
    )
    token = _CTX.set(ctx)
    try:
        yield ctx
    finally:
        _CTX.reset(token)


def handoff(agent: str) -> CallContext:
    """Append ``agent`` to the handoff chain of the current context and make it the acting agent."""
    if not isinstance(agent, str) or not agent:
        raise TypeError(f"handoff takes an agent name (non-empty str), got {agent!r}")
    outer = _CTX.get() or EMPTY_CONTEXT
    ctx = CallContext(
        agent=agent,
        session_id=outer.session_id,
        user=outer.user,
        handoffs=(*outer.handoffs, agent),
        tags=outer.tags,
    )
    _CTX.set(ctx)
    return ctx
