"""``python -m tokentrail.demo lab|execute|serve NOTEBOOK``: run a notebook against the embedded model."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .local_model import ENV_URL, LocalModel, start_local_model

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lab(model: LocalModel, notebook: Path, port: int | None) -> int:
    """JupyterLab on the notebook; the first Ctrl-C goes to Jupyter (it asks), not to us."""
    cmd = [sys.executable, "-m", "jupyterlab", "--ServerApp.token=", "--ServerApp.password=", str(notebook)]
    if port:
        cmd.append(f"--port={port}")
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        return subprocess.call(cmd)
    finally:
        signal.signal(signal.SIGINT, previous)


def _execute(model: LocalModel, notebook: Path, output: Path | None, timeout: int) -> int:
    """Execute every cell with nbclient; print a summary; non-zero if a cell failed."""
    nbformat: Any = importlib.import_module("nbformat")
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
    )
    before = model.metrics()
    started = time.monotonic()
    failed: str | None = None
    try:
        client.execute()
    except CellExecutionError as exc:
        lines = _ANSI.sub("", str(exc)).strip().splitlines()
        failed = lines[-1] if lines else type(exc).__name__
    seconds = time.monotonic() - started
    after = model.metrics()
    if output is not None:
        nbformat.write(nb, output)
    code = [c for c in nb.cells if c.cell_type == "code"]
    ran = sum(1 for c in code if c.get("execution_count") is not None)
    # cells tagged raises-exception fail on purpose (nbclient runs on past them too)
    expected = [c for c in code if "raises-exception" in c.get("metadata", {}).get("tags", [])]
    errors = sum(
        1 for c in code if c not in expected for o in c.get("outputs", []) if o.get("output_type") == "error"
    )
    prompt = sum(
        after.get(k, 0.0) - before.get(k, 0.0) for k in ("prompt_tokens_total", "prompt_tokens_cached_total")
    )
    predicted = after.get("tokens_predicted_total", 0.0) - before.get("tokens_predicted_total", 0.0)
    print(f"{notebook}: {ran}/{len(code)} code cells ran in {seconds:.1f} s, {errors} unexpected error(s)"
          + (f", {len(expected)} cell(s) meant to raise" if expected else ""))  # fmt: skip
    print(f"local model served {int(prompt)} prompt tokens and {int(predicted)} completion tokens")
    if failed:
        print(f"FAILED: {failed}", file=sys.stderr)
    return 1 if failed or errors else 0


def _serve(model: LocalModel) -> int:
    print(f"{ENV_URL}={model.base_url}\nOpenAI base URL: {model.openai_base_url}  (Ctrl-C stops)", flush=True)
    try:
        while model.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tokentrail.demo", description=__doc__)
    parser.add_argument("command", choices=("lab", "execute", "serve"))
    parser.add_argument("notebook", nargs="?", type=Path, default=Path("notebooks/quickstart.ipynb"))
    parser.add_argument("--output", type=Path, help="execute: write the executed notebook here")
    parser.add_argument("--timeout", type=int, default=600, help="execute: seconds per cell")
    parser.add_argument("--port", type=int, help="lab: the port JupyterLab listens on")
    args = parser.parse_args(argv)
    if args.command != "serve" and not args.notebook.exists():
        parser.error(f"notebook not found: {args.notebook}")
    print("starting the embedded local model (Gemma 3 270M) ...", flush=True)
    with start_local_model() as model:
        os.environ[ENV_URL] = model.base_url  # the kernel inherits it; connect() finds it
        if args.command == "lab":
            return _lab(model, args.notebook, args.port)
        if args.command == "execute":
            return _execute(model, args.notebook, args.output, args.timeout)
        return _serve(model)
