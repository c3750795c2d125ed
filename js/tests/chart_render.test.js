// The shipped chart specs rendered headlessly by the real Vega: what a reader of the panel would see.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as vega from "vega";
import { compile } from "vega-lite";
import { datasetsOf } from "../src/charts.js";

const SPECS = JSON.parse(readFileSync(new URL("../../src/tokentrail/jupyter/chart_specs.json", import.meta.url), "utf8"));
const T0 = 1_795_424_004_189.6;

/** Render `spec` at `width` with `rows` (by dataset); returns the scenegraph's mark groups by role. */
async function render(spec, rows, width = 600) {
  const errors = [];
  const logger = { ...vega.logger(vega.Warn), warn: (...a) => errors.push(a.join(" ")), error: (...a) => errors.push(a.join(" ")) };
  const view = new vega.View(vega.parse(compile({ ...spec, width }, { logger }).spec), { renderer: "none", logger });
  for (const ds of datasetsOf(spec)) view.change(ds, vega.changeset().insert((rows[ds] ?? []).map((r) => ({ ...r }))));
  await view.runAsync();
  const marks = [];
  const visit = (node) => {
    if (node?.marktype) marks.push(node);
    for (const item of node?.items ?? []) visit(item);
  };
  visit(view.scenegraph().root);
  const svg = await view.toSVG();
  view.finalize();
  return { marks, svg, errors: errors.filter((e) => !e.includes("Infinite extent")) };
}

const shown = (items) => items.filter((it) => it.opacity !== 0 && it.text !== "");
const timeLabels = (marks) =>
  shown(marks.filter((m) => m.role === "axis-label").flatMap((m) => m.items)).filter((it) => /\d\d:\d\d/.test(it.text));

function span(i, { start, end = start + 40, status = "ok", lane = "llm calls", name = "gpt-4o" }) {
  return { id: `s${i}`, lane, kind: "llm", name, status, start, end, input_tokens: 10, output_tokens: 2, cost: null };
}

describe("time axes (timeline, cumulative charts)", () => {
  // dense spans over many ranges, starting anywhere within a second, at widths from a narrow notebook up
  const ranges = [0, 300, 1_000, 1_500, 5_000, 300_000, 3_600_000];
  const cases = [
    ["timeline", "timeline", (t, i) => span(i, { start: t })],
    ["cumulative_tokens", "cumulative", (t, i) => ({ id: `p${i}`, t, model: "gpt-4o", cost: 0.01, tokens: 50, calls: 1 })],
  ];
  for (const [chart, dataset, row] of cases) {
    for (const range of ranges) {
      test(`${chart}: two or more labels that never collide nor repeat, spans over ${range} ms`, async () => {
        for (const offset of [0, 501, 950]) {
          const rows = Array.from({ length: 120 }, (_, i) => row(T0 + offset + (i * range) / 120, i));
          for (const width of [250, 500, 1100]) {
            const where = `${range} ms from +${offset} ms at ${width} px`;
            const { marks, errors } = await render(SPECS[chart], { [dataset]: rows }, width);
            assert.deepEqual(errors, []);
            const labels = timeLabels(marks).sort((a, b) => a.bounds.x1 - b.bounds.x1);
            assert.ok(labels.length >= 2, `${where}: ${labels.length} time label(s)`);
            for (let i = 1; i < labels.length; i++) {
              const [a, b] = [labels[i - 1], labels[i]];
              assert.ok(b.bounds.x1 - a.bounds.x2 >= 2, `${where}: "${a.text}" and "${b.text}" collide`);
            }
            const texts = labels.map((l) => l.text);
            assert.equal(new Set(texts).size, texts.length, `${where}: repeated labels ${texts}`);
          }
        }
      });
    }
  }
});

describe("the by-tool chart", () => {
  const tool = (name, tokens, spans = 1) => ({
    id: name, name, calls: tokens ? 1 : 0, errors: 0, input_tokens: tokens, cached_input_tokens: 0, output_tokens: 0,
    reasoning_tokens: 0, total_tokens: tokens, cost: null, unpriced_calls: 0, duration_ms: 120, spans,
    label: `${spans} span · 120 ms · ${tokens ? "n/a" : "no LLM calls"}`,
  });

  test("tools that made no LLM call show 0 tokens, never NaN", async () => {
    const { svg, errors } = await render(SPECS.by_tool, { by_tool: [tool("search", 0), tool("rerank", 0, 3)] });
    assert.deepEqual(errors, []);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.ok(!texts.some((t) => t.includes("NaN")), `NaN drawn: ${texts}`);
    assert.ok(texts.includes("0"), "the axis starts at 0 tokens");
    assert.ok(texts.includes("1 span · 120 ms · no LLM calls"));
  });

  test("a tool without LLM calls beside one with calls keeps the token axis intact", async () => {
    const { svg } = await render(SPECS.by_tool, { by_tool: [tool("search", 0), tool("rerank", 5_000)] });
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    assert.ok(!texts.some((t) => t.includes("NaN")));
    assert.ok(texts.includes("5k"));
  });
});

describe("calls in flight on the timeline", () => {
  test("a running row is an open bar of its own; finished rows are plain bars", async () => {
    const rows = [
      span(1, { start: T0, end: T0 + 800 }),
      span(2, { start: T0 + 900, end: T0 + 4_000, status: "running", lane: "tool: search", name: "search" }),
    ];
    const { marks, errors } = await render(SPECS.timeline, { timeline: rows });
    assert.deepEqual(errors, []);
    const open = marks.filter((m) => m.name === "running_marks").flatMap((m) => m.items);
    assert.equal(open.length, 1, "one open bar");
    assert.deepEqual(open[0].strokeDash, [4, 3]);
    assert.ok(open[0].width > 100, "it reaches 'now'");
    const plain = marks.filter((m) => m.name === "spans_marks").flatMap((m) => m.items);
    assert.equal(plain.length, 1, "the finished call only");
    assert.equal(plain[0].strokeDash, undefined);
    const legend = shown(marks.filter((m) => m.role === "legend-label").flatMap((m) => m.items)).map((i) => i.text);
    assert.ok(legend.includes("running"));
  });
});
