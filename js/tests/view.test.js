import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { createController } from "../src/controller.js";
import { mountView } from "../src/view.js";
import { changeset, fakeEmbed, fakeModel, flush, makeDocument, spec } from "./helpers.js";

const SPECS = {
  cumulative_cost: spec("cumulative_cost", ["cumulative"]),
  timeline: spec("timeline", ["timeline"], { usermeta: { tokentrail: { name: "timeline", span: "full" } } }),
  by_model: spec("by_model", ["by_model"]),
};
const EVIL = '<img src=x onerror="globalThis.pwned=1">';
const cleanups = [];
after(() => cleanups.forEach((fn) => fn()));
const ended = (view) => view.data.timeline.filter((r) => r.status !== "running").map((r) => r.id); // no open bars

function snapshot(seq, extra = {}) {
  return {
    seq, status: "running", started_at: 1_000, now: 2_000, elapsed_ms: 1_000,
    totals: { calls: 1, errors: 0, input_tokens: 1200, output_tokens: 34, cached_input_tokens: 0, reasoning_tokens: 0,
      total_tokens: 1234, cost: null, currency: "USD", unpriced_calls: 1 },
    in_flight: [{ id: "c9", model: EVIL, started_at: 1_500 }], active_tools: [{ id: "t1", name: "search", started_at: 1_800 }],
    budgets: [{ kind: "tokens", limit: 2000, spent: 1234, warn_at: [0.5, 0.8], exceeded: false }],
    rows: { timeline: [{ id: "e1", lane: "llm", model: EVIL, status: "ok", run_ids: ["r1"] }], cumulative: [],
      by_model: [{ id: EVIL, name: EVIL, total_tokens: 1234 }], by_tool: [] },
    ...extra,
  };
}

function setup(state, mode = "run") {
  const doc = makeDocument();
  const el = doc.createElement("div");
  doc.body.appendChild(el);
  const model = fakeModel({ title: `Run ${EVIL}`, mode, specs: SPECS, snapshot: snapshot(0), ...state });
  const controller = createController(model, () => 102_000);
  const embed = fakeEmbed();
  const frames = [];
  const cleanup = mountView(el, controller, {
    title: model.get("title"), mode, specs: model.get("specs"), embed, changeset,
    schedule: (fn) => frames.push(fn), now: () => 102_000,
  });
  cleanups.push(cleanup);
  const runFrames = () => { while (frames.length) frames.shift()(); };
  return { doc, el, model, controller, embed, cleanup, runFrames };
}

describe("the run panel", () => {
  test("shows totals, n/a cost, in-flight calls, active tools and budget bars; user strings stay text", async () => {
    const { el, doc, cleanup } = setup({});
    const text = el.textContent;
    assert.match(text, /1,200/);
    assert.match(text, /n\/a/);
    assert.match(text, /1 call in flight, 1 tool active/);
    assert.match(text, /search/);
    assert.match(text, /1,234 tokens of 2,000 tokens \(62%\)/);
    assert.equal(el.querySelectorAll(".tt-tick").length, 2);
    assert.equal(el.querySelector(".tt-fill").className, "tt-fill tt-warn");
    assert.equal(el.querySelectorAll("img").length, 0, "no markup from data");
    assert.ok(text.includes(EVIL), "the string is shown verbatim as text");
    assert.equal(doc.querySelector(".tt-title").textContent, `Run ${EVIL}`);
    cleanup();
    assert.equal(el.children.length, 0);
  });

  test("each spec is embedded once, without actions, then fed by changesets", async () => {
    const { embed, model, runFrames, cleanup } = setup({});
    await flush();
    assert.equal(embed.calls.length, 3);
    assert.ok(embed.calls.every((c) => c.opts.actions === false && c.opts.renderer === "svg"));
    const timeline = embed.viewFor("timeline");
    assert.deepEqual(ended(timeline), ["e1"], "rows present before embedding are loaded");
    model.deliver({ type: "delta", seq: 1, append: { timeline: [{ id: "e2", status: "error" }, { id: "e1" }] } });
    model.deliver({ type: "delta", seq: 2, append: { timeline: [{ id: "e3", status: "ok" }] }, remove: { timeline: ["e1"] } });
    model.deliver({ type: "delta", seq: 2, append: { timeline: [{ id: "dup" }] } }); // duplicate seq: ignored
    runFrames();
    await flush();
    assert.deepEqual(ended(timeline), ["e2", "e3"]);
    assert.equal(embed.calls.length, 3, "never re-embedded");
    const byModel = embed.viewFor("by_model");
    model.deliver({ type: "delta", seq: 3, upsert: { by_model: [{ id: EVIL, name: EVIL, total_tokens: 2000 }] } });
    runFrames();
    await flush();
    assert.deepEqual(byModel.data.by_model.map((r) => r.total_tokens), [2000]);
    cleanup();
    assert.ok(embed.calls.every((c) => c.view.finalized));
  });

  test("calls and tools in flight are open bars on the timeline until their rows arrive", async () => {
    const { el, embed, model, runFrames } = setup({});
    await flush();
    const timeline = embed.viewFor("timeline");
    const byId = () => Object.fromEntries(timeline.data.timeline.map((r) => [r.id, r]));
    // kernel clock: the snapshot's now (2,000) at the browser's 102,000
    assert.deepEqual(byId().c9, { id: "c9", lane: "llm calls", kind: "llm", name: EVIL, status: "running", start: 1_500, end: 2_000 });
    assert.deepEqual(byId().t1, { id: "t1", lane: "tool: search", kind: "tool", name: "search", status: "running", start: 1_800, end: 2_000 });
    assert.equal(el.querySelectorAll("img").length, 0, "a model name reaches Vega's data only");

    // the call ends: its row replaces the open bar; the tool still runs, now to the new "now"
    model.deliver({ type: "delta", seq: 1, now: 3_000, in_flight: [], in_flight_count: 0,
      append: { timeline: [{ id: "c9", lane: "llm calls", name: EVIL, status: "ok", start: 1_500, end: 2_600 }] } });
    runFrames();
    await flush();
    assert.equal(timeline.data.timeline.filter((r) => r.id === "c9").length, 1, "drawn once");
    assert.equal(byId().c9.status, "ok");
    assert.equal(byId().c9.end, 2_600);
    assert.equal(byId().t1.status, "running");
    assert.equal(byId().t1.end, 3_000);

    model.deliver({ type: "delta", seq: 2, now: 3_500, active_tools: [], active_tools_count: 0,
      append: { timeline: [{ id: "t1", lane: "tool: search", name: "search", status: "ok", start: 1_800, end: 3_400 }] } });
    runFrames();
    await flush();
    assert.deepEqual(timeline.data.timeline.map((r) => [r.id, r.status]), [["e1", "ok"], ["c9", "ok"], ["t1", "ok"]]);
  });

  test("open bars grow between kernel messages, and stop with the run", async () => {
    const doc = makeDocument();
    const el = doc.createElement("div");
    let clock = 102_000;
    const model = fakeModel({ snapshot: snapshot(0, { active_tools: [] }) });
    const controller = createController(model, () => clock);
    const embed = fakeEmbed();
    cleanups.push(mountView(el, controller, { mode: "run", specs: SPECS, embed, changeset, schedule: (fn) => fn(), now: () => clock }));
    await flush();
    const open = () => embed.viewFor("timeline").data.timeline.find((r) => r.id === "c9");
    assert.equal(open().end, 2_000);
    clock += 1_000; // no message from the kernel meanwhile
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.equal(open().end, 3_000, "the bar reaches the kernel's now");
    assert.equal(open().status, "running");
    // the run ended with the call still listed (interrupted): the bar stops at the end
    model.set("snapshot", snapshot(1, { status: "interrupted", now: 3_200, ended_at: 3_100, active_tools: [] }));
    clock += 5_000;
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(open().end, 3_100);
  });

  test("charts with no rows are hidden until rows arrive", async () => {
    const { el, model, runFrames } = setup({});
    const cell = el.querySelector('[data-chart="cumulative_cost"]');
    assert.equal(cell.hidden, true);
    model.deliver({ type: "delta", seq: 1, append: { cumulative: [{ id: "p1", cost: 0.1 }] } });
    runFrames();
    assert.equal(cell.hidden, false);
  });

  test("a snapshot after a lost delta fills the gap; the final one stops the spinner", async () => {
    const { el, embed, model, runFrames } = setup({});
    await flush();
    model.deliver({ type: "delta", seq: 2, append: { timeline: [{ id: "e3" }] } }); // seq 1 was lost
    model.set("snapshot", snapshot(3, {
      status: "done", in_flight: [], active_tools: [], elapsed_ms: 5_000,
      rows: { timeline: [{ id: "e1" }, { id: "e2" }, { id: "e3" }], cumulative: [], by_model: [], by_tool: [] },
    }));
    runFrames();
    await flush();
    assert.deepEqual(embed.viewFor("timeline").data.timeline.map((r) => r.id).sort(), ["e1", "e2", "e3"]);
    assert.equal(el.querySelector(".tt-live").hidden, true);
    assert.equal(el.querySelector(".tt-status").textContent, "done");
    assert.equal(el.querySelector(".tt-elapsed").textContent, "5.0 s");
  });

  test("a second view of the same model starts from the shared store", async () => {
    const { doc, model, controller } = setup({});
    model.deliver({ type: "delta", seq: 1, append: { timeline: [{ id: "e2" }] } });
    const el2 = doc.createElement("div");
    const embed2 = fakeEmbed();
    cleanups.push(mountView(el2, controller, { mode: "run", specs: SPECS, embed: embed2, changeset, schedule: (fn) => fn() }));
    await flush();
    assert.deepEqual(ended(embed2.viewFor("timeline")), ["e1", "e2"]);
  });
});

describe("the session dashboard", () => {
  const runs = [
    { id: "r1", name: "alpha", path: ["alpha"], tags: { arch: EVIL }, status: "done", calls: 3, total_tokens: 300, cost: 0.3,
      started_at: 0, ended_at: 1000, models: [{ id: "m1", name: "m1", total_tokens: 300 }], tools: [] },
    { id: "r2", name: "beta", path: ["beta"], tags: {}, status: "done", calls: 1, total_tokens: 900, cost: null,
      started_at: 100, ended_at: 5100, models: [{ id: "m2", name: "m2", total_tokens: 900 }], tools: [] },
  ];
  const sessionSnapshot = snapshot(0, {
    runs,
    rows: {
      timeline: [{ id: "e1", run_ids: ["r1"] }, { id: "e2", run_ids: ["r2"] }, { id: "e3", run_ids: ["r2"] }],
      cumulative: [], by_model: [{ id: "m1", name: "m1" }, { id: "m2", name: "m2" }], by_tool: [],
    },
  });

  test("the runs table sorts, and a click narrows the charts to that run", async () => {
    const { el, embed, model, runFrames } = setup({ snapshot: sessionSnapshot }, "session");
    await flush();
    const names = () => [...el.querySelectorAll(".tt-table tbody tr")].map((tr) => tr.firstChild.textContent);
    assert.deepEqual(names(), ["beta", "alpha"], "newest first");
    const th = [...el.querySelectorAll(".tt-table th")];
    th[4].dispatchEvent(new el.ownerDocument.defaultView.Event("click")); // tokens, descending first
    assert.deepEqual(names(), ["beta", "alpha"]);
    th[4].dispatchEvent(new el.ownerDocument.defaultView.Event("click"));
    assert.deepEqual(names(), ["alpha", "beta"]);
    assert.ok(el.textContent.includes(`arch=${EVIL}`));
    assert.equal(el.querySelectorAll("img").length, 0);

    const rowOf = (name) => [...el.querySelectorAll(".tt-table tbody tr")].find((tr) => tr.firstChild.textContent === name);
    rowOf("beta").dispatchEvent(new el.ownerDocument.defaultView.Event("click"));
    runFrames();
    await flush();
    assert.deepEqual(embed.viewFor("timeline").data.timeline.map((r) => r.id), ["e2", "e3"]);
    assert.deepEqual(embed.viewFor("by_model").data.by_model.map((r) => r.id), ["m2"]);
    assert.ok(rowOf("beta").className.includes("tt-selected"));

    model.deliver({ type: "delta", seq: 1, append: { timeline: [{ id: "e4", run_ids: ["r1"] }, { id: "e5", run_ids: ["r3", "r2"] }] } });
    runFrames();
    await flush();
    assert.deepEqual(embed.viewFor("timeline").data.timeline.map((r) => r.id), ["e2", "e3", "e5"], "nested runs count");

    rowOf("beta").dispatchEvent(new el.ownerDocument.defaultView.Event("click")); // again: show all
    runFrames();
    await flush();
    assert.deepEqual(ended(embed.viewFor("timeline")), ["e1", "e2", "e3", "e4", "e5"]);
    assert.equal(el.querySelector(".tt-status").textContent, "live");
  });
});
