"""What a call or a run cost, split the way providers bill it."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from .price import Price

CostStatus = Literal["priced", "partial", "unpriced"]


class Cost(NamedTuple):
    """USD by kind of token; ``total`` prefers a provider-reported amount when there is one.

    ``output`` includes reasoning tokens (at the reasoning rate where one exists);
    ``computed_total`` is our own arithmetic, kept beside a provider-reported total.
    """

    input: float
    output: float
    cached_input: float
    cache_write: float
    total: float
    currency: str = "USD"
    price: Price | None = None
    source: str = ""
    status: CostStatus = "priced"
    computed_total: float | None = None
    provider_reported: float | None = None

    def __add__(self, other: object) -> Cost:  # type: ignore[override]
        if not isinstance(other, Cost):
            return NotImplemented
        status: CostStatus = "priced" if self.status == other.status == "priced" else "partial"
        return Cost(
            self.input + other.input,
            self.output + other.output,
            self.cached_input + other.cached_input,
            self.cache_write + other.cache_write,
            self.total + other.total,
            self.currency,
            self.price if self.price == other.price else None,
            self.source if self.source == other.source else "mixed",
            status,
        )

    def to_dict(self) -> dict[str, Any]:
        out = self._asdict()
        out.pop("price")
        return out
