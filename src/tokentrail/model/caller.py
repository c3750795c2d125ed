"""Where a warning should point: the first frame outside tokentrail (the user's line, or the SDK's)."""

from __future__ import annotations

import sys

_OURS = "tokentrail"


def user_stacklevel() -> int:
    """A ``stacklevel`` for ``warnings.warn`` called from tokentrail that skips all of its frames."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == _OURS:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level
