"""The local model's own counters as an independent truth: tokens it served over a block of code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tokentrail.demo import LocalModel


@dataclass
class Served:
    """Prompt tokens (computed + reused from the cache) and predicted tokens the server counted."""

    input_tokens: int = 0
    output_tokens: int = 0


def _counters(model: LocalModel) -> tuple[int, int]:
    deadline = time.monotonic() + 5
    while True:  # a stream's last bytes can reach us a moment before the server books them
        m = model.metrics()
        if m.get("requests_processing", 0) == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    return int(m["prompt_tokens_total"] + m["prompt_tokens_cached_total"]), int(m["tokens_predicted_total"])


@contextmanager
def served(model: LocalModel) -> Iterator[Served]:
    """``with served(model) as s: ...`` then ``s.input_tokens`` / ``s.output_tokens`` for the block."""
    before = _counters(model)
    out = Served()
    yield out
    after = _counters(model)
    out.input_tokens, out.output_tokens = after[0] - before[0], after[1] - before[1]
