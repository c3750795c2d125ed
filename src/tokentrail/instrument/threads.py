"""While instrumented, threads and executor tasks started inside a run carry the caller's context.

``threading.Thread.start`` and ``ThreadPoolExecutor.submit`` copy the contextvars (``copy_context``)
when a run, context or tool span is active, so calls made there belong to that run. Executor worker
threads themselves are left alone: they outlive the run that happened to start them.
"""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import thread as _futures_thread
from typing import Any

from ..runs.context import _CTX, _RUN, _TOOL
from ._patch import Registry

_ATTR = "_tokentrail_context"


def inside_run() -> bool:
    """True when there is something to carry: a run, a ``tt.context(...)`` or a tool span."""
    return _RUN.get() is not None or _CTX.get() is not None or _TOOL.get() is not None


def _start(original: Any) -> Any:
    def start(self: threading.Thread) -> None:
        if inside_run() and getattr(self, "_target", None) is not _futures_thread._worker:
            self.__dict__[_ATTR] = contextvars.copy_context()
        original(self)

    return start


def _bootstrap_inner(original: Any) -> Any:
    def bootstrap(self: threading.Thread) -> None:
        ctx = self.__dict__.pop(_ATTR, None)
        if ctx is None:
            original(self)
        else:
            ctx.run(original, self)

    return bootstrap


def _submit(original: Any) -> Any:
    def submit(self: ThreadPoolExecutor, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if inside_run():
            return original(self, contextvars.copy_context().run, fn, *args, **kwargs)
        return original(self, fn, *args, **kwargs)

    return submit


def patch(registry: Registry) -> None:
    registry.patch("threads", threading.Thread, "start", _start)
    registry.patch("threads", threading.Thread, "_bootstrap_inner", _bootstrap_inner)
    registry.patch("threads", ThreadPoolExecutor, "submit", _submit)
