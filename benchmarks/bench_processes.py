"""SDK overhead as a user meets it: each configuration (bare, tokentrail, the OTel peer) in processes
of its own, instrumented once at start, never toggled.

``bench_sdk.py`` pairs the three in one process and so patches and unpatches the SDK every round;
each re-patch changes the patched classes, and the calls after it pay to re-learn them (about
10 µs a plain call here, measured in session 7). A kernel instruments once. Here every process
instruments once, warms up, then times blocks of calls; rounds interleave one process of each
configuration, so drifts of a shared machine hit all alike, and ASLR gives every process a new
memory layout, so no configuration keeps a lucky or unlucky one. Reported: the median over rounds
of each configuration's difference to that round's bare process.

Run: .venv/bin/python benchmarks/bench_processes.py   (about 3 minutes)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROUNDS = 12
BLOCKS = 25  # timed blocks per scenario in each process; its median is the process's number
HERE = Path(__file__).parent


def child(name: str) -> None:
    """One process, one configuration: instrument once, warm, time blocks, print µs per call as JSON."""
    import bench_sdk as b
    import openai

    config = {"bare": b.Bare, "tokentrail": b.Tokentrail, "otel-openai-v2": b.OTel}[name]()
    aclient = openai.AsyncOpenAI(
        api_key="sk-bench", http_client=openai.DefaultAsyncHttpxClient(transport=b.TRANSPORT), max_retries=0
    )
    loop = asyncio.new_event_loop()
    scenarios = {
        "plain call": (b.plain, b.CALLS, 1),
        f"{b.CHUNKS}-chunk stream": (b.stream, b.STREAMS, 1),
        "100 concurrent async calls (per call)": (
            lambda: loop.run_until_complete(b.concurrent(aclient)), b.BATCHES, 100),
    }  # fmt: skip
    settle = getattr(config, "settle", None)
    config.on()
    try:
        for fn, n, _ in scenarios.values():  # warm: first-call caches, the specializing interpreter
            for _ in range(3 * n):
                fn()
        out = {}
        for scenario, (fn, n, per) in scenarios.items():
            blocks = [b.timed(fn, n, settle) / per for _ in range(BLOCKS)]
            out[scenario] = statistics.median(blocks)
    finally:
        config.off()
    loop.close()
    b.check_no_errors()
    print(json.dumps(out))


def main() -> int:
    names = ("bare", "tokentrail", "otel-openai-v2")
    samples: dict[str, dict[str, list[float]]] = {}
    for _ in range(ROUNDS):
        for name in names:
            got = subprocess.run([sys.executable, __file__, name], capture_output=True, text=True, cwd=HERE)
            if got.returncode:
                print(got.stdout, got.stderr, file=sys.stderr)
                return 1
            for scenario, us in json.loads(got.stdout.splitlines()[-1]).items():
                samples.setdefault(scenario, {n: [] for n in names})[name].append(us)
    print(f"each configuration in its own processes, instrumented once; medians of {ROUNDS} rounds "
          f"(one process of each per round, {BLOCKS} timed blocks each)")  # fmt: skip
    cols = (("bare us", 9), ("tokentrail", 12), ("ratio", 8), ("otel", 10), ("ratio", 8), ("peer/ours", 11))
    print(f"{'scenario':<40}" + "".join(f"{name:>{width}}" for name, width in cols))
    for scenario, by in samples.items():
        bare = statistics.median(by["bare"])
        d = {n: statistics.median(a - c for a, c in zip(by[n], by["bare"])) for n in names[1:]}
        ours, peer = d["tokentrail"], d["otel-openai-v2"]
        times = f"{peer / ours:>10.1f}x" if ours > 0 else f"{'ours<=0':>11}"
        print(f"{scenario:<40}{bare:>9.1f}{ours:>+12.2f}{(bare + ours) / bare:>8.3f}{peer:>+10.2f}"
              f"{(bare + peer) / bare:>8.3f}{times}")  # fmt: skip
    spread = {s: (min(by["bare"]), max(by["bare"])) for s, by in samples.items()}
    print("bare across processes (min-max): "
          + "; ".join(f"{s} {lo:.1f}-{hi:.1f}" for s, (lo, hi) in spread.items()))  # fmt: skip
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.path.insert(0, str(HERE))
        child(sys.argv[1])
    else:
        raise SystemExit(main())
