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
_endpoints: dict[int, tuple[object, str, str]] = {}  # id(base URL) -> (it, provider, text)


def provider_for_host(host: str, sdk: str) -> str:
    """``api.openai.com`` -> openai, ``*.azure.com`` -> azure, ...; an unknown host -> the SDK's name."""
    host = host.lower().rstrip(".")
    if host in _HOSTS:
        return _HOSTS[host]
    for suffix, name in _SUFFIXES:
        if host.endswith(suffix):
            return name
    return sdk


def client_endpoint(client: Any, sdk: str) -> tuple[str, str]:
    """``(provider, base_url)`` for an SDK client, cached per base-URL object (a dict hit per call)."""
    url = getattr(client, "_base_url", None)
    if url is None:
        url = client.base_url
    hit = _endpoints.get(id(url))
    if hit is None or hit[0] is not url:
        hit = _learn(url, sdk)
    return hit[1], hit[2]


def _learn(url: Any, sdk: str) -> tuple[object, str, str]:
    text = str(url).rstrip("/")
    host = getattr(url, "host", None) or text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    if len(_endpoints) > 1024:
        _endpoints.clear()
    _endpoints[id(url)] = hit = (url, provider_for_host(str(host), sdk), text)
    return hit
