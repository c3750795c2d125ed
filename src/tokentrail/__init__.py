"""tokentrail: every LLM call in the process, typed, priced and attributed to the run that was active."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ledger import Subscription
from .model import Cost, Price, Totals, Usage, UsageEvent
from .pricing import PRICES as _PRICES
from .pricing import UnpricedModelWarning
from .runs import (
    Budget,
    BudgetAlert,
    BudgetExceeded,
    BudgetWarning,
    Periodic,
    Run,
    Tool,
    ToolSpan,
    Tracker,
    apply_settings_once,
    configure,
    context,
    current_run,
    handoff,
    last_run,
    on,
    record,
    record_usage,
    report_every,
    reset_config,
    set_budget,
    tool,
    track_usage,
    tracker,
)

if TYPE_CHECKING:
    from .report import Report


price_for = _PRICES.price_for  # the rates used for a model (per million tokens, with their source)
set_price = _PRICES.set_price  # override or add a model's price; wins over the bundled table


def instrument() -> None:
    """Patch every supported LLM SDK in the process (now and when imported later); idempotent."""
    from .instrument import instrument as _instrument

    _instrument()


def uninstrument() -> None:
    """Restore every patched SDK exactly as it was; idempotent."""
    from .instrument import uninstrument as _uninstrument

    _uninstrument()


def dashboard() -> Any:
    """The live session dashboard widget (all runs), reused across calls."""
    from .jupyter.widget import dashboard as _dashboard

    return _dashboard()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext tokentrail``: instrument the kernel and register the magics."""
    from .jupyter.extension import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext tokentrail``: remove every hook, handler, magic and patch the extension added."""
    from .jupyter.extension import unload_ipython_extension as _unload

    _unload(ipython)


apply_settings_once()

__all__ = [
    "Budget", "BudgetAlert", "BudgetExceeded", "BudgetWarning", "Cost", "Periodic", "Price", "Report",
    "Run", "Subscription", "Tool", "ToolSpan", "Totals", "Tracker", "UnpricedModelWarning", "Usage",
    "UsageEvent", "configure", "context", "current_run", "dashboard", "handoff", "instrument", "last_run",
    "on", "price_for", "record", "record_usage", "report_every", "reset_config", "set_budget", "set_price",
    "tool", "track_usage", "tracker", "uninstrument",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("tokentrail")
    if name == "Report":
        from .report import Report

        return Report
    raise AttributeError(f"module 'tokentrail' has no attribute {name!r}")
