"""One SDK request from start to event: attempts (retries), the result, a stream or a raw response."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..model import EventKind
from ..model.ids import next_number
from ..runs.budget import BudgetExceeded
from ..runs.calls import CallHandle, open_call, unreadable
from ..runs.config import SETTINGS
from ..runs.context import _CTX, _RUN, _TOOL, current_run
from ..runs.run import Run
from . import _fast
from ._client_url import base_url_key
from ._config import REJECTING
from ._fields import NO_FIELDS, Fields, dict_fields
from ._log import warn_once
from ._provider import ENDPOINTS, learn_endpoint
from ._raw import read_body, track
from ._stream import AsyncStreamProxy, StreamProxy, source

Reader = Callable[["Call", Any], Fields]


class Watcher(Protocol):
    """Watches a stream: ``see`` each chunk (True hides a chunk tokentrail injected), then ``fields``."""

    def see(self, chunk: Any) -> bool: ...

    def fields(self) -> Fields: ...

    def settled_in_c(self) -> bool: ...


class Adapter(Protocol):
    """What an SDK module tells the shared machinery; ``openai.py`` and ``anthropic.py`` implement it."""

    sdk: str
    operations: Mapping[str, tuple[str, EventKind]]  # request path -> (operation, event kind)
    readers: Mapping[str, Reader]  # operation -> what its parsed result reports
    stream_types: tuple[type, ...]
    raw_types: tuple[type, ...]
    fast_types: tuple[type, ...]  # parsed results the C hot path reads (``_fast.settle``; none without it)
    c_stream_ops: frozenset[str]  # operations whose sync streams the C proxy relays (``_fast.PROXY``)
    inject_ops: frozenset[str]  # operations whose streams ``prepare`` asks for usage (the C begin too)

    def prepare(self, call: Call, options: Any) -> Any: ...

    def watcher(self, call: Call) -> Watcher: ...

    def is_rejection(self, call: Call, exc: BaseException) -> bool: ...


class Call(CallHandle):
    """A request in flight, and the core's handle of its current attempt (each attempt the SDK sends
    reopens it with the next number, so each is finished exactly once into its own event)."""

    __slots__ = ("adapter", "asked", "base_url", "injected", "op", "stream")
    adapter: Adapter
    base_url: str
    op: str  # the operation: chat, responses, ...
    stream: bool
    injected: bool  # stream_options.include_usage was added to the request
    asked: tuple[dict[str, Any], Any] | None  # options' fields, the body the user wrote

    def finish_with(
        self, f: Fields, status: str = "ok", error_type: str | None = None, source: str | None = None
    ) -> None:
        if status == "ok" and f[0] is not None:
            self.settled(f)
        else:
            self.conclude(f, status, error_type, source if f[0] is None else None)  # type: ignore[arg-type]

    # -- attempts ------------------------------------------------------------------------------------
    def attempt_failed(self, client: Any, response: Any) -> None:
        """The SDK is about to retry: this attempt is an error event of its own."""
        try:
            if response is not None:
                try:
                    name = type(client._make_status_error("", body=None, response=response)).__name__
                except Exception:
                    name = "APIStatusError"
                self.finish_with(NO_FIELDS, "error", name, "none")
            else:
                exc = sys.exc_info()[1]
                name = type(exc).__name__ if exc is not None else "APIConnectionError"
                if exc is not None and not type(exc).__module__.startswith(self.adapter.sdk):
                    name = "APITimeoutError" if "timeout" in name.lower() else "APIConnectionError"
                self.finish_with(NO_FIELDS, "error", name, "missing")
        except Exception:
            warn_once("retry accounting")

    def next_attempt(self) -> None:
        """The SDK sends the request again: a new event with the next attempt number (budgets re-checked)."""
        kind, provider, model, operation, method, _ = self._head
        open_call(self, provider, model, operation, method, self.is_async, kind, self._tail[4] + 1)

    def refused(self, exc: BaseException) -> bool:
        """True if the endpoint rejected the injected ``stream_options``: remember it, send without."""
        if not self.injected or not self.adapter.is_rejection(self, exc):
            return False
        REJECTING.remember(self.base_url)
        self.injected = False
        if self.asked is not None:  # the body was changed in place: send the user's own again
            fields, data = self.asked
            fields["json_data"] = data
        return True

    # -- outcomes ------------------------------------------------------------------------------------
    def failed(self, exc: BaseException) -> None:
        """The request raised: an error event with whatever usage the error body carried."""
        try:
            response = getattr(exc, "response", None)  # the SDK keeps only part of the body in exc.body
            body = read_body(response) if response is not None else getattr(exc, "body", None)
            f = dict_fields(body, self.provider) if isinstance(body, dict) else NO_FIELDS
            source = "none" if hasattr(exc, "status_code") else "missing"
            self.finish_with(f, "error", type(exc).__name__, source)
        except Exception:
            warn_once("error accounting")

    def succeeded(self, result: Any) -> Any:
        """Record a parsed result, or hand back a watched stream; raw responses wait for ``parse()``."""
        try:
            kind = _KINDS.get(type(result))
            if kind == FAST and _fast.settle(self, result):  # read and queued in C
                return result
        except Exception:
            warn_once("result accounting")
            return result
        return self.read_result(result, kind)

    def read_result(self, result: Any, kind: int | None) -> Any:
        """``succeeded`` past the C hot path (``kind``: the result type's, if known); the C request
        wrapper calls it where C did not settle the call."""
        try:
            adapter = self.adapter
            if kind is None:
                kind = _kind_of(adapter, result)
            if kind == STREAM:
                return self.watch(result)
            if kind == RAW:
                track(self, result)
                return result
            try:  # settle(), inlined: read now (the result is not kept); counted now or at the next read
                outcome = adapter.readers[self.op](self, result)
            except Exception as exc:
                outcome = unreadable(result, exc)
            self.settled(outcome)
        except Exception:
            warn_once("result accounting")
        return result

    def watch(self, stream: Any) -> Any:
        if self.op in self.adapter.c_stream_ops and not self.is_async:  # relayed and ended in C
            return _fast.PROXY(stream, iter(source(stream)), self, self.injected, _fast.settle)
        watcher = self.adapter.watcher(self)
        done = False

        def end(status: str, exc: BaseException | None) -> None:
            nonlocal done
            if not done:
                done = True
                self.end_watched(watcher, status, exc)

        proxy = AsyncStreamProxy if self.is_async else StreamProxy
        return proxy(stream, watcher, end)

    def end_watched(self, watcher: Watcher, status: str, exc: BaseException | None) -> None:
        """The stream ended (once): its event from what ``watcher`` saw."""
        try:
            error = None if exc is None else type(exc).__name__
            failed = getattr(watcher, "error", None)  # the provider said the response failed
            if failed is not None and status == "ok":
                status, error = "error", failed
            elif status == "ok" and _fast.SPEEDUPS is not None and watcher.settled_in_c():  # in C
                return
            self.finish_with(watcher.fields(), status, error, "missing")
        except Exception:
            warn_once("stream accounting")


PARSED, STREAM, RAW, FAST = 0, 1, 2, 3  # FAST: parsed, of a type the C hot path reads
_KINDS: dict[type, int] = {}  # result type -> what it is, learned once per type


def _kind_of(adapter: Adapter, result: Any) -> int:
    kind = (
        STREAM
        if isinstance(result, adapter.stream_types)
        else RAW
        if isinstance(result, adapter.raw_types)
        else FAST
        if type(result) in adapter.fast_types
        else PARSED
    )
    if len(_KINDS) < 1024:
        _KINDS[type(result)] = kind
    return kind


def begin(adapter: Adapter, client: Any, options: Any, stream: bool, is_async: bool) -> Call | None:
    """A started ``Call`` if this request is an LLM call tokentrail records, else None (pass it through)."""
    try:
        url = options.url
        found = adapter.operations.get(url)  # a request path, maybe with a query
        if found is None:
            if "?" not in url:
                return None
            found = adapter.operations.get(url.split("?", 1)[0])
            if found is None:
                return None
        base = getattr(client, "_base_url", None)
        if base is None:
            base = client.base_url
        endpoint = ENDPOINTS.get(id(base))  # (it, provider, text), learned once per base-URL object
        if endpoint is None or endpoint[0] is not base:
            endpoint = learn_endpoint(base, adapter.sdk)
        data = options.json_data
        model = data.get("model") if type(data) is dict else None
        call: Call = _allocate(Call)
        call.adapter = adapter
        call.base_url = endpoint[2]
        call.op = op = found[0]
        call.stream = stream
        call.injected = False
        call.asked = None
        open_call(call, endpoint[1], model if type(model) is str else None, op,
                  "stream" if stream else "generate", is_async, found[1], 1)  # fmt: skip
        return call
    except (BudgetExceeded, Warning):
        raise
    except Exception:
        warn_once("call start")
        return None


def _watcher_of(call: Call) -> Watcher:
    """The watcher the C proxy's generic relay reads with (a chunk it cannot read itself)."""
    return call.adapter.watcher(call)


def _end_stream(
    call: Call, watcher: Any, last: Any, usage_chunk: Any, status: str, exc: BaseException | None
) -> None:
    """The C proxy's end where C did not settle the call (no usage, extras, a partial end ...): the
    watcher's, given what the proxy saw (its own, where the generic relay read the rest)."""
    if watcher is None:
        watcher = _watcher_of(call)
        watcher.last, watcher.usage_chunk = last, usage_chunk
    call.end_watched(watcher, status, exc)


_allocate = object.__new__
begin_python = begin
OWN_TYPES = (Run,)
OWN_NAMES = ("call_view",)  # what a call reads from its run (the ledger's switches are read by slot)


def bind_own() -> int:
    """Let C read these names from a run's, the tracker's, the ledger's and the hub's instance dicts
    directly (the types that define none of them as a descriptor); how many types were bound."""
    return 0 if _fast.SPEEDUPS is None else int(_fast.SPEEDUPS.bind_own(OWN_TYPES, OWN_NAMES))


if _fast.SPEEDUPS is not None:  # the usual start in C; anything else (budgets, call_start ...) as above
    _fast.SPEEDUPS.bind_begin(
        begin_python, Call, ENDPOINTS, _RUN, _TOOL, _CTX, current_run, next_number, base_url_key
    )
    begin = _fast.SPEEDUPS.begin
    _fast.SPEEDUPS.bind_streams(_end_stream, _watcher_of)
    _fast.SPEEDUPS.bind_inject(SETTINGS, REJECTING)  # prepare's usual case, done as the call starts
    bind_own()
