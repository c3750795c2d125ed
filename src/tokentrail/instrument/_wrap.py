"""Wrappers installed on the SDK classes: the client's ``request`` and retry sleep, stream helper ``close``.

Both SDKs (Stainless-generated) send every API call through ``SyncAPIClient.request`` /
``AsyncAPIClient.request`` and sleep in ``_sleep_for_retry`` between attempts, so one wrapper per
method covers every resource method, helper and raw-response variant, however it was bound. Every
Stainless ``request`` takes keyword-only ``stream`` and ``stream_cls``; the wrapper names them, so
the usual call is forwarded as it came, without packing arguments into a tuple and a dict.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from . import _fast
from ._call import _KINDS, FAST, STREAM, Adapter, Call, begin
from ._log import warn_exception
from ._stream import SEEN, end_helper_stream

Make = Callable[[Any], Any]


def sync_request(adapter: Adapter) -> Make:
    def make(original: Any) -> Any:
        request = _sync_python(adapter, original)
        if _fast.REQUEST is not None:  # the same in C for the usual signature (this one for any other)
            return _fast.REQUEST(adapter, original, request)
        return request

    return make


def _sync_python(adapter: Adapter, original: Any) -> Any:
    """The sync ``request`` wrapper in Python (where the C one is not built, or for another signature)."""

    def request(self: Any, cast_to: Any, options: Any, *args: Any, stream: bool = False,
                stream_cls: Any = None, **kwargs: Any) -> Any:  # fmt: skip
        call = begin(adapter, self, options, stream, False)
        if call is None:
            return original(self, cast_to, options, *args, stream=stream, stream_cls=stream_cls, **kwargs)
        try:  # (``call``, a local the retry sleep finds on the stack: see ``calling``)
            try:
                # (the C begin may have asked a stream for usage already: ``injected``)
                sent = adapter.prepare(call, options) if stream and not call.injected else options
                if args or kwargs:  # an older SDK's extra parameters (remaining_retries)
                    result = original(self, cast_to, sent, *args, stream=stream, stream_cls=stream_cls,
                                      **kwargs)  # fmt: skip
                else:  # the usual call, forwarded without packing (*args, **kwargs cost ~0.5 µs)
                    result = original(self, cast_to, sent, stream=stream, stream_cls=stream_cls)
                resend = False
            except BaseException as exc:
                if not call.refused(exc):
                    raise
                resend = True
            if resend:  # the endpoint refused stream_options (remembered): send it as the user wrote it
                result = original(self, cast_to, options, *args, stream=stream, stream_cls=stream_cls,
                                  **kwargs)  # fmt: skip
        except BaseException as exc:
            call.failed(exc)
            raise
        return call.succeeded(result)

    return request


def async_request(adapter: Adapter) -> Make:
    def make(original: Any) -> Any:
        async def request(self: Any, cast_to: Any, options: Any, *args: Any, stream: bool = False,
                          stream_cls: Any = None, **kwargs: Any) -> Any:  # fmt: skip
            call = begin(adapter, self, options, stream, True)
            if call is None:
                return await original(self, cast_to, options, *args, stream=stream, stream_cls=stream_cls,
                                      **kwargs)  # fmt: skip
            try:  # (``call``, a local the retry sleep finds up the chain of awaiting coroutines)
                if stream or args or kwargs:  # a stream (asked for usage, maybe refused), an older SDK's
                    result = await _send_async(adapter, original, call, self, cast_to, options, args,
                                               stream, stream_cls, kwargs)  # fmt: skip
                else:  # the usual call: nothing injected, so nothing to refuse; forwarded as it came
                    result = await original(self, cast_to, options, stream=stream, stream_cls=stream_cls)
            except BaseException as exc:
                call.failed(exc)
                raise
            return _fast.finish(call, result)  # ``Call.succeeded``: a parsed result read and queued in C

        return request

    return make


async def _send_async(
    adapter: Adapter, original: Any, call: Call, client: Any, cast_to: Any, options: Any,
    args: tuple[Any, ...], stream: bool, stream_cls: Any, kwargs: dict[str, Any],
) -> Any:  # fmt: skip
    """``request``'s send for a stream or extra parameters: ask a stream for usage, and where the
    endpoint refuses ``stream_options``, send it again as the user wrote it."""
    try:
        sent = adapter.prepare(call, options) if stream and not call.injected else options
        return await original(client, cast_to, sent, *args, stream=stream, stream_cls=stream_cls, **kwargs)
    except BaseException as exc:
        if not call.refused(exc):
            raise
    return await original(client, cast_to, options, *args, stream=stream, stream_cls=stream_cls, **kwargs)


_REQUESTS = frozenset((_sync_python(None, None).__code__, async_request(None)(None).__code__))  # type: ignore[arg-type]


def calling(frame: FrameType | None) -> Call | None:
    """The call of the nearest ``request`` wrapper up the stack from ``frame`` (for a coroutine, the
    chain of coroutines awaiting it). The SDK sleeps between attempts inside its ``request``, so a
    retry finds its call there: no thread- or context-local bookkeeping on every call for the rare
    retry."""
    while frame is not None:
        if frame.f_code in _REQUESTS:
            call: Call | None = frame.f_locals.get("call")
            return call
        frame = frame.f_back
    return None


def sync_sleep(original: Any) -> Any:
    """Between attempts: close the failed attempt's event, sleep as the SDK would, open the next one.
    (A call sent by the C wrapper has no frame on the stack: it is this thread's ``current_call``.)"""

    def _sleep_for_retry(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = _fast.current_call() or calling(sys._getframe(1))
        if call is not None:
            call.attempt_failed(self, kwargs.get("response"))
        result = original(self, *args, **kwargs)
        if call is not None:
            call.next_attempt()
        return result

    return _sleep_for_retry


def async_sleep(original: Any) -> Any:
    async def _sleep_for_retry(self: Any, *args: Any, **kwargs: Any) -> Any:
        call = calling(sys._getframe(1))
        if call is not None:
            call.attempt_failed(self, kwargs.get("response"))
        result = await original(self, *args, **kwargs)
        if call is not None:
            call.next_attempt()
        return result

    return _sleep_for_retry


def sync_helper_close(original: Any) -> Any:
    """Stream helpers that close the HTTP response directly also end the proxy they read from."""

    def close(self: Any) -> Any:
        try:
            return original(self)
        finally:
            end_helper_stream(self)

    return close


def async_helper_close(original: Any) -> Any:
    async def close(self: Any) -> Any:
        try:
            return await original(self)
        finally:
            end_helper_stream(self)

    return close


if _fast.SPEEDUPS is not None:  # what the C Request reads: begin and settle as now, result kinds
    _fast.SPEEDUPS.bind_request(globals(), vars(_fast), _KINDS, FAST, warn_exception, STREAM, SEEN)
