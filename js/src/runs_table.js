// The session's runs as a sortable table; clicking a run narrows the charts to it.

import { h, replaceChildren } from "./dom.js";
import * as fmt from "./format.js";
import { rows } from "./state.js";

const COLUMNS = [
  { key: "name", label: "run", value: (r) => (r.path?.length ? r.path.join(" / ") : r.name ?? r.id) },
  { key: "tags", label: "tags", value: (r) => fmt.tags(r.tags) },
  { key: "status", label: "status", value: (r) => r.status ?? "" },
  { key: "calls", label: "calls", num: true, value: (r) => r.calls ?? 0, show: fmt.tokens },
  { key: "tokens", label: "tokens", num: true, value: (r) => r.total_tokens ?? 0, show: fmt.tokens },
  { key: "cost", label: "cost", num: true, value: (r) => r.cost, show: (v, r) => fmt.cost(v, r.currency) },
  { key: "duration", label: "duration", num: true, value: (r, now) => runDuration(r, now), show: fmt.duration },
];

/** A run's duration in ms (ticking from its start while it runs). */
export function runDuration(r, kernelNow) {
  if (typeof r.ended_at === "number") return r.ended_at - r.started_at;
  if (r.status === "running" && typeof r.started_at === "number" && typeof kernelNow === "number") {
    return Math.max(r.duration_ms ?? 0, kernelNow - r.started_at);
  }
  return r.duration_ms ?? 0;
}

/** Rows sorted by a column (nulls last); newest first when no column was picked. */
export function sortRuns(runRows, sort, kernelNow) {
  const col = COLUMNS.find((c) => c.key === sort?.key);
  const out = [...runRows];
  if (!col) return out.sort((a, b) => (b.started_at ?? 0) - (a.started_at ?? 0)); // newest first
  const dir = sort.desc ? -1 : 1;
  const val = (r) => col.value(r, kernelNow);
  return out.sort((a, b) => {
    const va = val(a);
    const vb = val(b);
    if (va === vb) return 0;
    if (va === null || va === undefined) return 1;
    if (vb === null || vb === undefined) return -1;
    return (col.num ? va - vb : String(va).localeCompare(String(vb))) * dir;
  });
}

/** Build the table; `onSelect(runId | null)` fires on clicks. Returns {el, update(store, now, selected)}. */
export function createRunsTable(doc, { onSelect }) {
  let sort = null;
  let lastStore = null;
  let lastArgs = [];
  const head = h(doc, "tr", {}, COLUMNS.map((c) =>
    h(doc, "th", { class: c.num ? "tt-num" : "", title: `sort by ${c.label}`, onclick: () => toggleSort(c.key) }, c.label)));
  const body = h(doc, "tbody");
  const note = h(doc, "div", { class: "tt-runs-note" });
  const el = h(doc, "div", { class: "tt-runs", hidden: true },
    h(doc, "table", { class: "tt-table" }, h(doc, "thead", {}, head), body), note);

  function toggleSort(key) {
    sort = sort?.key === key ? { key, desc: !sort.desc } : { key, desc: key !== "name" && key !== "tags" && key !== "status" };
    for (const [i, th] of [...head.children].entries()) {
      const c = COLUMNS[i];
      th.className = [c.num ? "tt-num" : "", sort.key === c.key ? (sort.desc ? "tt-desc" : "tt-asc") : ""].join(" ").trim();
    }
    if (lastStore) update(lastStore, ...lastArgs);
  }

  function update(store, kernelNow, selected) {
    lastStore = store;
    lastArgs = [kernelNow, selected];
    const all = rows(store, "runs");
    el.hidden = all.length === 0;
    const trs = sortRuns(all, sort, kernelNow).map((r) =>
      h(doc, "tr", {
        class: r.id === selected ? "tt-selected" : "",
        title: r.id === selected ? "click to show every run" : "click to show only this run",
        onclick: () => onSelect(r.id === selected ? null : r.id),
      }, COLUMNS.map((c) => {
        const v = c.value(r, kernelNow);
        return h(doc, "td", { class: c.num ? "tt-num" : "" }, c.show ? c.show(v, r) : String(v ?? ""));
      })));
    replaceChildren(doc, body, trs);
    const hidden = store.header.hidden?.runs ?? 0;
    const parts = [];
    if (selected) parts.push("charts show the selected run only (click it again to show all)");
    if (hidden) parts.push(`${hidden} older run(s) not listed`);
    note.textContent = parts.join(" · ");
  }

  return { el, update };
}
