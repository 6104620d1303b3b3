import assert from "node:assert/strict";
import { test } from "node:test";

import {
  isSlider, opKeys, paramClasses, paramText, parseParam, readParams, sliderText, toolbarModel, withParam,
} from "../../qtok_widgets/widgets/frontend/toolbar.js";
import { OPS } from "./ops.mjs";

const flat = (groups) => groups.map((g) => [g.name, g.items.map((i) => i.kind === "param" ? `${i.op}.${i.param.name}` : i.action || i.kind)]);

test("the toolbar is generated from the ops: cell ops, clipboard, frame ops, history", () => {
  assert.deepEqual(flat(toolbarModel(OPS)), [
    ["mask", ["mask", "unmask"]],
    ["replace", ["replace.code", "replace"]],
    ["interpolate", ["interpolate.alpha", "interpolate.target", "interpolate"]],
    ["randomize", ["randomize.seed", "randomize"]],
    ["clipboard", ["copy", "paste", "paste-mode", "paste_source"]],
    ["frames", ["delete_frames", "duplicate_frames.times", "duplicate_frames"]],
    ["history", ["undo", "redo", "reset"]],
  ]);
  const mask = toolbarModel(OPS)[0].items[0];
  assert.deepEqual(mask, { kind: "button", action: "mask", text: "Mask", title: "Mask selected cells (M)", op: "mask" });
});

test("an op added in Python appears with its parameters and no change here", () => {
  const added = {
    name: "shift_codes", title: "Shift", help: "Add to codes", group: "shift", key: "s", key_does: "run", selection: "cells",
    params: [{ name: "by", label: "+", kind: "int", min: -10, max: 10, step: 1, optional: false }],
  };
  const groups = toolbarModel([...OPS, added]);
  const names = groups.map((g) => g.name);
  assert.deepEqual(names.slice(0, 6), ["mask", "replace", "interpolate", "randomize", "shift", "clipboard"]);
  assert.deepEqual(flat(groups)[4][1], ["shift_codes.by", "shift_codes"]);
  assert.deepEqual(opKeys([added]).get("s"), { op: "shift_codes", does: "run" });
  // a group whose ops all work on whole frames goes after the clipboard
  const frameOp = { ...added, name: "reverse_frames", group: "reverse", selection: "frames", params: [] };
  assert.deepEqual(toolbarModel([frameOp]).map((g) => g.name), ["clipboard", "reverse", "history"]);
  // before the ops arrive: the widget's own actions only
  assert.deepEqual(toolbarModel([]).map((g) => g.name), ["clipboard", "history"]);
  assert.deepEqual(toolbarModel(undefined).map((g) => g.name), ["clipboard", "history"]);
});

test("op keys: run or focus, Delete also on Backspace, ops without a key left out", () => {
  const keys = opKeys(OPS);
  assert.deepEqual(keys.get("m"), { op: "mask", does: "run" });
  assert.deepEqual(keys.get("r"), { op: "replace", does: "focus" });
  assert.deepEqual(keys.get("delete"), { op: "delete_frames", does: "run" });
  assert.deepEqual(keys.get("backspace"), { op: "delete_frames", does: "run" });
  assert.deepEqual([...keys.keys()].sort(), ["backspace", "d", "delete", "i", "m", "r", "u"]);
});

test("parameter inputs get classes by op and parameter, plus the old ones where they existed", () => {
  assert.equal(paramClasses("replace", "code"), "qtok-param qtok-param-replace-code qtok-code");
  assert.equal(paramClasses("interpolate", "alpha"), "qtok-param qtok-param-interpolate-alpha qtok-alpha");
  assert.equal(paramClasses("interpolate", "target"), "qtok-param qtok-param-interpolate-target qtok-target");
  assert.equal(paramClasses("randomize", "seed"), "qtok-param qtok-param-randomize-seed");
  const [alpha, target] = OPS[3].params;
  assert.equal(isSlider(alpha), true);
  assert.equal(isSlider(target), false);
  assert.equal(isSlider({ kind: "float", min: 0 }), false);
  assert.equal(isSlider(OPS[2].params[0]), false);
});

test("parameters are read from their inputs' text, with the browser's one-line errors", () => {
  const [, , replace, interpolate, randomize] = OPS;
  assert.deepEqual(readParams(replace, { code: "17" }), { params: { code: 17 } });
  assert.deepEqual(readParams(replace, { code: "" }), { error: "replace: type a whole-number code first" });
  assert.deepEqual(readParams(replace, { code: "1.5" }), { error: "replace: type a whole-number code first" });
  assert.deepEqual(readParams(interpolate, { alpha: "0.25", target: "source" }), { params: { alpha: 0.25, target: "source" } });
  assert.deepEqual(readParams(interpolate, { alpha: "x", target: "source" }), { error: "interpolate: type a number for alpha first" });
  assert.deepEqual(readParams(randomize, { seed: "" }), { params: { seed: null } });
  assert.deepEqual(readParams(randomize, { seed: " 42 " }), { params: { seed: 42 } });
  assert.deepEqual(readParams(randomize, { seed: "4.2" }), { error: "randomize: type a whole-number seed first" });
  assert.deepEqual(readParams(OPS[0], {}), { params: {} });
  // the range is Python's to check: it names the valid range in its error
  assert.deepEqual(parseParam("replace", replace.params[0], "99999"), { value: 99999 });
});

test("op_params is copied, never changed in place", () => {
  const before = { replace: { code: 0 }, interpolate: { alpha: 0.5, target: "neighbours" } };
  const frozen = structuredClone(before);
  const after = withParam(before, "interpolate", "alpha", 0.75);
  assert.deepEqual(before, frozen);
  assert.deepEqual(after, { replace: { code: 0 }, interpolate: { alpha: 0.75, target: "neighbours" } });
  assert.notEqual(after.replace, before.replace);
  assert.deepEqual(withParam(undefined, "randomize", "seed", null), { randomize: { seed: null } });
});

test("inputs show op_params values, or a default when Python has none yet", () => {
  const [code] = OPS[2].params;
  const [alpha, target] = OPS[3].params;
  const [seed] = OPS[4].params;
  assert.equal(paramText(code, 12), "12");
  assert.equal(paramText(code, undefined), "0");
  assert.equal(paramText(target, undefined), "neighbours");
  assert.equal(paramText(seed, null), "");
  assert.equal(paramText(alpha, 0.5), "0.5");
  assert.equal(sliderText("0.5"), "0.50");
});
