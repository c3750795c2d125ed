"""Instructions per SDK call, counted by valgrind (cachegrind): bare vs tokentrail vs the OTel peer.

Wall and CPU times on a shared 2-core VM drift by ±10% between runs; instruction counts do not
(run without address-space randomization, identical runs agree to a few instructions). But one
process's count still depends on where things landed: CPython's method cache (4,096 entries, indexed
by a type's version tag and the address of the attribute name) and its allocator. Moving them (other
code, other imports) moves tokentrail's count by up to ±9k per plain call and ±150k per stream with
the same Python work. So each configuration runs under several layouts (``LAYOUTS``: a prelude that
shifts heap addresses and type version tags before anything is imported) and the table gives the
mean, with the spread.
Per layout, the per-call count is the difference between a process that makes N calls after the
warm-up and one that makes none (start-up, imports and warm-up cancel out). Two processes run at once.

Then a plain call's overhead by phase (the SDK hook alone, the core up to its queue, the batched
fold), and the plain call per layout.

Run: .venv/bin/python benchmarks/bench_instructions.py   (needs valgrind; ~20 minutes; prints three tables)
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
SCENARIOS = {"plain call": ("plain", 200), "50-chunk stream": ("stream", 20)}
CONFIGS = ("bare", "tokentrail", "otel-openai-v2")

LAYOUTS = (0, 1, 2, 3)

# Runs first in every child: layout k shifts heap addresses (objects kept alive) and type version tags
# (classes whose attributes are looked up) by an amount that grows with k (no braces: CHILD is a format).
CHILD = r"""
import os as _os
_k = int(_os.environ.get("TT_LAYOUT", "0"))
_shift = [bytearray(_k * 4099), [object() for _ in range(_k * 97)]]
for _t in [type("_Shift%d" % _i, (), dict()) for _i in range(_k * 37)]:
    getattr(_t, "_x", None)
import gc
import sys
sys.path.insert(0, {here!r})
import bench_sdk as b
config, scenario, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
fn = b.plain if scenario == "plain" else b.stream
settle = lambda: None
if config.startswith("tokentrail"):
    import tokentrail as tt
    tt.instrument()
    run = tt.track_usage("bench").__enter__()
    settle = lambda: run.usage  # the queued calls are folded inside the counted region
    if config == "tokentrail:hook":  # the SDK hook alone: the core's open_call/settled stubbed (as bench_sdk)
        from tokentrail.instrument import _call, _fast, _wrap
        _call.open_call, _call.Call.settled, _fast.settle = b._null_open, b._null_settled, b._null_fast
        _wrap.begin = _call.begin_python  # the C begin does open_call's work itself
    elif config == "tokentrail:caller":  # up to the queue: what the fold would add is dropped
        import time
        from collections import deque
        from tokentrail.instrument import _fast, _flat
        from tokentrail.runs import calls
        calls._PENDING = deque(maxlen=0)  # the queue the SDK hot path appends to (Python, and C)
        if _fast.SPEEDUPS is not None:
            led = tt.tracker().ledger
            _fast.SPEEDUPS.bind(led, led.switches, calls._PENDING, _flat._SHAPES, time.time)
elif config == "otel-openai-v2":
    b.OTel().on()
for _ in range(20):
    fn()
settle()
gc.collect()  # every configuration starts counting from the same collector state
for _ in range(n):
    fn()
settle()
b.check_no_errors()
"""


# Address-space randomization moves where objects land, and with it hash probes, allocator paths and
# collector timing: ±8k instructions per plain call between identical runs. Without it, identical runs
# agree to a few instructions.
NO_ASLR = ["setarch", platform.machine(), "-R"] if shutil.which("setarch") else []


def instructions(config: str, scenario: str, n: int, layout: int = 0) -> int:
    """Total instructions of one child process (valgrind's ``I refs``)."""
    code = CHILD.format(here=str(HERE))
    out = subprocess.run(
        [*NO_ASLR, "valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-c", code, config, scenario, str(n)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "0", "TT_LAYOUT": str(layout)},
    )  # fmt: skip
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_layout(configs: tuple[str, ...], scenario: str, n: int) -> dict[str, list[float]]:
    """Instructions per call of each configuration under each layout: (N calls - none) / N."""
    jobs = [(c, layout, k) for layout in LAYOUTS for c in configs for k in (0, n)]
    with ThreadPoolExecutor(2) as pool:
        totals = dict(zip(jobs, pool.map(lambda j: instructions(j[0], scenario, j[2], j[1]), jobs)))
    return {c: [(totals[(c, layout, n)] - totals[(c, layout, 0)]) / n for layout in LAYOUTS] for c in configs}


def added(per: dict[str, list[float]], config: str) -> list[float]:
    """What ``config`` adds to a bare call, layout by layout."""
    return [ours - bare for ours, bare in zip(per[config], per["bare"])]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def main() -> int:
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install -y valgrind): skipped")
        return 0
    print(f"mean of {len(LAYOUTS)} layouts; added: mean [min, max] over the layouts")
    print(f"{'scenario':<18}{'bare instr/call':>17}" + "".join(f"{c + ' added':>36}" for c in CONFIGS[1:])
          + f"{'peer/ours':>11}")  # fmt: skip
    for name, (scenario, n) in SCENARIOS.items():
        per = per_layout(CONFIGS, scenario, n)
        bare = mean(per["bare"])
        cells = []
        for c in CONFIGS[1:]:
            extra = added(per, c)
            spread = f"[{min(extra):,.0f}, {max(extra):,.0f}]"
            cells.append(f"+{mean(extra):,.0f} {spread} {1 + mean(extra) / bare:.4f}")
        ratio = mean(added(per, "otel-openai-v2")) / mean(added(per, "tokentrail"))
        print(f"{name:<18}{bare:>17,.0f}" + "".join(f"{c:>36}" for c in cells) + f"{ratio:>10.1f}x")
    phases()
    return 0


PHASES = {"SDK hook alone (core stubbed)": "tokentrail:hook",
          "+ core on the caller's path (up to the queue)": "tokentrail:caller",
          "+ the fold: records summed, priced, kept (= tokentrail)": "tokentrail"}  # fmt: skip


def phases() -> None:
    """Where a plain call's overhead goes, cumulatively (each row adds one phase to the one above),
    then what the whole adds under each layout."""
    per = per_layout(("bare", *PHASES.values()), "plain", 200)
    bare = mean(per["bare"])
    print(f"\nplain call by phase (instructions over bare {bare:,.0f}, mean of the layouts; each row includes"
          " the rows above)")  # fmt: skip
    before = 0.0
    for name, config in PHASES.items():
        extra = mean(added(per, config))
        print(f"  {name:<58}{extra:>10,.0f}  (+{extra - before:,.0f})")
        before = extra
    print("\nplain call per layout")
    for layout, b, extra in zip(LAYOUTS, per["bare"], added(per, "tokentrail")):
        print(f"  layout {layout}: bare {b:>12,.0f}  tokentrail +{extra:>8,.0f}  ({1 + extra / b:.4f})")


if __name__ == "__main__":
    raise SystemExit(main())
