"""``instrument()`` / ``uninstrument()``: idempotent, and the SDK classes end exactly as they were."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anthropic
import openai
import pytest
from openai import _base_client as oai_base
from openai._legacy_response import LegacyAPIResponse
from openai._response import BaseAPIResponse
from openai.lib.streaming.chat import _completions as chat_helpers

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.instrument._hook import ImportHook
from tokentrail.instrument._patch import Registry

OWNERS: list[tuple[type, str]] = [
    (oai_base.SyncAPIClient, "request"), (oai_base.AsyncAPIClient, "request"),
    (oai_base.SyncAPIClient, "_sleep_for_retry"), (oai_base.AsyncAPIClient, "_sleep_for_retry"),
    (chat_helpers.ChatCompletionStream, "close"), (chat_helpers.AsyncChatCompletionStream, "close"),
    (anthropic._base_client.SyncAPIClient, "request"), (anthropic._base_client.AsyncAPIClient, "request"),
    (openai._response.APIResponse, "close"), (openai._response.AsyncAPIResponse, "close"),
    (anthropic._response.APIResponse, "close"), (anthropic._response.AsyncAPIResponse, "close"),
    (anthropic._base_client.SyncAPIClient, "_sleep_for_retry"),
    (threading.Thread, "start"), (threading.Thread, "_bootstrap_inner"), (ThreadPoolExecutor, "submit"),
]  # fmt: skip

# watched per response handed to the user (an instance attribute), never on the class: the SDK's own
# parse of every other call runs unwrapped
UNTOUCHED: list[tuple[type, str]] = [
    (BaseAPIResponse, "_parse"), (LegacyAPIResponse, "_parse"),
    (anthropic._response.BaseAPIResponse, "_parse"),
]  # fmt: skip


def snapshot(owners: list[tuple[type, str]] = OWNERS) -> list[Any]:
    return [owner.__dict__.get(name) for owner, name in owners]


def test_uninstrument_restores_the_original_function_objects() -> None:
    before, untouched = snapshot(), snapshot(UNTOUCHED)
    assert all(f is not None for f in before + untouched)
    ti.uninstrument()  # idempotent when nothing is patched
    tt.instrument()
    tt.instrument()
    assert ti.is_instrumented()
    during = snapshot()
    assert all(d is not b for d, b in zip(during, before))
    assert snapshot(UNTOUCHED) == untouched
    assert all(d.__tokentrail_original__ is b for d, b in zip(during, before))
    tt.uninstrument()
    tt.uninstrument()
    assert not ti.is_instrumented()
    assert all(a is b for a, b in zip(snapshot(), before))
    tt.instrument()  # and again, after a full cycle
    tt.uninstrument()
    assert all(a is b for a, b in zip(snapshot(), before))


def test_tt_instrument_stays_callable_after_the_package_is_imported() -> None:
    assert callable(tt.instrument)
    tt.instrument()
    assert ti.is_instrumented()
    tt.uninstrument()


def test_registry_leaves_a_later_patch_alone() -> None:
    class Owner:
        def method(self) -> str:
            return "original"

    class Child(Owner):
        pass

    registry = Registry()
    original = Owner.__dict__["method"]
    registry.patch("g", Owner, "method", lambda f: lambda self: "ours:" + f(self))
    registry.patch("g", Child, "method", lambda f: lambda self: "child:" + f(self))
    assert Child().method() == "child:ours:original"
    registry.restore()
    assert Owner.__dict__["method"] is original and "method" not in Child.__dict__

    registry.patch("g", Owner, "method", lambda f: lambda self: "ours")
    Owner.method = lambda self: "someone else's"  # type: ignore[method-assign]
    registry.restore()
    assert Owner().method() == "someone else's"


def test_import_hook_calls_back_and_restores_the_loader(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "late_sdk.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    loaded: list[str] = []
    hook = ImportHook(["late_sdk"], loaded.append)
    hook.install()
    try:
        import late_sdk  # type: ignore[import-not-found]
    finally:
        hook.remove()
    assert loaded == ["late_sdk"] and late_sdk.VALUE == 1
    assert type(late_sdk.__spec__.loader).__name__ == "SourceFileLoader"
    assert late_sdk.__loader__ is late_sdk.__spec__.loader


def test_sdk_objects_keep_their_types() -> None:
    tt.instrument()
    try:
        client = openai.OpenAI(api_key="sk-test")
        assert type(client.chat.completions).create is openai.resources.chat.Completions.create
        assert "request" not in vars(client)  # classes are patched, never instances
    finally:
        tt.uninstrument()
