import assert from "node:assert/strict";
import { test } from "node:test";
import { budgetLevel } from "../src/budgets.js";
import { datasetsOf, toChangeset } from "../src/charts.js";
import { runDuration, sortRuns } from "../src/runs_table.js";
import { selectionReset, visibleChanges, visibleRows } from "../src/selection.js";
import { applySnapshot, createStore } from "../src/state.js";
import { changeset } from "./helpers.js";

test("budget levels follow the thresholds", () => {
  assert.equal(budgetLevel({ limit: 10, spent: 4, warn_at: [0.5, 0.8] }), "ok");
  assert.equal(budgetLevel({ limit: 10, spent: 5, warn_at: [0.5, 0.8] }), "warn");
  assert.equal(budgetLevel({ limit: 10, spent: 10, warn_at: [0.5] }), "over");
  assert.equal(budgetLevel({ limit: 10, spent: 1, warn_at: [], exceeded: true }), "over");
});

test("runs sort by any column, nulls last; running runs tick", () => {
  const runs = [
    { id: "a", name: "b-run", started_at: 1, total_tokens: 5, cost: null, status: "done", ended_at: 11 },
    { id: "b", name: "a-run", started_at: 2, total_tokens: 9, cost: 0.5, status: "running", ended_at: null },
  ];
  assert.deepEqual(sortRuns(runs, null).map((r) => r.id), ["b", "a"], "newest first");
  assert.deepEqual(sortRuns(runs, { key: "name", desc: false }).map((r) => r.id), ["b", "a"]);
  assert.deepEqual(sortRuns(runs, { key: "tokens", desc: true }).map((r) => r.id), ["b", "a"]);
  assert.deepEqual(sortRuns(runs, { key: "cost", desc: false }).map((r) => r.id), ["b", "a"], "n/a sorts last");
  assert.equal(runDuration(runs[0], 100), 10);
  assert.equal(runDuration(runs[1], 102), 100);
});

test("datasets of a layered spec and changesets for Vega", () => {
  const spec = { layer: [{ data: { name: "timeline" } }, { mark: "tick" }], transform: [], data: { name: "timeline" } };
  assert.deepEqual([...datasetsOf(spec)], ["timeline"]);
  const cs = toChangeset(changeset, { reset: false, remove: new Set(["x"]), insert: new Map([["y", { id: "y" }]]) }, []);
  assert.equal(cs.removes.length, 1);
  assert.equal(cs.removes[0]({ id: "x" }), true);
  assert.deepEqual(cs.inserts, [{ id: "y" }]);
  const row = { id: "z" };
  const reset = toChangeset(changeset, { reset: true }, [row]);
  assert.notEqual(reset.inserts[0], row, "each view gets its own copy of a row");
});

test("a selected run narrows rows, breakdowns come from its runs row", () => {
  const store = createStore();
  applySnapshot(store, {
    seq: 1,
    rows: { timeline: [{ id: "1", run_ids: ["r1"] }, { id: "2", run_ids: ["r2", "r1"] }, { id: "3", run_ids: [] }], by_model: [{ id: "m" }] },
    runs: [{ id: "r2", models: [{ id: "m2" }], tools: [] }],
  });
  assert.deepEqual(visibleRows(store, "timeline", "r1").map((r) => r.id), ["1", "2"]);
  assert.deepEqual(visibleRows(store, "timeline", null).map((r) => r.id), ["1", "2", "3"]);
  assert.deepEqual(visibleRows(store, "by_model", "r2").map((r) => r.id), ["m2"]);
  assert.deepEqual(visibleRows(store, "by_model", "nope"), []);
  const changes = { header: true, data: {
    timeline: { reset: false, insert: [{ id: "4", run_ids: ["r9"] }], remove: [] },
    by_model: { reset: false, insert: [{ id: "m" }], remove: [] },
    runs: { reset: false, insert: [{ id: "r2" }], remove: [] },
  } };
  const seen = visibleChanges(changes, "r2");
  assert.equal(seen.data.timeline, undefined, "another run's span is not drawn");
  assert.equal(seen.data.by_model.reset, true, "the picked run changed: its breakdown reloads");
  assert.ok(selectionReset().data.cumulative.reset);
});
