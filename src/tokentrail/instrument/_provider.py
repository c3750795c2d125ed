"""The provider's name from a client's base URL (OpenRouter, Azure ... speak the OpenAI protocol)."""

from __future__ import annotations

from typing import Any

_HOSTS = {
    "api.openai.com": "openai",
    "openrouter.ai": "openrouter",
    "api.anthropic.com": "anthropic",
    "api.mistral.ai": "mistral",
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "api.together.xyz": "together",
    "api.fireworks.ai": "fireworks",
    "generativelanguage.googleapis.com": "google",
    "api.x.ai": "xai",
}
_SUFFIXES = ((".azure.com", "azure"), (".azure-api.net", "azure"), (".openrouter.ai", "openrouter"))
ENDPOINTS: dict[int, tuple[object, str, str]] = {}  # id(a client's base URL) -> (it, provider, text)


def provider_for_host(host: str, sdk: str) -> str:
    """``api.openai.com`` -> openai, ``*.azure.com`` -> azure, ...; an unknown host -> the SDK's name."""
    host = host.lower().rstrip(".")
    if host in _HOSTS:
        return _HOSTS[host]
    for suffix, name in _SUFFIXES:
        if host.endswith(suffix):
            return name
    return sdk


def learn_endpoint(url: Any, sdk: str) -> tuple[object, str, str]:
    """``(url, provider, base URL text)`` for a client's base URL, cached by its id (``begin`` reads the
    cache first: a dict hit per call)."""
    text = str(url).rstrip("/")
    host = getattr(url, "host", None) or text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if len(ENDPOINTS) > 1024:
        ENDPOINTS.clear()
    ENDPOINTS[id(url)] = hit = (url, provider_for_host(str(host), sdk), text)
    return hit
