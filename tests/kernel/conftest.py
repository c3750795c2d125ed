"""Kernel tests share one real kernel per module, started after the embedded model (its URL is in the env)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kernel_harness import Kernel

from tokentrail.demo import LocalModel


@pytest.fixture(scope="module")
def kernel(local_model: LocalModel) -> Iterator[Kernel]:
    """One kernel per module; it inherits ``TOKENTRAIL_LOCAL_MODEL_URL`` from the ``local_model`` fixture."""
    k = Kernel()
    try:
        yield k
    finally:
        k.shutdown()
