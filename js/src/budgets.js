// Budget bars: how much of each limit is spent, with a tick at every warning threshold.

import { h, replaceChildren } from "./dom.js";
import * as fmt from "./format.js";

const KIND_LABEL = { usd: "cost budget", tokens: "token budget", calls: "call budget" };

/** The level a budget is at: "ok", "warn" (past a threshold) or "over". */
export function budgetLevel(b) {
  const fraction = b.limit > 0 ? b.spent / b.limit : 0;
  if (b.exceeded || fraction >= 1) return "over";
  return (b.warn_at ?? []).some((t) => fraction >= t) ? "warn" : "ok";
}

/** Build the budget section; returns {el, update(store)}. */
export function createBudgets(doc) {
  const el = h(doc, "div", { class: "tt-budgets", hidden: true });
  let last = "";

  function update(store) {
    const budgets = store.header.budgets ?? [];
    const key = JSON.stringify(budgets);
    if (key === last) return;
    last = key;
    el.hidden = budgets.length === 0;
    replaceChildren(doc, el, budgets.map((b) => bar(doc, b)));
  }
  return { el, update };
}

function bar(doc, b) {
  const fraction = b.limit > 0 ? b.spent / b.limit : 0;
  const level = budgetLevel(b);
  const ticks = (b.warn_at ?? []).map((t) =>
    h(doc, "span", { class: "tt-tick", title: `warn at ${fmt.percent(t)}`, style: { left: `${t * 100}%` } }));
  const fill = h(doc, "span", { class: `tt-fill tt-${level}`, style: { width: `${Math.min(1, fraction) * 100}%` } });
  const text = `${fmt.budgetAmount(b.kind, b.spent)} of ${fmt.budgetAmount(b.kind, b.limit)} (${fmt.percent(fraction)})` +
    (level === "over" ? " — exceeded" : "");
  return h(doc, "div", { class: `tt-budget tt-budget-${level}` },
    h(doc, "span", { class: "tt-k", text: KIND_LABEL[b.kind] ?? `${b.kind} budget` }),
    h(doc, "span", { class: "tt-track" }, fill, ticks),
    h(doc, "span", { class: "tt-budget-text", text }));
}
