"""``report_every``: a summary every N seconds from one daemon thread, until removed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .tracker import TRACKER


class Periodic:
    """A running periodic report; ``remove()`` stops it."""

    def __init__(self, seconds: float, fn: Callable[[Any], Any]) -> None:
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ValueError(f"report_every needs seconds > 0, got {seconds!r}")
        self.seconds = float(seconds)
        self.fn = fn
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tokentrail-report", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.fn(TRACKER.report())
            except Exception:  # a failing reporter must not kill the session
                import logging

                logging.getLogger("tokentrail").exception("tokentrail: report_every callback failed")

    def remove(self) -> None:
        self._stop.set()

    def __enter__(self) -> Periodic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def report_every(seconds: float, fn: Callable[[Any], Any] = print) -> Periodic:
    """Call ``fn(tracker.report())`` every ``seconds`` from a daemon thread."""
    return Periodic(seconds, fn)
