// Calls in flight and tools still running, drawn on the timeline as open bars that end "now".
//
// The kernel lists them in every message's header (`in_flight`, `active_tools`) and sends their row
// only when they end; that row has the same id and takes the open bar's place. The bars grow locally
// (the view's ticker), so showing them costs no kernel message.

export const RUNNING = "running";
const REFRESH_MS = 400; // an unchanged set of open bars is redrawn (grown) at most this often

/** Rows of status "running" for what the header lists and the timeline has no row for yet. */
export function runningRows(store, kernelNow, runId = null) {
  const h = store.header;
  const done = store.data.timeline;
  const end = h.status === "running" ? kernelNow : (h.ended_at ?? kernelNow); // a dangling call stops at the end
  const out = [];
  const add = (item, kind, name, lane) => {
    if (typeof item?.started_at !== "number" || item.id == null || done?.has(item.id)) return;
    if (runId && !(Array.isArray(item.run_ids) && item.run_ids.includes(runId))) return;
    const row = { id: item.id, lane, kind, name, status: RUNNING, start: item.started_at, end: Math.max(item.started_at, end) };
    if (Array.isArray(item.run_ids)) row.run_ids = item.run_ids;
    out.push(row);
  };
  for (const c of h.in_flight ?? []) add(c, c.kind ?? "llm", c.model ?? "call", c.lane ?? "llm calls");
  for (const t of h.active_tools ?? []) add(t, "tool", t.name ?? "tool", t.lane ?? `tool: ${t.name ?? "tool"}`);
  return out;
}

/**
 * The open bars one view has drawn. `update(rows, now)` returns the change that redraws them
 * ({remove: ids, insert: rows}), or null when nothing changed, or only their ends did, < REFRESH_MS ago.
 */
export function createOpenBars() {
  let drawn = new Map();
  let drawnAt = -Infinity;
  let drawnKey = "";
  let drawnEnds = "";
  const key = (rows) => JSON.stringify(rows.map((r) => [r.id, r.lane, r.name, r.run_ids]));
  const ends = (rows) => rows.map((r) => r.end).join(",");
  return {
    rows: () => [...drawn.values()],
    get size() {
      return drawn.size;
    },
    update(rows, now) {
      if (!rows.length && !drawn.size) return null;
      const k = key(rows);
      const e = ends(rows);
      if (k === drawnKey && (e === drawnEnds || now - drawnAt < REFRESH_MS)) return null;
      drawnKey = k;
      drawnEnds = e;
      const remove = [...drawn.keys()];
      drawn = new Map(rows.map((r) => [r.id, r]));
      drawnAt = now;
      return { remove, insert: rows };
    },
  };
}

/** Add an open-bar change to a pending batch (see pending.js); a reset reloads them with the rest. */
export function withOpenBars(pending, change) {
  if (!change) return pending;
  const p = (pending.data.timeline ??= { reset: false, remove: new Set(), insert: new Map() });
  if (p.reset) return pending;
  // ids removed here are open bars; a finished row with the same id in `insert` stays (removal runs first)
  for (const id of change.remove) p.remove.add(id);
  for (const row of change.insert) p.insert.set(row.id, row);
  return pending;
}
