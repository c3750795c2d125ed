"""Budgets on USD, tokens and calls: thresholds warn once each; the call after the limit is refused."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ..model import Accumulator
from ..model.caller import user_stacklevel

if TYPE_CHECKING:
    from ..ledger import Hub

log = logging.getLogger("tokentrail")

OnExceed = Literal["raise", "warn"]


class BudgetExceeded(RuntimeError):
    """Raised before a call is sent when a budget is already spent; nothing in flight is interrupted."""

    def __init__(self, scope: str, kind: str, spent: float, limit: float) -> None:
        self.scope, self.kind, self.spent, self.limit = scope, kind, spent, limit
        unit = "$" if kind == "usd" else ""
        spent_s = f"{unit}{spent:.6g}" if kind == "usd" else f"{int(spent)} {kind}"
        limit_s = f"{unit}{limit:.6g}" if kind == "usd" else f"{int(limit)} {kind}"
        super().__init__(
            f"{scope}: budget exceeded: spent {spent_s} of a {limit_s} limit; the next call was not sent. "
            "Raise the budget or use on_exceed='warn' to continue."
        )


class BudgetWarning(UserWarning):
    """A budget threshold was crossed, or a budget was exceeded with ``on_exceed='warn'``."""


@dataclass(frozen=True, slots=True)
class Budget:
    """Limits (any of USD, tokens, calls), the fractions that warn, and what happens past the limit."""

    usd: float | None = None
    tokens: int | None = None
    calls: int | None = None
    warn_at: tuple[float, ...] = (0.5, 0.8)
    on_exceed: OnExceed = "raise"

    def __post_init__(self) -> None:
        for name in ("usd", "tokens", "calls"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"budget {name} must be a number > 0, got {value!r}")
        if self.usd is None and self.tokens is None and self.calls is None:
            raise ValueError("a budget needs at least one of usd=, tokens=, calls=")
        if self.on_exceed not in ("raise", "warn"):
            raise ValueError(f"on_exceed must be 'raise' or 'warn', got {self.on_exceed!r}")
        warn_at = tuple(sorted(float(t) for t in self.warn_at))
        if any(not 0 < t < 1 for t in warn_at):
            raise ValueError(f"warn_at fractions must be between 0 and 1, got {self.warn_at!r}")
        object.__setattr__(self, "warn_at", warn_at)

    def limits(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        if self.usd is not None:
            out.append(("usd", float(self.usd)))
        if self.tokens is not None:
            out.append(("tokens", float(self.tokens)))
        if self.calls is not None:
            out.append(("calls", float(self.calls)))
        return out


@dataclass(frozen=True, slots=True)
class BudgetAlert:
    """Payload of a ``budget`` event: a threshold crossed or a limit reached."""

    scope: str
    run_id: str | None
    kind: str
    limit: float
    spent: float
    fraction: float
    threshold: float
    exceeded: bool


def _spent(acc: Accumulator, kind: str) -> float:
    if kind == "usd":
        return acc.cost
    if kind == "tokens":
        return float(acc.input + acc.output)
    return float(acc.calls)


class BudgetState:
    """A budget bound to the counter it watches (a run's totals, or the global budget's own)."""

    __slots__ = ("_fired", "_warned_exceeded", "budget", "exceeded", "run_id", "scope", "source")

    def __init__(
        self, budget: Budget, source: Callable[[], Accumulator], scope: str, run_id: str | None
    ) -> None:
        self.budget, self.source, self.scope, self.run_id = budget, source, scope, run_id
        self._fired: set[tuple[str, float]] = set()
        self.exceeded: tuple[str, float, float] | None = None
        self._warned_exceeded = False

    def check(self) -> None:
        """Before a call: raise (or warn once) if a limit is already reached."""
        if self.exceeded is None:
            return
        kind, _, limit = self.exceeded
        error = BudgetExceeded(self.scope, kind, _spent(self.source(), kind), limit)
        if self.budget.on_exceed == "raise":
            raise error
        if not self._warned_exceeded:
            self._warned_exceeded = True
            warnings.warn(str(error), BudgetWarning, stacklevel=user_stacklevel())

    def status(self) -> list[dict[str, object]]:
        """One row per limit: kind, limit, spent, thresholds, exceeded (for panels and reports)."""
        acc = self.source()
        return [
            {
                "kind": kind,
                "limit": limit,
                "spent": _spent(acc, kind),
                "warn_at": list(self.budget.warn_at),
                "exceeded": _spent(acc, kind) >= limit,
            }
            for kind, limit in self.budget.limits()
        ]

    def after_event(self, hub: Hub) -> None:
        """After an event: fire each threshold once (one warning per event, for the highest crossed)."""
        message = None
        acc = self.source()
        for kind, limit in self.budget.limits():
            spent = _spent(acc, kind)
            fraction = spent / limit
            for threshold in (*self.budget.warn_at, 1.0):
                if fraction < threshold or (kind, threshold) in self._fired:
                    continue
                self._fired.add((kind, threshold))
                exceeded = threshold >= 1.0
                if exceeded and self.exceeded is None:
                    self.exceeded = (kind, spent, limit)
                alert = BudgetAlert(
                    self.scope, self.run_id, kind, limit, spent, fraction, threshold, exceeded
                )
                hub.emit("budget", alert)
                what = "reached" if exceeded else f"passed {threshold:.0%} of"
                message = f"tokentrail: {self.scope} {what} its {kind} budget ({spent:.6g} of {limit:.6g})"
        if message is not None:
            log.debug(message)
            warnings.warn(message, BudgetWarning, stacklevel=user_stacklevel())
