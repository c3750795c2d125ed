"""genai-prices behind our own interface: resolve (provider, model) to :class:`Price` once."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from ..model import Price, Rates, Tier

_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_version: str | None = None


def table_version() -> str:
    """``genai-prices <version>``: the source named on every cost it prices."""
    global _version
    if _version is None:
        from importlib.metadata import version

        _version = f"genai-prices {version('genai-prices')}"
    return _version


def _base(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return float(value.base)


def _tier_starts(values: dict[str, Any]) -> list[int]:
    starts: set[int] = set()
    for value in values.values():
        for tier in getattr(value, "tiers", ()) or ():
            starts.add(int(tier.start))
    return sorted(starts)


def _at(value: Any, start: int) -> float | None:
    """The rate of a (possibly tiered) price for a call with ``start`` input tokens."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    rate = value.base
    for tier in value.tiers:
        if start >= tier.start:
            rate = tier.price
    return float(rate)


def _rates(values: dict[str, Any], start: int | None) -> Rates:
    pick = _base if start is None else (lambda v: _at(v, start))
    inp = pick(values.get("input_mtok"))
    out = pick(values.get("output_mtok"))
    return Rates(
        input_per_mtok=inp or 0.0,
        output_per_mtok=out or 0.0,
        cached_input_per_mtok=pick(values.get("cache_read_mtok")),
        cache_write_per_mtok=pick(values.get("cache_write_mtok")),
    )


STANDARD_TIERS = frozenset({None, "", "default", "auto", "standard"})


def has_tier(provider: str | None, model: str, service_tier: str) -> bool:
    """Whether the table has a distinct price for this service tier (flex, priority, batch ...)."""
    from genai_prices import data_snapshot

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return False
    return any(v.when.get("service_tier") == service_tier for v in info.price_variants or ())


def lookup(provider: str | None, model: str, service_tier: str | None = None) -> Price | None:
    """The table's price for ``model`` at ``provider`` (or any provider), or ``None`` if it has none."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    found = None
    for provider_id in (provider, None) if provider else (None,):
        try:
            found = snapshot.find_provider_model(model, None, provider_id, None)
            break
        except LookupError:
            continue
    if found is None:
        return None
    prov, info = found
    tier = None if service_tier in STANDARD_TIERS else service_tier
    context = {"service_tier": tier} if tier else None
    prices = info.get_prices(datetime.now(tz=timezone.utc), context)
    values = {key: getattr(prices, key, None) for key in _KEYS}
    if values["input_mtok"] is None and values["output_mtok"] is None:
        return None
    tiers = tuple(Tier(start, _rates(values, start)) for start in _tier_starts(values))
    source = table_version() + (f" ({tier})" if tier else "")
    return Price(prov.id, info.id, _rates(values, None), source, tiers, service_tier=tier)
