"""The live usage panel: an anywidget whose state the Python side drives (traits + ``send`` deltas).

``panel_for_run(run)`` gives a run's panel (it finishes itself when the run ends);
``dashboard()`` gives the session's panel, one per kernel. Protocol: ``docs/widget-protocol.md``.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .charts import panel_specs
from .feed import Feed

if TYPE_CHECKING:
    from ..runs import Run

BUNDLE = pathlib.Path(__file__).resolve().parent.parent / "static" / "widget.js"


class WidgetBundleMissing(FileNotFoundError):
    """The front-end bundle was not built (a source checkout before ``make widget``)."""


def bundle_source() -> str:
    """The built ES module (vega-embed, vega and vega-lite inside), read once per process."""
    return _read(BUNDLE)


@functools.lru_cache(maxsize=2)
def _read(path: pathlib.Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WidgetBundleMissing(
            f"tokentrail's widget bundle {path} is missing. Build it with `make widget` "
            "(or `cd js && npm ci && npm run build`), or install tokentrail from a wheel."
        ) from None


class UsagePanel(anywidget.AnyWidget):  # type: ignore[misc]
    """Totals, budgets, charts (and, for the session, a runs table) that update while the kernel is busy."""

    title = traitlets.Unicode("tokentrail").tag(sync=True)
    mode = traitlets.Enum(("run", "session"), default_value="run").tag(sync=True)
    specs = traitlets.Dict().tag(sync=True)
    snapshot = traitlets.Dict().tag(sync=True)

    @property
    def _esm(self) -> str:  # anywidget reads this once, at construction
        return bundle_source()

    def __init__(self, *, fallback: object | Callable[[], object] | None = None, **kwargs: Any) -> None:
        bundle_source()  # fail before any comm is opened when the bundle was never built
        kwargs.setdefault("specs", panel_specs())
        super().__init__(**kwargs)
        self._fallback = fallback
        self.feed: Feed | None = None
        self._display: Any = None

    # --- the feed ------------------------------------------------------------------------------------------
    def attach(self, feed: Feed) -> UsagePanel:
        """Start showing ``feed``: its snapshot now, then its deltas and snapshots as they come."""
        self.feed = feed
        self.snapshot = feed.snapshot()
        feed.connect(self._send_delta, self._set_snapshot)
        return self

    def _send_delta(self, msg: dict[str, Any]) -> None:
        self.send(msg)

    def _set_snapshot(self, snap: dict[str, Any]) -> None:
        with self.hold_sync():
            self.snapshot = snap

    def close_feed(self, update_display: bool = True) -> None:
        """Publish the final state and stop listening; refresh the static fallback if shown via ``show``."""
        if self.feed is not None:
            self.feed.close()
        if update_display and self._display is not None:
            try:
                self._display.update(self)
            except Exception:  # no frontend to update (terminal IPython, a closed comm)
                pass

    def close(self) -> None:
        feed = getattr(self, "feed", None)  # close() also runs from __del__ of a half-built panel
        if feed is not None:
            feed.close()
        super().close()

    def show(self) -> Any:
        """Display the panel with a display id (so ``close_feed`` can refresh its static fallback)."""
        from IPython.display import display

        self._display = display(self, display_id=True)  # type: ignore[no-untyped-call]
        return self._display

    # --- representations ------------------------------------------------------------------------------------
    def fallback(self) -> object | None:
        """The report shown where widgets cannot run (GitHub, nbconvert, a terminal)."""
        fb = self._fallback
        return fb() if callable(fb) and not hasattr(fb, "_repr_html_") else fb

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/plain"] = f"<tokentrail panel: {self.title}>"
        try:
            fb = self.fallback()
            if fb is not None:
                data["text/plain"] = repr(fb)
                html = getattr(fb, "_repr_html_", None)
                if callable(html):
                    data["text/html"] = html()
        except Exception:  # the widget still shows; only the static copy is missing
            pass
        return data, metadata

    def __repr__(self) -> str:
        return f"<UsagePanel {self.mode} {self.title!r}>"


def panel_for_run(run: Run, *, fallback: object | Callable[[], object] | None = None) -> UsagePanel:
    """A live panel for ``run`` (and runs nested in it); it publishes its final state when the run ends."""
    feed = Feed(run)
    report = fallback if fallback is not None else run.report
    return UsagePanel(title=f"Run {run.name}", mode="run", fallback=report).attach(feed)


_DASHBOARD: UsagePanel | None = None


def dashboard() -> UsagePanel:
    """The session dashboard (every run), created once per kernel and reused while it is open."""
    global _DASHBOARD
    if _DASHBOARD is None or _DASHBOARD.comm is None:
        from ..runs import tracker

        panel = UsagePanel(title="tokentrail session", mode="session", fallback=tracker().report)
        _DASHBOARD = panel.attach(Feed(None))
    return _DASHBOARD
