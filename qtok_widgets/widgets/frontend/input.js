// Input: keys, mouse drags, the wheel and the tooltip. keyCommand() is the pure keyboard map;
// bindInput() turns DOM events into selections, seeks, zooms and commands through callbacks,
// so that this module holds no editor state beyond the drag in progress.

import { dragSelection, fittedFrameAt, frameAt, hitTest } from "./layout.js";

/**
 * What a key press asks for.
 * @param {{key: string, ctrl: boolean, meta: boolean, shift: boolean, inField: boolean}} e
 *   inField: the key went to a text or number input (then only Ctrl/Cmd+Z/Y are shortcuts)
 * @param {Map<string, {op: string, does: string}>} keys operation keys (toolbar.js opKeys())
 * @returns {object|null} {action: name}, {focus: op}, {command: "play" | "ab" | "loop" | "fit"
 *   | "clear" | "help" | "next" | "previous" | "audition" | "hear_code"}, {zoom: factor}, {scroll: fraction of the visible width}, {field: true} (a key
 *   for the input itself: keep it from the page), or null (not ours). The widget's own keys
 *   come before the operations' keys, so an operation cannot take them.
 */
export function keyCommand(e, keys) {
  const mod = e.ctrl || e.meta;
  const k = e.key.toLowerCase();
  if (mod && k === "z") return { action: e.shift ? "redo" : "undo" };
  if (mod && k === "y") return { action: "redo" };
  if (e.inField) return { field: true };
  if (mod && k === "c") return { action: "copy" };
  if (mod && k === "v") return { action: "paste" };
  if (mod) return null;
  if (e.key === "?") return { command: "help" };
  if (e.key === " ") return { command: "play" };
  if (k === "a") return { command: "ab" };
  if (k === "l") return { command: "loop" };
  if (k === "n") return { command: e.shift ? "previous" : "next" };
  if (k === "h") return { command: e.shift ? "hear_code" : "audition" };
  if (e.key === "+" || e.key === "=") return { zoom: 2 };
  if (e.key === "-") return { zoom: 0.5 };
  if (e.key === "0") return { command: "fit" };
  if (e.key === "Escape") return { command: "clear" };
  if (e.key === "ArrowRight") return { scroll: 0.1 };
  if (e.key === "ArrowLeft") return { scroll: -0.1 };
  const op = keys && keys.get(k);
  if (op) return op.does === "focus" ? { focus: op.op } : { action: op.op };
  return null;
}

/** The widget's own shortcuts, for the help overlay: [keys, what they do]. */
export const SHORTCUTS = [
  ["Space", "play / stop"],
  ["A", "switch A (original) / B (edited)"],
  ["L", "loop the selection"],
  ["N / Shift+N", "next / previous frame with the selected cell's code in its layer"],
  ["H / Shift+H", "hear the selected frame in context (original, then edited) / its code alone"],
  ["+ / −, Ctrl+wheel", "zoom in / out"],
  ["0", "fit the whole clip"],
  ["← / →, Shift+wheel", "scroll"],
  ["Esc", "clear the selection (or close this help)"],
  ["Ctrl+Z / Shift+Ctrl+Z, Ctrl+Y", "undo / redo"],
  ["Ctrl+C / Ctrl+V", "copy / paste at the playhead"],
  ["click a layer's dot", "mute / unmute it in playback (Shift: hear it alone)"],
  ["drag on the 2nd clip", "choose the frames Paste 2nd pastes"],
  ["click the overview strip", "jump there"],
  ["?", "this help"],
];

/**
 * Every shortcut: the widget's own, then the operations' keys.
 * @param {Array<object>} ops OpSpec list (key, key_does, title, name)
 * @returns {Array<[string, string]>} [keys, what they do]
 */
export function shortcutList(ops) {
  const out = SHORTCUTS.slice();
  for (const op of ops || []) {
    if (!op.key) continue;
    const what = op.key_does === "focus" ? `type a value for ${op.title || op.name} (Enter applies)` : op.title || op.name;
    out.push([String(op.key).length === 1 ? String(op.key).toUpperCase() : String(op.key), what]);
  }
  return out;
}

/** Whether a key event's target is an input where letters are typed (number or text). */
export function isTextField(target) {
  return (
    typeof HTMLInputElement !== "undefined" &&
    target instanceof HTMLInputElement &&
    (target.type === "number" || target.type === "text")
  );
}

/**
 * Listen to the editor's pointer, wheel and key events.
 * @param {object} o
 * @param {HTMLElement} o.root the editor (keys)
 * @param {HTMLCanvasElement} o.overlay the top canvas (pointer, wheel)
 * @param {function(): {L, view, nF, nL}} o.geometry the current layout, view and grid size
 * @param {function(): object|null} o.selection the committed selection
 * @param {function(object|null)} o.draft show a selection being dragged (null: none)
 * @param {function(object|null)} o.commit commit a selection
 * @param {function(number)} o.seek move the playhead to seconds
 * @param {function(number): number} o.seconds frames -> seconds
 * @param {function(number, number=)} o.zoom zoom by a factor around an x
 * @param {function(number)} o.scrollFrames scroll by frames
 * @param {function(object, PointerEvent)} o.hover the pointer is over hitTest() result h
 * @param {function()} o.leave the pointer left the canvas
 * @param {function(object)} o.command run a keyCommand() result
 * @param {function(): Map} o.keys the operations' keys
 * @param {function(number, boolean)} o.toggleLayer a click on a layer's playback toggle (layer, solo: shift held)
 * @param {function(): number} o.sourceFrames frames of the second clip (0: none loaded)
 * @param {function(number[]|null, boolean)} o.sourceSelect frames [start, stop) picked on the
 *   second clip's track; the boolean says whether the drag ended (commit)
 * @param {function(number)} o.jump the overview strip was clicked or dragged at a frame
 * @param {function(object, boolean)} [o.labelClick] a click on the label rows (hitTest result, shift held)
 * @returns {function()} removes the listeners
 */
export function bindInput(o) {
  const { root, overlay } = o;
  let drag = null;
  const hit = (e) => {
    const r = overlay.getBoundingClientRect();
    const { L, view, nF, nL } = o.geometry();
    return hitTest(L, view, nF, nL, e.clientX - r.left, e.clientY - r.top);
  };
  const update = (h) => {
    const { nF, nL } = o.geometry();
    drag.sel = dragSelection(drag, h, nF, nL);
    o.draft(drag.sel);
  };

  const sourceFrame = (h) => fittedFrameAt(o.geometry().L, o.sourceFrames(), h.x);
  const miniFrame = (h) => fittedFrameAt(o.geometry().L, o.geometry().nF, h.x);
  const down = (e) => {
    if (!o.geometry().nF || e.button !== 0) return;
    root.focus({ preventScroll: true });
    const h = hit(e);
    if (h.zone === "none") return;
    if (h.zone === "mute") {
      o.toggleLayer(h.layer, e.shiftKey);
      e.preventDefault();
      return;
    }
    if (h.zone === "tier") {
      if (o.labelClick) o.labelClick(h, e.shiftKey);
      e.preventDefault();
      return;
    }
    overlay.setPointerCapture(e.pointerId);
    if (h.zone === "source" || h.zone === "mini") {
      drag = { zone: h.zone, start: h, sf: h.zone === "source" ? sourceFrame(h) : 0 };
      if (h.zone === "mini") o.jump(miniFrame(h));
      else o.sourceSelect([drag.sf, drag.sf + 1], false);
      e.preventDefault();
      return;
    }
    drag = { start: h, zone: h.zone, shift: e.shiftKey, prev: o.selection(), moved: false };
    update(h);
    e.preventDefault();
  };
  const move = (e) => {
    const h = hit(e);
    if (drag && drag.zone === "mini") o.jump(miniFrame(h));
    else if (drag && drag.zone === "source") {
      const f = sourceFrame(h);
      drag.sel = [Math.min(f, drag.sf), Math.max(f, drag.sf) + 1];
      o.sourceSelect(drag.sel, false);
    } else if (drag) {
      if (Math.abs(h.x - drag.start.x) > 3 || Math.abs(h.y - drag.start.y) > 3) drag.moved = true;
      update(h);
    }
    o.hover(h, e);
  };
  const up = (e) => {
    const d = drag;
    if (!d) return;
    drag = null;
    if (d.zone === "mini") return;
    if (d.zone === "source") {
      o.sourceSelect(d.sel || [d.sf, d.sf + 1], true);
      return;
    }
    if ((d.zone === "axis" || d.zone === "wave") && !d.moved) {
      // a click on the time axis or waveform seeks
      const h = hit(e);
      const { L, view } = o.geometry();
      o.draft(null);
      o.seek(Math.max(0, o.seconds(frameAt(L, view, h.x))));
      return;
    }
    o.commit(d.sel);
  };
  const wheel = (e) => {
    const focused = root.contains(document.activeElement);
    const horizontal = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
    if (horizontal) {
      const d = e.shiftKey ? e.deltaY || e.deltaX : e.deltaX;
      o.scrollFrames(d / o.geometry().view.cellW);
      e.preventDefault();
    } else if (e.ctrlKey || e.metaKey || focused) {
      // pinch arrives as ctrl+wheel; a plain wheel zooms once the editor has focus
      o.zoom(Math.exp(-e.deltaY * 0.002), hit(e).x);
      e.preventDefault();
    }
  };
  const key = (e) => {
    const cmd = keyCommand(
      { key: e.key, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey, inField: isTextField(e.target) },
      o.keys(),
    );
    if (!cmd) return;
    if (cmd.field) {
      e.stopPropagation(); // the input's own key: not a notebook shortcut
      return;
    }
    o.command(cmd);
    e.preventDefault();
    e.stopPropagation();
  };
  const leave = () => o.leave();

  overlay.addEventListener("pointerdown", down);
  overlay.addEventListener("pointermove", move);
  overlay.addEventListener("pointerup", up);
  overlay.addEventListener("pointerleave", leave);
  overlay.addEventListener("wheel", wheel, { passive: false });
  root.addEventListener("keydown", key);
  return () => {
    overlay.removeEventListener("pointerdown", down);
    overlay.removeEventListener("pointermove", move);
    overlay.removeEventListener("pointerup", up);
    overlay.removeEventListener("pointerleave", leave);
    overlay.removeEventListener("wheel", wheel);
    root.removeEventListener("keydown", key);
  };
}
