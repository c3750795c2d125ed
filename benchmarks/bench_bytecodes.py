"""Bytecodes tokentrail adds to an SDK call, counted with ``sys.settrace`` opcode events.

Instruction counts (``bench_instructions.py``) say what a call costs, but they move by several
thousand with where a process's objects and types landed. The number of bytecodes a call runs does
not: it is exact and the same on every machine, so a change to the Python work on the hot path shows
here to the bytecode, by function, in seconds. It says nothing about what C code costs (allocation,
the collector, the SDK's parsing); valgrind does.

The OTel peer (``opentelemetry-instrumentation-openai-v2``, as ``bench_sdk.py`` runs it) is counted the
same way: an exact peer/ours ratio of Python work, where the instruction counts of a 50-chunk stream
move by ±200k with the layout.

With tokentrail's C modules built (``hatch_build.py``: the default where a compiler is), the work
they do (reading a parsed result and queueing it, relaying stream chunks, the fold's sums) is not
bytecodes and is not counted here; ``TOKENTRAIL_NO_SPEEDUPS=1`` counts the pure-Python path.

Run: .venv/bin/python benchmarks/bench_bytecodes.py   (prints bytecodes and Python calls per call)
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any

import bench_sdk as b

import tokentrail as tt

N = 50  # calls counted per scenario; the batched fold runs in the counted region (the totals are read)


def counted(
    fn: Callable[[], Any], settle: Callable[[], Any], n: int = N
) -> tuple[Counter[str], Counter[str]]:
    """Bytecodes and Python calls of ``n`` runs of ``fn``, by function (``module:name``)."""
    ops: Counter[str] = Counter()
    calls: Counter[str] = Counter()

    def trace(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        code = frame.f_code
        key = f"{code.co_filename.rsplit('/site-packages/', 1)[-1].rsplit('/src/', 1)[-1]}:{code.co_name}"
        if event == "opcode":
            ops[key] += 1
        elif event == "call":
            calls[key] += 1
        return trace

    sys.settrace(trace)
    try:
        for _ in range(n):
            fn()
        settle()
    finally:
        sys.settrace(None)
    return ops, calls


def main() -> int:
    aclient = b.openai.AsyncOpenAI(
        api_key="sk-bench", http_client=b.openai.DefaultAsyncHttpxClient(transport=b.TRANSPORT), max_retries=0
    )
    loop = b.asyncio.new_event_loop()

    def concurrent() -> None:
        """100 concurrent async calls; counted per call (the loop's own work is the same for all three)."""
        loop.run_until_complete(b.concurrent(aclient))

    scenarios = {"plain call": b.plain, "50-chunk stream": b.stream, "100 async (per call)": concurrent}
    runs = {"100 async (per call)": 2}  # times each scenario is counted (N by default)
    calls_per_run = {"100 async (per call)": 100}  # counts are printed per call
    per_call = {name: runs.get(name, N) * calls_per_run.get(name, 1) for name in scenarios}
    bare: dict[str, tuple[Counter[str], Counter[str]]] = {}
    for name, fn in scenarios.items():
        fn()  # warm: first-call caches
        bare[name] = counted(fn, lambda: None, runs.get(name, N))
    tt.instrument()
    from tokentrail.instrument import _fast

    path = "pure Python" if _fast.SPEEDUPS is None else "C modules built: their work is not counted"
    print(f"tokentrail's path: {path}")
    with tt.track_usage("bench") as run:
        print(f"{'scenario':<18}{'bare bytecodes':>16}{'added':>10}{'bare calls':>12}{'added':>8}")
        rows = []
        added_by: dict[str, float] = {}
        for name, fn in scenarios.items():
            fn()
            _ = run.usage  # warm: the first fold resolves the model's rates (genai-prices is loaded)
            ops, calls = counted(fn, lambda: run.usage, runs.get(name, N))
            bare_ops, bare_calls = bare[name]
            k = per_call[name]
            added = (sum(ops.values()) - sum(bare_ops.values())) / k
            added_calls = (sum(calls.values()) - sum(bare_calls.values())) / k
            print(f"{name:<18}{sum(bare_ops.values()) / k:>16,.0f}{added:>+10,.0f}"
                  f"{sum(bare_calls.values()) / k:>12,.0f}{added_calls:>+8,.1f}")  # fmt: skip
            ours = Counter({k: v for k, v in ops.items() if k.startswith("tokentrail/")})
            rows.append((name, ours, calls))
            added_by[name] = added
    tt.uninstrument()
    peer = b.OTel()  # the OTel peer, as bench_sdk runs it: its Python work per call, exact, beside ours
    peer.on()
    try:
        print(f"\n{'scenario':<18}{'tokentrail added':>18}{'otel-openai-v2 added':>22}{'peer/ours':>11}")
        for (name, _ours, _), fn in zip(rows, scenarios.values()):
            fn()
            ops, _calls = counted(fn, peer.spans.clear, runs.get(name, N))
            bare_ops = bare[name][0]
            theirs = (sum(ops.values()) - sum(bare_ops.values())) / per_call[name]
            ours = added_by[name]  # fewer than bare where tokentrail's relay skips the SDK's own generator
            # under half a bytecode a call (the usage read's share): no ratio means anything
            none = "ours~0" if ours > -0.5 else "ours<0"
            times = f"{theirs / ours:>10.1f}x" if ours >= 0.5 else f"{none:>11}"
            print(f"{name:<18}{ours:>+18,.0f}{theirs:>+22,.0f}{times}")
    finally:
        peer.off()
    b.check_no_errors()
    loop.close()
    for name, ours, calls in rows:
        k = per_call[name]
        print(f"\n{name}: tokentrail's functions, bytecodes (and calls) per call")
        for key, count in ours.most_common(12):
            print(f"  {count / k:>8,.1f}  ({calls[key] / k:>5.2f})  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
