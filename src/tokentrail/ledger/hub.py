"""Subscribers by kind, each isolated: a failing one is logged once and never reaches the caller."""

from __future__ import annotations

import inspect
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .switches import Switches

if TYPE_CHECKING:
    import asyncio

log = logging.getLogger("tokentrail")

KINDS = ("usage", "call_start", "tool_start", "tool_end", "response", "budget", "run_start", "run_end")


class Subscription:
    """One subscriber; ``remove()`` (or leaving its ``with`` block) unsubscribes it."""

    __slots__ = ("_hub", "batched", "failures", "fn", "is_async", "kind")

    def __init__(self, hub: Hub, kind: str, fn: Callable[[Any], Any], batched: bool = False) -> None:
        self._hub = hub
        self.kind = kind
        self.fn = fn
        self.batched = batched
        self.is_async = inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
            getattr(fn, "__call__", None)  # noqa: B004
        )
        self.failures = 0

    def remove(self) -> None:
        self._hub.remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.failures == 1:
            log.error(
                "tokentrail: %s subscriber %r raised %s: %s (logged once; the call it watched went on)",
                self.kind, getattr(self.fn, "__qualname__", self.fn), type(exc).__name__, exc,
                exc_info=(type(exc), exc, exc.__traceback__),
            )  # fmt: skip

    def __repr__(self) -> str:
        return f"Subscription({self.kind!r}, {getattr(self.fn, '__qualname__', self.fn)!r})"


class _AsyncRunner:
    """One background event-loop thread for all async subscribers; batched, never a loop per event."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Subscription, Any]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False
        self._lock = threading.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                import asyncio

                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="tokentrail-async", daemon=True)
                thread.start()
                self._loop = loop
            return self._loop

    def submit(self, sub: Subscription, payload: Any) -> None:
        self._queue.append((sub, payload))
        if not self._scheduled:
            self._scheduled = True
            self._ensure_loop().call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        import asyncio

        self._scheduled = False
        while self._queue:
            sub, payload = self._queue.popleft()
            try:
                task = asyncio.ensure_future(sub.fn(payload))
            except Exception as exc:
                sub.failed(exc)
                continue
            self._tasks.add(task)
            task.add_done_callback(lambda t, s=sub: self._done(t, s))

    def _done(self, task: asyncio.Task[Any], sub: Subscription) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            sub.failed(task.exception())  # type: ignore[arg-type]

    def pending(self) -> int:
        return len(self._queue) + len(self._tasks)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued async handlers have run (tests, shutdown); True when all finished."""
        import time

        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self.pending()


class Hub:
    """Subscribers per kind; emitting iterates an immutable tuple, so no lock is held while they run."""

    def __init__(self, switches: Switches | None = None) -> None:
        self.switches = Switches(0) if switches is None else switches  # told when ``active`` changes
        self._subs: dict[str, tuple[Subscription, ...]] = {}
        self._lock = threading.Lock()
        self.runner = _AsyncRunner()
        self.batched_usage: tuple[Subscription, ...] = ()  # ``usage`` subscribers content with batches
        self.active: frozenset[str] = frozenset()  # kinds with at least one subscriber (a set lookup)

    def subscribe(self, kind: str, fn: Callable[[Any], Any], *, batched: bool = False) -> Subscription:
        """``fn`` gets every event of ``kind``; ``batched=True`` (``usage`` only): it may get them late,
        when the ledger folds its queue (from the thread that reads), so calls need not build each one."""
        if kind not in KINDS:
            raise ValueError(f"unknown event kind {kind!r}; expected one of {', '.join(KINDS)}")
        if not callable(fn):
            raise TypeError(f"subscriber must be callable, got {type(fn).__name__}")
        if batched and kind != "usage":
            raise ValueError(f"only usage subscribers can be batched, not {kind!r}")
        sub = Subscription(self, kind, fn, batched)
        with self._lock:
            self._subs[kind] = (*self._subs.get(kind, ()), sub)
            self._changed()
        return sub

    def remove(self, sub: Subscription) -> None:
        with self._lock:
            self._subs[sub.kind] = tuple(s for s in self._subs.get(sub.kind, ()) if s is not sub)
            self._changed()

    def _changed(self) -> None:
        self.active = frozenset(kind for kind, subs in self._subs.items() if subs)
        subs = self._subs.get("usage", ())
        self.batched_usage = tuple(s for s in subs if s.batched)
        # a usage subscriber that wants each event as it happens: calls count at once
        self.switches.update(starts="call_start" in self.active, each=any(not s.batched for s in subs))

    def has(self, kind: str) -> bool:
        return kind in self.active

    def emit(self, kind: str, payload: Any) -> None:
        subs = self._subs.get(kind)
        if subs:
            self.emit_to(subs, payload)

    def emit_to(self, subs: tuple[Subscription, ...], payload: Any) -> None:
        """Deliver ``payload`` to ``subs``, each isolated (async ones on the background loop)."""
        for sub in subs:
            if sub.is_async:
                self.runner.submit(sub, payload)
                continue
            try:
                sub.fn(payload)
            except Exception as exc:
                sub.failed(exc)

    def subscriptions(self) -> list[Subscription]:
        return [s for subs in self._subs.values() for s in subs]
