// The only way the widget touches the DOM: elements built with createElement and textContent.
// User strings (model, tool, run and tag names) never go through innerHTML.

/** Create `tag` with a class, attributes and children (strings become text nodes). */
export function h(doc, tag, props = {}, ...children) {
  const el = doc.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "style") for (const [p, v] of Object.entries(value)) el.style.setProperty(p, v);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(doc, el, children);
  return el;
}

function append(doc, el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.appendChild(typeof child === "string" || typeof child === "number" ? doc.createTextNode(String(child)) : child);
  }
}

/** Replace every child of `el`. */
export function replaceChildren(doc, el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  append(doc, el, children);
}

/** Set text only when it changed (cheap updates at 20 Hz). */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}
