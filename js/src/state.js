// The panel's state in the browser: a snapshot, then seq-numbered deltas; pure functions, no DOM.
//
// Rows are kept per dataset in a Map (id -> row), in insertion order. Every apply function returns
// the changes it made ({header, data: {name: {reset, insert, remove}}}) or null when the message was
// stale (its seq is not newer than the last one applied), so callers can update only what changed.

export const DATASETS = ["timeline", "cumulative", "by_model", "by_tool", "runs"];

const HEADER_KEYS = [
  "status", "started_at", "ended_at", "elapsed_ms", "totals", "in_flight", "in_flight_count", "active_tools",
  "active_tools_count", "budgets", "hidden",
];

/** A fresh, empty store; `seq` -1 means nothing applied yet. */
export function createStore() {
  const data = {};
  for (const name of DATASETS) data[name] = new Map();
  return {
    seq: -1,
    header: {
      status: "running", started_at: null, ended_at: null, elapsed_ms: 0, totals: {}, in_flight: [],
      active_tools: [], budgets: [], hidden: {},
    },
    data,
    clockOffset: 0, // browser clock minus kernel clock, in ms
  };
}

function emptyChange() {
  return { reset: false, insert: [], remove: [] };
}

function rowsOf(snapshot, name) {
  if (name === "runs") return snapshot.runs ?? snapshot.rows?.runs ?? [];
  return snapshot.rows?.[name] ?? [];
}

function sameValue(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Shallow row comparison (nested arrays and objects by value). */
export function sameRow(a, b) {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameValue(a[k], b[k]));
}

function ensure(data, name) {
  if (!data[name]) data[name] = new Map();
  return data[name];
}

function applyHeader(store, msg, receivedAt) {
  let touched = false;
  for (const key of HEADER_KEYS) {
    if (msg[key] !== undefined) {
      store.header[key] = msg[key];
      touched = true;
    }
  }
  if (typeof msg.now === "number" && typeof receivedAt === "number") {
    store.clockOffset = receivedAt - msg.now;
  }
  return touched;
}

/** Make the store equal to a snapshot; rows already present and unchanged are left alone. */
export function applySnapshot(store, snapshot, receivedAt) {
  if (!snapshot || typeof snapshot.seq !== "number" || snapshot.seq <= store.seq) return null;
  const changes = { header: applyHeader(store, snapshot, receivedAt), data: {} };
  for (const name of DATASETS) {
    const current = ensure(store.data, name);
    const next = new Map();
    for (const row of rowsOf(snapshot, name)) next.set(row.id, row);
    const change = emptyChange();
    for (const [id, row] of current) {
      const fresh = next.get(id);
      if (fresh === undefined || !sameRow(row, fresh)) change.remove.push(id);
    }
    for (const [id, row] of next) {
      const old = current.get(id);
      if (old === undefined || !sameRow(old, row)) change.insert.push(row);
    }
    store.data[name] = next;
    if (change.insert.length || change.remove.length) changes.data[name] = change;
  }
  store.seq = snapshot.seq;
  return changes;
}

/** Apply one `delta` message; duplicates and messages older than the last applied seq are ignored. */
export function applyDelta(store, msg, receivedAt) {
  if (!msg || msg.type !== "delta" || typeof msg.seq !== "number" || msg.seq <= store.seq) return null;
  const changes = { header: applyHeader(store, msg, receivedAt), data: {} };
  const changeFor = (name) => (changes.data[name] ??= emptyChange());

  for (const [name, rows] of Object.entries(msg.replace ?? {})) {
    const map = new Map();
    for (const row of rows) map.set(row.id, row);
    store.data[name] = map;
    changes.data[name] = { reset: true, insert: [], remove: [] };
  }
  for (const [name, ids] of Object.entries(msg.remove ?? {})) {
    const map = ensure(store.data, name);
    const change = changeFor(name);
    for (const id of ids) if (map.delete(id)) change.remove.push(id);
  }
  for (const [name, rows] of Object.entries(msg.append ?? {})) {
    const map = ensure(store.data, name);
    const change = changeFor(name);
    for (const row of rows) {
      if (map.has(row.id)) continue; // idempotent: an id is inserted once
      map.set(row.id, row);
      change.insert.push(row);
    }
  }
  for (const [name, rows] of Object.entries(msg.upsert ?? {})) {
    const map = ensure(store.data, name);
    const change = changeFor(name);
    for (const row of rows) {
      const old = map.get(row.id);
      if (old !== undefined && sameRow(old, row)) continue;
      if (old !== undefined) {
        map.delete(row.id); // re-inserted at the end: the newest rows come last
        change.remove.push(row.id);
      }
      map.set(row.id, row);
      change.insert.push(row);
    }
  }
  for (const [name, change] of Object.entries(changes.data)) {
    if (!change.reset && !change.insert.length && !change.remove.length) delete changes.data[name];
  }
  store.seq = msg.seq;
  return changes;
}

/** Elapsed milliseconds as the kernel would say now (ticks locally while the run is running). */
export function elapsedMs(store, browserNow) {
  const h = store.header;
  if (h.status !== "running" || typeof h.started_at !== "number") return h.elapsed_ms ?? 0;
  return Math.max(h.elapsed_ms ?? 0, browserNow - store.clockOffset - h.started_at);
}

/** Rows of a dataset in insertion order. */
export function rows(store, name) {
  return [...(store.data[name]?.values() ?? [])];
}
