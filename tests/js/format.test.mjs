import assert from "node:assert/strict";
import { test } from "node:test";

import { fmtCell, fmtTime, infoText, tooltipText } from "../../qtok_widgets/widgets/frontend/format.js";
import { MASK_BIT } from "../../qtok_widgets/widgets/frontend/wire.js";

test("time labels: seconds with the decimals the step needs, minutes past 60 s", () => {
  assert.equal(fmtTime(1.6, 0.08), "1.60s");
  assert.equal(fmtTime(1.6, 0.4), "1.6s");
  assert.equal(fmtTime(2, 1), "2s");
  assert.equal(fmtTime(0, 5), "0s");
  assert.equal(fmtTime(65, 5), "1:05");
  assert.equal(fmtTime(125.5, 0.4), "2:05.5");
  assert.equal(fmtTime(3600, 300), "60:00");
  assert.equal(fmtTime(60.08, 0.08), "1:00.08");
});

test("cells print their code and whether they are masked", () => {
  assert.equal(fmtCell(17), "17");
  assert.equal(fmtCell(MASK_BIT | 2047), "2047 (masked)");
});

test("the info line gives size, duration, codec and the selection in frames, seconds and cells", () => {
  const base = { nLayers: 16, nFrames: 50, frameRate: 12.5, codecName: "builtin" };
  assert.equal(infoText({ ...base, selection: null }), "16×50 · 4.00 s · builtin");
  assert.equal(
    infoText({ ...base, selection: { frames: [10, 20], layers: [8, 16] } }),
    "16×50 · 4.00 s · builtin · sel 10..19 (0.80–1.60 s) × L8..15 = 80 cells",
  );
});

test("the tooltip names layer, frame, time, code and original, and where an edit moved it from", () => {
  const c = { layerName: "L0 sem", frame: 12, frameRate: 12.5 };
  assert.equal(tooltipText({ ...c, value: 5, original: 5, originFrame: 12 }), "L0 sem · frame 12 · 0.960 s\ncode 5 · original 5");
  assert.equal(
    tooltipText({ ...c, value: MASK_BIT | 5, original: 7, originFrame: 14 }),
    "L0 sem · frame 12 · 0.960 s\ncode 5 (masked) · original 7 (frame 14)",
  );
  assert.match(tooltipText({ ...c, value: 3, original: null, originFrame: -1 }), /original — \(inserted\)$/);
});
