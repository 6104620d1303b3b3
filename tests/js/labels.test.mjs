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

test("strips merge: a patch replaces its columns, a length change keeps the columns before it", async () => {
  const { mergeStrips, pitchY } = await import("../../qtok_widgets/widgets/frontend/strips.js");
  const msg = (start, stop, total) => ({ cpf: 2, start, stop, total, n_mels: 2 });
  const bufs = (w, v) => [new Uint8Array(2 * w).fill(v), new Uint16Array(w).fill(v * 10), new Uint8Array(w).fill(v)];
  let h = mergeStrips(null, msg(0, 4, 4), bufs(4, 1));
  assert.deepEqual(Array.from(h.mel), [1, 1, 1, 1, 1, 1, 1, 1]);
  h = mergeStrips(h, msg(2, 4, 4), bufs(2, 9));
  assert.deepEqual(Array.from(h.mel), [1, 1, 9, 9, 1, 1, 9, 9]); // band-major: each band's columns 2, 3
  assert.deepEqual(Array.from(h.f0), [10, 10, 90, 90]);
  h = mergeStrips(h, msg(2, 6, 6), bufs(4, 5)); // frames inserted: total grows, columns 0, 1 kept
  assert.deepEqual(Array.from(h.energy), [1, 1, 5, 5, 5, 5]);
  assert.deepEqual(Array.from(h.mel.subarray(0, 6)), [1, 1, 5, 5, 5, 5]);
  assert.ok(pitchY(100, 0, 36) > pitchY(200, 0, 36)); // higher pitch drawn higher
  assert.equal(pitchY(50, 0, 36), 36);
});

test("the strips sit between the waveform and the second clip's track", async () => {
  const { STRIPS, WAVE } = await import("../../qtok_widgets/widgets/frontend/layout.js");
  const L = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true, strips: true });
  assert.equal(L.stripY, L.waveY + WAVE);
  assert.equal(L.stripH, STRIPS);
  assert.equal(L.trackY, L.stripY + STRIPS);
  assert.equal(hitTest(L, { v0: 0, cellW: 10, fitted: false }, 50, 16, L.gx + 5, L.stripY + 5).zone, "wave");
});
