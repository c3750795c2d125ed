"""Process-unique ids for events, runs and spans: a per-process prefix and a counter (no uuid4)."""

from __future__ import annotations

import itertools
import os
import time

_PREFIX = f"{os.getpid():x}{int(time.time() * 1000) % 0xFFFFFF:06x}-"
_ids = itertools.count(1)

next_number = _ids.__next__  # a call takes a number; its id string is made when someone reads it
ID_PREFIX = _PREFIX  # ``ID_PREFIX + str(next_number())`` is ``new_id()`` without a Python call


def new_id() -> str:
    """A process-unique id, cheap enough for the hot path."""
    return _PREFIX + str(next(_ids))


def id_of(number: int) -> str:
    """The id string of a number taken with ``next_number``."""
    return _PREFIX + str(number)
