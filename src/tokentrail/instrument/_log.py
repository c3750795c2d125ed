"""Instrumentation failures are logged once per place and never reach the user's call."""

from __future__ import annotations

import logging

log = logging.getLogger("tokentrail")
_warned: set[str] = set()


def warn_once(where: str) -> None:
    """Log the exception being handled, once per place; the SDK call proceeds untouched."""
    if where not in _warned:
        _warned.add(where)
        log.warning(
            "tokentrail: instrumentation error in %s (the call itself is unaffected)", where, exc_info=True
        )


def warn_exception(where: str, exc: BaseException) -> None:
    """``warn_once`` for an exception C code caught (none is being handled in Python)."""
    if where not in _warned:
        _warned.add(where)
        log.warning(
            "tokentrail: instrumentation error in %s (the call itself is unaffected)", where, exc_info=exc
        )
