"""Numbers as people read them: cost with its currency or "n/a" (never a silent 0), durations."""

from __future__ import annotations


def fmt_cost(cost: float | None, currency: str = "USD") -> str:
    """``$0.001234`` (or ``n/a`` when unpriced: never a silent 0)."""
    if cost is None:
        return "n/a"
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{cost:.6f}" if cost < 1 else f"{symbol}{cost:,.4f}"


def fmt_ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"
