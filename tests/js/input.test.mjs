import assert from "node:assert/strict";
import { test } from "node:test";

import { SHORTCUTS, isTextField, keyCommand, shortcutList } from "../../qtok_widgets/widgets/frontend/input.js";
import { opKeys } from "../../qtok_widgets/widgets/frontend/toolbar.js";
import { OPS } from "./ops.mjs";

const keys = opKeys(OPS);
const press = (key, mods = {}) => keyCommand({ key, ctrl: false, meta: false, shift: false, inField: false, ...mods }, keys);

test("operation keys come from the ops list", () => {
  assert.deepEqual(press("m"), { action: "mask" });
  assert.deepEqual(press("M"), { action: "mask" });
  assert.deepEqual(press("u"), { action: "unmask" });
  assert.deepEqual(press("i"), { action: "interpolate" });
  assert.deepEqual(press("d"), { action: "duplicate_frames" });
  assert.deepEqual(press("Delete"), { action: "delete_frames" });
  assert.deepEqual(press("Backspace"), { action: "delete_frames" });
  assert.deepEqual(press("r"), { focus: "replace" });
  assert.equal(keyCommand({ key: "m", ctrl: false, meta: false, shift: false, inField: false }, new Map()), null);
});

test("the widget's own keys: clipboard, history, playback, zoom, selection, scrolling", () => {
  assert.deepEqual(press("z", { ctrl: true }), { action: "undo" });
  assert.deepEqual(press("Z", { meta: true, shift: true }), { action: "redo" });
  assert.deepEqual(press("y", { ctrl: true }), { action: "redo" });
  assert.deepEqual(press("c", { ctrl: true }), { action: "copy" });
  assert.deepEqual(press("v", { meta: true }), { action: "paste" });
  assert.equal(press("m", { ctrl: true }), null); // Ctrl+M is not Mask
  assert.deepEqual(press(" "), { command: "play" });
  assert.deepEqual(press("a"), { command: "ab" });
  assert.deepEqual(press("l"), { command: "loop" });
  assert.deepEqual(press("+"), { zoom: 2 });
  assert.deepEqual(press("="), { zoom: 2 });
  assert.deepEqual(press("-"), { zoom: 0.5 });
  assert.deepEqual(press("0"), { command: "fit" });
  assert.deepEqual(press("Escape"), { command: "clear" });
  assert.deepEqual(press("ArrowRight"), { scroll: 0.1 });
  assert.deepEqual(press("ArrowLeft"), { scroll: -0.1 });
  assert.equal(press("q"), null);
});

test("an operation cannot take the widget's keys", () => {
  const greedy = opKeys([{ name: "grab", key: "a", selection: "cells", params: [] }, { name: "zap", key: "z", selection: "cells", params: [] }]);
  const k = (key, mods = {}) => keyCommand({ key, ctrl: false, meta: false, shift: false, inField: false, ...mods }, greedy);
  assert.deepEqual(k("a"), { command: "ab" });
  assert.deepEqual(k("z", { ctrl: true }), { action: "undo" });
  assert.deepEqual(k("z"), { action: "zap" });
});

test("in a text or number field only undo and redo are shortcuts; other keys stay with the field", () => {
  assert.deepEqual(press("z", { ctrl: true, inField: true }), { action: "undo" });
  assert.deepEqual(press("m", { inField: true }), { field: true });
  assert.deepEqual(press("Delete", { inField: true }), { field: true });
  assert.deepEqual(press("c", { ctrl: true, inField: true }), { field: true });
  assert.equal(isTextField({ type: "number" }), false); // not an element: no DOM in Node
});

test("? opens the help, which lists the widget's shortcuts and then the operations' keys", () => {
  assert.deepEqual(press("?"), { command: "help" });
  assert.deepEqual(press("?", { inField: true }), { field: true }); // typed into a box, not a shortcut
  const list = shortcutList(OPS);
  assert.deepEqual(list.slice(0, SHORTCUTS.length), SHORTCUTS);
  const keyed = OPS.filter((op) => op.key);
  assert.equal(list.length, SHORTCUTS.length + keyed.length);
  assert.ok(list.some(([k, what]) => k === "M" && what.toLowerCase().includes("mask")));
});
