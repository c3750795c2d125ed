"""The embedded local model for the demo notebook and the tests (``python -m tokentrail.demo``)."""

from __future__ import annotations

from .local_model import ENV_URL, MODEL, LocalModel, connect, parse_metrics, start_local_model

__all__ = ["ENV_URL", "MODEL", "LocalModel", "connect", "parse_metrics", "start_local_model"]
