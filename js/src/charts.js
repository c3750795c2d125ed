// Vega-Lite charts built in Python, embedded once each; rows go in through Vega changesets.

import { h } from "./dom.js";

/** Names of the datasets a Vega-Lite spec reads (`{"data": {"name": ...}}` anywhere in it). */
export function datasetsOf(spec) {
  const names = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    if (node.data && typeof node.data.name === "string") names.add(node.data.name);
    for (const [key, value] of Object.entries(node)) if (key !== "datasets" && typeof value === "object") walk(value);
  };
  walk(spec);
  return names;
}

const LOG_ERROR = 1; // vega's log level: compile and empty-data warnings stay out of the console
const copy = (row) => ({ ...row }); // each view owns its tuples (Vega writes into them)

/** Build a changeset from one dataset's pending batch; rows of a reset come from `rowsNow`. */
export function toChangeset(changeset, batch, rowsNow) {
  if (batch.reset) return changeset().remove(() => true).insert(rowsNow.map(copy));
  const removed = batch.remove;
  let cs = changeset();
  if (removed.size) cs = cs.remove((d) => removed.has(d.id));
  return cs.insert([...batch.insert.values()].map(copy));
}

/**
 * Embed every spec into a grid; returns {el, apply(pending), destroy()}.
 * `rowsOf(name)` gives a dataset's visible rows now; `embed` is vega-embed, `changeset` vega's.
 */
export function createCharts(doc, specs, { embed, changeset, rowsOf, theme, renderer = "svg", onError }) {
  const el = h(doc, "div", { class: "tt-charts" });
  const charts = [];
  let destroyed = false;

  for (const [name, spec] of Object.entries(specs ?? {})) {
    const meta = spec?.usermeta?.tokentrail ?? {};
    const host = h(doc, "div", { class: "tt-chart-host" });
    const cell = h(doc, "div", { class: `tt-chart tt-chart-${meta.span === "full" ? "full" : "half"}`, "data-chart": name }, host);
    el.appendChild(cell);
    const chart = { name, spec, cell, host, datasets: datasetsOf(spec), view: null, chain: Promise.resolve(), finalize: null };
    charts.push(chart);
    setVisibility(chart);
    chart.chain = Promise.resolve()
      .then(() => embed(host, spec, { actions: false, renderer, theme, logLevel: LOG_ERROR, ...(meta.embed ?? {}) }))
      .then((result) => {
        if (destroyed) return result.finalize?.();
        chart.view = result.view;
        chart.finalize = result.finalize;
        watchWidth(chart);
        return reload(chart);
      })
      .catch((err) => onError?.(name, err));
  }

  function setVisibility(chart) {
    const empty = [...chart.datasets].every((ds) => rowsOf(ds).length === 0);
    chart.cell.hidden = empty && chart.datasets.size > 0;
  }

  function reload(chart) {
    for (const ds of chart.datasets) chart.view.change(ds, toChangeset(changeset, { reset: true }, rowsOf(ds)));
    return chart.view.resize().runAsync();
  }

  function watchWidth(chart) {
    const RO = doc.defaultView?.ResizeObserver ?? globalThis.ResizeObserver;
    if (chart.spec.width !== "container" || !RO) return;
    let last = 0;
    chart.observer = new RO(() => {
      const width = Math.floor(chart.host.clientWidth);
      if (!width || width === last || !chart.view) return;
      last = width;
      chart.chain = chart.chain.then(() => chart.view.width(width).resize().runAsync()).catch((err) => onError?.(chart.name, err));
    });
    chart.observer.observe(chart.host);
  }

  /** Apply a merged pending batch (see pending.js) to every chart that reads a touched dataset. */
  function apply(pending) {
    for (const chart of charts) {
      const touched = [...chart.datasets].filter((ds) => pending.data[ds]);
      if (!touched.length) continue;
      setVisibility(chart);
      if (!chart.view) continue; // still embedding: it loads every row from the store when ready
      // changesets are built now (rows as of this batch), applied in order after any earlier run
      const sets = touched.map((ds) => [ds, toChangeset(changeset, pending.data[ds], pending.data[ds].reset ? rowsOf(ds) : [])]);
      chart.chain = chart.chain
        .then(() => {
          for (const [ds, cs] of sets) chart.view.change(ds, cs);
          return chart.view.resize().runAsync();
        })
        .catch((err) => onError?.(chart.name, err));
    }
  }

  function destroy() {
    destroyed = true;
    for (const chart of charts) {
      chart.observer?.disconnect();
      chart.finalize?.();
      chart.view = null;
    }
  }

  /** Resolves when every chart has embedded and applied what it was given (tests, screenshots). */
  const settled = () => Promise.all(charts.map((c) => c.chain));

  return { el, apply, destroy, settled, charts };
}
