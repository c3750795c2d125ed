"""Each unit test starts from an empty tracker, default configuration and no price overrides."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tokentrail as tt
from tokentrail.pricing import PRICES


@pytest.fixture(autouse=True)
def clean_tracker() -> Iterator[None]:
    tt.reset_config()
    tt.tracker().reset()
    PRICES.clear_overrides()
    yield
    tt.tracker().ledger.hub.runner.flush()
    tt.reset_config()
    tt.tracker().reset()
    PRICES.clear_overrides()
