import assert from "node:assert/strict";
import { test } from "node:test";

import { colourer } from "../../qtok_widgets/widgets/frontend/colour.js";
import {
  columnFrames, dominantCode, editMark, envelopeColumns, fittedImage, imageColumns, paintColumns,
} from "../../qtok_widgets/widgets/frontend/heatmap.js";
import { computeLayout } from "../../qtok_widgets/widgets/frontend/layout.js";
import { createState } from "../../qtok_widgets/widgets/frontend/state.js";
import { MASK_BIT } from "../../qtok_widgets/widgets/frontend/wire.js";

const L = computeLayout({ nLayers: 2, heightPx: 36, width: 1000, showWaveform: true });

function grid(cur, orig, nF, nOF = nF, origin = null) {
  return Object.assign(createState(), {
    nL: 2, nF, nOF, cur: Uint32Array.from(cur), orig: Uint32Array.from(orig), origin,
  });
}

test("zoomed in, one image column per frame; zoomed out, one per CSS pixel", () => {
  const zoomed = imageColumns(L, { v0: 10, cellW: 20, fitted: false }, 1000);
  assert.deepEqual(zoomed, { f0: 10, f1: 10 + Math.ceil(L.plotW / 20), perFrame: true, cols: Math.ceil(L.plotW / 20) });
  const out = imageColumns(L, { v0: 0, cellW: 0.25, fitted: true }, 4 * L.plotW);
  assert.equal(out.perFrame, false);
  assert.equal(out.cols, L.plotW);
  assert.deepEqual(columnFrames({ v0: 0, cellW: 0.25 }, out, 3), [12, 16]);
  assert.deepEqual(columnFrames({ v0: 0, cellW: 20 }, zoomed, 3), [13, 14]);
});

test("pixels take each cell's colour, masked cells a grey checker, edited columns are flagged", () => {
  const size = 2048;
  // layer 0: 0, 2047(masked), 5 ; layer 1: 7, 7, 2047 ; original differs at frame 2 of layer 1
  const S = grid([0, MASK_BIT | 2047, 5, 7, 7, 2047], [0, MASK_BIT | 2047, 5, 7, 7, 7], 3);
  const view = { v0: 0, cellW: 20, fitted: false };
  const geo = imageColumns(L, view, 3);
  assert.equal(geo.cols, 3);
  const px = new Uint8ClampedArray(geo.cols * 2 * 4);
  const edited = new Uint8Array(geo.cols);
  const colour = colourer({ mode: "code", codebookSize: size, freq: null });
  paintColumns(px, edited, S, view, geo, colour);
  const pixel = (x, l) => Array.from(px.slice((l * geo.cols + x) * 4, (l * geo.cols + x) * 4 + 4));
  assert.deepEqual(pixel(0, 0), [68, 1, 84, 255]); // code 0: viridis's first colour
  assert.deepEqual(pixel(2, 1), [253, 231, 37, 255]); // code 2047: its last
  assert.deepEqual(pixel(1, 0), [58, 58, 58, 255]); // masked, (frame + layer) odd: the lighter grey
  assert.deepEqual(Array.from(edited), [0, 0, 1]);
});

test("a dirty range repaints only its columns", () => {
  const S = grid([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6], 3);
  const view = { v0: 0, cellW: 20, fitted: false };
  const geo = imageColumns(L, view, 3);
  const px = new Uint8ClampedArray(geo.cols * 2 * 4);
  const edited = new Uint8Array(geo.cols);
  paintColumns(px, edited, S, view, geo, colourer({ mode: "code", codebookSize: 8, freq: null }), 1, 2);
  assert.deepEqual(Array.from(px.slice(0, 4)), [0, 0, 0, 0]); // column 0 untouched
  assert.equal(px[4 + 3], 255); // column 1 painted
  assert.deepEqual(Array.from(px.slice(8, 12)), [0, 0, 0, 0]); // column 2 untouched
});

test("after a deletion frames are compared with the original frame they came from", () => {
  // original 4 frames; frame 1 deleted: current frames are originals 0, 2, 3
  const S = grid([10, 12, 13, 20, 22, 23], [10, 11, 12, 13, 20, 21, 22, 23], 3, 4, Int32Array.from([0, 2, 3]));
  const view = { v0: 0, cellW: 20, fitted: false };
  const geo = imageColumns(L, view, 3);
  const edited = new Uint8Array(geo.cols);
  paintColumns(new Uint8ClampedArray(geo.cols * 8), edited, S, view, geo, colourer({ mode: "code", codebookSize: 32, freq: null }));
  assert.deepEqual(Array.from(edited), [0, 0, 0]);
  S.origin = Int32Array.from([0, -1, 3]); // an inserted frame counts as edited
  paintColumns(new Uint8ClampedArray(geo.cols * 8), edited, S, view, geo, colourer({ mode: "code", codebookSize: 32, freq: null }));
  assert.deepEqual(Array.from(edited), [0, 1, 0]);
});

test("zoomed out, a column is masked when any of its frames is, and edited when any differs", () => {
  const nF = 8;
  const cur = [0, 0, 0, MASK_BIT, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 9];
  const orig = [0, 0, 0, MASK_BIT, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1];
  const S = grid(cur, orig, nF);
  const view = { v0: 0, cellW: 0.5, fitted: false }; // two frames per column
  const geo = { f0: 0, f1: nF, perFrame: false, cols: 4 };
  const px = new Uint8ClampedArray(4 * 2 * 4);
  const edited = new Uint8Array(4);
  paintColumns(px, edited, S, view, geo, colourer({ mode: "code", codebookSize: 16, freq: null }));
  assert.deepEqual(Array.from(px.slice(4, 8)), [34, 34, 34, 255]); // column 1 = frames 2, 3: frame 3 masked (dark: frame 2 + layer 0 even)
  assert.deepEqual(Array.from(edited), [0, 0, 0, 1]);
});

test("waveform columns take the min and max of the envelope bins under each pixel", () => {
  // 2 frames x 2 bins: (min, max) pairs
  const env = { bins: 2, data: Int8Array.from([-10, 10, -20, 5, -1, 1, -127, 127]) };
  const view = { v0: 0, cellW: 2, fitted: false }; // one pixel per bin
  const cols = envelopeColumns(env, L, view);
  assert.equal(cols.length, Math.ceil(L.plotW));
  assert.deepEqual(cols.slice(0, 5), [[-10, 10], [-20, 5], [-1, 1], [-127, 127], null]);
  const squeezed = envelopeColumns(env, L, { v0: 0, cellW: 0.5, fitted: false }); // four bins a pixel
  assert.deepEqual(squeezed[0], [-127, 127]);
  assert.equal(squeezed[1], null);
});

test("a column standing for many frames shows the code that dominates them", () => {
  const scratch = new Uint32Array(8);
  const v = Uint32Array.from([5, 9, 9, 3, 9, 5 | MASK_BIT, 5, 5]);
  assert.equal(dominantCode(v, 0, 5, scratch), 9); // 9 three times, not the first frame's 5
  assert.equal(dominantCode(v, 5, 8, scratch), 5); // the mask bit is not part of the code
  assert.equal(dominantCode(v, 0, 2, scratch), 5); // a tie goes to the smaller code
  assert.equal(dominantCode(v, 3, 4, scratch), 3);
});

test("a fitted long grid is painted by dominant code, not by the first frame of each column", () => {
  // 1 layer x 400 frames into 4 columns: each column is 100 frames, mostly code c, first frame 0
  const nF = 400;
  const cells = new Uint32Array(nF);
  for (let x = 0; x < 4; x++) {
    for (let f = 0; f < 100; f++) cells[x * 100 + f] = f % 10 === 0 ? 0 : 100 * (x + 1);
  }
  const colour = colourer({ mode: "code", codebookSize: 2048, freq: null });
  const px = fittedImage(cells, 1, nF, 4, colour);
  const rgb = [0, 0, 0];
  for (let x = 0; x < 4; x++) {
    colour(0, 100 * (x + 1), rgb);
    assert.deepEqual(Array.from(px.subarray(4 * x, 4 * x + 3)), rgb);
  }
  // the main view's columns too: 4000 frames in fewer pixels, every tenth frame code 0
  const many = Uint32Array.from({ length: 4000 }, (_, f) => (f % 10 === 0 ? 0 : 100));
  const S = { ...createState(), nL: 1, nF: 4000, nOF: 4000, cur: many, orig: many };
  const view = { v0: 0, cellW: L.plotW / 4000, fitted: true };
  const geo = imageColumns(L, view, 4000);
  assert.equal(geo.perFrame, false);
  const img = new Uint8ClampedArray(geo.cols * 4);
  paintColumns(img, new Uint8Array(geo.cols), S, view, geo, colour);
  const [fa] = columnFrames(view, geo, 0);
  assert.equal(fa, 0); // column 0 starts on a frame of code 0 ...
  colour(0, 100, rgb);
  assert.deepEqual(Array.from(img.subarray(0, 3)), rgb); // ... and shows the dominant 100
});

test("edited masked cells get a corner mark, so their grey checker stays visible", () => {
  assert.equal(editMark(true, 20), "corner");
  assert.equal(editMark(false, 20), "outline");
  assert.equal(editMark(true, 2), null);
});

test("a window of a long recording's envelope is drawn at its own frames", () => {
  const view = { v0: 100, cellW: 1, fitted: false }; // one frame per pixel from frame 100
  const env = { bins: 1, data: Int8Array.from([-10, 10, -20, 20]), start: 101 }; // frames 101, 102
  const cols = envelopeColumns(env, L, view);
  assert.equal(cols[0], null); // frame 100: not in the window
  assert.deepEqual(cols[1], [-10, 10]);
  assert.deepEqual(cols[2], [-20, 20]);
  assert.equal(cols[3], null);
});
