// Bundle the widget's front end into one ES module inside the Python package (no CDN at run time).
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const OUTFILE = resolve(here, "../src/tokentrail/static/widget.js");

/** esbuild options for the bundle; `dev` keeps it readable with an inline source map. */
export function options({ dev = false } = {}) {
  return {
    entryPoints: [resolve(here, "src/index.js")],
    outfile: OUTFILE,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: ["es2020"],
    minify: !dev,
    sourcemap: dev ? "inline" : false,
    legalComments: "none",
    // vega's UMD fragments test `define.amd`: off, so RequireJS in the classic notebook never clashes
    define: { "define.amd": "false", "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
    metafile: true,
    logLevel: "warning",
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await build(options({ dev: process.argv.includes("--dev") }));
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  console.log(`wrote ${OUTFILE} (${(bytes / 1024).toFixed(0)} KiB)`);
}
