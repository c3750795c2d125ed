// Changes waiting for the next frame, merged so a burst of deltas costs one chart update.

/** An empty batch. */
export function createPending() {
  return { header: false, data: {} };
}

/** Fold one change set into the batch; later changes win over earlier ones for the same row id. */
export function mergeChanges(pending, changes) {
  if (!changes) return pending;
  pending.header ||= Boolean(changes.header);
  for (const [name, change] of Object.entries(changes.data ?? {})) {
    let p = pending.data[name];
    if (!p || change.reset) {
      p = pending.data[name] = { reset: Boolean(change.reset) || Boolean(p?.reset), remove: new Set(), insert: new Map() };
      if (change.reset) continue; // a reset reloads the rows from the store: nothing else to remember
    }
    if (p.reset) continue;
    for (const id of change.remove) {
      p.remove.add(id);
      p.insert.delete(id);
    }
    for (const row of change.insert) p.insert.set(row.id, row);
  }
  return pending;
}

/** True when the batch holds nothing. */
export function isEmpty(pending) {
  return !pending.header && Object.keys(pending.data).length === 0;
}
