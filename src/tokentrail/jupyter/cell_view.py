"""Where a tracked cell shows its usage: the live panel, else a live report, else the cell's value."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from ..runs import TRACKER

if TYPE_CHECKING:
    from ..ledger import Subscription
    from ..report import Report
    from ..runs import Run

log = logging.getLogger("tokentrail")

REFRESH_S = 0.5  # a live report is redrawn at most twice a second


def in_kernel(shell: Any) -> bool:
    """Whether output goes to a Jupyter frontend (a kernel) rather than a terminal."""
    return getattr(shell, "kernel", None) is not None


class CellView:
    """Nothing shown while the cell runs; the report becomes the cell's value (terminal IPython)."""

    shows_report = False  # when True the report is on screen already: the value is set without display

    def close(self, report: Report, failed: bool = False) -> None:
        """Show the final report (never raises: a display failure must not break the cell)."""
        if failed:  # the cell has no value to show: print the report before the traceback
            print(report.to_text())


class QuietView(CellView):
    """``--quiet``: nothing is shown; the report is still the cell's value (``_``)."""

    shows_report = True

    def close(self, report: Report, failed: bool = False) -> None:
        pass


class ReportView(CellView):
    """A report displayed when the cell starts and redrawn as calls finish; the final one stays."""

    shows_report = True

    def __init__(self, run: Run) -> None:
        from IPython.display import display

        self.run = run
        self._next = 0.0
        self._lock = threading.Lock()
        self.handle = display(run.report(), display_id=True)  # type: ignore[no-untyped-call]
        self._sub: Subscription | None = TRACKER.ledger.hub.subscribe("usage", self._refresh)

    def _refresh(self, event: object) -> None:
        now = time.monotonic()
        if now < self._next or not self._lock.acquire(blocking=False):
            return
        try:
            self._next = now + REFRESH_S
            self.handle.update(self.run.report())
        finally:
            self._lock.release()

    def close(self, report: Report, failed: bool = False) -> None:
        if self._sub is not None:
            self._sub.remove()
            self._sub = None
        with self._lock:
            try:
                self.handle.update(report)
            except Exception as exc:  # a closed frontend
                log.debug("tokentrail: could not update the cell's report: %s", exc)


class PanelView(CellView):
    """The live widget panel; its static copy (text/html) is the final report once the run ends."""

    shows_report = True

    def __init__(self, run: Run) -> None:
        from .widget import panel_for_run

        self.panel = panel_for_run(run)
        try:
            self.panel.show()
        except BaseException:
            self.panel.close_feed(update_display=False)
            raise

    def close(self, report: Report, failed: bool = False) -> None:
        try:
            self.panel.close_feed()
        except Exception as exc:
            log.warning("tokentrail: the usage panel failed to finish (%s); showing the report instead", exc)
            try:
                from IPython.display import display

                display(report)  # type: ignore[no-untyped-call]
            except Exception:
                pass


def open_view(shell: Any, run: Run, *, quiet: bool, panel: bool) -> CellView:
    """The view for this cell: quiet, panel (if it can be built), live report, or terminal."""
    if quiet:
        return QuietView()
    if not in_kernel(shell):
        return CellView()
    if panel:
        try:
            return PanelView(run)
        except Exception as exc:  # no bundle, no anywidget, no comm: the report still shows
            log.warning("tokentrail: no live panel (%s: %s); showing the report", type(exc).__name__, exc)
    try:
        return ReportView(run)
    except Exception as exc:
        log.warning("tokentrail: cannot display the cell's report (%s)", exc)
        return CellView()
