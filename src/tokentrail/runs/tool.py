"""Tool spans: a timed ``with tt.tool("search")`` (or decorator) that calls inside are attributed to."""

from __future__ import annotations

import enum
import functools
import inspect
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..model import EMPTY_CONTEXT, UsageEvent
from ..model.ids import new_id
from .calls import _after
from .context import _CTX, _TOOL, current_run
from .tracker import TRACKER

F = TypeVar("F", bound=Callable[..., Any])


class Tool(str, enum.Enum):
    """Common tool kinds; any ``str`` is accepted as a tool name too."""

    SEARCH = "search"
    EMBED = "embed"
    READ = "read"
    WRITE = "write"
    RERANK = "rerank"
    CHUNK = "chunk"
    RETRIEVE = "retrieve"
    MEMORY = "memory"
    CODE = "code"
    BROWSE = "browse"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


def tool_name(name: object) -> str:
    if isinstance(name, Tool):
        return name.value
    if isinstance(name, str) and name:
        return name
    raise TypeError(f"tool name must be a non-empty str or tt.Tool, got {type(name).__name__} {name!r}")


@dataclass(slots=True)
class ToolSpan:
    """Payload of ``tool_start``/``tool_end``: a tool's name, timing and run; argument names only."""

    id: str
    name: str
    started_at: float
    run_id: str | None
    arg_names: tuple[str, ...] = ()
    ended_at: float | None = None
    status: str = "running"
    error_type: str | None = None
    event: UsageEvent | None = field(default=None, repr=False)


class tool:
    """Time a tool as a span; LLM calls inside count toward it in ``by_tool()``."""

    def __init__(self, name: str | Tool, args: Mapping[str, Any] | None = None) -> None:
        self.name = tool_name(name)
        self.arg_names = tuple(str(k) for k in (args or {}))
        self._stack: list[tuple[ToolSpan, Any]] = []

    def __enter__(self) -> ToolSpan:
        run = current_run()
        span = ToolSpan(new_id(), self.name, time.time(), None if run is None else run.id, self.arg_names)
        self._stack.append((span, _TOOL.set(self.name)))
        TRACKER.ledger.hub.emit("tool_start", span)
        return span

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        span, token = self._stack.pop()
        _TOOL.reset(token)
        span.ended_at = time.time()
        span.status = "ok" if exc is None else "error"
        span.error_type = None if exc is None else type(exc).__name__
        run = current_run()
        event = UsageEvent(
            span.id, "tool", None, None, "tool", "span", span.started_at, span.ended_at,
            status=span.status,  # type: ignore[arg-type]
            usage_source="none", error_type=span.error_type, tool=self.name,
            run_id=None if run is None else run.id, run_path=() if run is None else run.path,
            context=_CTX.get() or EMPTY_CONTEXT,
            metadata={"arg_names": list(self.arg_names)} if self.arg_names else None,
        )  # fmt: skip
        span.event = event
        _after(event, run)
        TRACKER.ledger.hub.emit("tool_end", span)

    async def __aenter__(self) -> ToolSpan:
        return self.__enter__()

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.__exit__(exc_type, exc, tb)

    def __call__(self, fn: F) -> F:
        name = self.name
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with tool(name, dict.fromkeys(kwargs)):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with tool(name, dict.fromkeys(kwargs)):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
