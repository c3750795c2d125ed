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
_cache: dict[int, tuple[object, str, str]] = {}


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
    hit = _cache.get(id(url))
    if hit is not None and hit[0] is url:
        return hit[1], hit[2]
    text = str(url).rstrip("/")
    host = getattr(url, "host", None) or text.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    provider = provider_for_host(str(host), sdk)
    if len(_cache) > 1024:
        _cache.clear()
    _cache[id(url)] = (url, provider, text)
    return provider, text
