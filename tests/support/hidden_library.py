"""Stands in for a library such as mem0: it builds its own ``OpenAI()`` client when imported (from
``OPENAI_BASE_URL`` / ``OPENAI_API_KEY``), keeps its own reference, and calls it from worker threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai

_client = openai.OpenAI(max_retries=0, timeout=60)
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hidden")
_create = _client.chat.completions.create  # bound once, at import: only class-level patches see it


def _ask(text: str) -> Any:
    return _create(model="gemma3-270m", messages=[{"role": "user", "content": text}], max_tokens=2)


def remember(text: str) -> Any:
    """A call on the library's pool."""
    return _pool.submit(_ask, text).result()


def remember_in_thread(text: str) -> Any:
    """A call on a thread the library starts itself."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(_ask(text)))
    worker.start()
    worker.join()
    return out[0]
