"""Append-only events, O(1) aggregates, and isolated subscribers."""

from .aggregates import Aggregates, merged
from .hub import KINDS, Hub, Subscription
from .ledger import DEFAULT_MAX_EVENTS, Ledger

__all__ = ["DEFAULT_MAX_EVENTS", "KINDS", "Aggregates", "Hub", "Ledger", "Subscription", "merged"]
