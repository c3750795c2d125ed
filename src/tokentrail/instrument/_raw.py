"""Raw responses (``with_raw_response``, ``with_streaming_response``): the user's object as the SDK made
it, with one private instance attribute (``_parse``) that watches its parse.

A body already read is accounted at once; otherwise the call waits for ``parse()`` (which may give a
stream, then watched), or is recorded with usage ``missing`` when the response is dropped unparsed.
"""

from __future__ import annotations

import json
import weakref
from typing import TYPE_CHECKING, Any

from ._fields import NO_FIELDS, dict_fields
from ._log import warn_once

if TYPE_CHECKING:
    from ._call import Call

_pending: dict[int, Call] = {}  # by id(response); a finalizer removes the entry before the id is reused


def read_body(http: Any) -> Any:
    """The JSON body if it was already read, else None (never reads the network)."""
    try:
        if not getattr(http, "is_stream_consumed", True) and not hasattr(http, "_content"):
            return None
        return json.loads(http.content)
    except Exception:
        return None


def track(call: Call, response: Any) -> None:
    http = getattr(response, "http_response", None)
    if not call.stream and http is not None and hasattr(http, "_content"):
        call.finish_with(dict_fields(read_body(http), call.provider))
        return
    _pending[id(response)] = call
    weakref.finalize(response, _dropped, id(response), call, http)
    response._parse = _watched_parse(response)


def _dropped(key: int, call: Call, http: Any) -> None:
    """The raw response was never parsed: use its body if it was read, else record usage missing."""
    if _pending.get(key) is call:
        del _pending[key]
    try:
        data = read_body(http) if http is not None and not call.stream else None
        call.finish_with(
            dict_fields(data, call.provider) if data is not None else NO_FIELDS, "ok", None, "missing"
        )
    except Exception:
        warn_once("raw response")


def _closed(response: Any) -> None:
    call = _pending.pop(id(response), None) if _pending else None
    if call is not None:
        _dropped(id(response), call, getattr(response, "http_response", None))


def sync_close(original: Any) -> Any:
    """``close()`` of a raw response never parsed (a ``with_streaming_response`` block ended): record it."""

    def close(self: Any) -> Any:
        try:
            return original(self)
        finally:
            _closed(self)

    return close


def async_close(original: Any) -> Any:
    async def close(self: Any) -> Any:
        try:
            return await original(self)
        finally:
            _closed(self)

    return close


def _watched_parse(response: Any) -> Any:
    """``_parse`` for this one response (an instance attribute over the class's method): the pending
    call is accounted with what was parsed. Only responses handed to the user get it, so the SDK's own
    parse of every other call runs unwrapped. Holds the response weakly: no cycle delays its finalizer."""
    original = type(response)._parse  # the SDKs' ``_parse(self, *, to)``
    ref = weakref.ref(response)

    def _parse(*, to: Any = None, **kwargs: Any) -> Any:
        self = ref()
        call = _pending.pop(id(self), None)
        if call is None:
            return original(self, to=to, **kwargs)
        try:
            result = original(self, to=to, **kwargs)
        except BaseException:
            _pending[id(self)] = call
            raise
        return call.succeeded(result)

    return _parse
