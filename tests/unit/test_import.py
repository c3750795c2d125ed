"""``import tokentrail`` stays light: heavy and optional libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys


def test_import_does_not_load_heavy_or_optional_modules() -> None:
    code = (
        "import sys, json, tokentrail\n"
        "heavy = ['pandas', 'altair', 'anywidget', 'ipywidgets', 'genai_prices', 'openai', 'anthropic',"
        " 'asyncio', 'IPython', 'numpy']\n"
        "print(json.dumps([m for m in heavy if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_import_does_not_touch_the_network() -> None:
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n    raise RuntimeError('network used at import')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\n"
        "import tokentrail as tt\n"
        "print(tt.price_for('gpt-4o', 'openai').input_per_mtok)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2.5"
