// The header: title, status, elapsed time, running totals, and what is in flight right now.

import { h, replaceChildren, setText } from "./dom.js";
import * as fmt from "./format.js";
import { elapsedMs } from "./state.js";

const STATS = [
  ["input", (t) => fmt.tokens(t.input_tokens)],
  ["output", (t) => fmt.tokens(t.output_tokens)],
  ["cached", (t) => fmt.tokens(t.cached_input_tokens)],
  ["reasoning", (t) => fmt.tokens(t.reasoning_tokens)],
  ["total tokens", (t) => fmt.tokens(t.total_tokens)],
  ["cost", (t) => fmt.cost(t.cost, t.currency) + (t.unpriced_calls && t.cost != null ? "*" : "")],
  ["calls", (t) => fmt.tokens(t.calls)],
  ["errors", (t) => fmt.tokens(t.errors)],
];

const STATUS_LABEL = {
  run: { running: "running", done: "done", error: "error", interrupted: "interrupted" },
  session: { running: "live", done: "idle", error: "idle", interrupted: "idle" },
};

/** Build the header; returns {el, update(store, browserNow)}. */
export function createTotals(doc, { title, mode }) {
  const status = h(doc, "span", { class: "tt-status" });
  const elapsed = h(doc, "span", { class: "tt-elapsed", title: "elapsed" });
  const head = h(doc, "div", { class: "tt-head" },
    h(doc, "span", { class: "tt-title", text: title || "tokentrail" }), status, elapsed);
  const values = {};
  const stats = h(doc, "div", { class: "tt-stats" }, STATS.map(([label]) => {
    values[label] = h(doc, "span", { class: "tt-v", text: "0" });
    return h(doc, "div", { class: `tt-stat tt-stat-${label.replace(" ", "-")}` },
      h(doc, "span", { class: "tt-k", text: label }), values[label]);
  }));
  const live = h(doc, "div", { class: "tt-live", hidden: true });
  const el = h(doc, "div", { class: "tt-totals" }, head, stats, live);
  let liveKey = "";

  function update(store, browserNow) {
    const hd = store.header;
    const t = hd.totals ?? {};
    const state = hd.status ?? "running";
    status.className = `tt-status tt-status-${state}`;
    setText(status, (STATUS_LABEL[mode] ?? STATUS_LABEL.run)[state] ?? state);
    setText(elapsed, fmt.duration(elapsedMs(store, browserNow)));
    for (const [label, show] of STATS) setText(values[label], show(t));
    values.errors.parentElement.classList.toggle("tt-bad", (t.errors ?? 0) > 0);
    values.cost.title = t.unpriced_calls ? `${t.unpriced_calls} call(s) could not be priced` : "";
    updateLive(store, browserNow);
  }

  function updateLive(store, browserNow) {
    const calls = store.header.in_flight ?? [];
    const tools = store.header.active_tools ?? [];
    const nCalls = store.header.in_flight_count ?? calls.length; // lists are capped; counts are not
    const nTools = store.header.active_tools_count ?? tools.length;
    const busy = nCalls > 0 || nTools > 0;
    live.hidden = !busy;
    if (!busy) return;
    const kernelNow = browserNow - store.clockOffset;
    const since = (item) => fmt.duration(Math.max(0, kernelNow - (item.started_at ?? kernelNow)));
    // rebuilt only when the set of items (or a displayed second) changes
    const key = JSON.stringify([nCalls, nTools, calls.map((c) => [c.id, since(c)]), tools.map((t) => [t.id, since(t)])]);
    if (key === liveKey) return;
    liveKey = key;
    const items = [
      ...tools.map((t) => h(doc, "span", { class: "tt-chip tt-chip-tool", title: "tool span running" }, `${t.name ?? "tool"} · ${since(t)}`)),
      ...calls.map((c) => h(doc, "span", { class: "tt-chip tt-chip-call", title: "LLM call in flight" }, `${c.model ?? "call"} · ${since(c)}`)),
    ];
    const what = `${nCalls} call${nCalls === 1 ? "" : "s"} in flight` +
      (nTools ? `, ${nTools} tool${nTools === 1 ? "" : "s"} active` : "");
    replaceChildren(doc, live, h(doc, "span", { class: "tt-spinner", "aria-hidden": "true" }),
      h(doc, "span", { class: "tt-live-what", text: what }), ...items);
  }

  return { el, update };
}
