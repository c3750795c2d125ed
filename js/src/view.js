// One rendered panel: header, budgets, runs table (session), charts; updated once per frame.

import { createBudgets } from "./budgets.js";
import { createCharts } from "./charts.js";
import { h } from "./dom.js";
import { createPending, isEmpty, mergeChanges } from "./pending.js";
import { createOpenBars, runningRows, withOpenBars } from "./running.js";
import { createRunsTable } from "./runs_table.js";
import { selectionReset, visibleChanges, visibleRows } from "./selection.js";
import { CSS } from "./styles.js";
import { createTotals } from "./totals.js";

const TICK_MS = 250;

function defaultSchedule(doc) {
  const win = doc.defaultView ?? globalThis;
  if (typeof win.requestAnimationFrame === "function") {
    // rAF pauses in hidden tabs; a timeout makes sure a hidden panel still catches up
    return (fn) => {
      let done = false;
      const once = () => { if (!done) { done = true; fn(); } };
      win.requestAnimationFrame(once);
      setTimeout(once, 200);
    };
  }
  return (fn) => setTimeout(fn, 0);
}

/**
 * Render a panel for `controller` into `el`; returns a cleanup function.
 * `options`: {title, mode, specs, embed, changeset, theme, schedule, now, renderer}.
 */
export function mountView(el, controller, options) {
  const doc = el.ownerDocument;
  const { store } = controller;
  const mode = options.mode === "session" ? "session" : "run";
  const now = options.now ?? (() => Date.now());
  const schedule = options.schedule ?? defaultSchedule(doc);
  let selected = null;
  let pending = createPending();
  let scheduled = false;
  let runsDirty = true;
  let ticks = 0;
  const openBars = createOpenBars(); // calls and tools still running, on the timeline

  const totals = createTotals(doc, { title: options.title, mode });
  const budgets = createBudgets(doc);
  const runsTable = mode === "session" ? createRunsTable(doc, { onSelect: select }) : null;
  const errors = h(doc, "div", { class: "tt-error", hidden: true });
  const charts = createCharts(doc, options.specs, {
    embed: options.embed,
    changeset: options.changeset,
    theme: options.theme,
    renderer: options.renderer,
    rowsOf: (name) => {
      const rows = visibleRows(store, name, selected);
      return name === "timeline" && openBars.size ? [...rows, ...openBars.rows()] : rows;
    },
    onError: (name, err) => {
      errors.hidden = false;
      errors.textContent = `chart ${name} failed: ${err?.message ?? err}`;
      console.error("[tokentrail]", name, err);
    },
  });
  const foot = h(doc, "div", { class: "tt-foot", hidden: true });
  const root = h(doc, "div", { class: `tt-panel tt-mode-${mode}` },
    h(doc, "style", { text: CSS }), totals.el, budgets.el, runsTable?.el, charts.el, foot, errors);
  el.appendChild(root);

  function frame() {
    scheduled = false;
    const batch = pending;
    pending = createPending();
    const t = now();
    totals.update(store, t);
    budgets.update(store);
    if (runsTable && (runsDirty || batch.data.runs)) {
      runsDirty = false;
      runsTable.update(store, t - store.clockOffset, selected);
    }
    withOpenBars(batch, openBars.update(runningRows(store, t - store.clockOffset, selected), t));
    charts.apply(batch);
    const hidden = store.header.hidden?.timeline ?? 0;
    foot.hidden = hidden === 0;
    foot.textContent = hidden ? `timeline shows the latest spans; ${hidden} earlier not shown` : "";
  }

  function request(changes) {
    mergeChanges(pending, changes);
    if (scheduled || isEmpty(pending)) return;
    scheduled = true;
    schedule(frame);
  }

  function select(runId) {
    selected = runId;
    runsDirty = true;
    request(selectionReset());
  }

  const unsubscribe = controller.subscribe((changes) => request(visibleChanges(changes, selected)));
  frame(); // everything already in the store (a late-joining view starts complete)

  // elapsed time and in-flight durations tick locally; no kernel message is needed for that
  const ticker = setInterval(() => {
    if (store.header.status !== "running" && !(store.header.in_flight ?? []).length) return;
    totals.update(store, now());
    if (runsTable && rowsRunning(store)) runsTable.update(store, now() - store.clockOffset, selected);
    if (openBars.size && ++ticks % 2 === 0) request({ header: true, data: {} }); // open bars grow to "now"
  }, TICK_MS);

  return () => {
    clearInterval(ticker);
    unsubscribe();
    charts.destroy();
    root.remove();
  };
}

function rowsRunning(store) {
  for (const r of store.data.runs?.values() ?? []) if (r.status === "running") return true;
  return false;
}

export { selectionReset };
