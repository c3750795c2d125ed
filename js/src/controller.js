// One store per widget model, fed by the `snapshot` trait and `delta` messages, shared by its views.

import { applyDelta, applySnapshot, createStore } from "./state.js";

/** Listen to `model`; returns {store, subscribe(fn) -> unsubscribe, dispose()}. */
export function createController(model, now = () => Date.now()) {
  const store = createStore();
  const listeners = new Set();
  const emit = (changes) => {
    if (!changes) return;
    for (const fn of listeners) {
      try {
        fn(changes);
      } catch (err) {
        console.error("[tokentrail] view update failed", err);
      }
    }
  };
  const onSnapshot = () => emit(applySnapshot(store, model.get("snapshot"), now()));
  const onMessage = (msg) => {
    if (msg && msg.type === "delta") emit(applyDelta(store, msg, now()));
  };
  onSnapshot();
  model.on("change:snapshot", onSnapshot);
  model.on("msg:custom", onMessage);
  return {
    store,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    dispose() {
      model.off("change:snapshot", onSnapshot);
      model.off("msg:custom", onMessage);
      listeners.clear();
    },
  };
}
