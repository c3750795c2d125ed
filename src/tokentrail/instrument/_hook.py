"""A meta-path import hook: an SDK imported after ``instrument()`` is patched as soon as it has loaded."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from ._log import warn_once


class _Loader(importlib.abc.Loader):
    """Runs the real loader, puts it back on the module, then calls ``on_load(name)``."""

    def __init__(self, loader: Any, on_load: Callable[[str], None]) -> None:
        self.loader = loader
        self.on_load = on_load

    def __getattr__(self, name: str) -> Any:  # resource readers and the like: the real loader's
        return getattr(self.loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        try:
            self.loader.exec_module(module)
        finally:
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader
            module.__loader__ = self.loader
        try:
            self.on_load(module.__name__)
        except Exception:
            warn_once(f"patching {module.__name__} on import")


class ImportHook(importlib.abc.MetaPathFinder):
    """Finds ``names`` through the other finders and wraps their loader; everything else is untouched."""

    def __init__(self, names: Sequence[str], on_load: Callable[[str], None]) -> None:
        self.names = frozenset(names)
        self.on_load = on_load
        self._local = threading.local()

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname not in self.names or getattr(self._local, "busy", False):
            return None
        self._local.busy = True
        try:
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                        spec.loader = _Loader(spec.loader, self.on_load)
                    return spec
            return None
        finally:
            self._local.busy = False

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def remove(self) -> None:
        while self in sys.meta_path:
            sys.meta_path.remove(self)
