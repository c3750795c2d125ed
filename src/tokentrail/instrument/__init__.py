"""Patch the LLM SDKs' classes so every call becomes one event (``tt.instrument()`` / ``tt.uninstrument()``).

SDKs already imported are patched at once; those imported later are patched by an import hook.
``uninstrument()`` puts back the exact original functions.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

from ._config import StreamUsage, configure
from ._hook import ImportHook
from ._log import warn_once
from ._patch import REGISTRY

SDKS = ("openai", "anthropic")
_lock = threading.RLock()
_active_hook: ImportHook | None = None


def _patch_sdk(name: str) -> None:
    with _lock:
        if _active_hook is None or REGISTRY.patched(name):
            return
        try:
            importlib.import_module(f"{__name__}.{name}").patch(REGISTRY)
        except Exception:
            REGISTRY.restore(name)  # all of an SDK or none of it
            warn_once(f"patching {name}")


def instrument() -> None:
    """Patch openai and anthropic (now, or when imported), and carry runs into threads; idempotent."""
    global _active_hook
    with _lock:
        if _active_hook is not None:
            return
        _active_hook = ImportHook(SDKS, _patch_sdk)
        from . import threads

        threads.patch(REGISTRY)
        for name in SDKS:
            if name in sys.modules:
                _patch_sdk(name)
        _active_hook.install()


def uninstrument() -> None:
    """Remove the import hook and restore every patched class attribute to its original object."""
    global _active_hook
    with _lock:
        if _active_hook is not None:
            _active_hook.remove()
            _active_hook = None
        REGISTRY.restore()


def is_instrumented() -> bool:
    return _active_hook is not None


class _Package(types.ModuleType):
    """Importing this package sets ``tokentrail.instrument`` to the package itself, over the function of
    the same name: so the package is callable, and ``tt.instrument()`` keeps working either way."""

    def __call__(self) -> None:
        instrument()


sys.modules[__name__].__class__ = _Package

__all__ = ["StreamUsage", "configure", "instrument", "is_instrumented", "uninstrument"]
