import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CODE_BITS, MASK_BIT, byteSize, bytesOf, decodeCells, int16s, int32s, int8s,
} from "../../qtok_widgets/widgets/frontend/wire.js";
import { bytesView, dataView, fixture } from "./helpers.mjs";

test("12- and 16-bit cells encoded by Python decode to the packed values, odd counts included", () => {
  const seen = new Set();
  for (const c of fixture.cells) {
    const cells = decodeCells(dataView(c.hex), c.bits, c.n);
    assert.equal(cells.length, c.n);
    assert.deepEqual(Array.from(cells), c.cells, `bits ${c.bits}, n ${c.n}`);
    seen.add(`${c.bits}:${c.n % 2}`);
  }
  assert.deepEqual([...seen].sort(), ["12:0", "12:1", "16:0", "16:1"]);
});

test("the edge cases carry the largest codes and the mask bit", () => {
  const edges12 = fixture.cells.find((c) => c.bits === 12 && c.n === 7);
  const cells = decodeCells(dataView(edges12.hex), 12, 7);
  assert.equal(cells[0], MASK_BIT | 0);
  assert.equal(cells[1], 2047);
  assert.equal(cells[2] & CODE_BITS, 2047);
  assert.ok(cells[2] & MASK_BIT);
  const edges16 = fixture.cells.find((c) => c.bits === 16 && c.n === 7);
  assert.equal(decodeCells(dataView(edges16.hex), 16, 7)[1], 32767);
});

test("12-bit packing: two cells in three bytes, low bits first", () => {
  // a = 0x5A3 (code 0x5A3, no mask), b = 0x8F1 (code 0x0F1 with the mask bit 11)
  const cells = decodeCells(bytesView([0xa3, 0x15, 0x8f]), 12, 2);
  assert.deepEqual(Array.from(cells), [0x5a3, 0x0f1 | MASK_BIT]);
  // one cell: the second half of the last triple is padding
  assert.deepEqual(Array.from(decodeCells(bytesView([0xa3, 0xf5, 0xff]), 12, 1)), [0x5a3]);
});

test("a buffer too short for the cells, or an unknown width, is refused", () => {
  assert.throws(() => decodeCells(bytesView([1, 2, 3]), 12, 3), /3 12-bit cells need 6 bytes, got 3/);
  assert.throws(() => decodeCells(bytesView([1, 2, 3]), 16, 2), /need 4 bytes/);
  assert.throws(() => decodeCells(bytesView([1, 2]), 8, 2), /bits must be 12 or 16, got 8/);
});

test("envelope, PCM and frame maps decode to Python's values", () => {
  const env = int8s(dataView(fixture.envelope.hex));
  assert.deepEqual(Array.from(env), fixture.envelope.pairs.flat());
  assert.equal(env.length, fixture.envelope.n_frames * fixture.envelope.bins * 2);
  const pcm = int16s(dataView(fixture.pcm.hex));
  assert.deepEqual(Array.from(pcm), fixture.pcm.values);
  assert.deepEqual(Array.from(pcm).slice(0, 2), [-32767, -32767]); // clipped to [-1, 1]
  assert.deepEqual(Array.from(int32s(dataView(fixture.int32.hex))), [-1, 0, 5, 70000]);
});

test("decoded arrays are copies, never views of the message's buffer", () => {
  const view = dataView("01000200");
  const a = int16s(view);
  new Uint8Array(view.buffer)[1] = 9;
  assert.deepEqual(Array.from(a), [1, 2]);
  assert.deepEqual(Array.from(bytesOf(new Uint8Array([4, 5]).buffer)), [4, 5]);
  assert.equal(byteSize([view, new DataView(new ArrayBuffer(3))]), 7);
  assert.equal(byteSize(undefined), 0);
});
