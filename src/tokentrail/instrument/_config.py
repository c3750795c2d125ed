"""Instrumentation settings: ``stream_usage`` lives in the core's settings (``tt.configure``, env, pyproject);
endpoints known to refuse ``stream_options`` are remembered here for the life of the process."""

from __future__ import annotations

import threading
from typing import Literal

from ..runs import config as _core

StreamUsage = Literal["auto", "never"]


class Rejections:
    """Base URLs that answered 400/422 to an injected ``stream_options``: never injected again."""

    __slots__ = ("_lock", "urls")

    def __init__(self) -> None:
        self.urls: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def remember(self, base_url: str) -> None:
        with self._lock:
            self.urls = self.urls | {base_url}

    def forget(self) -> None:
        with self._lock:
            self.urls = frozenset()


REJECTING = Rejections()


def stream_usage() -> StreamUsage:
    """``"auto"``: ask chat/completions streams for usage (``stream_options``); ``"never"``: don't."""
    return _core.SETTINGS.stream_usage


def configure(*, stream_usage: StreamUsage | None = None, forget_rejections: bool = False) -> None:
    """Set how streams are instrumented (same setting as ``tt.configure(stream_usage=...)``)."""
    if stream_usage is not None:
        _core.configure(stream_usage=stream_usage)
    if forget_rejections:
        REJECTING.forget()
