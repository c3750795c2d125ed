// Render the panel's Vega-Lite specs headlessly with rows, as the browser would (used by Python tests).
// usage: node tests/render_specs.mjs input.json  ->  prints {name: {marks, svgBytes, errors}} as JSON
import { readFileSync } from "node:fs";
import * as vega from "vega";
import { compile } from "vega-lite";
import { datasetsOf } from "../src/charts.js";

const { specs, rows, width = 600 } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = {};
for (const [name, spec] of Object.entries(specs)) {
  const errors = [];
  const logger = { ...vega.logger(vega.Warn), warn: (...a) => errors.push(a.join(" ")), error: (...a) => errors.push(a.join(" ")) };
  try {
    const vg = compile({ ...spec, width: spec.width === "container" ? width : spec.width }, { logger }).spec;
    const view = new vega.View(vega.parse(vg), { renderer: "none", logger });
    for (const ds of datasetsOf(spec)) view.change(ds, vega.changeset().insert((rows[ds] ?? []).map((r) => ({ ...r }))));
    await view.runAsync();
    const svg = await view.toSVG();
    const marks = (svg.match(/<path|<rect|<line|<text/g) ?? []).length;
    out[name] = { marks, svgBytes: svg.length, errors, texts: [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]) };
    view.finalize();
  } catch (err) {
    out[name] = { marks: 0, svgBytes: 0, errors: [...errors, String(err?.stack ?? err)], texts: [] };
  }
}
process.stdout.write(JSON.stringify(out));
