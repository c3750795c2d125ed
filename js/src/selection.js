// Which rows a view shows: everything, or only what belongs to the run picked in the runs table.

import { rows } from "./state.js";

const BY_RUN = new Set(["timeline", "cumulative"]); // rows that carry `run_ids` (innermost run first)
const BREAKDOWN = { by_model: "models", by_tool: "tools" }; // taken from the picked run's row

function inRun(row, runId) {
  return Array.isArray(row.run_ids) ? row.run_ids.includes(runId) : row.run_id === runId;
}

/** The rows of `name` a view shows when `runId` (or null for all) is selected. */
export function visibleRows(store, name, runId) {
  if (!runId) return rows(store, name);
  if (BY_RUN.has(name)) return rows(store, name).filter((r) => inRun(r, runId));
  if (name in BREAKDOWN) return store.data.runs?.get(runId)?.[BREAKDOWN[name]] ?? [];
  return rows(store, name);
}

/** The part of a store change a view with a selection must apply (null: nothing to do). */
export function visibleChanges(changes, runId) {
  if (!runId) return changes;
  const data = {};
  for (const [name, change] of Object.entries(changes.data)) {
    if (BY_RUN.has(name)) {
      const insert = change.insert.filter((r) => inRun(r, runId));
      if (change.reset || insert.length || change.remove.length) data[name] = { ...change, insert };
    } else if (name === "runs") {
      data.runs = change;
      const touched = change.reset || change.insert.some((r) => r.id === runId) || change.remove.includes(runId);
      if (touched) for (const other of Object.keys(BREAKDOWN)) data[other] = { reset: true, insert: [], remove: [] };
    } else if (!(name in BREAKDOWN)) {
      data[name] = change;
    }
  }
  return { header: changes.header, data };
}

/** A change that makes a view reload every selection-dependent dataset. */
export function selectionReset() {
  const data = {};
  for (const name of [...BY_RUN, ...Object.keys(BREAKDOWN)]) data[name] = { reset: true, insert: [], remove: [] };
  return { header: true, data };
}
