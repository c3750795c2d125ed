"""Price lookup (genai-prices snapshot, user overrides) and per-call cost arithmetic."""

from .book import PriceBook, UnpricedModelWarning, compute
from .table import table_version

PRICES = PriceBook()

__all__ = ["PRICES", "PriceBook", "UnpricedModelWarning", "compute", "table_version"]
