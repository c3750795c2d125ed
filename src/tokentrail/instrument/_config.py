"""Instrumentation settings: whether to ask streams for usage, and endpoints known to refuse it."""

from __future__ import annotations

import threading
from typing import Literal

StreamUsage = Literal["auto", "never"]


class Settings:
    """``stream_usage="auto"`` injects ``stream_options.include_usage``; "never" sends requests as written."""

    __slots__ = ("_lock", "rejecting", "stream_usage")

    def __init__(self) -> None:
        self.stream_usage: StreamUsage = "auto"
        self.rejecting: frozenset[str] = frozenset()  # base URLs that answered 400/422 to stream_options
        self._lock = threading.Lock()

    def remember_rejection(self, base_url: str) -> None:
        with self._lock:
            self.rejecting = self.rejecting | {base_url}


SETTINGS = Settings()


def configure(*, stream_usage: StreamUsage | None = None, forget_rejections: bool = False) -> None:
    """Set how streams are instrumented (``"auto"`` or ``"never"``); optionally forget refusing endpoints."""
    if stream_usage is not None:
        if stream_usage not in ("auto", "never"):
            raise ValueError(f"stream_usage must be 'auto' or 'never', got {stream_usage!r}")
        SETTINGS.stream_usage = stream_usage
    if forget_rejections:
        SETTINGS.rejecting = frozenset()
