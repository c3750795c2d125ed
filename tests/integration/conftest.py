"""Integration tests start from an empty, uninstrumented tracker and leave nothing patched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import tokentrail as tt
import tokentrail.instrument as ti
from tokentrail.pricing import PRICES

LOCAL_PRICE = {"input_per_mtok": 1.0, "output_per_mtok": 4.0, "cached_input_per_mtok": 0.5}


@pytest.fixture(autouse=True)
def clean_tracker() -> Iterator[None]:
    tt.reset_config()
    tt.tracker().reset()
    tt.set_price("gemma3-270m", **LOCAL_PRICE)  # priced, so costs are checked too (and nothing warns)
    yield
    ti.uninstrument()
    ti.configure(stream_usage="auto", forget_rejections=True)
    tt.tracker().ledger.hub.runner.flush()
    tt.reset_config()
    tt.tracker().reset()
    PRICES.clear_overrides()


@pytest.fixture
def instrumented() -> Iterator[None]:
    ti.instrument()
    yield
    ti.uninstrument()
