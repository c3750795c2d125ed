"""Stream proxies: forward everything to the SDK's stream, watch each chunk in O(1), end exactly once.

A stream ends by exhaustion (``ok``), or by ``close()``, ``__exit__``, an exception (KeyboardInterrupt
included) or garbage collection before that (``partial``). Collection is watched on the relaying
generator, not the proxy: ``for chunk in client...create(stream=True)`` drops the proxy at once and
keeps only the generator. A sync generator is primed into its ``with Ending`` block, so collecting it
closes it there; an async one is watched with ``weakref.finalize``. The generator never refers to its
proxy (no cycle waiting for the collector).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Protocol

from ._fast import PROXY
from ._log import warn_once

End = Callable[[str, "BaseException | None"], None]


class Watcher(Protocol):
    """Sees each chunk: ``see`` returns True for a chunk tokentrail caused (hidden from the user).
    ``relay(stream, end)`` (optional) is watching and ending as one generator, for the sync hot path:
    no call per chunk, and one generator, not two (each running generator is one more link that every
    exception raised under it walks, and the SDK raises ~1,700 per stream). It must enter
    ``with Ending(end):`` and ``yield None`` there before it touches the stream: ``_relaying`` primes
    it to that point."""

    def see(self, chunk: Any) -> bool: ...


class Ending:
    """``with Ending(end):`` around a relay's loop ends the call once it leaves: ``ok`` when the stream
    ran out, else ``partial`` (with the exception, if one). A class, not a generator: no extra link."""

    __slots__ = ("end",)

    def __init__(self, end: End) -> None:
        self.end = end

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if kind is None:
            self.end("ok", None)
        else:
            self.end("partial", None if kind is GeneratorExit else exc)


_PLAIN: set[Any] = set()  # SDK streams' ``__iter__``/``__aiter__`` that only relay ``self._iterator``


def learn_plain(*classes: type) -> None:
    """Remember each class's ``__iter__``/``__aiter__`` whose body only relays ``self._iterator``
    (openai's; not anthropic's, which also feeds an observer): a relay then reads ``_iterator``
    itself, so an instrumented stream runs as many generators per chunk as a bare one."""
    for cls in classes:
        for name in ("__iter__", "__aiter__"):
            fn = cls.__dict__.get(name)
            code = getattr(fn, "__code__", None)
            if code is not None and code.co_names == ("_iterator",):
                _PLAIN.add(fn)


SEEN: dict[type, Any] = {}  # stream type -> its __iter__ where plain, else None (the C watch reads it)


def source(stream: Any) -> Any:
    """What a sync relay iterates: the SDK's own generator where the stream's ``__iter__`` is plain."""
    fn = type(stream).__iter__
    plain = fn in _PLAIN
    if len(SEEN) < 256:
        SEEN[type(stream)] = fn if plain else None
    return stream._iterator if plain else stream


def asource(stream: Any) -> Any:
    """``source`` for an async relay: the SDK's own async generator where ``__aiter__`` is plain."""
    return stream._iterator if getattr(type(stream), "__aiter__", None) in _PLAIN else stream


def _relay(stream: Any, watcher: Watcher, end: End) -> Iterator[Any]:
    see = watcher.see
    with Ending(end):
        yield None  # primed (``_relaying``)
        for chunk in source(stream):
            try:
                if see(chunk):
                    continue
            except Exception:  # a watcher bug: stop watching, never disturb the user's loop
                warn_once("stream chunk")
                see = _ignore
            yield chunk


def _relaying(stream: Any, watcher: Watcher, end: End) -> Iterator[Any]:
    """The watcher's own relay where it has one, else the generic one, primed: run to its first
    ``yield None``, inside ``with Ending(end)``, before it touches the stream. Collected from there
    (never iterated, or dropped mid-way), the generator is closed where it stands and ``Ending`` ends
    the call as ``partial``: no ``weakref.finalize`` per stream (~100 bytecodes)."""
    relay = getattr(watcher, "relay", None)
    it: Iterator[Any] = relay(stream, end) if relay is not None else _relay(stream, watcher, end)
    next(it)
    return it


async def _arelay(stream: Any, watcher: Watcher, end: End) -> AsyncIterator[Any]:
    see = watcher.see
    with Ending(end):
        async for chunk in asource(stream):
            try:
                if see(chunk):
                    continue
            except Exception:
                warn_once("stream chunk")
                see = _ignore
            yield chunk


def _ignore(chunk: Any) -> bool:
    return False


class _Proxy:
    """What both proxies share: attribute forwarding and ``isinstance`` answering for the wrapped stream."""

    __slots__ = ("__wrapped__", "_tt_end", "_tt_iter")
    __wrapped__: Any
    _tt_end: End

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(proxy, openai.Stream) stays True
        return type(self.__wrapped__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__wrapped__, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _Proxy.__slots__:
            object.__setattr__(self, name, value)
        else:
            setattr(self.__wrapped__, name, value)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


def _watch(it: Any, end: End) -> Any:
    """End the call as ``partial`` when the relaying async generator is collected (if nothing ended it
    first). An async generator cannot be primed without a loop, so it is watched from outside."""
    weakref.finalize(it, end, "partial", None).atexit = False
    return it


class StreamProxy(_Proxy):
    """A sync stream (``openai.Stream``, ``anthropic.Stream``) as the user sees it."""

    __slots__ = ()

    def __init__(self, stream: Any, watcher: Watcher, end: End) -> None:
        object.__setattr__(self, "__wrapped__", stream)
        object.__setattr__(self, "_tt_end", end)
        object.__setattr__(self, "_tt_iter", _relaying(stream, watcher, end))

    def __iter__(self) -> Iterator[Any]:
        it: Iterator[Any] = self._tt_iter
        return it

    def __next__(self) -> Any:
        return next(self._tt_iter)

    def __enter__(self) -> StreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._tt_end("partial", None)

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._tt_end("partial", None)


class AsyncStreamProxy(_Proxy):
    """An async stream (``openai.AsyncStream``, ``anthropic.AsyncStream``) as the user sees it."""

    __slots__ = ()

    def __init__(self, stream: Any, watcher: Watcher, end: End) -> None:
        object.__setattr__(self, "__wrapped__", stream)
        object.__setattr__(self, "_tt_end", end)
        object.__setattr__(self, "_tt_iter", _watch(_arelay(stream, watcher, end), end))

    def __aiter__(self) -> AsyncIterator[Any]:
        it: AsyncIterator[Any] = self._tt_iter
        return it

    def __anext__(self) -> Any:
        return self._tt_iter.__anext__()

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._tt_end("partial", None)

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._tt_end("partial", None)

    async def aclose(self) -> None:
        await self.close()


def end_helper_stream(helper: Any) -> None:
    """A stream helper (``ChatCompletionStream`` ...) was closed: end the proxy it reads from, if any."""
    raw = getattr(helper, "_raw_stream", None)
    if raw is not None and type(raw) in PROXIES:
        raw._tt_end("partial", None)


PROXIES: tuple[type, ...] = (StreamProxy, AsyncStreamProxy) + (() if PROXY is None else (PROXY,))
