"""Shared fixtures: one embedded local model per test session, SDK clients pointed at it, a replay server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from support.replay import ReplayServer

from tokentrail.demo import ENV_URL, LocalModel, start_local_model

TIMEOUT = 60.0


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

    with openai.OpenAI(base_url=local_model.openai_base_url, api_key="sk-local", max_retries=0,
                       timeout=TIMEOUT) as client:  # fmt: skip
        yield client


@pytest.fixture
async def async_openai_client(local_model: LocalModel) -> Any:
    import openai

    client = openai.AsyncOpenAI(base_url=local_model.openai_base_url, api_key="sk-local", max_retries=0,
                                timeout=TIMEOUT)  # fmt: skip
    yield client
    await client.close()


@pytest.fixture
def anthropic_client(local_model: LocalModel) -> Iterator[Any]:
    import anthropic

    with anthropic.Anthropic(base_url=local_model.anthropic_base_url, api_key="sk-local", max_retries=0,
                             timeout=TIMEOUT) as client:  # fmt: skip
        yield client


@pytest.fixture
async def async_anthropic_client(local_model: LocalModel) -> Any:
    import anthropic

    client = anthropic.AsyncAnthropic(base_url=local_model.anthropic_base_url, api_key="sk-local",
                                      max_retries=0, timeout=TIMEOUT)  # fmt: skip
    yield client
    await client.close()


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    """A scripted provider on loopback (see tests/support/replay.py)."""
    with ReplayServer() as server:
        yield server
