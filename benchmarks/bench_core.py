"""Core overhead, measured in one run: record() vs a floor, at 0/10k/50k events; pricing; import time.

Run: .venv/bin/python benchmarks/bench_core.py   (prints a table; goals: record <= 5 us, price <= 1 us, flat)
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

N = 20_000
REPEATS = 7


def per_call_us(fn: Callable[[], object], n: int = N, settle: Callable[[], object] | None = None) -> float:
    """Best-of-REPEATS mean microseconds per call (best of: least disturbed by the machine); ``settle``
    runs once at the end, timed (reading the totals: calls still queued for the fold count)."""
    samples = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        if settle is not None:
            settle()
        samples.append((time.perf_counter() - t0) / n * 1e6)
    return min(samples)


def amortized_us(fn: Callable[[], object], n: int = 100_000, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` mean microseconds per call filling a fresh run with ``n`` calls, and of that the
    time in the garbage collector: its full passes over what is kept fall between the short windows
    ``per_call_us`` times, so only a fill this long shows what keeping each event costs."""
    in_gc, began = [0.0], [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            in_gc[0] += time.perf_counter() - began[0]

    import tokentrail as tt

    best = (float("inf"), 0.0)
    gc.callbacks.append(timer)
    try:
        for _ in range(repeats):
            tt.tracker().reset()
            gc.collect()
            in_gc[0] = 0.0
            with tt.track_usage("fill") as run:
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                run.usage  # noqa: B018 - calls still queued count
                took = time.perf_counter() - t0
            best = min(best, (took / n * 1e6, in_gc[0] / n * 1e6))
    finally:
        gc.callbacks.remove(timer)
    return best


def import_ms() -> float:
    code = "import time; t=time.perf_counter(); import tokentrail; print((time.perf_counter()-t)*1000)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(5)]
    return statistics.median(runs)


def main() -> None:
    import tokentrail as tt
    from tokentrail.model import Usage
    from tokentrail.pricing import PRICES

    lock = threading.Lock()
    sink: list[tuple[str, int, int]] = []

    def floor() -> None:
        with lock:
            sink.append(("gpt-4o-mini", 1200, 350))

    def record() -> None:
        tt.record(model="gpt-4o-mini", provider="openai", input_tokens=1200, output_tokens=350,
                  cached_input_tokens=400)  # fmt: skip

    usage = Usage(1200, 350, cached_input_tokens=400, reasoning_tokens=64)
    PRICES.cost("gpt-4o-mini", "openai", usage)  # resolve the rates once, as the first real call does

    rows: list[tuple[str, float, float]] = []
    tt.tracker().reset()
    floor_us = per_call_us(floor)
    for fill in (0, 10_000, 50_000):
        tt.tracker().reset()
        with tt.track_usage("fill"):
            for _ in range(fill):
                record()
        with tt.track_usage("bench") as run:
            us = per_call_us(record, 5_000, lambda: run.usage)
        rows.append((f"record() in a run, ledger at {fill:,} events", us, us / floor_us))
    outside = per_call_us(record, 5_000, lambda: tt.tracker().usage)
    rows.append(("record() outside any run", outside, outside / floor_us))
    tt.tracker().reset()
    with tt.track_usage("bench"):
        led = tt.tracker().ledger
        fold_at, led.fold_at = led.fold_at, 10**9
        try:
            queued = per_call_us(record, 5_000, led.pending.clear)
        finally:
            led.fold_at = fold_at
    rows.append(("  of which on the caller's path (queued)", queued, queued / floor_us))
    tt.tracker().reset()
    with tt.on("usage", lambda event: None), tt.track_usage("bench"):
        eager = per_call_us(record, 5_000)
    rows.append(("record() with a usage handler (no queue)", eager, eager / floor_us))
    filled, collector = amortized_us(record)
    rows.append(("record() filling a run to 100,000 events", filled, filled / floor_us))
    rows.append(("  of which in the garbage collector", collector, collector / floor_us))
    price_us = per_call_us(lambda: PRICES.cost("gpt-4o-mini", "openai", usage))
    rows.append(("price one call (cached rates)", price_us, price_us / floor_us))
    ms = import_ms()

    print(f"{'measure':<44} {'us/call':>9} {'x floor':>8}")
    print(f"{'floor: append a tuple under a lock':<44} {floor_us:>9.2f} {1.0:>8.1f}")
    for name, us, ratio in rows:
        print(f"{name:<44} {us:>9.2f} {ratio:>8.1f}")
    print(f"{'import tokentrail (median of 5, ms)':<44} {ms:>9.1f}")
    flat = rows[2][1] / rows[0][1]
    print(f"flatness: record at 50k / at 0 events = {flat:.2f} (1.0 = O(1))")


if __name__ == "__main__":
    main()
