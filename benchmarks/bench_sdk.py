"""SDK overhead in one run: the real openai SDK over ``httpx2.MockTransport`` (canned bodies), bare vs
tokentrail vs OpenTelemetry's ``opentelemetry-instrumentation-openai-v2``, interleaved, best of rounds.

Run: .venv/bin/python benchmarks/bench_sdk.py   (prints a table; goals: <= 5 us per call, <= 0.2 us per
chunk, end-to-end ratio <= 1.01 vs bare, >= 10x cheaper than the peer)
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai

ROUNDS = 200
PLAIN_ROUNDS = 400  # a plain call's paired difference spreads by ~8 µs (interquartile) from round to round
# in the steady state: the median of 400 rounds moves by ~0.4 µs, against a goal of ~6 µs
STREAM_ROUNDS = 400  # a stream's difference moves by ~100 µs from round to round (the layout of each
# switch on, not the stream's length: more streams a block do not narrow it), so streams get more rounds
CALLS = 25
STREAMS = 6
BATCHES = 1
RELEARN = 53 + 31  # CPython 3.11 (pycore_code.h): an instruction specialized for a class that has since
# changed misses 53 times, then runs 31 more times before it specializes again; patching or unpatching the
# SDK changes its classes, so every instruction a call runs once is slow for the next ~84 calls
WARM_CALLS = 120  # untimed plain calls after switching a configuration on: past ``RELEARN`` (see ``measure``)
WARM_STREAMS = 2  # a stream's per-chunk code re-learns in 2 streams; its per-stream code is still re-learning
EARLY = 25  # the calls after the first, timed apart: inside the re-learning window (``EARLY_TIMES``)
CHUNKS = 50
MSGS = [{"role": "user", "content": "Hi"}]
USAGE = {"prompt_tokens": 12, "completion_tokens": CHUNKS, "total_tokens": 12 + CHUNKS}
MESSAGE = {"role": "assistant", "content": "Hello there"}
CHAT = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "message": MESSAGE, "finish_reason": "stop"}],
    "usage": {**USAGE, "completion_tokens": 2, "total_tokens": 14},
}  # fmt: skip


def _sse() -> bytes:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"content": f"t{i}"}, "finish_reason": None}]}
              for i in range(CHUNKS)]  # fmt: skip
    chunks.append({**base, "choices": [], "usage": USAGE})  # what the server adds when asked for usage
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


SSE = _sse()
CHAT_BYTES = json.dumps(CHAT).encode()


def handler(request: httpx2.Request) -> httpx2.Response:
    if b'"stream":true' in request.content or b'"stream": true' in request.content:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=SSE)
    return httpx2.Response(200, headers={"content-type": "application/json"}, content=CHAT_BYTES)


TRANSPORT = httpx2.MockTransport(handler)
SYNC = openai.OpenAI(
    api_key="sk-bench", http_client=openai.DefaultHttpxClient(transport=TRANSPORT), max_retries=0
)


class ErrorCount(logging.Handler):
    """Counts what tokentrail logs at WARNING and above (instrumentation failures are logged as
    warnings, once per place): a benchmark whose instrumentation failed measured nothing."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


ERRORS = ErrorCount()
logging.getLogger("tokentrail").addHandler(ERRORS)


def check_no_errors() -> None:
    """Exit non-zero when tokentrail logged a warning or error during the run."""
    if ERRORS.count:
        raise SystemExit(
            f"tokentrail logged {ERRORS.count} warning(s) or error(s) during the benchmark: numbers invalid"
        )


def plain() -> None:
    SYNC.chat.completions.create(model="gpt-4o-mini", messages=MSGS)


def stream() -> None:
    for _ in SYNC.chat.completions.create(model="gpt-4o-mini", messages=MSGS, stream=True):
        pass


async def concurrent(client: openai.AsyncOpenAI) -> None:
    await asyncio.gather(
        *(client.chat.completions.create(model="gpt-4o-mini", messages=MSGS) for _ in range(100))
    )


# --- the three configurations -------------------------------------------------------------------
class Bare:
    name = "bare"

    def on(self) -> None: ...

    def off(self) -> None: ...

    def settle(self) -> None: ...


class Tokentrail:
    name = "tokentrail"

    def __init__(self) -> None:
        import tokentrail as tt

        self.tt = tt
        self.scope: Any = None
        self.run: Any = None

    def on(self) -> None:
        self.tt.tracker().reset()
        self.tt.instrument()
        self.scope = self.tt.track_usage("bench")
        self.run = self.scope.__enter__()

    def off(self) -> None:
        self.scope.__exit__(None, None, None)
        self.tt.uninstrument()

    def settle(self) -> None:
        """Read the run's totals inside the timed region: calls queued for the batched fold count here."""
        _ = self.run.usage


def _otel_compat() -> str:
    """The peer exactly as installed (the versions pinned in pyproject's test extra), in its default
    configuration: no stand-ins, no forced path. Names the versions and the path it takes by itself."""
    from importlib.metadata import version

    from opentelemetry.util.genai.utils import is_experimental_mode

    path = "latest-experimental semconv" if is_experimental_mode() else "classic"
    return (
        f"; otel-openai-v2 {version('opentelemetry-instrumentation-openai-v2')} with util-genai"
        f" {version('opentelemetry-util-genai')}, as installed ({path} path, its default)"
    )


class OTel:
    name = "otel-openai-v2"

    def __init__(self) -> None:
        self.note = _otel_compat()
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        self.instrumentor = OpenAIInstrumentor()

    def on(self) -> None:
        self.spans.clear()
        self.instrumentor.instrument(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider)

    def off(self) -> None:
        self.instrumentor.uninstrument()


def timed(fn: Callable[[], Any], n: int, settle: Callable[[], Any] | None = None) -> float:
    """Mean µs of CPU time per call: this process's own time, so other processes on a shared machine
    (CI, the other test suites) do not count; the SDK over a mock transport never waits on I/O.
    ``settle`` runs once at the end, timed: tokentrail's totals are read, so its deferred work counts."""
    t0 = time.process_time()
    for _ in range(n):
        fn()
    if settle is not None:
        settle()
    return (time.process_time() - t0) / n * 1e6


FIRST: dict[str, dict[str, list[float]]] = {}  # scenario -> config -> µs of the first call after on()
EARLY_TIMES: dict[str, dict[str, list[float]]] = {}  # scenario -> config -> µs a call, calls 2..EARLY+1
DIFFS: dict[str, dict[str, list[float]]] = {}  # scenario -> config -> its per-round difference to bare


def interval(diffs: list[float], draws: int = 2000) -> tuple[float, float]:
    """A 90% bootstrap interval of the median of paired differences (seeded): how far this run's
    number could move with other rounds of the same machine state (not across machine states)."""
    pick = random.Random(1).choices
    medians = sorted(statistics.median(pick(diffs, k=len(diffs))) for _ in range(draws))
    return medians[draws // 20], medians[draws - 1 - draws // 20]


def measure(
    configs: list[Any], scenarios: dict[str, tuple[Callable[[], Any], int, int]], rounds: int = ROUNDS
) -> dict[str, dict[str, float]]:
    """Paired rounds: in each round every configuration runs each scenario briefly, so slow drifts of a
    shared machine hit all of them alike, in an order shuffled every round (seeded), so that none always
    follows another's patching or unpatching. Each block is timed after ``warm`` calls, then the
    configuration's ``settle`` (untimed: the block's own calls are what its timed ``settle`` folds).
    Switching a configuration on or off patches or unpatches the SDK's classes: the first call after it
    runs with cold caches (kept in ``FIRST``), and the next ~84 (``RELEARN``) with the interpreter
    re-learning the changed classes, ~+5 µs a call for tokentrail, also for bare after another's
    unpatching (calls 2..EARLY+1 are kept in ``EARLY_TIMES``). A user instruments once, so the steady
    state after that is the table's number. Returns the median µs of bare, and for the others the median
    of their per-round difference to bare added to it (robust to the noise a min or mean would pick up)."""
    samples: dict[str, dict[str, list[float]]] = {s: {c.name: [] for c in configs} for s in scenarios}
    for s, (_, _, warm) in scenarios.items():
        FIRST.setdefault(s, {c.name: [] for c in configs})
        if warm > EARLY + 1:
            EARLY_TIMES.setdefault(s, {c.name: [] for c in configs})
    order = list(configs)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)
        for config in order:
            config.on()
            settle = getattr(config, "settle", None)
            try:
                for scenario, (fn, n, warm) in scenarios.items():
                    FIRST[scenario][config.name].append(timed(fn, 1))  # first-call caches, cold caches
                    left = warm - 1
                    if scenario in EARLY_TIMES:
                        EARLY_TIMES[scenario][config.name].append(timed(fn, EARLY, settle))
                        left -= EARLY
                    for _ in range(left):
                        fn()
                    if settle is not None:
                        settle()
                    samples[scenario][config.name].append(timed(fn, n, settle))
            finally:
                config.off()
    out: dict[str, dict[str, float]] = {}
    for scenario, by in samples.items():
        bare = by["bare"]
        DIFFS[scenario] = {name: [a - b for a, b in zip(v, bare)] for name, v in by.items()}
        out[scenario] = {name: statistics.median(bare) + statistics.median(d)
                         for name, d in DIFFS[scenario].items()}  # fmt: skip
    return out


def _null_open(handle: Any, provider: Any, model: Any, operation: str, method: str, is_async: bool,
               kind: str, attempt: int) -> None:  # fmt: skip
    """Stands in for the core's ``open_call``: the SDK hook alone, no budgets, run, context or clock;
    the handle gets the fields its readers use (provider, model)."""
    handle._head = (kind, provider, model, operation, method, 0.0)
    handle._tail = _NO_TAIL
    handle.done = False


_NO_TAIL = (None, None, (), None, 1)


def _null_settled(self: Any, outcome: Any) -> None:
    """Stands in for the core's ``settled``: reading the SDK's object is the hook's work; queueing and
    the event are the core's."""
    self.done = True


def _settled(call: Any, chunk: Any, finish: Any = None) -> bool:
    """Stands in for the core at a stream's end (the relay alone is measured): said settled."""
    return True


def _null_fast(call: Any, result: Any) -> bool:
    """Stands in for the C hot path (``instrument/_speedups.c``), which reads the result and queues its
    record in one step: with the core stubbed, the result is not read either."""
    call.done = True
    return True


def best_of(
    fns: dict[str, Callable[[], Any]], n: int, rounds: int = 15, settle: Callable[[], Any] | None = None
) -> dict[str, float]:
    """Min over interleaved rounds of the mean µs per call of each function."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            out[name].append(timed(fn, n, settle))
    return {k: min(v) for k, v in out.items()}


_SWEPT = bytearray(8 << 20)
_PARSED = json.dumps([{"a": i, "b": [str(i)] * 5, "c": {"d": i * 1.5}} for i in range(3000)])


def _sweep() -> None:
    """Leave the caches and branch predictors as an SDK call leaves them for the next hook: other data
    (an 8 MB read, one byte per cache line) and other code (a JSON parse)."""
    sum(_SWEPT[::64])
    json.loads(_PARSED)


def cold(fns: dict[str, Callable[[], Any]], n: int = 200, rounds: int = 15,
         settle: Callable[[], Any] | None = None) -> dict[str, float]:  # fmt: skip
    """Median over interleaved rounds of the mean µs per call, the caches swept before each call and
    only the call timed (``settle`` runs untimed after each block)."""
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            total = 0.0
            for _ in range(n):
                _sweep()
                t0 = time.perf_counter()
                fn()
                total += time.perf_counter() - t0
            if settle is not None:
                settle()
            out[name].append(total / n * 1e6)
    return {k: statistics.median(v) for k, v in out.items()}


def hook_costs() -> dict[str, float]:
    """The hook alone, without HTTP: tokentrail's request wrapper around a stub that returns a parsed
    completion (with the core's open_call + settle, and with them stubbed out), and the stream relay
    over 50 parsed chunks plus the hidden usage chunk, vs plain iteration."""
    from openai._models import FinalRequestOptions
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    import tokentrail as tt
    from tokentrail.instrument import _call, _fast, _wrap
    from tokentrail.instrument._stream import StreamProxy
    from tokentrail.instrument._wrap import sync_request
    from tokentrail.instrument.openai import ADAPTER, InjectedChunkWatcher

    tt.instrument()  # the adapter learns the SDK's stream and raw-response classes
    result = ChatCompletion.model_validate(CHAT)
    options = FinalRequestOptions.construct(method="post", url="/chat/completions",
                                            json_data={"model": "gpt-4o-mini", "messages": MSGS})  # fmt: skip

    def stub(client: Any, cast_to: Any, opts: Any, **kw: Any) -> Any:
        return result

    wrapped = sync_request(ADAPTER)(stub)
    chunks = [ChatCompletionChunk.model_validate(json.loads(line[6:])) for line in SSE.split(b"\n\n")[:-2]]
    call = _call.Call.__new__(_call.Call)
    call.injected, call._head = True, ("llm", "openai", "gpt-4o-mini", "chat", "stream", 0.0)

    def iterate(data: list[Any]) -> Callable[[], None]:
        def run() -> None:
            for _ in iter(data):
                pass

        return run

    def relay(data: list[Any]) -> Callable[[], None]:
        if _fast.PROXY is not None:  # the C proxy (what an instrumented sync chat stream is), its end stubbed

            def run() -> None:
                for _ in _fast.PROXY(data, iter(data), call, True, _settled):
                    pass

            return run

        def run_python() -> None:
            for _ in StreamProxy(data, InjectedChunkWatcher(call), lambda status, exc: None):
                pass

        return run_python

    real_open = _call.open_call
    tt.tracker().reset()
    with tt.track_usage("hook") as run:
        calls = best_of({"stub": lambda: stub(SYNC, ChatCompletion, options),
                         "hook+core": lambda: wrapped(SYNC, ChatCompletion, options)}, 2000,
                        settle=lambda: run.usage)  # fmt: skip
        swept = cold({"stub": lambda: stub(SYNC, ChatCompletion, options),
                      "hook+core": lambda: wrapped(SYNC, ChatCompletion, options)},
                     settle=lambda: run.usage)  # fmt: skip
        led = tt.tracker().ledger
        fold_at, led.fold_at = led.fold_at, 10**9  # the caller's part alone: queued, never folded
        try:
            calls["on path"] = best_of({"on path": lambda: wrapped(SYNC, ChatCompletion, options)}, 2000,
                                       settle=led.pending.clear)["on path"]  # fmt: skip
        finally:
            led.fold_at = fold_at
        # the C hot path starts a call with open_call's work and reads and queues in one step: the
        # hook alone runs the Python begin (with the core's open_call stubbed) and no read
        real_settle, real_begin = _fast.settle, _wrap.begin
        _call.open_call, _call.Call.settled, _fast.settle = _null_open, _null_settled, _null_fast  # type: ignore[method-assign]
        _wrap.begin = _call.begin_python
        try:
            calls["hook"] = best_of({"hook": lambda: wrapped(SYNC, ChatCompletion, options)}, 2000)["hook"]
        finally:
            _call.open_call, _fast.settle, _wrap.begin = real_open, real_settle, real_begin
            del _call.Call.settled  # the core's, inherited, again
        shortest = [chunks[0], chunks[-1]]  # one chunk and the usage chunk: a stream's setup and end
        streams = best_of({"iterate": iterate(chunks), "iterate1": iterate(shortest),
                           "relay": relay(chunks), "relay1": relay(shortest)}, 200)  # fmt: skip
    tt.uninstrument()
    return {
        "hook+core": calls["hook+core"] - calls["stub"],
        "hook": calls["hook"] - calls["stub"],
        "core": calls["hook+core"] - calls["hook"],
        "on path": calls["on path"] - calls["stub"],
        "cold": swept["hook+core"] - swept["stub"],
        # marginal: (n chunks - 2 chunks) / (n - 2), so the per-stream setup is not spread over the chunks
        "chunk": ((streams["relay"] - streams["relay1"]) - (streams["iterate"] - streams["iterate1"]))
        / (len(chunks) - 2),
        "stream setup": streams["relay1"] - streams["iterate1"],
    }


def _speedups_built() -> bool:
    from tokentrail.instrument import _fast

    return _fast.SPEEDUPS is not None


def main() -> None:
    configs = [Bare(), Tokentrail(), OTel()]
    aclient = openai.AsyncOpenAI(
        api_key="sk-bench", http_client=openai.DefaultAsyncHttpxClient(transport=TRANSPORT), max_retries=0
    )
    loop = asyncio.new_event_loop()
    streams = {f"{CHUNKS}-chunk stream": (stream, STREAMS, WARM_STREAMS)}
    results = measure(configs, {"plain call": (plain, CALLS, WARM_CALLS)}, PLAIN_ROUNDS)  # call, timed, warm
    results.update(measure(configs, streams, STREAM_ROUNDS))
    results.update(measure(configs, {"100 concurrent async calls": (
        lambda: loop.run_until_complete(concurrent(aclient)), BATCHES, 1)}))  # fmt: skip

    async def inside_loop() -> dict[str, dict[str, float]]:  # as in a Jupyter kernel: a loop is running
        out = measure(configs, {"plain call, loop running": (plain, CALLS, WARM_CALLS)}, PLAIN_ROUNDS)
        out.update(measure(configs, {f"{CHUNKS}-chunk stream, loop running": (stream, STREAMS, WARM_STREAMS)},
                           STREAM_ROUNDS))  # fmt: skip
        return out

    results.update(asyncio.run(inside_loop()))
    loop.close()
    hook = hook_costs()
    check_no_errors()

    per_unit = {"100 concurrent async calls": 100}
    print(f"openai {openai.__version__}, python {sys.version.split()[0]}; medians of {ROUNDS} paired rounds"
          f" ({PLAIN_ROUNDS} for plain calls, {STREAM_ROUNDS} for streams){configs[2].note}")  # fmt: skip
    cols = (
        ("bare us", 10),
        ("tokentrail", 12),
        ("+us", 8),
        ("ratio", 8),
        ("otel", 10),
        ("+us", 8),
        ("ratio", 8),
    )
    print(f"{'scenario':<34}" + "".join(f"{name:>{width}}" for name, width in cols) + f"{'peer/ours':>11}"
          + f"{'ours +us, 90% interval':>26}")  # fmt: skip
    for scenario, by in results.items():
        div = per_unit.get(scenario, 1)
        bare, ours, peer = by["bare"] / div, by["tokentrail"] / div, by["otel-openai-v2"] / div
        d_ours, d_peer = ours - bare, peer - bare
        times = f"{d_peer / d_ours:>10.1f}x" if d_ours > 0 else f"{'ours<=0':>11}"
        unit = " (per call)" if div > 1 else ""
        low, high = (x / div for x in interval(DIFFS[scenario]["tokentrail"]))
        spread = f"[{low:+.1f}, {high:+.1f}]"
        print(f"{scenario + unit:<34}{bare:>10.1f}{ours:>12.1f}{d_ours:>+8.2f}{ours / bare:>8.3f}"
              f"{peer:>10.1f}{d_peer:>+8.2f}{peer / bare:>8.3f}{times}{spread:>26}")  # fmt: skip
    print("\nthe hook alone (no HTTP, best of interleaved rounds):")
    fast = "in C" if _speedups_built() else "in Python (C modules not built)"
    print(f"  per call {hook['hook+core']:.2f} us = tokentrail's SDK hook {hook['hook']:.2f} us"
          f" + reading the result, the core's open_call/settle and its share of the fold (event, price,"
          f" totals) {hook['core']:.2f} us; the call started, its result read and queued {fast}")  # fmt: skip
    print(f"  of which on the caller's path (the fold left out): {hook['on path']:.2f} us")
    print(f"  with the caches swept before each call, as an SDK call leaves them: {hook['cold']:.2f} us"
          " (what an end-to-end call pays; the fold's share counted only where a call folds)")  # fmt: skip
    print(f"  per streamed chunk {hook['chunk']:.3f} us, plus {hook['stream setup']:.1f} us once per stream")
    d_call = results["plain call"]["tokentrail"] - results["plain call"]["bare"]
    d_peer = results["plain call"]["otel-openai-v2"] - results["plain call"]["bare"]
    print(f"end to end, plain call: tokentrail {d_call:+.1f} us, otel {d_peer:+.1f} us "
          f"(differences below ~1% of a bare call are within this machine's noise)")  # fmt: skip
    print("tokentrail streams also ask for usage and hide the usage chunk (bare and otel iterate it)")
    first = FIRST["plain call"]
    d_first = {name: statistics.median(a - b for a, b in zip(v, first["bare"])) for name, v in first.items()}
    print(f"the first plain call after switching on (cold caches, not in the table): tokentrail"
          f" {d_first['tokentrail']:+.1f} us, otel {d_first['otel-openai-v2']:+.1f} us")  # fmt: skip
    early = EARLY_TIMES["plain call"]
    d_early = {name: statistics.median(a - b for a, b in zip(v, early["bare"])) for name, v in early.items()}
    print(f"plain calls 2-{EARLY + 1} after switching on (the interpreter re-learning the patched classes for"
          f" ~{RELEARN} calls; not in the table): tokentrail {d_early['tokentrail']:+.1f} us,"
          f" otel {d_early['otel-openai-v2']:+.1f} us a call")  # fmt: skip


if __name__ == "__main__":
    main()
