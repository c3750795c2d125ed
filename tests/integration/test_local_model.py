"""The embedded model itself: real HTTP, its counters agree with the usage it returns, stop never hangs."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tokentrail.demo import ENV_URL, LocalModel, connect, parse_metrics

pytestmark = pytest.mark.llm


def counters(model: LocalModel) -> tuple[float, float]:
    m = model.metrics()
    return m["prompt_tokens_total"] + m["prompt_tokens_cached_total"], m["tokens_predicted_total"]


def test_counters_equal_the_usage_the_server_returns(local_model: LocalModel, openai_client: Any,
                                                    anthropic_client: Any) -> None:  # fmt: skip
    before = counters(local_model)
    chat = openai_client.chat.completions.create(
        model="gemma3-270m", messages=[{"role": "user", "content": "Say hi"}], max_tokens=3, temperature=0
    )
    msg = anthropic_client.messages.create(
        model="gemma3-270m", messages=[{"role": "user", "content": "Say hi"}], max_tokens=2
    )
    emb = openai_client.embeddings.create(model="gemma3-270m", input=["one two three"])
    after = counters(local_model)
    prompt = chat.usage.prompt_tokens + emb.usage.prompt_tokens + (
        msg.usage.input_tokens + (msg.usage.cache_read_input_tokens or 0))  # fmt: skip
    assert after[0] - before[0] == prompt
    assert after[1] - before[1] == chat.usage.completion_tokens + msg.usage.output_tokens == 5


def test_connect_prefers_the_exported_url(local_model: LocalModel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_URL, local_model.base_url + "/v1/")
    assert connect() == local_model.openai_base_url
    assert connect("anthropic") == local_model.base_url
    with pytest.raises(ValueError, match="openai"):
        connect("gemini")


def test_stop_is_immediate_with_a_stream_in_flight(local_model: LocalModel) -> None:
    import openai

    with LocalModel(n_predict=512) as model:
        client = openai.OpenAI(base_url=model.openai_base_url, api_key="sk-local", max_retries=0, timeout=30)
        stream = client.chat.completions.create(
            model="gemma3-270m", messages=[{"role": "user", "content": "Count"}], max_tokens=500, stream=True
        )
        next(iter(stream))
        started = time.monotonic()
        model.stop()
        assert time.monotonic() - started < 5
        assert not model.running
        with pytest.raises(openai.APIConnectionError):
            list(stream)


def test_parse_metrics() -> None:
    text = (
        "# HELP x\n# TYPE x counter\nllamacpp:prompt_tokens_total 30\nllamacpp:n_busy_slots_per_decode 1.5\n"
    )
    assert parse_metrics(text) == {"prompt_tokens_total": 30.0, "n_busy_slots_per_decode": 1.5}
