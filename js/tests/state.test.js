import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { applyDelta, applySnapshot, createStore, elapsedMs, rows } from "../src/state.js";

const ids = (store, name) => rows(store, name).map((r) => r.id);
const span = (id, extra = {}) => ({ id, lane: "llm", status: "ok", start: 1, end: 2, ...extra });
const snap = (seq, extra = {}) => ({
  seq, status: "running", started_at: 1000, totals: { calls: seq }, in_flight: [], active_tools: [], budgets: [],
  rows: { timeline: [], cumulative: [], by_model: [], by_tool: [] }, ...extra,
});
const delta = (seq, extra = {}) => ({ type: "delta", seq, totals: { calls: seq }, ...extra });

describe("snapshot then deltas", () => {
  test("a recorded sequence applies in order", () => {
    const store = createStore();
    assert.ok(applySnapshot(store, snap(0)));
    applyDelta(store, delta(1, { append: { timeline: [span("a")] } }));
    applyDelta(store, delta(2, { append: { timeline: [span("b"), span("c")] }, in_flight: [{ id: "d", model: "m" }] }));
    assert.deepEqual(ids(store, "timeline"), ["a", "b", "c"]);
    assert.equal(store.seq, 2);
    assert.equal(store.header.totals.calls, 2);
    assert.equal(store.header.in_flight.length, 1);
  });

  test("duplicate and older deltas are ignored", () => {
    const store = createStore();
    applySnapshot(store, snap(0));
    const d1 = delta(1, { append: { timeline: [span("a")] } });
    assert.ok(applyDelta(store, d1));
    assert.equal(applyDelta(store, d1), null);
    applyDelta(store, delta(3, { append: { timeline: [span("c")] } }));
    assert.equal(applyDelta(store, delta(2, { append: { timeline: [span("b")] }, totals: { calls: 99 } })), null);
    assert.deepEqual(ids(store, "timeline"), ["a", "c"]);
    assert.equal(store.header.totals.calls, 3, "an old delta never rolls totals back");
  });

  test("an id already seen is not inserted twice, even in a newer delta", () => {
    const store = createStore();
    applySnapshot(store, snap(0));
    applyDelta(store, delta(1, { append: { timeline: [span("a")] } }));
    const ch = applyDelta(store, delta(2, { append: { timeline: [span("a", { end: 9 }), span("b")] } }));
    assert.deepEqual(ch.data.timeline.insert.map((r) => r.id), ["b"]);
    assert.equal(store.data.timeline.get("a").end, 2);
  });

  test("deltas not newer than the snapshot are dropped (they are already in it)", () => {
    const store = createStore();
    applySnapshot(store, snap(5, { rows: { timeline: [span("a"), span("b")] } }));
    assert.equal(applyDelta(store, delta(4, { append: { timeline: [span("x")] } })), null);
    assert.equal(applyDelta(store, delta(5, { append: { timeline: [span("y")] } })), null);
    applyDelta(store, delta(6, { append: { timeline: [span("c")] } }));
    assert.deepEqual(ids(store, "timeline"), ["a", "b", "c"]);
  });

  test("a late-joining view recovers from the snapshot alone", () => {
    // the kernel sent deltas 1..7 before this view loaded; only the synced snapshot (seq 7) reaches it
    const store = createStore();
    applySnapshot(store, snap(7, {
      rows: { timeline: [span("a"), span("b")], by_model: [{ id: "m", calls: 2 }] },
      runs: [{ id: "r1", name: "trial" }],
    }));
    assert.deepEqual(ids(store, "timeline"), ["a", "b"]);
    assert.deepEqual(ids(store, "runs"), ["r1"]);
    applyDelta(store, delta(8, { append: { timeline: [span("c")] } }));
    assert.deepEqual(ids(store, "timeline"), ["a", "b", "c"]);
  });

  test("a snapshot heals a gap (a lost delta) and reports only the difference", () => {
    const store = createStore();
    applySnapshot(store, snap(0));
    applyDelta(store, delta(1, { append: { timeline: [span("a")] } }));
    // delta 2 (span b) was lost; 3 arrives
    applyDelta(store, delta(3, { append: { timeline: [span("c")] } }));
    // every snapshot the kernel publishes takes the next seq, so it is newer than the last delta
    assert.equal(applySnapshot(store, snap(3, { rows: { timeline: [span("a"), span("b"), span("c")] } })), null);
    const ch = applySnapshot(store, snap(4, { rows: { timeline: [span("a"), span("b"), span("c")] } }));
    assert.deepEqual(ch.data.timeline.insert.map((r) => r.id), ["b"]);
    assert.deepEqual(ch.data.timeline.remove, []);
    assert.deepEqual(ids(store, "timeline"), ["a", "b", "c"]);
  });

  test("an unchanged newer snapshot changes no rows", () => {
    const store = createStore();
    applySnapshot(store, snap(1, { rows: { timeline: [span("a")] } }));
    const ch = applySnapshot(store, snap(2, { rows: { timeline: [span("a")] } }));
    assert.deepEqual(ch.data, {});
    assert.equal(applySnapshot(store, snap(2)), null, "same seq is stale");
  });

  test("replace, remove and upsert", () => {
    const store = createStore();
    applySnapshot(store, snap(0, { rows: { cumulative: [{ id: "p1" }, { id: "p2" }], by_model: [{ id: "m", calls: 1 }] } }));
    const ch = applyDelta(store, delta(1, {
      replace: { cumulative: [{ id: "b0" }] },
      remove: { timeline: ["nope"] },
      upsert: { by_model: [{ id: "m", calls: 2 }, { id: "n", calls: 1 }] },
    }));
    assert.deepEqual(ids(store, "cumulative"), ["b0"]);
    assert.equal(ch.data.cumulative.reset, true);
    assert.equal(ch.data.timeline, undefined, "removing an unknown id changes nothing");
    assert.deepEqual(ch.data.by_model.remove, ["m"]);
    assert.deepEqual(ch.data.by_model.insert.map((r) => [r.id, r.calls]), [["m", 2], ["n", 1]]);
    const again = applyDelta(store, delta(2, { upsert: { by_model: [{ id: "m", calls: 2 }] } }));
    assert.equal(again.data.by_model, undefined, "an identical upsert is a no-op");
  });

  test("remove drops evicted timeline rows", () => {
    const store = createStore();
    applySnapshot(store, snap(0, { rows: { timeline: [span("a"), span("b")] } }));
    applyDelta(store, delta(1, { append: { timeline: [span("c")] }, remove: { timeline: ["a"] }, hidden: { timeline: 1 } }));
    assert.deepEqual(ids(store, "timeline"), ["b", "c"]);
    assert.equal(store.header.hidden.timeline, 1);
  });

  test("messages of other types and malformed ones are ignored", () => {
    const store = createStore();
    assert.equal(applyDelta(store, { type: "other", seq: 1 }), null);
    assert.equal(applyDelta(store, { type: "delta" }), null);
    assert.equal(applySnapshot(store, {}), null);
    assert.equal(applySnapshot(store, null), null);
    assert.equal(store.seq, -1);
  });
});

describe("elapsed time", () => {
  test("ticks from the kernel's clock while running, fixed when done", () => {
    const store = createStore();
    applySnapshot(store, snap(0, { started_at: 10_000, now: 12_000, elapsed_ms: 2000 }), 112_000); // browser is 100 s ahead
    assert.equal(store.clockOffset, 100_000);
    assert.equal(elapsedMs(store, 113_500), 3500);
    applyDelta(store, delta(1, { status: "done", elapsed_ms: 3000 }));
    assert.equal(elapsedMs(store, 200_000), 3000);
  });
});
