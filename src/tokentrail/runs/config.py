"""Configuration: handlers and subscriptions, the global budget, and settings from env or pyproject."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..ledger import Subscription
from ..model import UsageEvent
from .budget import Budget, OnExceed
from .tracker import TRACKER

log = logging.getLogger("tokentrail")


@dataclass(slots=True)
class Settings:
    """Process-wide switches read by the layers above (instrumentation, panels)."""

    stream_usage: Literal["auto", "never"] = "auto"
    verbose: bool = False
    store_content: bool = False


SETTINGS = Settings()
_configured: list[Subscription] = []
_subscribed: list[Subscription] = []


def on(kind: str, fn: Callable[[Any], Any], *, batched: bool = False) -> Subscription:
    """Subscribe ``fn`` to one kind of event (usage, call_start, tool_start, tool_end, response, budget).

    ``batched=True`` (``usage`` only): ``fn`` may get events late, in batches, from the thread that
    next reads the totals; the calls themselves then skip building each event (exporters, panels).
    """
    sub = TRACKER.ledger.hub.subscribe(kind, fn, batched=batched)
    _subscribed.append(sub)
    return sub


def _log_event(event: UsageEvent) -> None:
    cost = "n/a" if event.cost is None else f"${event.cost.total:.6f}"
    log.info(
        "%s %s %s: %d in / %d out tokens, %s, %.0f ms, %s",
        event.provider, event.model_name, event.operation, event.usage.input_tokens,
        event.usage.output_tokens, cost, event.duration_ms, event.status,
    )  # fmt: skip


def configure(
    *,
    handlers: Iterable[Callable[[UsageEvent], Any]] | None = None,
    verbose: bool | None = None,
    stream_usage: Literal["auto", "never"] | None = None,
    max_events: int | None = None,
    store_content: bool | None = None,
) -> None:
    """Set handlers (sync or async; each receives every event) and switches; replaces earlier handlers."""
    if handlers is not None:
        handlers = list(handlers)
        for h in handlers:
            if not callable(h):
                raise TypeError(f"handlers must be callables, got {type(h).__name__} {h!r}")
        for sub in _configured:
            sub.remove()
        _configured.clear()
        _configured.extend(TRACKER.ledger.hub.subscribe("usage", h) for h in handlers)
    if verbose is not None:
        SETTINGS.verbose = bool(verbose)
        hub = TRACKER.ledger.hub
        for sub in [s for s in hub.subscriptions() if s.fn is _log_event]:
            sub.remove()
        if verbose:
            hub.subscribe("usage", _log_event)
    if stream_usage is not None:
        if stream_usage not in ("auto", "never"):
            raise ValueError(f"stream_usage must be 'auto' or 'never', got {stream_usage!r}")
        SETTINGS.stream_usage = stream_usage
    if max_events is not None:
        if isinstance(max_events, bool) or not isinstance(max_events, int) or max_events <= 0:
            raise ValueError(f"max_events must be an int > 0, got {max_events!r}")
        TRACKER.ledger.max_events = max_events
    if store_content is not None:
        SETTINGS.store_content = bool(store_content)


def set_budget(
    usd: float | None = None,
    tokens: int | None = None,
    calls: int | None = None,
    warn_at: tuple[float, ...] = (0.5, 0.8),
    on_exceed: OnExceed = "raise",
) -> Budget | None:
    """Set the global budget (counted from now, across all runs); with no limits, remove it."""
    if usd is None and tokens is None and calls is None:
        TRACKER.set_budget(None)
        return None
    budget = Budget(usd, tokens, calls, tuple(warn_at), on_exceed)
    TRACKER.set_budget(budget)
    return budget


def reset_config() -> None:
    """Remove handlers and subscriptions, the global budget and switches (events and prices stay)."""
    for sub in [*_configured, *_subscribed]:
        sub.remove()
    _configured.clear()
    _subscribed.clear()
    for sub in [s for s in TRACKER.ledger.hub.subscriptions() if s.fn is _log_event]:
        sub.remove()
    TRACKER.set_budget(None)
    SETTINGS.stream_usage, SETTINGS.verbose, SETTINGS.store_content = "auto", False, False


def _pyproject_settings(start: Path) -> dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        return {}
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                warnings.warn(
                    f"tokentrail: could not read {path}: {exc}; [tool.tokentrail] ignored", stacklevel=2
                )
                return {}
            section = data.get("tool", {}).get("tokentrail", {})
            return section if isinstance(section, dict) else {}
    return {}


_ENV = {
    "TOKENTRAIL_BUDGET_USD": ("budget_usd", float),
    "TOKENTRAIL_BUDGET_TOKENS": ("budget_tokens", int),
    "TOKENTRAIL_BUDGET_CALLS": ("budget_calls", int),
    "TOKENTRAIL_MAX_EVENTS": ("max_events", int),
    "TOKENTRAIL_STREAM_USAGE": ("stream_usage", str),
    "TOKENTRAIL_VERBOSE": ("verbose", lambda v: v.lower() in ("1", "true", "yes", "on")),
}


def load_settings(environ: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Settings from ``[tool.tokentrail]`` in the nearest pyproject.toml, overridden by TOKENTRAIL_* env."""
    env = os.environ if environ is None else environ
    found: dict[str, Any] = dict(_pyproject_settings(cwd or Path.cwd()))
    for var, (key, cast) in _ENV.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        try:
            found[key] = cast(raw)  # type: ignore[operator]
        except ValueError:
            expected = getattr(cast, "__name__", "bool")
            warnings.warn(f"tokentrail: ignoring {var}={raw!r}: expected a {expected}", stacklevel=2)
    return found


_applied_once = False


def apply_settings_once() -> None:
    """Apply env/pyproject settings the first time tokentrail is imported (not again on a reload)."""
    global _applied_once
    if not _applied_once:
        _applied_once = True
        apply_settings(load_settings())


def apply_settings(found: dict[str, Any]) -> None:
    """Apply loaded settings; a bad value warns, naming the key, and is ignored."""
    try:
        if any(k in found for k in ("budget_usd", "budget_tokens", "budget_calls")):
            set_budget(
                found.get("budget_usd"), found.get("budget_tokens"), found.get("budget_calls"),
                tuple(found.get("warn_at", (0.5, 0.8))), found.get("on_exceed", "raise"),
            )  # fmt: skip
        configure(
            max_events=found.get("max_events"),
            stream_usage=found.get("stream_usage"),
            verbose=found.get("verbose"),
        )
    except (TypeError, ValueError) as exc:
        warnings.warn(f"tokentrail: ignoring configuration from env/pyproject: {exc}", stacklevel=2)
