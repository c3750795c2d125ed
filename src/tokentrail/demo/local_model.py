"""The embedded local model: a real OpenAI- and Anthropic-compatible server in a child process.

Gemma 3 270M on xllamacpp, on loopback; used by the quickstart notebook and the integration tests.
A child process means stopping can never hang on a request still in flight.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from types import TracebackType
from typing import Any

ENV_URL = "TOKENTRAIL_LOCAL_MODEL_URL"
MODEL = "gemma3-270m"
_METRIC_PREFIX = "llamacpp:"


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text to ``{name: value}``, names without the ``llamacpp:`` prefix."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        out[name.removeprefix(_METRIC_PREFIX)] = float(value)
    return out


class LocalModel:
    """A running local model server; a context manager, stopped by ``stop()`` or at exit."""

    def __init__(
        self,
        *,
        n_ctx: int = 2048,
        n_parallel: int = 2,
        threads: int = 1,
        n_predict: int = 128,
        seed: int = 42,
        cache_prompt: bool = True,
        embeddings: bool = True,
        chat_template: str | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        settings = {
            "n_ctx": n_ctx, "n_parallel": n_parallel, "threads": threads, "n_predict": n_predict,
            "seed": seed, "cache_prompt": cache_prompt, "embeddings": embeddings,
            "chat_template": chat_template, "alias": MODEL,
        }  # fmt: skip
        self.model = MODEL
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child process
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tokentrail.demo._serve", json.dumps(settings)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            start_new_session=True,  # a terminal's Ctrl-C goes to the app, not to the model
        )
        try:
            self.base_url = self._read_url(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _read_url(self, timeout: float) -> str:
        assert self._proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                raise TimeoutError(f"the local model did not start within {timeout:.0f} s{self._log_tail()}")
        line = self._proc.stdout.readline().decode().strip()
        if not line.startswith("http"):
            raise RuntimeError(
                f"the local model failed to start (exit {self._proc.poll()}){self._log_tail()}"
            )
        return line

    def _log_tail(self) -> str:
        self._log.seek(0)
        tail = self._log.read()[-2000:].decode(errors="replace").strip()
        return f": {tail}" if tail else ""

    @property
    def openai_base_url(self) -> str:
        """Base URL for ``openai.OpenAI(base_url=...)``."""
        return self.base_url + "/v1"

    @property
    def anthropic_base_url(self) -> str:
        """Base URL for ``anthropic.Anthropic(base_url=...)`` (the SDK adds ``/v1/messages``)."""
        return self.base_url

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def metrics(self) -> dict[str, float]:
        """The server's own Prometheus counters (``prompt_tokens_total``, ``tokens_predicted_total``, ...)."""
        with urllib.request.urlopen(self.base_url + "/metrics", timeout=10) as resp:
            return parse_metrics(resp.read().decode())

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server process (idempotent); never waits on requests in flight."""
        proc = self._proc
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        self._log.close()

    def __enter__(self) -> LocalModel:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<LocalModel {self.model} at {getattr(self, 'base_url', '?')} {state}>"


def start_local_model(**settings: Any) -> LocalModel:
    """Start the embedded model (about 2-4 s) and return it once it answers."""
    model = LocalModel(**settings)
    deadline = time.monotonic() + 30
    while True:  # the URL is printed once listening; make sure HTTP answers before handing it out
        try:
            model.metrics()
            return model
        except OSError:
            if time.monotonic() > deadline or not model.running:
                model.stop()
                raise


_shared: LocalModel | None = None
_shared_lock = threading.Lock()


def connect(api: str = "openai") -> str:
    """The base URL to use: ``$TOKENTRAIL_LOCAL_MODEL_URL`` if set, else a process-wide model started now.

    ``api="openai"`` gives the ``.../v1`` URL for ``openai.OpenAI``; ``api="anthropic"`` the root URL.
    """
    global _shared
    if api not in ("openai", "anthropic"):
        raise ValueError(f"api must be 'openai' or 'anthropic', got {api!r}")
    root = os.environ.get(ENV_URL, "").strip().rstrip("/").removesuffix("/v1")
    if not root:
        with _shared_lock:
            if _shared is None or not _shared.running:
                _shared = start_local_model()
                atexit.register(_shared.stop)
            root = _shared.base_url
    return root + "/v1" if api == "openai" else root
