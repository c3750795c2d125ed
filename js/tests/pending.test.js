import assert from "node:assert/strict";
import { test } from "node:test";
import { createPending, isEmpty, mergeChanges } from "../src/pending.js";

const ch = (name, change, header = false) => ({ header, data: { [name]: { reset: false, insert: [], remove: [], ...change } } });

test("a burst merges: later rows win, removed rows are not inserted", () => {
  const p = createPending();
  assert.ok(isEmpty(p));
  mergeChanges(p, ch("timeline", { insert: [{ id: "a" }, { id: "b" }] }));
  mergeChanges(p, ch("timeline", { remove: ["a"] }));
  mergeChanges(p, ch("by_model", { remove: ["m"], insert: [{ id: "m", calls: 1 }] }));
  mergeChanges(p, ch("by_model", { remove: ["m"], insert: [{ id: "m", calls: 2 }] }, true));
  assert.deepEqual([...p.data.timeline.insert.keys()], ["b"]);
  assert.deepEqual([...p.data.timeline.remove], ["a"]);
  assert.equal(p.data.by_model.insert.get("m").calls, 2);
  assert.ok(p.header);
});

test("a reset swallows everything before and after it in the batch", () => {
  const p = createPending();
  mergeChanges(p, ch("cumulative", { insert: [{ id: "a" }] }));
  mergeChanges(p, ch("cumulative", { reset: true }));
  mergeChanges(p, ch("cumulative", { insert: [{ id: "b" }] }));
  assert.equal(p.data.cumulative.reset, true);
  assert.equal(p.data.cumulative.insert.size, 0);
  mergeChanges(p, null);
  assert.ok(!isEmpty(p));
});
