// tokentrail's live usage panel: the anywidget entry point (vega-embed, vega and vega-lite bundled in).

import { changeset } from "vega";
import embed from "vega-embed";
import { createController } from "./controller.js";
import { mountView } from "./view.js";

function isDark(doc) {
  const body = doc.body;
  if (body?.dataset?.jpThemeLight !== undefined) return body.dataset.jpThemeLight === "false";
  return body?.getAttribute?.("data-vscode-theme-kind")?.includes("dark") ?? false;
}

/**
 * anywidget calls this once per widget model, so the store below is shared by every view of that
 * model: a view created later (the same output shown twice, a re-rendered cell) starts complete.
 */
export default () => {
  let controller = null;
  return {
    initialize({ model }) {
      controller = createController(model);
      return () => controller?.dispose();
    },
    render({ model, el }) {
      const own = controller ? null : createController(model); // a host that skipped initialize
      const doc = el.ownerDocument;
      const cleanup = mountView(el, controller ?? own, {
        title: model.get("title"),
        mode: model.get("mode"),
        specs: model.get("specs"),
        embed,
        changeset,
        theme: isDark(doc) ? "dark" : undefined,
      });
      return () => {
        cleanup();
        own?.dispose();
      };
    },
  };
};
