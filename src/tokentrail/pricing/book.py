"""Prices by (provider, model): user overrides first, then the table; cached; cost arithmetic is ours."""

from __future__ import annotations

import logging
import threading
import warnings

from ..model import Cost, Price, Rates, Usage
from . import table

log = logging.getLogger("tokentrail")

_M = 1_000_000.0


class UnpricedModelWarning(UserWarning):
    """A model has no known price: its cost is ``None`` until ``tt.set_price`` gives one."""


class PriceBook:
    """Resolves rates once per (provider, model) and computes costs in well under a microsecond."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str | None, str], Price | None] = {}
        self._overrides: dict[tuple[str | None, str], Price] = {}
        self._warned: set[tuple[str | None, str]] = set()
        self._lock = threading.Lock()

    def set_price(
        self,
        model: str,
        *,
        input_per_mtok: float,
        output_per_mtok: float,
        cached_input_per_mtok: float | None = None,
        cache_write_per_mtok: float | None = None,
        reasoning_per_mtok: float | None = None,
        provider: str | None = None,
    ) -> Price:
        """Override (or add) a model's rates, USD per million tokens; ``provider=None`` matches any."""
        if not isinstance(model, str) or not model:
            raise TypeError(f"model must be a non-empty str, got {model!r}")
        named = {
            "input_per_mtok": input_per_mtok,
            "output_per_mtok": output_per_mtok,
            "cached_input_per_mtok": cached_input_per_mtok,
            "cache_write_per_mtok": cache_write_per_mtok,
            "reasoning_per_mtok": reasoning_per_mtok,
        }
        for name, value in named.items():
            if value is None and name not in ("input_per_mtok", "output_per_mtok"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        rates = Rates(
            float(input_per_mtok),
            float(output_per_mtok),
            None if cached_input_per_mtok is None else float(cached_input_per_mtok),
            None if cache_write_per_mtok is None else float(cache_write_per_mtok),
            None if reasoning_per_mtok is None else float(reasoning_per_mtok),
        )
        price = Price(provider, model, rates, "user-override")
        with self._lock:
            self._overrides[(provider, model)] = price
            self._cache.clear()
        return price

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()
            self._cache.clear()
            self._warned.clear()

    def price_for(self, model: str, provider: str | None = None) -> Price | None:
        """The price used for calls to ``model`` at ``provider``; ``None`` when unknown."""
        key = (provider, model)
        try:
            return self._cache[key]
        except KeyError:
            pass
        price = (
            self._overrides.get(key) or self._overrides.get((None, model)) or table.lookup(provider, model)
        )
        self._cache[key] = price
        return price

    def warn_unpriced(self, model: str, provider: str | None) -> None:
        key = (provider, model)
        if key in self._warned:
            return
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        message = (
            f"tokentrail: no price known for model {model!r} (provider {provider!r}); its cost is None "
            f"(n/a), never 0. Set one with tt.set_price({model!r}, input_per_mtok=..., output_per_mtok=...)."
        )
        log.debug(message)
        warnings.warn(message, UnpricedModelWarning, stacklevel=4)

    def cost(
        self,
        model: str | None,
        provider: str | None,
        usage: Usage,
        provider_cost: float | None = None,
    ) -> Cost | None:
        """Price one call; a provider-reported cost wins for the total, ours is kept beside it."""
        price = self.price_for(model, provider) if model else None
        if price is None:
            if provider_cost is not None:
                return Cost(0.0, 0.0, 0.0, 0.0, provider_cost, source="provider-reported",
                            provider_reported=provider_cost)  # fmt: skip
            if model and (usage.input_tokens or usage.output_tokens):
                self.warn_unpriced(model, provider)
            return None
        cost = compute(price, usage)
        if provider_cost is None:
            return cost
        return Cost(
            cost.input, cost.output, cost.cached_input, cost.cache_write, provider_cost,
            price=price, source="provider-reported", computed_total=cost.total,
            provider_reported=provider_cost,
        )  # fmt: skip


def compute(price: Price, usage: Usage) -> Cost:
    """Cost of ``usage`` at ``price``: each kind of token at its own rate, long-context tier applied."""
    r = price.rates_for(usage.input_tokens) if price.tiers else price.rates
    cached_rate = r.input_per_mtok if r.cached_input_per_mtok is None else r.cached_input_per_mtok
    write_rate = r.input_per_mtok if r.cache_write_per_mtok is None else r.cache_write_per_mtok
    reasoning_rate = r.output_per_mtok if r.reasoning_per_mtok is None else r.reasoning_per_mtok
    inp = usage.uncached_input_tokens * r.input_per_mtok / _M
    cached = usage.cached_input_tokens * cached_rate / _M
    write = usage.cache_write_tokens * write_rate / _M
    reasoning = usage.reasoning_tokens
    out = ((usage.output_tokens - reasoning) * r.output_per_mtok + reasoning * reasoning_rate) / _M
    return Cost(inp, out, cached, write, inp + cached + write + out, price.currency, price, price.source,
                computed_total=inp + cached + write + out)  # fmt: skip
