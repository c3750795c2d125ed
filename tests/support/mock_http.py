"""The real SDKs over ``httpx2.MockTransport``: canned JSON or SSE bodies, optionally failing mid-stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2


def sse(events: list[Any], *, done: bool = True, named: bool = False) -> list[bytes]:
    out = [
        ((f"event: {e['type']}\n" if named else "") + f"data: {json.dumps(e)}\n\n").encode() for e in events
    ]
    return [*out, b"data: [DONE]\n\n"] if done else out


class Body(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """Yields ``parts``; then raises ``fail`` (after ``fail_after`` parts) if given."""

    def __init__(self, parts: list[bytes], fail: BaseException | None = None, fail_after: int = 0) -> None:
        self.parts, self.fail, self.fail_after = parts, fail, fail_after

    def __iter__(self) -> Iterator[bytes]:
        for i, part in enumerate(self.parts):
            if self.fail is not None and i == self.fail_after:
                raise self.fail
            yield part

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self:
            yield part


class Canned:
    """A transport handler answering every request with the next canned response; keeps the requests."""

    def __init__(self, *bodies: Any) -> None:
        self.bodies = list(bodies)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        if isinstance(body, Body):
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, stream=body)
        if isinstance(body, httpx2.Response):
            return body
        return httpx2.Response(200, json=body)


def openai_client(handler: Canned, *, is_async: bool = False, **kw: Any) -> Any:
    import openai

    transport = httpx2.MockTransport(handler)
    url = "https://api.openai.com/v1"
    if is_async:
        http = openai.DefaultAsyncHttpxClient(transport=transport)
        return openai.AsyncOpenAI(api_key="sk-test", base_url=url, http_client=http, max_retries=0, **kw)
    sync_http = openai.DefaultHttpxClient(transport=transport)
    return openai.OpenAI(api_key="sk-test", base_url=url, http_client=sync_http, max_retries=0, **kw)


def anthropic_client(handler: Canned, **kw: Any) -> Any:
    import anthropic

    http = anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(handler))
    return anthropic.Anthropic(api_key="sk-test", http_client=http, max_retries=0, **kw)
