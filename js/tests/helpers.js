// Test doubles: a widget model, Vega's changeset and view, vega-embed, and a DOM (linkedom).

import { parseHTML } from "linkedom";

export function makeDocument() {
  const { document } = parseHTML("<!doctype html><html><body></body></html>");
  return document;
}

/** A stand-in for anywidget's model: get/set/on/off, and `deliver` for kernel messages. */
export function fakeModel(state) {
  const handlers = new Map();
  const listeners = (ev) => handlers.get(ev) ?? [];
  return {
    state,
    get: (key) => state[key],
    on(ev, fn) { handlers.set(ev, [...listeners(ev), fn]); },
    off(ev, fn) { handlers.set(ev, fn ? listeners(ev).filter((f) => f !== fn) : []); },
    set(key, value) { state[key] = value; for (const fn of listeners(`change:${key}`)) fn(); },
    deliver(msg) { for (const fn of listeners("msg:custom")) fn(msg, []); },
    count: (ev) => listeners(ev).length,
  };
}

/** Vega's changeset API, recorded. */
export function changeset() {
  const cs = { removes: [], inserts: [] };
  cs.remove = (what) => { cs.removes.push(what); return cs; };
  cs.insert = (rows) => { cs.inserts.push(...rows); return cs; };
  return cs;
}

/** A Vega view that applies changesets to plain arrays. */
export function fakeView() {
  const data = {};
  const view = {
    data,
    changes: 0,
    runs: 0,
    widthSet: null,
    change(name, cs) {
      let rows = data[name] ?? [];
      for (const r of cs.removes) rows = rows.filter((d) => !(typeof r === "function" ? r(d) : r === d));
      data[name] = [...rows, ...cs.inserts];
      view.changes += 1;
      return view;
    },
    resize() { return view; },
    width(w) { view.widthSet = w; return view; },
    async runAsync() { view.runs += 1; return view; },
  };
  return view;
}

/** vega-embed: records each embed; `views[name]` is the fake view for the spec titled `name`. */
export function fakeEmbed() {
  const calls = [];
  const fn = async (host, spec, opts) => {
    const view = fakeView();
    calls.push({ host, spec, opts, view });
    return { view, finalize: () => { view.finalized = true; } };
  };
  fn.calls = calls;
  fn.viewFor = (name) => calls.find((c) => c.spec.usermeta?.tokentrail?.name === name)?.view;
  return fn;
}

export const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A spec reading one named dataset, like the ones charts.py builds. */
export function spec(name, datasets, extra = {}) {
  const layer = datasets.map((ds) => ({ data: { name: ds }, mark: "point" }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: "container",
    usermeta: { tokentrail: { name, span: "half" } },
    ...(layer.length === 1 ? layer[0] : { layer }),
    ...extra,
  };
}
