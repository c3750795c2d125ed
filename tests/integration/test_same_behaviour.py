"""Non-negotiables: instrumented calls return, raise and stream exactly what uninstrumented ones do.

Each case runs twice against the local model, uninstrumented then instrumented, at temperature 0 and
seed 42 with the server's prompt cache off for the request (so ``cached_tokens`` repeats exactly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.demo import LocalModel

pytestmark = pytest.mark.llm
MODEL = "gemma3-270m"
MSGS = [{"role": "user", "content": "Name a colour."}]
SAME = {"temperature": 0, "seed": 42, "extra_body": {"cache_prompt": False}}
VOLATILE = {"id", "item_id", "created", "created_at", "completed_at", "timings"}


def plain(obj: Any) -> Any:
    """A comparable form of an SDK object: its dump without ids, timestamps and timings."""
    if isinstance(obj, list):
        return [plain(o) for o in obj]
    data = obj.model_dump() if hasattr(obj, "model_dump") else obj
    return _strip(data)


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        if (
            "cache_read_input_tokens" in data
        ):  # Anthropic: the server's slot cache moves tokens between the two
            both = (data.get("input_tokens") or 0) + (data["cache_read_input_tokens"] or 0)
            data = {**data, "input_tokens": both, "cache_read_input_tokens": None}
        return {k: _strip(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def twice(fn: Callable[[], Any]) -> tuple[Any, Any, tt.Run]:
    """``fn()`` uninstrumented, then instrumented inside a run."""
    ti.uninstrument()
    bare = fn()
    ti.instrument()
    try:
        with tt.track_usage() as run:
            wrapped = fn()
    finally:
        ti.uninstrument()
    return bare, wrapped, run


def test_same_results(openai_client: Any, anthropic_client: Any) -> None:
    oc, ac = openai_client, anthropic_client
    cases: dict[str, Callable[[], Any]] = {
        "chat": lambda: oc.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=4, **SAME),
        "chat n=2": lambda: oc.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=2, n=2, **SAME),
        "completion": lambda: oc.completions.create(model=MODEL, prompt="Once", max_tokens=3, **SAME),
        "responses": lambda: oc.responses.create(
            model=MODEL, input="Hi", max_output_tokens=3, temperature=0, extra_body={"cache_prompt": False}
        ),
        "embedding": lambda: oc.embeddings.create(model=MODEL, input=["a red fox"]),
        "messages": lambda: ac.messages.create(
            model=MODEL, messages=MSGS, max_tokens=3, extra_body={"temperature": 0, "cache_prompt": False}
        ),
    }
    for name, fn in cases.items():
        bare, wrapped, run = twice(fn)
        assert type(wrapped) is type(bare), name
        assert plain(wrapped) == plain(bare), name
        assert len(run.events) == 1, name


def test_same_chunks(openai_client: Any, anthropic_client: Any) -> None:
    oc, ac = openai_client, anthropic_client
    cases: dict[str, Callable[[], Any]] = {
        "chat": lambda: oc.chat.completions.create(
            model=MODEL, messages=MSGS, max_tokens=5, stream=True, **SAME
        ),
        "chat asked": lambda: oc.chat.completions.create(
            model=MODEL,
            messages=MSGS,
            max_tokens=3,
            stream=True,
            stream_options={"include_usage": True},
            **SAME,
        ),
        "completion": lambda: oc.completions.create(
            model=MODEL, prompt="Once", max_tokens=3, stream=True, **SAME
        ),
        "responses": lambda: oc.responses.create(
            model=MODEL,
            input="Hi",
            max_output_tokens=3,
            stream=True,
            temperature=0,
            extra_body={"cache_prompt": False},
        ),
        "messages": lambda: ac.messages.create(
            model=MODEL,
            messages=MSGS,
            max_tokens=3,
            stream=True,
            extra_body={"temperature": 0, "cache_prompt": False},
        ),
    }
    for name, fn in cases.items():
        bare_stream, wrapped_stream, _ = twice(fn)
        assert isinstance(wrapped_stream, type(bare_stream)) and wrapped_stream.__class__ is type(bare_stream)
        bare, wrapped = list(bare_stream), list(wrapped_stream)
        assert plain(wrapped) == plain(bare), name


def test_same_exceptions(openai_client: Any, anthropic_client: Any) -> None:
    import anthropic
    import openai

    too_long = [{"role": "user", "content": "word " * 3000}]  # past the per-slot context: HTTP 400
    dead = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-local", max_retries=0, timeout=5)
    cases: dict[str, Callable[[], Any]] = {
        "openai 400": lambda: openai_client.chat.completions.create(
            model=MODEL, messages=too_long, max_tokens=2
        ),
        "anthropic 400": lambda: anthropic_client.messages.create(
            model=MODEL, messages=too_long, max_tokens=2
        ),
        "connection": lambda: dead.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=2),
    }
    expected = {"openai 400": openai.BadRequestError, "anthropic 400": anthropic.BadRequestError,
                "connection": openai.APIConnectionError}  # fmt: skip
    for name, fn in cases.items():
        caught: list[BaseException] = []
        for on in (False, True):
            (ti.instrument if on else ti.uninstrument)()
            with tt.track_usage() as run:
                try:
                    fn()
                except Exception as exc:
                    caught.append(exc)
        ti.uninstrument()
        bare, wrapped = caught
        assert type(bare) is type(wrapped) is expected[name], name
        assert str(bare) == str(wrapped), name
        assert getattr(bare, "status_code", None) == getattr(wrapped, "status_code", None)
        (event,) = run.events
        assert (event.status, event.error_type, event.usage.total_tokens) == (
            "error",
            expected[name].__name__,
            0,
        )
        assert event.usage_source == ("missing" if name == "connection" else "none")


def test_a_failing_handler_changes_nothing(local_model: LocalModel, openai_client: Any) -> None:
    def boom(event: object) -> None:
        raise RuntimeError("handler bug")

    tt.configure(handlers=[boom])
    sub = tt.on("usage", boom)
    start = tt.on("call_start", boom)
    bare, wrapped, run = twice(
        lambda: openai_client.chat.completions.create(model=MODEL, messages=MSGS, max_tokens=3, **SAME)
    )
    sub.remove()
    start.remove()
    assert plain(wrapped) == plain(bare)
    assert run.events[0].usage.output_tokens == 3
