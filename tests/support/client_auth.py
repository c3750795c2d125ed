"""Module-level readers, as openai >= 3.63 keeps ``OpenAI.base_url``'s in ``lib/_client_auth.py``: the base
URL key test's property imports one of these on every read."""

from __future__ import annotations

from typing import Any


def reads_configured(self: Any) -> Any:
    return self._configured_base_url


def computes(self: Any) -> Any:
    return str(self._configured_base_url)
