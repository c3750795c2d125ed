"""Terminal IPython (no kernel, no widgets): a tracked cell, with ``await``, prints its report as text."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tokentrail.demo import LocalModel

pytestmark = pytest.mark.llm

CELL = """%%track_usage terminal --tag where=tty
import openai
from tokentrail.demo.local_model import connect
HI = [{"role": "user", "content": "Say hi"}]
u = openai.OpenAI(base_url=connect(), api_key="sk-local", max_retries=0, timeout=60).chat.completions.create(
    model="gemma3-270m", messages=HI, max_tokens=3).usage
client = openai.AsyncOpenAI(base_url=connect(), api_key="sk-local", max_retries=0, timeout=60)
v = (await client.chat.completions.create(model="gemma3-270m", messages=HI, max_tokens=2)).usage
print("SERVER", u.prompt_tokens + v.prompt_tokens, u.completion_tokens + v.completion_tokens)
"""


def test_terminal_ipython_prints_the_report(local_model: LocalModel) -> None:
    ipython = Path(sys.executable).with_name("ipython")
    proc = subprocess.run(
        [str(ipython), "--no-banner", "--colors=NoColor", "--ext=tokentrail", "-c", CELL],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    server = re.search(r"SERVER (\d+) (\d+)", out)
    assert server, out
    assert "Run terminal [done]  where=tty" in out
    assert re.search(rf"input tokens +{server[1]}\n", out) and re.search(
        rf"output tokens +{server[2]}\n", out
    )
    assert re.search(r"calls +2\n", out) and re.search(r"cost +n/a\n", out)  # unpriced: never $0
