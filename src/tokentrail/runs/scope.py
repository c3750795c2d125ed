"""``track_usage``: a run as a context manager, an async context manager, or a decorator."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from contextvars import Token
from typing import Any, TypeVar

from .budget import Budget, OnExceed
from .context import _RUN, current_run
from .run import Run
from .tracker import TRACKER

F = TypeVar("F", bound=Callable[..., Any])


def _status(exc: BaseException | None) -> tuple[str, str | None]:
    if exc is None:
        return "done", None
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", "KeyboardInterrupt"
    return "error", type(exc).__name__


class track_usage:
    """Track every call inside as one run: ``with``, ``async with``, or ``@track_usage(...)``."""

    def __init__(
        self,
        name: str | None = None,
        *,
        budget_usd: float | None = None,
        budget_tokens: int | None = None,
        budget_calls: int | None = None,
        warn_at: tuple[float, ...] = (0.5, 0.8),
        on_exceed: OnExceed = "raise",
        tags: Mapping[str, object] | None = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"run name must be a str, got {type(name).__name__} {name!r}")
        if tags is not None and not isinstance(tags, Mapping):
            raise TypeError(f"tags must be a mapping of str to str, got {type(tags).__name__}")
        self.name = name
        self.tags = {str(k): str(v) for k, v in (tags or {}).items()}
        has_budget = budget_usd is not None or budget_tokens is not None or budget_calls is not None
        self.budget = (
            Budget(budget_usd, budget_tokens, budget_calls, tuple(warn_at), on_exceed) if has_budget else None
        )
        self._active: list[tuple[Run, Token[Run | None]]] = []

    def start(self) -> Run:
        """Start the run and make it current in this context (what ``__enter__`` does)."""
        run = TRACKER.start_run(self.name, tags=self.tags, parent=current_run(), budget=self.budget)
        self._active.append((run, _RUN.set(run)))
        return run

    def stop(self, exc: BaseException | None = None) -> Run:
        run, token = self._active.pop()
        try:
            _RUN.reset(token)
        except ValueError:  # reset from another context (e.g. an async generator finalizer)
            _RUN.set(run.parent)
        TRACKER.end_run(run, *_status(exc))
        return run

    def __enter__(self) -> Run:
        return self.start()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.stop(exc)

    async def __aenter__(self) -> Run:
        return self.start()

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.stop(exc)

    def _fresh(self, default_name: str) -> track_usage:
        clone = track_usage.__new__(track_usage)
        clone.name = self.name or default_name
        clone.tags = self.tags
        clone.budget = self.budget
        clone._active = []
        return clone

    def __call__(self, fn: F) -> F:
        """Decorate a function (sync or async): each call is a fresh run named after it."""
        if not callable(fn):
            raise TypeError(f"track_usage decorates a function, got {type(fn).__name__}")
        name = getattr(fn, "__qualname__", "run")
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh(name):
                    return await fn(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh(name):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]
