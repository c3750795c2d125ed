import assert from "node:assert/strict";
import { test } from "node:test";
import { budgetLevel } from "../src/budgets.js";
import { datasetsOf, toChangeset } from "../src/charts.js";
import { createOpenBars, runningRows, withOpenBars } from "../src/running.js";
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

test("open bars: what the header lists as running, until the timeline has its row", () => {
  const store = createStore();
  applySnapshot(store, {
    seq: 1, status: "running", started_at: 0, now: 5_000,
    in_flight: [
      { id: "c1", model: "gpt-4o", started_at: 1_000, lane: "agent: planner", kind: "llm", run_ids: ["r2", "r1"] },
      { id: "c2", model: "gpt-4o", started_at: 2_000, run_ids: ["r3"] }, // an older kernel: no lane, no kind
      { id: "c3", model: "gpt-4o", started_at: 900 }, // its row already arrived (a header one slot late)
      { id: "c4", model: "gpt-4o" }, // no start: not drawable
    ],
    active_tools: [{ id: "t1", name: "search", started_at: 4_000, lane: "tool: search" }],
    rows: { timeline: [{ id: "c3", status: "ok", start: 900, end: 1_900 }] },
  }, 10_000);
  const rows = runningRows(store, 5_000);
  assert.deepEqual(rows.map((r) => [r.id, r.lane, r.kind, r.status, r.start, r.end]), [
    ["c1", "agent: planner", "llm", "running", 1_000, 5_000],
    ["c2", "llm calls", "llm", "running", 2_000, 5_000],
    ["t1", "tool: search", "tool", "running", 4_000, 5_000],
  ]);
  assert.deepEqual(runningRows(store, 5_000, "r1").map((r) => r.id), ["c1"], "a selected run shows its own only");
  assert.deepEqual(runningRows(store, 500).map((r) => r.end), [1_000, 2_000, 4_000], "never ends before it starts");
  store.header.status = "interrupted";
  store.header.ended_at = 4_500;
  assert.deepEqual(runningRows(store, 9_000).map((r) => r.end), [4_500, 4_500, 4_500], "they stop with the run");
});

test("open bars are redrawn when they change, and grown at most every 400 ms", () => {
  const bars = createOpenBars();
  const bar = (id, end) => ({ id, lane: "llm calls", name: "m", status: "running", start: 0, end });
  assert.equal(bars.update([], 0), null);
  assert.deepEqual(bars.update([bar("a", 10)], 0), { remove: [], insert: [bar("a", 10)] });
  assert.equal(bars.update([bar("a", 60)], 50), null, "only grown, 50 ms later: not yet");
  assert.deepEqual(bars.update([bar("a", 60), bar("b", 60)], 60).remove, ["a"], "a new bar: at once");
  assert.deepEqual(bars.update([bar("a", 500), bar("b", 500)], 500).insert.map((r) => r.end), [500, 500]);
  assert.equal(bars.update([bar("a", 500), bar("b", 500)], 5_000), null, "unchanged: never redrawn");
  const change = bars.update([bar("b", 600)], 600);
  assert.deepEqual(change.remove, ["a", "b"]);
  assert.equal(bars.size, 1);

  // into a batch: the open bar "a" goes, the finished row "a" (same id) comes in its place
  const pending = { header: true, data: { timeline: { reset: false, remove: new Set(), insert: new Map([["a", { id: "a", status: "ok" }]]) } } };
  withOpenBars(pending, change);
  const cs = toChangeset(changeset, pending.data.timeline, []);
  assert.equal(cs.removes[0]({ id: "a", status: "running" }), true);
  assert.deepEqual(cs.inserts.map((r) => [r.id, r.status]), [["a", "ok"], ["b", "running"]]);
  const reset = { header: false, data: { timeline: { reset: true, remove: new Set(), insert: new Map() } } };
  assert.equal(withOpenBars(reset, change).data.timeline.insert.size, 0, "a reset reloads every row anyway");
});
