"""A registry of class attribute patches: install wrappers, restore the exact original objects."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

_MISSING = object()


class Patch:
    """One replaced class attribute: what was there (or nothing, if inherited) and what replaced it."""

    __slots__ = ("name", "original", "owner", "wrapper")

    def __init__(self, owner: type, name: str, original: Any, wrapper: Any) -> None:
        self.owner = owner
        self.name = name
        self.original = original
        self.wrapper = wrapper

    def restore(self) -> None:
        if self.owner.__dict__.get(self.name) is not self.wrapper:
            return  # someone patched over us; leave their attribute alone
        if self.original is _MISSING:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self.original)


class Registry:
    """Every patch tokentrail made, grouped by SDK, so that each SDK can be restored exactly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._patches: dict[str, list[Patch]] = {}

    def patch(self, group: str, owner: type, name: str, make: Callable[[Any], Any]) -> None:
        """Replace ``owner.name`` with ``make(current)``; the current value is what the class resolves."""
        with self._lock:
            for p in self._patches.get(group, ()):
                if p.owner is owner and p.name == name:
                    return
            original = owner.__dict__.get(name, _MISSING)
            current = getattr(owner, name)
            wrapper = make(current)
            if callable(wrapper) and callable(current):
                functools.update_wrapper(wrapper, current)
                wrapper.__tokentrail_original__ = current
            setattr(owner, name, wrapper)
            self._patches.setdefault(group, []).append(Patch(owner, name, original, wrapper))

    def patched(self, group: str) -> bool:
        with self._lock:
            return bool(self._patches.get(group))

    def groups(self) -> list[str]:
        with self._lock:
            return [g for g, ps in self._patches.items() if ps]

    def restore(self, group: str | None = None) -> None:
        """Undo the patches of one group (or all), newest first."""
        with self._lock:
            names = [group] if group is not None else list(self._patches)
            for name in names:
                for p in reversed(self._patches.pop(name, [])):
                    p.restore()


REGISTRY = Registry()
