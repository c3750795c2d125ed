"""Usage values and the normalization of every provider's usage shape (DESIGN.md's table)."""

from __future__ import annotations

import os

import pytest

from tokentrail.model import Usage, normalize_usage
from tokentrail.model.ids import new_id


def test_usage_totals_and_addition() -> None:
    a = Usage(100, 20, cached_input_tokens=30, reasoning_tokens=5)
    b = Usage(10, 2, cache_write_tokens=4)
    assert a.total_tokens == 120
    s = a + b
    assert s == Usage(110, 22, cached_input_tokens=30, cache_write_tokens=4, reasoning_tokens=5)
    assert s.total_tokens == 132
    assert s.uncached_input_tokens == 110 - 30 - 4
    assert "total_tokens=132" in repr(s)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"input_tokens": -1}, ValueError, "input_tokens"),
        ({"output_tokens": 1.5}, TypeError, "output_tokens"),
        ({"output_tokens": "12"}, TypeError, "output_tokens"),
        ({"input_tokens": True}, TypeError, "input_tokens"),
        ({"input_tokens": None}, TypeError, "input_tokens"),
        ({"input_tokens": 5, "cached_input_tokens": 6}, ValueError, "cached_input_tokens"),
        ({"output_tokens": 5, "reasoning_tokens": 6}, ValueError, "reasoning_tokens"),
    ],
)
def test_bad_counts_name_the_field(kwargs: dict[str, object], error: type[Exception], field: str) -> None:
    with pytest.raises(error, match=field):
        Usage(**kwargs)  # type: ignore[arg-type]


def test_integral_floats_are_accepted() -> None:
    assert Usage(10.0, 2.0) == Usage(10, 2)  # type: ignore[arg-type]


def test_openai_chat_prompt_includes_cached_and_completion_includes_reasoning() -> None:
    raw = {
        "prompt_tokens": 1200,
        "completion_tokens": 350,
        "total_tokens": 1550,
        "prompt_tokens_details": {"cached_tokens": 400, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 64},
    }
    n = normalize_usage(raw)
    assert n.shape == "openai.chat"
    assert n.usage == Usage(1200, 350, cached_input_tokens=400, reasoning_tokens=64)


def test_openai_responses_shape() -> None:
    raw = {
        "input_tokens": 900,
        "output_tokens": 300,
        "total_tokens": 1200,
        "input_tokens_details": {"cached_tokens": 100},
        "output_tokens_details": {"reasoning_tokens": 200},
    }
    assert normalize_usage(raw).usage == Usage(900, 300, cached_input_tokens=100, reasoning_tokens=200)


def test_anthropic_input_excludes_cache_read_and_creation() -> None:
    raw = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    n = normalize_usage(raw, "anthropic")
    assert n.usage == Usage(1210, 5, cached_input_tokens=1000, cache_write_tokens=200)
    # with the provider hint, a plain input/output dict is Anthropic too (no cache keys at all)
    assert normalize_usage({"input_tokens": 7, "output_tokens": 1}, "anthropic").usage == Usage(7, 1)


def test_anthropic_sdk_object() -> None:
    from anthropic.types import Usage as AnthropicUsage

    obj = AnthropicUsage(input_tokens=3, output_tokens=4, cache_read_input_tokens=50,
                         cache_creation_input_tokens=None)  # fmt: skip
    assert normalize_usage(obj).usage == Usage(53, 4, cached_input_tokens=50)


def test_openai_sdk_object() -> None:
    from openai.types import CompletionUsage

    obj = CompletionUsage(prompt_tokens=30, completion_tokens=12, total_tokens=42,
                          prompt_tokens_details={"cached_tokens": 8})  # fmt: skip
    assert normalize_usage(obj).usage == Usage(30, 12, cached_input_tokens=8)


def test_gemini_thoughts_are_output_and_cached_is_inside_prompt() -> None:
    raw = {
        "prompt_token_count": 500,
        "candidates_token_count": 100,
        "thoughts_token_count": 40,
        "cached_content_token_count": 300,
        "total_token_count": 640,
    }
    assert normalize_usage(raw).usage == Usage(500, 140, cached_input_tokens=300, reasoning_tokens=40)


def test_camel_case_gemini_dict() -> None:
    raw = {"promptTokenCount": 12, "candidatesTokenCount": 3, "thoughtsTokenCount": 2}
    assert normalize_usage(raw).usage == Usage(12, 5, reasoning_tokens=2)


def test_camel_case_openai_like_dict() -> None:
    assert normalize_usage({"promptTokens": 9, "completionTokens": 4}).usage == Usage(9, 4)


def test_langchain_usage_metadata() -> None:
    raw = {
        "input_tokens": 350,
        "output_tokens": 240,
        "total_tokens": 590,
        "input_token_details": {"audio": 10, "cache_creation": 200, "cache_read": 100},
        "output_token_details": {"audio": 10, "reasoning": 200},
    }
    assert normalize_usage(raw).usage == Usage(
        350, 240, cached_input_tokens=100, cache_write_tokens=200, reasoning_tokens=200
    )


def test_openrouter_cost_is_kept() -> None:
    n = normalize_usage({"prompt_tokens": 10, "completion_tokens": 2, "cost": 0.00042})
    assert n.provider_cost == pytest.approx(0.00042)


def test_bad_usage_inputs() -> None:
    with pytest.raises(TypeError, match="usage is None"):
        normalize_usage(None)
    with pytest.raises(ValueError, match="no token counts found"):
        normalize_usage({"foo": 1, "bar": 2})
    with pytest.raises(ValueError, match="prompt_tokens"):
        normalize_usage({"prompt_tokens": -3, "completion_tokens": 1})
    with pytest.raises(TypeError, match=r"prompt_tokens_details\.cached_tokens"):
        normalize_usage({"prompt_tokens": 3, "prompt_tokens_details": {"cached_tokens": "x"}})
    with pytest.raises(TypeError):
        normalize_usage(42)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_hands_out_its_parents_ids() -> None:
    # worker processes forked from a kernel share its counter: the prefix is what keeps ids apart
    import tokentrail as tt

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one manual record's id, one run's id, then leave without cleanup
        try:
            ids = [tt.record(model="gpt-4o-mini", provider="openai", input_tokens=1).id, new_id()]
            os.write(write, "\n".join(ids).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read().split("\n")
    os.waitpid(pid, 0)
    parent = [tt.record(model="gpt-4o-mini", provider="openai", input_tokens=1).id, new_id()]
    assert len(child) == 2 and not set(child) & set(parent)
    assert {i.rsplit("-", 1)[0] for i in child}.isdisjoint({i.rsplit("-", 1)[0] for i in parent})
