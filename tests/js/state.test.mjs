import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyEnvelope, applyPcm, cellAt, createState, handleMessage, isEdited, originOf, startAction,
} from "../../qtok_widgets/widgets/frontend/state.js";
import { MASK_BIT } from "../../qtok_widgets/widgets/frontend/wire.js";
import { dataView, fixture } from "./helpers.mjs";

const { messages, final } = fixture.editor;
const buffersOf = (m) => m.buffers.map(dataView);

test("a real editor's grid, patches and ack leave the browser holding Python's final grid", () => {
  const S = createState();
  const kinds = [];
  const grids = messages.filter((m) => m.msg.type === "grid");
  for (const m of messages.slice(0, messages.indexOf(grids[1]))) {
    const fx = handleMessage(S, m.msg, buffersOf(m), 0);
    kinds.push(fx.kind);
  }
  assert.deepEqual(kinds, ["grid", "patch", "patch", "patch", "patch", "ack"]);
  assert.equal(S.nL, final.n_layers);
  assert.equal(S.nF, final.n_frames);
  assert.deepEqual(Array.from(S.cur), final.cells);
  assert.deepEqual(Array.from(S.origin), final.origin);
  assert.equal(S.patches, 4);
  assert.equal(S.acks, 1);
  assert.ok(S.ready);
});

test("a second view's grid message carries the edited grid and its frame map", () => {
  const m = messages.filter((x) => x.msg.type === "grid")[1];
  assert.equal(m.msg.same, false);
  const S = createState();
  assert.deepEqual(handleMessage(S, m.msg, buffersOf(m), 0), { kind: "grid" });
  assert.deepEqual(Array.from(S.cur), final.cells);
  assert.deepEqual(Array.from(S.origin), final.origin);
  assert.equal(S.nOF, 9);
  assert.equal(S.orig.length, 4 * 9);
  assert.equal(S.gridBytes, m.buffers.reduce((n, b) => n + b.length / 2, 0));
});

test("a patch that keeps the shape names its dirty frames; a length change repaints everything", () => {
  const S = createState();
  handleMessage(S, messages[0].msg, buffersOf(messages[0]), 0);
  const same = handleMessage(S, messages[1].msg, buffersOf(messages[1]), 0);
  assert.deepEqual(same, { kind: "patch", dirty: [2, 5] });
  // frames 2..4 of layers 1..2 are masked, and only those
  for (let l = 0; l < S.nL; l++) {
    for (let f = 0; f < S.nF; f++) {
      const inside = l >= 1 && l < 3 && f >= 2 && f < 5;
      assert.equal(Boolean(S.cur[l * S.nF + f] & MASK_BIT), inside, `layer ${l} frame ${f}`);
      assert.equal(isEdited(S, l, f), inside);
    }
  }
  const shorter = handleMessage(S, messages[2].msg, buffersOf(messages[2]), 0);
  assert.deepEqual(shorter, { kind: "patch", dirty: null });
  assert.equal(S.nF, 7);
});

test("cells, origins and edits after a deletion follow the frame map", () => {
  const S = createState();
  S.nL = 1;
  S.nF = 3;
  S.nOF = 4;
  S.orig = Uint32Array.from([10, 11, 12, 13]);
  S.cur = Uint32Array.from([10, 13, 99]);
  S.origin = Int32Array.from([0, 3, -1]);
  assert.equal(originOf(S, 1), 3);
  assert.deepEqual(cellAt(S, 0, 1), { value: 13, original: 13, originFrame: 3 });
  assert.deepEqual(cellAt(S, 0, 2), { value: 99, original: null, originFrame: -1 });
  assert.equal(isEdited(S, 0, 1), false); // moved, not changed
  assert.equal(isEdited(S, 0, 2), true); // inserted
  S.origin = null;
  assert.equal(originOf(S, 2), 2);
  assert.equal(originOf(S, 5), -1);
});

test("an envelope for some frames updates only those bins when the length is unchanged", () => {
  const S = createState();
  const full = { which: "edited", n_frames: 3, start: 0, bins: 2 };
  applyEnvelope(S, full, [new DataView(Int8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).buffer)]);
  const part = { which: "edited", n_frames: 3, start: 1, bins: 2 };
  applyEnvelope(S, part, [new DataView(Int8Array.from([-1, -2, -3, -4]).buffer)]);
  assert.deepEqual(Array.from(S.env.edited.data), [1, 2, 3, 4, -1, -2, -3, -4, 9, 10, 11, 12]);
  // a part of another length has nothing to patch: dropped, never padded with silence
  const other = { which: "edited", n_frames: 4, start: 3, bins: 2 };
  assert.equal(applyEnvelope(S, other, [new DataView(Int8Array.from([5, 5, 5, 5]).buffer)]), false);
  assert.deepEqual(Array.from(S.env.edited.data), [1, 2, 3, 4, -1, -2, -3, -4, 9, 10, 11, 12]);
  assert.equal(S.env.original, null);
});

test("a view opened after the audio was sent ignores patches until it holds the whole audio", () => {
  // the fault: a reloaded view got only the edited frames and played silence around them
  const S = createState();
  const pcm = (values) => [new DataView(Int16Array.from(values).buffer)];
  const part = { type: "pcm", which: "edited", sample_rate: 24000, n_samples: 6, start: 2 };
  assert.equal(handleMessage(S, part, pcm([9, 9]), 0), null);
  assert.equal(S.pcm.edited, null); // the next Play asks for all of it
  const env = { type: "envelope", which: "edited", n_frames: 3, start: 1, bins: 2 };
  assert.equal(handleMessage(S, env, [new DataView(Int8Array.from([1, 2, 3, 4]).buffer)], 0), null);
  assert.equal(S.env.edited, null);
});

test("PCM for a stretch of samples is written into the held audio", () => {
  const S = createState();
  const pcm = (values) => [new DataView(Int16Array.from(values).buffer)];
  applyPcm(S, { which: "original", sample_rate: 24000, n_samples: 4, start: 0 }, pcm([1, 2, 3, 4]));
  applyPcm(S, { which: "original", sample_rate: 24000, n_samples: 4, start: 2 }, pcm([-30000, 30000]));
  assert.deepEqual(Array.from(S.pcm.original.data), [1, 2, -30000, 30000]);
  assert.equal(S.pcm.original.rate, 24000);
  const fx = handleMessage(S, { type: "pcm", which: "edited", sample_rate: 16000, n_samples: 1, start: 0 }, pcm([7]), 0);
  assert.deepEqual(fx, { kind: "pcm", which: "edited" });
  assert.equal(S.pcm.edited.rate, 16000);
});

test("an ack times the action this view sent and counts every ack", () => {
  const S = createState();
  const id = startAction(S, "mask", 100);
  assert.equal(S.pending.get(id).name, "mask");
  const fx = handleMessage(S, { type: "ack", id, ok: true, message: "applied mask" }, [], 142.5);
  assert.deepEqual(fx, { kind: "ack", id, ok: true, message: "applied mask", ms: 42.5 });
  assert.equal(S.pending.size, 0);
  // another view's action: counted, not timed
  assert.equal(handleMessage(S, { type: "ack", id: 99, ok: false }, [], 200).ms, null);
  assert.equal(S.acks, 2);
  assert.equal(S.lastActionMs, 42.5);
  assert.ok(startAction(S, "undo", 0) > id);
});

test("the ops message replaces the operation list; unknown messages are ignored", () => {
  const S = createState();
  assert.deepEqual(handleMessage(S, { type: "ops", ops: [{ name: "mask" }] }, [], 0), { kind: "ops" });
  assert.deepEqual(S.ops, [{ name: "mask" }]);
  handleMessage(S, { type: "ops" }, [], 0);
  assert.deepEqual(S.ops, []);
  assert.equal(handleMessage(S, { type: "something-new" }, [], 0), null);
  assert.equal(handleMessage(S, null, [], 0), null);
  assert.equal(handleMessage(S, "grid", [], 0), null);
});

test("a slice of a long recording replaces what is held; patches do not touch it", () => {
  const S = createState();
  const pcm = (values) => [new DataView(Int16Array.from(values).buffer)];
  handleMessage(S, { type: "pcm", which: "edited", sample_rate: 10, n_samples: 1000, start: 100, slice: true }, pcm([1, 2, 3]), 0);
  assert.deepEqual({ ...S.pcm.edited, data: Array.from(S.pcm.edited.data) }, { rate: 10, data: [1, 2, 3], start: 100, total: 1000, slice: true });
  assert.equal(handleMessage(S, { type: "pcm", which: "edited", sample_rate: 10, n_samples: 1000, start: 101 }, pcm([9]), 0), null);
  assert.deepEqual(Array.from(S.pcm.edited.data), [1, 2, 3]);
  assert.deepEqual(handleMessage(S, { type: "pcm_drop", which: "edited" }, [], 0), { kind: "pcm_drop", which: "edited" });
  assert.equal(S.pcm.edited, null);
});

test("a window of a long recording's envelope replaces what is held; patches leave it alone", () => {
  const S = createState();
  const bytes = (values) => [new DataView(Int8Array.from(values).buffer)];
  const win = { type: "envelope", which: "edited", n_frames: 45000, start: 2000, bins: 1, window: true };
  assert.deepEqual(handleMessage(S, win, bytes([1, 2, 3, 4]), 0), { kind: "envelope", which: "edited" });
  assert.equal(S.env.edited.start, 2000);
  const patch = { type: "envelope", which: "edited", n_frames: 45000, start: 2001, bins: 1 };
  assert.equal(handleMessage(S, patch, bytes([9, 9]), 0), null);
  assert.deepEqual(Array.from(S.env.edited.data), [1, 2, 3, 4]);
});
