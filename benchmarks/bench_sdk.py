"""SDK overhead in one run: the real openai SDK over ``httpx2.MockTransport`` (canned bodies), bare vs
tokentrail vs OpenTelemetry's ``opentelemetry-instrumentation-openai-v2``, interleaved, best of rounds.

Run: .venv/bin/python benchmarks/bench_sdk.py   (prints a table; goals: <= 5 us per call, <= 0.2 us per
chunk, end-to-end ratio <= 1.01 vs bare, >= 10x cheaper than the peer)
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai

ROUNDS = 9
CALLS = 400
STREAMS = 120
BATCHES = 8
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


class Tokentrail:
    name = "tokentrail"

    def __init__(self) -> None:
        import tokentrail as tt

        self.tt = tt
        self.run: Any = None

    def on(self) -> None:
        self.tt.tracker().reset()
        self.tt.instrument()
        self.run = self.tt.track_usage("bench")
        self.run.__enter__()

    def off(self) -> None:
        self.run.__exit__(None, None, None)
        self.tt.uninstrument()


def _otel_compat() -> str:
    """opentelemetry-instrumentation-openai-v2 2.4b0 expects an older opentelemetry-util-genai than 1.3b0:
    ``util.genai.instruments`` is gone and the handler's API changed. Give it the two histogram factories
    it imports and use its own classic path (span + duration/token histograms + log events)."""
    try:
        import opentelemetry.util.genai.instruments  # noqa: F401
    except ModuleNotFoundError:
        import types

        from opentelemetry.semconv._incubating.metrics import gen_ai_metrics

        shim = types.ModuleType("opentelemetry.util.genai.instruments")
        shim.create_duration_histogram = lambda meter: meter.create_histogram(  # type: ignore[attr-defined]
            name=gen_ai_metrics.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="GenAI operation duration",
        )
        shim.create_token_histogram = lambda meter: meter.create_histogram(  # type: ignore[attr-defined]
            name=gen_ai_metrics.GEN_AI_CLIENT_TOKEN_USAGE, unit="{token}", description="GenAI token usage"
        )
        sys.modules[shim.__name__] = shim
    import opentelemetry.instrumentation.openai_v2 as v2

    v2.is_experimental_mode = lambda: False  # type: ignore[attr-defined]
    return "; otel-openai-v2 on its classic path (spans, metrics, events), see _otel_compat"


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


def timed(fn: Callable[[], Any], n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e6


def measure(
    configs: list[Any], scenarios: dict[str, tuple[Callable[[], Any], int]]
) -> dict[str, dict[str, float]]:
    """Best-of-ROUNDS mean µs per unit, configurations interleaved inside each round."""
    samples: dict[str, dict[str, list[float]]] = {s: {c.name: [] for c in configs} for s in scenarios}
    for _ in range(ROUNDS):
        for config in configs:
            config.on()
            try:
                for scenario, (fn, n) in scenarios.items():
                    fn()  # warm (first-call caches: prices, provider, pydantic)
                    samples[scenario][config.name].append(timed(fn, n))
            finally:
                config.off()
    return {s: {c: min(v) for c, v in by.items()} for s, by in samples.items()}


def core_us() -> float:
    """The core's share of an instrumented call: start_call + finish (ledger, pricing, totals, budgets)."""
    import tokentrail as tt
    from tokentrail.model import Usage
    from tokentrail.runs.calls import start_call

    def one() -> None:
        h = start_call("openai", "gpt-4o-mini", "chat", "generate", False, "llm", 1)
        h.finish(Usage(12, 2), response_model="gpt-4o-mini-2024-07-18", finish_reason="stop", response_id="x")

    tt.tracker().reset()
    with tt.track_usage("core"):
        return min(timed(one, 5000) for _ in range(5))


def main() -> None:
    configs = [Bare(), Tokentrail(), OTel()]
    aclient = openai.AsyncOpenAI(
        api_key="sk-bench", http_client=openai.DefaultAsyncHttpxClient(transport=TRANSPORT), max_retries=0
    )
    loop = asyncio.new_event_loop()
    scenarios = {
        "plain call": (plain, CALLS),
        f"{CHUNKS}-chunk stream": (stream, STREAMS),
        "100 concurrent async calls": (lambda: loop.run_until_complete(concurrent(aclient)), BATCHES),
    }
    results = measure(configs, scenarios)

    async def inside_loop() -> dict[str, dict[str, float]]:  # as in a Jupyter kernel: a loop is running
        return measure(configs, {"plain call, loop running": (plain, CALLS),
                                 f"{CHUNKS}-chunk stream, loop running": (stream, STREAMS)})  # fmt: skip

    results.update(asyncio.run(inside_loop()))
    loop.close()
    core = core_us()

    per_unit = {"100 concurrent async calls": 100}
    print(f"openai {openai.__version__}, python {sys.version.split()[0]}; best of {ROUNDS} interleaved rounds"
          f"{configs[2].note}")  # fmt: skip
    cols = (
        ("bare us", 10),
        ("tokentrail", 12),
        ("+us", 8),
        ("ratio", 8),
        ("otel", 10),
        ("+us", 8),
        ("ratio", 8),
    )
    print(f"{'scenario':<34}" + "".join(f"{name:>{width}}" for name, width in cols) + f"{'peer/ours':>11}")
    for scenario, by in results.items():
        div = per_unit.get(scenario, 1)
        bare, ours, peer = by["bare"] / div, by["tokentrail"] / div, by["otel-openai-v2"] / div
        d_ours, d_peer = ours - bare, peer - bare
        times = f"{d_peer / d_ours:>10.1f}x" if d_ours > 0 else f"{'ours<=0':>11}"
        unit = " (per call)" if div > 1 else ""
        print(f"{scenario + unit:<34}{bare:>10.1f}{ours:>12.1f}{d_ours:>+8.2f}{ours / bare:>8.3f}"
              f"{peer:>10.1f}{d_peer:>+8.2f}{peer / bare:>8.3f}{times}")  # fmt: skip
    s_key, p_key = f"{CHUNKS}-chunk stream", "plain call"
    d_stream = results[s_key]["tokentrail"] - results[s_key]["bare"]
    d_call = results[p_key]["tokentrail"] - results[p_key]["bare"]
    d_stream_peer = results[s_key]["otel-openai-v2"] - results[s_key]["bare"]
    print(f"\nper call added by tokentrail: {d_call:.2f} us, of which the core (start_call + finish) "
          f"{core:.2f} us and the SDK hook {d_call - core:.2f} us")  # fmt: skip
    per_chunk, whole = (d_stream - d_call) / CHUNKS, d_stream / CHUNKS
    print(f"per streamed chunk: tokentrail {per_chunk:.3f} us (whole stream / {CHUNKS}: {whole:.3f} us); "
          f"otel {d_stream_peer / CHUNKS:.3f} us")  # fmt: skip
    print("note: tokentrail streams also ask for usage and hide the usage chunk (bare and otel see it)")
    _ = statistics  # keep the import for ad-hoc medians


if __name__ == "__main__":
    main()
