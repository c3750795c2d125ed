"""Prices by (provider, model): user overrides first, then the table; cached; cost arithmetic is ours."""

from __future__ import annotations

import logging
import threading
import warnings
import weakref
from collections.abc import Callable

from ..model import Cost, Price, Rates, Usage
from ..model.caller import user_stacklevel
from . import table

log = logging.getLogger("tokentrail")

_M = 1_000_000.0


class UnpricedModelWarning(UserWarning):
    """A model has no known price: its cost is ``None`` until ``tt.set_price`` gives one."""


class PriceBook:
    """Resolves rates once per (provider, model) and computes costs in well under a microsecond."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str | None, str], _Entry] = {}
        self._tier_entries: dict[tuple[str | None, str, str], _Entry] = {}
        # (provider, requested model, answering model, tier) -> the entry a call is priced with
        self._answered: dict[tuple[str | None, str | None, str | None, str | None], _Entry | None] = {}
        self._overrides: dict[tuple[str | None, str], Price] = {}
        self._warned: set[tuple[str | None, str]] = set()
        self._lock = threading.Lock()
        self._watchers: list[weakref.WeakMethod[Callable[[], None]]] = []

    def before_change(self, method: Callable[[], None]) -> None:
        """Call bound ``method`` before any price changes (held weakly): the ledger builds the events it
        kept unpriced, so each is priced with the rates its totals used."""
        self._watchers.append(weakref.WeakMethod(method))  # type: ignore[arg-type]

    def _changing(self) -> None:
        for ref in tuple(self._watchers):
            method = ref()
            if method is None:
                self._watchers.remove(ref)
            else:
                method()

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
        self._changing()
        with self._lock:
            self._overrides[(provider, model)] = price
            self._entries.clear()
            self._tier_entries.clear()
            self._answered.clear()
        return price

    def clear_overrides(self) -> None:
        self._changing()
        with self._lock:
            self._overrides.clear()
            self._entries.clear()
            self._tier_entries.clear()
            self._answered.clear()
            self._warned.clear()

    def price_for(self, model: str, provider: str | None = None) -> Price | None:
        """The price used for calls to ``model`` at ``provider``; ``None`` when unknown."""
        entry = self._entries.get((provider, model)) or self._resolve(provider, model)
        return entry[0]

    def _resolve(self, provider: str | None, model: str) -> _Entry:
        key = (provider, model)
        price = (
            self._overrides.get(key) or self._overrides.get((None, model)) or table.lookup(provider, model)
        )
        return self._store(key, price)

    def _resolve_tier(self, provider: str | None, model: str, tier: str) -> _Entry:
        """Rates for a non-standard service tier; standard rates, with one warning, where none is known."""
        override = self._overrides.get((provider, model)) or self._overrides.get((None, model))
        if override is None and table.has_tier(provider, model, tier):
            entry = self._store((provider, model), table.lookup(provider, model, tier), cache=False)
        else:
            entry = self._entries.get((provider, model)) or self._resolve(provider, model)
            if entry[0] is not None:
                self._warn_once(
                    (provider, f"{model}@{tier}"),
                    f"tokentrail: no {tier!r} service-tier price for {model!r}; standard rates used. "
                    f"Set one with tt.set_price({model!r}, ...) if your tier is billed differently.",
                )
        self._tier_entries[(provider, model, tier)] = entry
        return entry

    def _store(self, key: tuple[str | None, str], price: Price | None, cache: bool = True) -> _Entry:
        if price is None:
            entry: _Entry = (None, _NO_RATES, ())
        else:
            tiers = tuple((t.min_input_tokens, _per_token(t.rates)) for t in price.tiers)
            entry = (price, _per_token(price.rates), tiers)
        if cache:
            self._entries[key] = entry
        return entry

    def warn_unpriced(self, model: str, provider: str | None) -> None:
        self._warn_once(
            (provider, model),
            f"tokentrail: no price known for model {model!r} (provider {provider!r}); its cost is None "
            f"(n/a), never 0. Set one with tt.set_price({model!r}, input_per_mtok=..., output_per_mtok=...).",
        )

    def _warn_once(self, key: tuple[str | None, str], message: str) -> None:
        if key in self._warned:
            return
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
        log.debug(message)
        warnings.warn(message, UnpricedModelWarning, stacklevel=user_stacklevel())

    def _entry(self, model: str, provider: str | None, service_tier: str | None) -> _Entry:
        if service_tier in table.STANDARD_TIERS:
            return self._entries.get((provider, model)) or self._resolve(provider, model)
        key = (provider, model, str(service_tier))
        return self._tier_entries.get(key) or self._resolve_tier(provider, model, str(service_tier))

    def cost(
        self,
        model: str | None,
        provider: str | None,
        usage: Usage,
        provider_cost: float | None = None,
        service_tier: str | None = None,
    ) -> Cost | None:
        """Price one call; a provider-reported cost wins for the total, ours is kept beside it."""
        if not model:
            entry = None
        elif service_tier is None:  # the common case, inlined
            entry = self._entries.get((provider, model)) or self._resolve(provider, model)
        else:
            entry = self._entry(model, provider, service_tier)
        if entry is None or entry[0] is None:
            if provider_cost is not None:
                return Cost(0.0, 0.0, 0.0, 0.0, provider_cost, source="provider-reported",
                            provider_reported=provider_cost)  # fmt: skip
            if model and (usage[0] or usage[1]):
                self.warn_unpriced(model, provider)
            return None
        return _priced(entry, usage, provider_cost)

    def call_cost(
        self,
        provider: str | None,
        model: str | None,
        response_model: str | None,
        usage: Usage,
        provider_cost: float | None = None,
        service_tier: str | None = None,
    ) -> Cost | None:
        """A call's cost: priced by the model that answered (Azure and dated names) when it has a price,
        else by the one requested; which one is remembered per (provider, both names, tier)."""
        key = (provider, model, response_model, service_tier)
        entry = self._answered.get(key)
        if entry is None:
            entry = self._answered_entry(key)
            if entry is None:  # neither name has a price: ``cost`` reports it (warning, provider cost)
                return self.cost(model or response_model, provider, usage, provider_cost, service_tier)
        return _priced(entry, usage, provider_cost)

    def flat_cost(
        self,
        provider: str | None,
        model: str | None,
        response_model: str | None,
        service_tier: str | None,
        usage: Usage,
    ) -> Cost | None:
        """What ``call_cost`` would charge for ``usage`` summed over calls that share these names, when
        that is one product per kind of token (a known price without long-context tiers, no provider
        cost): a batch is priced once, by the same arithmetic as one call. Else None."""
        key = (provider, model, response_model, service_tier)
        entry = self._answered.get(key) or self._answered_entry(key)
        return None if entry is None or entry[2] else _priced(entry, usage, None)

    def _answered_entry(self, key: tuple[str | None, str | None, str | None, str | None]) -> _Entry | None:
        provider, model, response_model, tier = key
        entry = None
        for name in (response_model, model):
            if name:
                found = self._entry(name, provider, tier)
                if found[0] is not None:
                    entry = found
                    break
        if entry is not None:
            if len(self._answered) > 4096:
                self._answered.clear()
            self._answered[key] = entry
        return entry


def _priced(entry: _Entry, usage: Usage, provider_cost: float | None) -> Cost:
    """Each kind of token at its own rate, the long-context tier applied by input size."""
    price, r, tiers = entry
    assert price is not None
    if tiers:
        for start, tier_rates in tiers:
            if usage[0] >= start:
                r = tier_rates
    i, o, _, c, w, rs = usage
    inp = (i - c - w) * r[0]
    cached = c * r[2]
    write = w * r[3]
    out = (o - rs) * r[1] + rs * r[4]
    total = inp + cached + write + out
    if provider_cost is None:
        return _new(Cost, (inp, out, cached, write, total, "USD", price, price.source, "priced", total, None))  # type: ignore[no-any-return]
    reported = provider_cost
    return _new(Cost, (inp, out, cached, write, reported, "USD", price, "provider-reported", "priced",  # type: ignore[no-any-return]
                       total, reported))  # fmt: skip


_new = tuple.__new__
_NO_RATES = (0.0, 0.0, 0.0, 0.0, 0.0)
PerToken = tuple[float, float, float, float, float]
_Entry = tuple[Price | None, PerToken, tuple[tuple[int, PerToken], ...]]


def _per_token(r: Rates) -> PerToken:
    """USD per single token: (input, output, cached input, cache write, reasoning), gaps filled."""
    cached = r.input_per_mtok if r.cached_input_per_mtok is None else r.cached_input_per_mtok
    write = r.input_per_mtok if r.cache_write_per_mtok is None else r.cache_write_per_mtok
    reasoning = r.output_per_mtok if r.reasoning_per_mtok is None else r.reasoning_per_mtok
    return (r.input_per_mtok / _M, r.output_per_mtok / _M, cached / _M, write / _M, reasoning / _M)


def compute(price: Price, usage: Usage) -> Cost:
    """Cost of ``usage`` at ``price`` (no cache): each kind of token at its own rate, tier applied."""
    book = PriceBook()
    book._entries[(price.provider, price.model)] = (
        price,
        _per_token(price.rates),
        tuple((t.min_input_tokens, _per_token(t.rates)) for t in price.tiers),
    )
    cost = book.cost(price.model, price.provider, usage)
    assert cost is not None
    return cost
