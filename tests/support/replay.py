"""A scripted HTTP server on loopback replaying provider-documented payloads the small model cannot produce.

Each request takes the next scripted :class:`Reply` (the last one repeats); every request is kept in
``.requests`` so a test can check what the SDK actually sent (retries, injected ``stream_options``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a JSON body, or SSE events when ``events`` is set."""

    body: Any = None
    status: int = 200
    events: tuple[tuple[str | None, Any], ...] | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Sent:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any = None


def json_reply(body: Any, status: int = 200, **headers: str) -> Reply:
    return Reply(
        body=body, status=status, headers=tuple((k.replace("_", "-"), v) for k, v in headers.items())
    )


def sse_reply(events: Iterable[Any], *, done: bool = True, named: bool = False) -> Reply:
    """SSE events: dicts as ``data:`` lines (``event:`` set from ``type`` when ``named``), then ``[DONE]``."""
    out: list[tuple[str | None, Any]] = [((e.get("type") if named else None), e) for e in events]
    if done:
        out.append((None, "[DONE]"))
    return Reply(events=tuple(out))


def error_reply(status: int, message: str, *, retry_after_ms: int | None = 1, body: Any = None) -> Reply:
    """An error in OpenAI's shape; ``retry-after-ms`` keeps SDK retries instant."""
    headers = (("retry-after-ms", str(retry_after_ms)),) if retry_after_ms is not None else ()
    payload = body if body is not None else {"error": {"message": message, "type": "error", "code": status}}
    return Reply(body=payload, status=status, headers=headers)


@dataclass
class _Script:
    replies: list[Reply] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, sent: Sent) -> Reply:
        with self.lock:
            self.sent.append(sent)
            if not self.replies:
                return error_reply(599, "replay: nothing scripted", retry_after_ms=None)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 10

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        size = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(size) if size else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        reply = self.server.script.next(Sent(self.command, self.path, dict(self.headers.items()), body))
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.events is None:
            data = json.dumps(reply.body).encode()
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        chunks = []
        for event, data in reply.events:
            text = data if isinstance(data, str) else json.dumps(data)
            chunks.append((f"event: {event}\n" if event else "") + f"data: {text}\n\n")
        payload = "".join(chunks).encode()
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: _Script


class ReplayServer:
    """Start with ``with ReplayServer() as srv:``; ``srv.script(reply, ...)`` queues answers in order."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.script = _Script()
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    def script(self, *replies: Reply) -> ReplayServer:
        """Replace the queue of answers (the last one repeats for any further request)."""
        with self._server.script.lock:
            self._server.script.replies = list(replies)
            self._server.script.sent.clear()
        return self

    @property
    def requests(self) -> list[Sent]:
        with self._server.script.lock:
            return list(self._server.script.sent)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Sent]:
        return iter(self.requests)
