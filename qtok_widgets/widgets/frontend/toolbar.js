// The edit toolbar, generated from the operation list Python sends ("ops" message, see
// docs/protocol.md): one group per op group with an input per parameter and a button per op,
// plus the widget's own actions (copy, paste, paste 2nd with the paste mode, undo, redo,
// reset), which are not operations and stay hand-made. toolbarModel(), opKeys(), readParams()
// and withParam() are pure; createToolbar() builds and updates the DOM.

import { el } from "./dom.js";

/** Widget actions that are not edit operations, by toolbar group. */
export const CLIPBOARD_GROUP = [
  { kind: "button", action: "copy", text: "Copy", title: "Copy selected cells (Ctrl+C)" },
  { kind: "button", action: "paste", text: "Paste", title: "Paste at the playhead (Ctrl+V)" },
  { kind: "paste-mode" },
  { kind: "button", action: "paste_source", text: "Paste 2nd", title: "Paste the second clip at the playhead" },
];
export const HISTORY_GROUP = [
  { kind: "button", action: "undo", text: "Undo", title: "Undo (Ctrl+Z)" },
  { kind: "button", action: "redo", text: "Redo", title: "Redo (Shift+Ctrl+Z)" },
  { kind: "button", action: "reset", text: "Reset", title: "Back to the original (undoable)" },
];

/** Extra classes of some parameter inputs, kept from the hand-made toolbar (CSS and scripts use them). */
const LEGACY_CLASSES = {
  "replace.code": "qtok-code",
  "interpolate.alpha": "qtok-alpha",
  "interpolate.target": "qtok-target",
};

/** CSS classes of the input of parameter `param` of operation `op`. */
export function paramClasses(op, param) {
  const legacy = LEGACY_CLASSES[`${op}.${param}`];
  return `qtok-param qtok-param-${op}-${param}` + (legacy ? ` ${legacy}` : "");
}

/** Whether a parameter is drawn as a range slider with its value beside it (a float with bounds). */
export function isSlider(param) {
  return param.kind === "float" && param.min != null && param.max != null;
}

/**
 * The toolbar's groups, in order: the op groups whose ops work on cells, the clipboard group,
 * the op groups whose ops all work on whole frames (delete, duplicate), the history group.
 * @param {Array<object>} ops OpSpec list from the "ops" message
 * @returns {Array<{name: string, items: Array<object>}>} items are {kind: "param", op, param}
 *   (param: a ParamSpec), {kind: "button", action, text, title, op?}, or {kind: "paste-mode"}
 */
export function toolbarModel(ops) {
  const groups = new Map();
  for (const op of ops || []) {
    const name = op.group || op.name;
    if (!groups.has(name)) groups.set(name, { name, ops: [] });
    groups.get(name).ops.push(op);
  }
  const cells = [];
  const frames = [];
  for (const g of groups.values()) {
    const items = [];
    for (const op of g.ops) {
      for (const param of op.params || []) items.push({ kind: "param", op: op.name, param });
      items.push({ kind: "button", action: op.name, text: op.title || op.name, title: op.help || "", op: op.name });
    }
    (g.ops.every((op) => op.selection === "frames") ? frames : cells).push({ name: g.name, items });
  }
  return [
    ...cells,
    { name: "clipboard", items: CLIPBOARD_GROUP },
    ...frames,
    { name: "history", items: HISTORY_GROUP },
  ];
}

/**
 * Keyboard shortcuts of the operations.
 * @returns {Map<string, {op: string, does: "run"|"focus"}>} by lower-case key; an op whose key
 *   is "Delete" is under "delete" and "backspace"
 */
export function opKeys(ops) {
  const keys = new Map();
  for (const op of ops || []) {
    if (!op.key) continue;
    const entry = { op: op.name, does: op.key_does === "focus" ? "focus" : "run" };
    const key = String(op.key).toLowerCase();
    keys.set(key, entry);
    if (key === "delete") keys.set("backspace", entry);
  }
  return keys;
}

/**
 * One parameter's value from its input's text.
 * @returns {{value: *}|{error: string}} ints: a whole number, or null when optional and empty;
 *   floats: a finite number; choices: the text
 */
export function parseParam(opName, param, text) {
  const s = String(text ?? "").trim();
  if (param.kind === "choice") return { value: String(text) };
  if (param.kind === "int") {
    if (s === "" && param.optional) return { value: null };
    const n = Number(s);
    if (s === "" || !Number.isInteger(n)) return { error: `${opName}: type a whole-number ${param.name} first` };
    return { value: n };
  }
  const x = Number(s);
  if (s === "" || !Number.isFinite(x)) return { error: `${opName}: type a number for ${param.name} first` };
  return { value: x };
}

/**
 * The parameters of an operation from the texts of its inputs.
 * @param {object} op OpSpec
 * @param {Object<string, string>} texts input text by parameter name
 * @returns {{params: object}|{error: string}} the first bad parameter's message
 */
export function readParams(op, texts) {
  const params = {};
  for (const param of op.params || []) {
    const r = parseParam(op.name, param, texts[param.name]);
    if ("error" in r) return r;
    params[param.name] = r.value;
  }
  return { params };
}

/** A copy of the op_params trait value with one parameter changed (the original is not touched). */
export function withParam(opParams, op, param, value) {
  const out = {};
  for (const [k, v] of Object.entries(opParams || {})) out[k] = { ...v };
  out[op] = { ...(out[op] || {}), [param]: value };
  return out;
}

/** Text an input shows for a parameter value (null: empty). */
export function paramText(param, value) {
  if (value === null || value === undefined) {
    if (param.optional) return "";
    if (param.kind === "choice") return param.choices && param.choices.length ? String(param.choices[0][0]) : "";
    return param.min != null ? String(param.min) : "0";
  }
  return String(value);
}

/** The text beside a slider. */
export function sliderText(value) {
  return Number(value).toFixed(2);
}

function paramInput(opName, param) {
  const cls = paramClasses(opName, param.name);
  const title = param.help || `${param.name} for ${opName}`;
  if (param.kind === "choice") {
    return el(
      "select",
      { class: cls, title },
      (param.choices || []).map(([value, text]) => el("option", { value: String(value), text: String(text) })),
    );
  }
  const attrs = { class: cls, title, type: isSlider(param) ? "range" : "number" };
  if (param.min != null) attrs.min = String(param.min);
  if (param.max != null) attrs.max = String(param.max);
  attrs.step = String(param.step ?? (param.kind === "int" ? 1 : "any"));
  if (param.optional) attrs.placeholder = "random";
  return el("input", attrs);
}

/**
 * Build and keep the toolbar in `bar`.
 * @param {object} o
 * @param {HTMLElement} o.bar the toolbar element (emptied and refilled by render())
 * @param {function(string)} o.onAction a button was pressed (its data-action)
 * @param {function(string, string, *)} o.onParam a parameter input changed: (op, param, value)
 * @param {function(string)} o.onEnter Enter was pressed in a parameter input of op
 * @param {function(string)} o.onPasteMode the paste mode select changed
 * @returns {{render(ops), sync(opParams), texts(op), focus(op), pasteMode(), setPasteMode(v), button(action)}}
 */
export function createToolbar({ bar, onAction, onParam, onEnter, onPasteMode }) {
  let inputs = new Map(); // "op.param" -> {input, label (slider value), param, op}
  const pasteMode = el("select", { class: "qtok-paste-mode", title: "Paste mode" }, [
    el("option", { value: "replace", text: "overwrite" }),
    el("option", { value: "insert", text: "insert" }),
  ]);
  pasteMode.addEventListener("change", () => onPasteMode(pasteMode.value));
  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) onAction(b.dataset.action);
  });

  function item(it) {
    if (it.kind === "paste-mode") return [pasteMode];
    if (it.kind === "button") {
      return [el("button", { class: "qtok-btn", "data-action": it.action, title: it.title, text: it.text })];
    }
    const { op, param } = it;
    const input = paramInput(op, param);
    const out = [];
    if (param.label) out.push(el("span", { class: "qtok-label", text: param.label }));
    out.push(input);
    const entry = { op, param, input, label: null };
    if (isSlider(param)) {
      entry.label = el("span", {
        class: "qtok-param-value" + (op === "interpolate" && param.name === "alpha" ? " qtok-alpha-label" : ""),
      });
      input.addEventListener("input", () => (entry.label.textContent = sliderText(input.value)));
      out.push(entry.label);
    }
    input.addEventListener("change", () => {
      const r = parseParam(op, param, input.value);
      if (!("error" in r)) onParam(op, param.name, r.value);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        onEnter(op);
      }
    });
    inputs.set(`${op}.${param.name}`, entry);
    return out;
  }

  function render(ops) {
    inputs = new Map();
    const groups = toolbarModel(ops).map((g) =>
      el("span", { class: "qtok-group", "data-group": g.name }, g.items.flatMap(item)),
    );
    bar.replaceChildren(...groups);
  }

  function sync(opParams) {
    for (const { op, param, input, label } of inputs.values()) {
      const value = opParams && opParams[op] ? opParams[op][param.name] : undefined;
      if (document.activeElement !== input) input.value = paramText(param, value);
      if (label) label.textContent = sliderText(input.value);
    }
  }

  function texts(op) {
    const out = {};
    for (const e of inputs.values()) if (e.op === op) out[e.param.name] = e.input.value;
    return out;
  }

  function focus(op) {
    for (const e of inputs.values()) {
      if (e.op === op) {
        e.input.focus();
        return true;
      }
    }
    return false;
  }

  return {
    render,
    sync,
    texts,
    focus,
    pasteMode: () => pasteMode.value,
    setPasteMode: (v) => (pasteMode.value = v),
    button: (action) => bar.querySelector(`button[data-action="${action}"]`),
  };
}
