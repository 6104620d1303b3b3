import assert from "node:assert/strict";
import { test } from "node:test";

import {
  LUT, VIRIDIS, codeFrequencies, codeIndex, colourer, frequencyIndex, legendGradient, legendText,
} from "../../qtok_widgets/widgets/frontend/colour.js";
import { MASK_BIT } from "../../qtok_widgets/widgets/frontend/wire.js";

const rgbAt = (i) => [LUT[3 * i], LUT[3 * i + 1], LUT[3 * i + 2]];

test("the lookup table runs from viridis's first colour to its last through its control points", () => {
  assert.equal(LUT.length, 256 * 3);
  assert.deepEqual(rgbAt(0), VIRIDIS[0]);
  assert.deepEqual(rgbAt(255), VIRIDIS[8]);
  // 255 / 8 is not whole: the middle control point lands between entries 127 and 128
  const mid = rgbAt(128);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(mid[c] - VIRIDIS[4][c]) <= 2);
  // viridis gets brighter: the green channel never falls
  for (let i = 1; i < 256; i++) assert.ok(LUT[3 * i + 1] >= LUT[3 * (i - 1) + 1]);
});

test("codes map linearly onto the table; frequencies on a log scale per layer", () => {
  assert.equal(codeIndex(0, 2048), 0);
  assert.equal(codeIndex(2047, 2048), 255);
  assert.equal(codeIndex(1024, 2048), 128);
  assert.equal(codeIndex(0, 1), 0); // a one-code codebook does not divide by zero
  assert.equal(frequencyIndex(0, 100), 0);
  assert.equal(frequencyIndex(100, 100), 255);
  assert.equal(frequencyIndex(9, 99), Math.round((Math.log(10) / Math.log(100)) * 255)); // 128
  assert.equal(frequencyIndex(0, 0), 0);
});

test("code frequencies count each layer's codes, masked cells by their kept code", () => {
  // 2 layers x 4 frames, codebook of 4
  const cur = Uint32Array.from([1, 1, 3, MASK_BIT | 1, 2, 2, 2, 0]);
  const { counts, max } = codeFrequencies(cur, 2, 4, 4);
  assert.deepEqual(Array.from(counts), [0, 3, 0, 1, 1, 0, 3, 0]);
  assert.deepEqual(Array.from(max), [3, 3]);
});

test("the colourer paints by code or by frequency and leaves masked cells to the checker", () => {
  const rgb = [0, 0, 0];
  const byCode = colourer({ mode: "code", codebookSize: 2048, freq: null });
  assert.deepEqual(byCode(0, 2047, rgb), VIRIDIS[8]);
  assert.equal(byCode(0, MASK_BIT | 2047, rgb), null);
  const cur = Uint32Array.from([5, 5, 5, 9]);
  const freq = codeFrequencies(cur, 1, 4, 16);
  const byFreq = colourer({ mode: "frequency", codebookSize: 16, freq });
  assert.deepEqual([...byFreq(0, 5, rgb)], VIRIDIS[8]); // the commonest code is the brightest
  assert.deepEqual([...byFreq(0, 9, rgb)], rgbAt(frequencyIndex(1, 3)));
  // frequency mode without counts falls back to colour by code
  assert.deepEqual(colourer({ mode: "frequency", codebookSize: 16, freq: null })(0, 15, rgb), VIRIDIS[8]);
});

test("the legend shows the scale's colours and what its ends mean", () => {
  const g = legendGradient();
  assert.ok(g.startsWith("linear-gradient(to right, rgb(68,1,84) 0.0%"));
  assert.ok(g.endsWith("rgb(253,231,37) 100.0%)"));
  assert.deepEqual([legendText("code", 2048).low, legendText("code", 2048).high], ["0", "2047"]);
  assert.deepEqual([legendText("frequency", 2048).low, legendText("frequency", 2048).high], ["rare", "common"]);
  assert.ok(legendText("code", 1024).title.includes("masked"));
});

test("colour by embedding takes each code's colour from its layer's palette", async () => {
  const { colourer: make, legendText: words } = await import("../../qtok_widgets/widgets/frontend/colour.js");
  const palette = new Uint8Array(2 * 4 * 3);
  palette.set([10, 20, 30], (1 * 4 + 2) * 3); // layer 1, code 2
  const colour = make({ mode: "embedding", codebookSize: 4, freq: null, palette });
  assert.deepEqual(colour(1, 2, [0, 0, 0]), [10, 20, 30]);
  assert.equal(colour(1, 2 | MASK_BIT, [0, 0, 0]), null); // masked
  // without a palette yet, cells are coloured by code
  const plain = make({ mode: "embedding", codebookSize: 4, freq: null, palette: null });
  assert.deepEqual(plain(1, 2, [0, 0, 0]), make({ mode: "code", codebookSize: 4, freq: null })(1, 2, [0, 0, 0]));
  assert.match(words("embedding", 4).title, /CIELAB/);
});

test("colour by change: grey where a cell kept its code, brighter the farther it moved", async () => {
  const { changeIndex, colourer: make, UNCHANGED } = await import("../../qtok_widgets/widgets/frontend/colour.js");
  // 1 layer, codebook of 3 codes at CIELAB distances 10 (0 -> 1) and 100 (0 -> 2)
  const lab = Int8Array.from([50, 0, 0, 60, 0, 0, 50, 100, 0]);
  const S = { orig: Uint32Array.from([0, 0, 0, MASK_BIT]), origin: null, nOF: 4 };
  assert.equal(changeIndex(S, lab, 3, 0, 0, 0), -1);
  assert.equal(changeIndex(S, lab, 3, 0, 1, 1), 40); // a small move still shows
  assert.equal(changeIndex(S, lab, 3, 0, 2, 2), 255);
  assert.equal(changeIndex(S, lab, 3, 0, 1, 3), 255); // masked in the original
  assert.equal(changeIndex({ ...S, origin: Int32Array.from([0, -1]) }, lab, 3, 0, 0, 1), 255); // inserted
  const colour = make({ mode: "change", codebookSize: 3, freq: null, lab, S });
  assert.deepEqual(colour(0, 0, [0, 0, 0], 0), [UNCHANGED, UNCHANGED, UNCHANGED]);
  assert.notDeepEqual(colour(0, 2, [0, 0, 0], 2), [UNCHANGED, UNCHANGED, UNCHANGED]);
});
