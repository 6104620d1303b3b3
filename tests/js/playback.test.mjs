import assert from "node:assert/strict";
import { test } from "node:test";

import { pcmToFloat, playWindow, playheadAt, needFor } from "../../qtok_widgets/widgets/frontend/playback.js";

const base = { duration: 4, frameRate: 12.5, loop: false, selectionOnly: false, selection: null };
const sel = { frames: [10, 20], layers: [0, 16] }; // 0.8 .. 1.6 s

test("without a selection, play from the playhead to the end (from the start when at the end)", () => {
  assert.deepEqual(playWindow({ ...base, start: 1 }), { offset: 1, end: 4, loop: false, loopStart: 0, loopEnd: 4, only: false });
  assert.equal(playWindow({ ...base, start: 4 }).offset, 0);
  assert.equal(playWindow({ ...base, start: 3.9995 }).offset, 0);
  // loop and selection-only need a selection
  assert.equal(playWindow({ ...base, start: 1, loop: true, selectionOnly: true }).only, false);
});

test("selection only plays the selection, from the playhead when it is inside", () => {
  const w = playWindow({ ...base, selection: sel, selectionOnly: true, start: 1 });
  assert.deepEqual(w, { offset: 1, end: 1.6, loop: false, loopStart: 0.8, loopEnd: 1.6, only: true });
  assert.equal(playWindow({ ...base, selection: sel, selectionOnly: true, start: 3 }).offset, 0.8);
  // a selection without selection-only: everything from the playhead
  assert.equal(playWindow({ ...base, selection: sel, start: 3 }).end, 4);
  // a selection past the audio's end ends with the audio
  assert.equal(playWindow({ ...base, duration: 1.2, selection: sel, selectionOnly: true, start: 0 }).end, 1.2);
});

test("loop plays the selection forever, and the playhead wraps inside it", () => {
  const w = playWindow({ ...base, selection: sel, loop: true, start: 0 });
  assert.deepEqual(w, { offset: 0.8, end: Infinity, loop: true, loopStart: 0.8, loopEnd: 1.6, only: true });
  assert.ok(Math.abs(playheadAt(w, 0.5) - 1.3) < 1e-12);
  assert.ok(Math.abs(playheadAt(w, 1.0) - 1.0) < 1e-12); // 1.8 wraps to 1.0
  const once = playWindow({ ...base, start: 3 });
  assert.equal(playheadAt(once, 0.5), 3.5);
  assert.equal(playheadAt(once, 5), 4); // never past the end
});

test("int16 PCM becomes floats in [-1, 1]", () => {
  assert.deepEqual(Array.from(pcmToFloat(Int16Array.from([0, 32767, -32767]))), [0, 1, -1]);
  const out = new Float32Array(2);
  assert.equal(pcmToFloat(Int16Array.from([16384, -16384]), out), out);
  assert.ok(Math.abs(out[0] - 16384 / 32767) < 1e-7);
});

test("a held slice of a long recording plays what it covers and asks for the rest", () => {
  const rate = 10;
  const slice = { rate, data: new Int16Array(200), start: 100, total: 1000, slice: true }; // 10..30 s of 100 s
  assert.equal(needFor(null, 0), "fetch");
  assert.equal(needFor({ ...slice, slice: false, start: 0, data: new Int16Array(1000) }, 99), "play");
  assert.equal(needFor(slice, 10), "play");
  assert.equal(needFor(slice, 29.5), "play");
  assert.equal(needFor(slice, 29.9), "fetch"); // its last quarter second: fetch the next one
  assert.equal(needFor(slice, 9.9), "fetch");
  assert.equal(needFor(slice, 45), "fetch");
  const last = { ...slice, start: 800 }; // 80..100 s: ends the recording
  assert.equal(needFor(last, 99.95), "play");
});
