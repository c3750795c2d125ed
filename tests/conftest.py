"""Shared fixtures: one embedded local model per test session, SDK clients pointed at it, a replay server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from support.replay import ReplayServer

from tokentrail.demo import ENV_URL, LocalModel, start_local_model

TIMEOUT = 60.0
# A fresh connection for every request: the local server (cpp-httplib) closes idle keep-alive connections
# on its own clock, and a request sent on one it has just closed fails with "Server disconnected without
# sending a response" (seen twice in CI, on different tests). Loopback connections cost ~0.1 ms.
NO_KEEPALIVE = httpx2.Limits(max_keepalive_connections=0)


@pytest.fixture(scope="session")
def local_model() -> Iterator[LocalModel]:
    """The embedded model (started once per session, with embeddings); its URL is exported for kernels."""
    model = start_local_model(embeddings=True)
    previous = os.environ.get(ENV_URL)
    os.environ[ENV_URL] = model.base_url
    try:
        yield model
    finally:
        model.stop()
        if previous is None:
            os.environ.pop(ENV_URL, None)
        else:
            os.environ[ENV_URL] = previous


@pytest.fixture
def openai_client(local_model: LocalModel) -> Iterator[Any]:
    import openai

    http = openai.DefaultHttpxClient(limits=NO_KEEPALIVE)
    with openai.OpenAI(base_url=local_model.openai_base_url, api_key="sk-local", max_retries=0,
                       timeout=TIMEOUT, http_client=http) as client:  # fmt: skip
        yield client


@pytest.fixture
async def async_openai_client(local_model: LocalModel) -> Any:
    import openai

    http = openai.DefaultAsyncHttpxClient(limits=NO_KEEPALIVE)
    client = openai.AsyncOpenAI(base_url=local_model.openai_base_url, api_key="sk-local", max_retries=0,
                                timeout=TIMEOUT, http_client=http)  # fmt: skip
    yield client
    await client.close()


@pytest.fixture
def anthropic_client(local_model: LocalModel) -> Iterator[Any]:
    import anthropic

    http = anthropic.DefaultHttpxClient(limits=NO_KEEPALIVE)
    with anthropic.Anthropic(base_url=local_model.anthropic_base_url, api_key="sk-local", max_retries=0,
                             timeout=TIMEOUT, http_client=http) as client:  # fmt: skip
        yield client


@pytest.fixture
async def async_anthropic_client(local_model: LocalModel) -> Any:
    import anthropic

    http = anthropic.DefaultAsyncHttpxClient(limits=NO_KEEPALIVE)
    client = anthropic.AsyncAnthropic(base_url=local_model.anthropic_base_url, api_key="sk-local",
                                      max_retries=0, timeout=TIMEOUT, http_client=http)  # fmt: skip
    yield client
    await client.close()


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """A scripted provider on loopback (see tests/support/replay.py)."""
    with ReplayServer() as server:
        yield server
