"""Provider-documented response payloads for shapes the local model cannot produce."""

from __future__ import annotations

from typing import Any


def openai_chat(usage: dict[str, Any], *, model: str = "o3-mini-2025-01-31", content: str = "Hi",
                tool: str | None = None, n: int = 1) -> dict[str, Any]:  # fmt: skip
    """A ``chat.completion`` object (OpenAI API reference)."""
    message: dict[str, Any] = {"role": "assistant", "content": None if tool else content, "refusal": None}
    if tool:
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": "{}"}}
        ]
    choices = [
        {"index": i, "message": message, "logprobs": None, "finish_reason": "tool_calls" if tool else "stop"}
        for i in range(n)
    ]
    return {
        "id": "chatcmpl-replay", "object": "chat.completion", "created": 1741569952, "model": model,
        "choices": choices, "usage": usage, "service_tier": "default",
    }  # fmt: skip


REASONING_USAGE = {
    "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 256, "audio_tokens": 0,
                                  "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
}  # fmt: skip

OPENROUTER_USAGE = {
    "prompt_tokens": 14, "completion_tokens": 9, "total_tokens": 23, "cost": 0.000123, "is_byok": False,
    "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0},
}  # fmt: skip


def openai_chunks(texts: list[str], usage: dict[str, Any] | None, *, model: str = "gpt-4o-mini") -> list[Any]:
    """``chat.completion.chunk`` events; with ``usage``, the final usage-only chunk (``choices == []``)."""
    base = {"id": "chatcmpl-replay", "object": "chat.completion.chunk", "created": 1, "model": model}
    out: list[Any] = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                            "finish_reason": None}]}]  # fmt: skip
    out += [
        {**base, "choices": [{"index": 0, "delta": {"content": t}, "finish_reason": None}]} for t in texts
    ]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        out.append({**base, "choices": [], "usage": usage})
    return out


def responses_response(usage: dict[str, Any], *, model: str = "o4-mini-2025-04-16") -> dict[str, Any]:
    """A Responses API ``response`` object with reasoning and cached tokens."""
    return {
        "id": "resp_replay", "object": "response", "created_at": 1741476542, "status": "completed",
        "model": model,
        "output": [{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}],
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "usage": usage,
    }  # fmt: skip


RESPONSES_USAGE = {
    "input_tokens": 328, "input_tokens_details": {"cached_tokens": 256},
    "output_tokens": 1200, "output_tokens_details": {"reasoning_tokens": 1024}, "total_tokens": 1528,
}  # fmt: skip


def anthropic_message(usage: dict[str, Any], *, model: str = "claude-sonnet-4-6") -> dict[str, Any]:
    """A Messages API ``message`` object."""
    return {
        "id": "msg_replay", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": usage,
    }  # fmt: skip


CACHE_WRITE_USAGE = {
    "input_tokens": 21,
    "cache_creation_input_tokens": 1880,
    "cache_read_input_tokens": 0,
    "output_tokens": 393,
}


def anthropic_stream(*, model: str = "claude-sonnet-4-6") -> list[dict[str, Any]]:
    """A streamed message whose usage is cumulative: two ``message_delta`` events (15 then 42 output
    tokens) and ``input_tokens`` revised in the last one (the documented shape of long-running streams)."""
    start_usage = {"input_tokens": 472, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50,
                   "output_tokens": 2}  # fmt: skip
    return [
        {"type": "message_start", "message": {"id": "msg_replay", "type": "message", "role": "assistant",
         "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
        {"type": "message_delta", "delta": {"stop_reason": None, "stop_sequence": None},
         "usage": {"output_tokens": 15}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": " world"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
         "usage": {"input_tokens": 480, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 50,
                   "output_tokens": 42}},
        {"type": "message_stop"},
    ]  # fmt: skip


MISTRAL_STREAM_OPTIONS_400 = {
    "object": "error", "type": "invalid_request_error", "param": None, "code": None,
    "message": "[{'type': 'extra_forbidden', 'loc': ('body', 'stream_options'), 'msg': "
               "'Extra inputs are not permitted', 'input': {'include_usage': True}}]",
}  # fmt: skip

STREAM_OPTIONS_422 = {
    "detail": [
        {
            "type": "extra_forbidden",
            "loc": ["body", "stream_options"],
            "msg": "Extra inputs are not permitted",
        }
    ]
}
