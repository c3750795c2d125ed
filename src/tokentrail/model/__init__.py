"""Values: usage, prices, costs, events, totals, and the normalization of provider usage shapes."""

from .cost import Cost, CostStatus
from .event import EMPTY_CONTEXT, CallContext, EventKind, Status, UsageEvent, UsageSource
from .normalize import Normalized, normalize_usage, to_mapping
from .price import Price, Rates, Tier
from .totals import Accumulator, Totals
from .usage import ZERO_USAGE, Usage, check_count

__all__ = [
    "EMPTY_CONTEXT",
    "ZERO_USAGE",
    "Accumulator",
    "CallContext",
    "Cost",
    "CostStatus",
    "EventKind",
    "Normalized",
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
    "to_mapping",
]
