// The bundle is self-contained: vega-embed, vega and vega-lite inside, nothing fetched from a CDN.
import assert from "node:assert/strict";
import { test } from "node:test";
import { build } from "esbuild";
import { options } from "../build.mjs";

const built = build({ ...options(), write: false, metafile: true }).then((r) => r.outputFiles[0].text);

test("no import or fetch from the network", async () => {
  const code = await built;
  assert.doesNotMatch(code, /\bimport\s*\(?\s*["'`]https?:/, "no dynamic or static import of a URL");
  assert.doesNotMatch(code, /\bfrom\s*["'`]https?:/, "no import ... from 'https://...'");
  assert.doesNotMatch(code, /https?:\/\/(cdn\.|unpkg\.com|esm\.sh|cdn\.jsdelivr|cdnjs|skypack)/i, "no CDN URL");
  assert.doesNotMatch(code, /\brequire\s*\(\s*["'`]/, "no CommonJS require left over");
});

test("vega, vega-lite and vega-embed are bundled, as one ES module with a default export", async () => {
  const code = await built;
  assert.ok(code.length > 400_000 && code.length < 2_000_000, `size ${code.length}`);
  assert.match(code, /export\s*\{[^}]*\bas default\b[^}]*\}/);
  assert.match(code, /vega-lite/);
  assert.doesNotMatch(code, /define\.amd/, "define.amd is compiled away");
});

test("the module loads and gives anywidget initialize and render", async () => {
  const code = await built;
  const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  assert.equal(typeof mod.default, "function");
  const widget = mod.default();
  assert.equal(typeof widget.initialize, "function");
  assert.equal(typeof widget.render, "function");
});
