"""Scopes, context, budgets and the recording hot path (contextvars, with resolvers as fallback)."""

from ..model.ids import new_id
from .budget import Budget, BudgetAlert, BudgetExceeded, BudgetState, BudgetWarning
from .calls import CallHandle, check_budgets, record, record_usage, start_call
from .config import (
    SETTINGS,
    apply_settings,
    apply_settings_once,
    configure,
    load_settings,
    on,
    reset_config,
    set_budget,
)
from .context import add_run_resolver, context, current_context, current_run, handoff
from .periodic import Periodic, report_every
from .run import Run
from .scope import track_usage
from .tool import Tool, ToolSpan, tool
from .tracker import TRACKER, Tracker, last_run, tracker

__all__ = [
    "SETTINGS", "TRACKER", "Budget", "BudgetAlert", "BudgetExceeded", "BudgetState", "BudgetWarning",
    "CallHandle", "Periodic", "Run", "Tool", "ToolSpan", "Tracker", "add_run_resolver",
    "apply_settings", "apply_settings_once",
    "check_budgets", "configure", "context", "current_context", "current_run", "handoff", "last_run",
    "load_settings", "new_id", "on", "record", "record_usage", "report_every", "reset_config", "set_budget",
    "start_call", "tool", "track_usage", "tracker",
]  # fmt: skip
