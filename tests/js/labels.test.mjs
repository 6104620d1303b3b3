import assert from "node:assert/strict";
import { test } from "node:test";

import { LABEL_ROW, computeLayout, hitTest, xOfFrame } from "../../qtok_widgets/widgets/frontend/layout.js";
import { labelAt, labelFrames, labelSelection, tierNames } from "../../qtok_widgets/widgets/frontend/labels.js";

const tiers = {
  words: [[0.22, 0.301, "The"], [0.301, 0.593, "quick"], [1.0, 1.532, "fox"]],
  phones: [[0.22, 0.26, "dh"]],
};

test("label rows sit above the edit lane and push the grid down", () => {
  const plain = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true });
  const L = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true, labelRows: 2 });
  assert.equal(L.labelH, 2 * LABEL_ROW);
  assert.equal(L.gy, plain.gy + 2 * LABEL_ROW);
  assert.equal(L.height, plain.height + 2 * LABEL_ROW);
  const view = { v0: 0, cellW: 10, fitted: false };
  assert.equal(hitTest(L, view, 50, 16, L.gx + 5, LABEL_ROW + 3).zone, "tier");
  assert.equal(hitTest(L, view, 50, 16, L.gx + 5, L.gy + 1).zone, "grid");
  assert.equal(hitTest(L, view, 50, 16, 5, 3).zone, "none"); // the tier names' gutter
  // a label and the grid column of the same time are at the same x
  assert.equal(xOfFrame(L, view, 1.0 * 12.5), xOfFrame(plain, view, 12.5));
});

test("a label's frames are those Python's frames_from_seconds picks", () => {
  assert.deepEqual(labelFrames(1.0, 1.532, 12.5, 48), [12, 20]); // as editor.select(label="fox")
  assert.deepEqual(labelFrames(0.0, 0.08, 12.5, 48), [0, 1]); // exactly one frame: no float spill
  assert.deepEqual(labelFrames(0.56, 0.56, 12.5, 48), [7, 8]); // never empty
  assert.deepEqual(labelFrames(3.9, 4.5, 12.5, 48), [48 - 1, 48]); // clamped into the grid
});

test("a click finds the label under it and selects its frames in all layers; shift extends", () => {
  assert.deepEqual(tierNames(tiers), ["words", "phones"]);
  assert.equal(labelAt(tiers, 0, 1.2).text, "fox");
  assert.equal(labelAt(tiers, 1, 0.23).text, "dh");
  assert.equal(labelAt(tiers, 0, 0.8), null);
  assert.equal(labelAt(tiers, 2, 0.3), null);
  const fox = labelAt(tiers, 0, 1.2);
  assert.deepEqual(labelSelection(fox, 12.5, 48, 16, null, false), { frames: [12, 20], layers: [0, 16] });
  const prev = { frames: [2, 4], layers: [3, 5] };
  assert.deepEqual(labelSelection(fox, 12.5, 48, 16, prev, true), { frames: [2, 20], layers: [0, 16] });
});

test("the strips sit between the waveform and the second clip's track", async () => {
  const { STRIPS, WAVE } = await import("../../qtok_widgets/widgets/frontend/layout.js");
  const L = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true, strips: true });
  assert.equal(L.stripY, L.waveY + WAVE);
  assert.equal(L.stripH, STRIPS);
  assert.equal(L.trackY, L.stripY + STRIPS);
  assert.equal(hitTest(L, { v0: 0, cellW: 10, fitted: false }, 50, 16, L.gx + 5, L.stripY + 5).zone, "wave");
});
