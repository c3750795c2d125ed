"""Process-unique ids for events, runs and spans: a per-process prefix and a counter (no uuid4)."""

from __future__ import annotations

import itertools
import os
import time


def _new_prefix() -> str:
    return f"{os.getpid():x}{int(time.time() * 1000) % 0xFFFFFF:06x}-"


PREFIX = _new_prefix()  # renewed in a forked child, so parent and child never hand out the same id
_ids = itertools.count(1)

next_number = _ids.__next__  # a call takes a number; its id string is made when someone reads it


def _renew_prefix() -> None:
    global PREFIX
    PREFIX = _new_prefix()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_prefix)


def new_id() -> str:
    """A process-unique id, cheap enough for the hot path."""
    return PREFIX + str(next(_ids))


def id_of(number: int) -> str:
    """The id string of a number taken with ``next_number``."""
    return PREFIX + str(number)
