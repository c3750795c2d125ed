"""``python -m tokentrail.demo execute``: runs a notebook against the embedded model; failures exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.llm

CELL = """
import openai, tokentrail as tt
from tokentrail.demo import connect
tt.instrument()
client = openai.OpenAI(base_url=connect(), api_key="sk-local", max_retries=0)
with tt.track_usage("nb") as run:
    client.chat.completions.create(model="gemma3-270m", messages=[{"role": "user", "content": "Hi"}],
                                   max_tokens=2)
assert run.usage.output_tokens == 2, run.usage
"""


def test_execute_runs_the_notebook_and_reports(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    good = tmp_path / "good.ipynb"
    nbformat.write(nb, good)
    nb.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    bad = tmp_path / "bad.ipynb"
    nbformat.write(nb, bad)
    cmd = [sys.executable, "-m", "tokentrail.demo", "execute"]
    ok = subprocess.run([*cmd, str(good)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1/1 code cells ran" in ok.stdout and "2 completion tokens" in ok.stdout
    failed = subprocess.run([*cmd, str(bad)], capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1 and "ZeroDivisionError" in failed.stderr
