"""tokentrail's optional C modules (compiled by ``hatch_build.py`` where a C compiler is): each is
loaded here, or None where it was not built or ``TOKENTRAIL_NO_SPEEDUPS=1``, and its Python
stand-in runs instead."""

from __future__ import annotations

import importlib
import os
from typing import Any


def load(module: str) -> Any:
    """The C module ``module`` (a full dotted name), or None."""
    if os.environ.get("TOKENTRAIL_NO_SPEEDUPS"):
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
