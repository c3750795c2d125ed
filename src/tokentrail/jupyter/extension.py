"""``%load_ext tokentrail``: instrument the kernel, add magics, hooks and a run resolver; unload removes them.

Loading twice is a no-op and ``%reload_ext`` unloads first, so each hook exists at most once (no
double counting). Unload turns instrumentation off only if this extension turned it on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..runs import add_run_resolver
from .cells import EXECUTING, AwaitTransformer, CellHooks
from .magics import TokentrailMagics


@dataclass
class Loaded:
    """What one load added to a shell, so that unload removes exactly that."""

    shell: Any
    magics: TokentrailMagics
    hooks: CellHooks
    transformer: AwaitTransformer
    remove_resolver: Callable[[], None]
    instrumented: bool

    def events(self) -> tuple[tuple[str, Callable[[Any], None]], ...]:
        return (("pre_run_cell", self.hooks.pre_run_cell), ("post_run_cell", self.hooks.post_run_cell))


_LOADED: Loaded | None = None


def loaded() -> Loaded | None:
    """The current load (None when the extension is not loaded)."""
    return _LOADED


def load_ipython_extension(shell: Any) -> None:
    """Instrument every LLM SDK, register ``%%track_usage``/``%usage``, the cell hooks and the resolver."""
    global _LOADED
    if _LOADED is not None:
        if _LOADED.shell is shell:
            return
        unload_ipython_extension(_LOADED.shell)
    from ..instrument import instrument, is_instrumented

    turned_on = not is_instrumented()
    instrument()
    magics = TokentrailMagics(shell)
    shell.register_magics(magics)
    hooks = CellHooks()
    transformer = AwaitTransformer(shell)
    shell.input_transformers_post.append(transformer)
    remove_resolver = add_run_resolver(EXECUTING.resolve)
    _LOADED = Loaded(shell, magics, hooks, transformer, remove_resolver, turned_on)
    for event, fn in _LOADED.events():
        shell.events.register(event, fn)


def _unregister_magics(shell: Any, magics: TokentrailMagics) -> None:
    manager = shell.magics_manager
    for kind, names in magics.magics.items():
        table = manager.magics.get(kind, {})
        for name in names:
            if getattr(table.get(name), "__self__", None) is magics:
                del table[name]
    if manager.registry.get(type(magics).__name__) is magics:
        del manager.registry[type(magics).__name__]


def unload_ipython_extension(shell: Any) -> None:
    """Remove the resolver, transformer, hooks and magics, and the instrumentation this load added."""
    global _LOADED
    load = _LOADED
    if load is None or load.shell is not shell:
        return
    _LOADED = None
    load.remove_resolver()
    EXECUTING.abandon()
    shell.input_transformers_post[:] = [t for t in shell.input_transformers_post if t is not load.transformer]
    for event, fn in load.events():
        try:
            shell.events.unregister(event, fn)
        except ValueError:  # already removed by hand
            pass
    _unregister_magics(shell, load.magics)
    if load.instrumented:
        from ..instrument import uninstrument

        uninstrument()
