"""Per-million-token rates of one model, with where they came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens; ``None`` where the table has no rate for that kind of token."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None
    reasoning_per_mtok: float | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    """Rates that apply to the whole call once its input reaches ``min_input_tokens`` (long context)."""

    min_input_tokens: int
    rates: Rates


@dataclass(frozen=True, slots=True)
class Price:
    """The rates matched for a (provider, model), their long-context tiers, and their source."""

    provider: str | None
    model: str
    rates: Rates
    source: str
    tiers: tuple[Tier, ...] = ()
    currency: str = "USD"
    service_tier: str | None = None

    @property
    def input_per_mtok(self) -> float:
        return self.rates.input_per_mtok

    @property
    def output_per_mtok(self) -> float:
        return self.rates.output_per_mtok

    @property
    def cached_input_per_mtok(self) -> float | None:
        return self.rates.cached_input_per_mtok

    @property
    def cache_write_per_mtok(self) -> float | None:
        return self.rates.cache_write_per_mtok

    def rates_for(self, input_tokens: int) -> Rates:
        """The rates for a call with this many input tokens (the highest tier reached, else base)."""
        rates = self.rates
        for tier in self.tiers:
            if input_tokens >= tier.min_input_tokens:
                rates = tier.rates
        return rates
