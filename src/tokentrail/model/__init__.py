"""Values: usage, prices, costs, events, totals, and the normalization of provider usage shapes."""

from .cost import Cost, CostStatus
from .event import EMPTY_CONTEXT, CallContext, EventKind, Status, UsageEvent, UsageSource
from .normalize import Normalized, normalize_usage, to_mapping
from .outcome import NO_OUTCOME, Counts, Outcome, outcome, raw_view
from .price import Price, Rates, Tier
from .totals import Accumulator, Totals
from .usage import ZERO_USAGE, Usage, check_count, usage_of

__all__ = [
    "EMPTY_CONTEXT",
    "NO_OUTCOME",
    "ZERO_USAGE",
    "Accumulator",
    "CallContext",
    "Cost",
    "CostStatus",
    "Counts",
    "EventKind",
    "Normalized",
    "Outcome",
    "Price",
    "Rates",
    "Status",
    "Tier",
    "Totals",
    "Usage",
    "UsageEvent",
    "UsageSource",
    "check_count",
    "normalize_usage",
    "outcome",
    "raw_view",
    "to_mapping",
    "usage_of",
]
