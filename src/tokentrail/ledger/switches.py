"""What every call asks before it takes the short path, kept in one small object: the C hot path reads
its slots (one cold cache line) instead of a dict lookup on the tracker, the ledger and the hub each."""

from __future__ import annotations

import threading


class Switches:
    """``quiet_start``: nothing is checked or told when a call starts (no global budget, no
    ``call_start`` subscriber); ``quiet_end``: nothing wants a call's event as it ends (no global
    budget's counter, no per-event ``usage`` subscriber); ``fold_at``: the queue length that folds it.
    Set only through ``update``, by the ledger and the hub, whenever what they depend on changes."""

    __slots__ = ("_counter", "_each", "_lock", "_starts", "fold_at", "quiet_end", "quiet_start")

    def __init__(self, fold_at: int) -> None:
        self._lock = threading.Lock()  # two changes at once (a budget, a subscriber) both land
        self._counter = self._starts = self._each = False
        self.quiet_start = self.quiet_end = True
        self.fold_at = fold_at

    def update(
        self, *, counter: bool | None = None, starts: bool | None = None, each: bool | None = None
    ) -> None:
        """Record what changed (a global budget's ``counter``, a ``call_start`` subscriber, a usage
        subscriber wanting ``each`` event) and recompute the two switches."""
        with self._lock:
            if counter is not None:
                self._counter = counter
            if starts is not None:
                self._starts = starts
            if each is not None:
                self._each = each
            self.quiet_start = not (self._counter or self._starts)
            self.quiet_end = not (self._counter or self._each)
