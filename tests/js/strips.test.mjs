import assert from "node:assert/strict";
import { test } from "node:test";

import { STRIPS, STRIP_MEL, computeLayout } from "../../qtok_widgets/widgets/frontend/layout.js";
import {
  DIFF_DB, diffColour, mergeStrips, pitchTicks, pitchY, semitones, windowRequest,
} from "../../qtok_widgets/widgets/frontend/strips.js";

const bufs = (nMels, w, v) => [new Uint8Array(nMels * w).fill(v), new Uint16Array(w).fill(v * 10), new Uint8Array(w).fill(v)];

test("strips merge: a patch replaces its columns, a length change keeps the columns before it", () => {
  const msg = (start, stop, total) => ({ level: "whole", cpf: 2, start, stop, total, n_mels: 2 });
  let h = mergeStrips(null, msg(0, 4, 4), bufs(2, 4, 1));
  assert.deepEqual(Array.from(h.base.mel), [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(h.window, null);
  h = mergeStrips(h, msg(2, 4, 4), bufs(2, 2, 9));
  assert.deepEqual(Array.from(h.base.mel), [1, 1, 9, 9, 1, 1, 9, 9]); // band-major: each band's columns 2, 3
  assert.deepEqual(Array.from(h.base.f0), [10, 10, 90, 90]);
  h = mergeStrips(h, msg(2, 6, 6), bufs(2, 4, 5)); // frames inserted: total grows, columns 0, 1 kept
  assert.deepEqual(Array.from(h.base.energy), [1, 1, 5, 5, 5, 5]);
  assert.deepEqual(Array.from(h.base.mel.subarray(0, 6)), [1, 1, 5, 5, 5, 5]);
});

test("a long clip holds an overview and one window; a new window replaces the old, the overview stays", () => {
  const ov = { level: "overview", cpf: 1, fpc: 11, start: 0, stop: 3, total: 5, n_mels: 2 };
  let h = mergeStrips(null, ov, bufs(2, 3, 4));
  h = mergeStrips(h, { ...ov, start: 3, stop: 5 }, bufs(2, 2, 6)); // the next block
  assert.deepEqual(Array.from(h.base.f0), [40, 40, 40, 60, 60]);
  assert.equal(h.base.fpc, 11);
  const win = { level: "window", cpf: 4, fpc: 1, start: 40, stop: 44, total: 220, n_mels: 2, f0_range: [80, 300] };
  h = mergeStrips(h, win, bufs(2, 4, 7));
  assert.deepEqual([h.window.start, h.window.stop, h.window.mel.length], [40, 44, 8]);
  assert.deepEqual(h.window.f0Range, [80, 300]);
  h = mergeStrips(h, { ...win, start: 80, stop: 82 }, bufs(2, 2, 8));
  assert.deepEqual([h.window.start, Array.from(h.window.energy)], [80, [8, 8]]);
  assert.deepEqual(Array.from(h.base.f0), [40, 40, 40, 60, 60]); // untouched by windows
});

test("pitch axis: Hz is linear, semitones logarithmic, both over the recording's range", () => {
  const range = [75, 300];
  assert.equal(pitchY(75, 0, 36, "Hz", range), 36);
  assert.equal(pitchY(300, 0, 36, "Hz", range), 0);
  assert.ok(Math.abs(pitchY(187.5, 0, 36, "Hz", range) - 18) < 1e-9); // the middle in hertz
  assert.ok(Math.abs(pitchY(150, 0, 36, "semitones", range) - 18) < 1e-9); // the middle octave
  assert.ok(pitchY(100, 0, 36) > pitchY(200, 0, 36)); // higher pitch drawn higher
  assert.ok(Math.abs(semitones(200) - 12) < 1e-9);
  assert.deepEqual(pitchTicks("Hz", range).map((t) => t.text), ["100", "200", "300"]);
  const st = pitchTicks("semitones", range);
  assert.deepEqual(st.map((t) => t.text), ["0", "+12"]); // two octaves: a tick per octave re 100 Hz
  assert.ok(Math.abs(st[0].value - 100) < 1e-9 && Math.abs(st[1].value - 200) < 1e-9);
  assert.deepEqual(pitchTicks("semitones", [90, 220]).map((t) => t.text), ["0", "+6", "+12"]);
});

test("the difference colours diverge from white: red where the edited is louder, blue where quieter", () => {
  assert.deepEqual(diffColour(0), [255, 255, 255]);
  const up = diffColour(DIFF_DB);
  const down = diffColour(-DIFF_DB);
  assert.ok(up[0] === 255 && up[2] < 100);
  assert.ok(down[2] === 255 && down[0] < 100);
  assert.deepEqual(diffColour(5 * DIFF_DB), up); // saturates
  assert.ok(diffColour(6)[1] > up[1]); // a smaller change is paler
});

test("side by side adds a second spectrogram row", () => {
  const one = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true, strips: 1 });
  const two = computeLayout({ nLayers: 16, heightPx: 288, width: 1000, showWaveform: true, strips: 2 });
  assert.equal(one.stripH, STRIPS);
  assert.equal(two.stripH, STRIPS + STRIP_MEL);
  assert.equal(two.melH, 2 * STRIP_MEL);
  assert.equal(two.height, one.height + STRIP_MEL);
});

test("a long clip asks for the window of its view only when zoomed in, and not again while it holds it", () => {
  const L = computeLayout({ nLayers: 16, heightPx: 288, width: 1064, showWaveform: false, strips: 1 });
  const nF = 45000;
  const base = { L, nF, frameRate: 12.5, windowS: 60 };
  assert.equal(windowRequest({ ...base, view: { v0: 0, cellW: L.plotW / nF } }), null); // the whole hour
  const view = { v0: 20000, cellW: 4 }; // 248 frames: 19.8 s
  const req = windowRequest({ ...base, view });
  assert.equal(req.stop - req.start, 750); // 60 s around the view
  assert.ok(req.start <= view.v0 && req.stop >= view.v0 + L.plotW / view.cellW);
  assert.equal(req.px_per_frame, 4);
  const held = { window: { cpf: 4, fpc: 1, start: req.start * 4, stop: req.stop * 4 } };
  assert.equal(windowRequest({ ...base, view, held }), null);
  assert.notEqual(windowRequest({ ...base, view: { v0: 30000, cellW: 4 }, held }), null); // scrolled away
  assert.notEqual(windowRequest({ ...base, view: { ...view, cellW: 40 }, held: { window: { ...held.window, cpf: 1 } } }), null);
});
