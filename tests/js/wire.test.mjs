import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CODE_BITS, MASK_BIT, byteSize, bytesOf, decodeCells, exportCells, int16s, int32s, int8s,
} from "../../qtok_widgets/widgets/frontend/wire.js";
import { bytesView, dataView, fixture } from "./helpers.mjs";

test("12-, 16- and 32-bit cells encoded by Python decode to the held cells, odd counts included", () => {
  const seen = new Set();
  for (const c of fixture.cells) {
    const cells = decodeCells(dataView(c.hex), c.bits, c.n);
    assert.ok(cells instanceof Uint32Array);
    assert.equal(cells.length, c.n);
    assert.deepEqual(Array.from(cells), c.cells, `bits ${c.bits}, n ${c.n}`);
    seen.add(`${c.bits}:${c.n % 2}`);
  }
  assert.deepEqual([...seen].sort(), ["12:0", "12:1", "16:0", "16:1", "32:0", "32:1"]);
  assert.deepEqual([...new Set(fixture.cells.map((c) => c.codebook_size))], [2048, 32768, 65536, 2 ** 20]);
});

test("the edge cases carry the largest codes and the mask bit", () => {
  const edges12 = fixture.cells.find((c) => c.bits === 12 && c.n === 7);
  const cells = decodeCells(dataView(edges12.hex), 12, 7);
  assert.equal(cells[0], MASK_BIT | 0);
  assert.equal(cells[1], 2047);
  assert.equal(cells[2] & CODE_BITS, 2047);
  assert.ok(cells[2] & MASK_BIT);
  const edges16 = fixture.cells.find((c) => c.bits === 16 && c.n === 7);
  const cells16 = decodeCells(dataView(edges16.hex), 16, 7);
  assert.equal(cells16[1], 32767);
  assert.equal(cells16[2], MASK_BIT | 32767);
  for (const size of [65536, 2 ** 20]) {
    const edges32 = fixture.cells.find((c) => c.bits === 32 && c.n === 7 && c.codebook_size === size);
    const wide = decodeCells(dataView(edges32.hex), 32, 7);
    assert.equal(wide[0], MASK_BIT); // code 0, masked
    assert.equal(wide[1], size - 1);
    assert.equal(wide[2] & CODE_BITS, size - 1);
    assert.ok(wide[2] & MASK_BIT);
    assert.ok(wide[2] > 0 && (wide[2] | 0) === wide[2], "a held cell stays a positive int32");
  }
});

test("32-bit cells: code | mask << 30 as little-endian uint32; bit 31 is refused", () => {
  // 65535 (0x0000FFFF) and 65535 masked (0x4000FFFF)
  const cells = decodeCells(bytesView([0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0x40]), 32, 2);
  assert.deepEqual(Array.from(cells), [65535, MASK_BIT | 65535]);
  assert.throws(() => decodeCells(bytesView([0, 0, 0, 0x80]), 32, 1), /cell 0 has bit 31 set/);
});

test("the debug API's export: 16-bit cells up to 32,768 codes, the held cells above", () => {
  const held = Uint32Array.from([5, MASK_BIT | 2047, MASK_BIT | 32767]);
  const small = exportCells(held, 32768);
  assert.ok(small.values instanceof Uint16Array);
  assert.deepEqual(Array.from(small.values), [5, 0x8000 | 2047, 0xffff]);
  assert.equal(small.maskBit, 0x8000);
  const big = Uint32Array.from([65535, MASK_BIT | 40000]);
  const wide = exportCells(big, 65536);
  assert.ok(wide.values instanceof Uint32Array && wide.values !== big);
  assert.deepEqual(Array.from(wide.values), [65535, MASK_BIT | 40000]);
  assert.equal(wide.maskBit, MASK_BIT);
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
  assert.throws(() => decodeCells(bytesView([1, 2, 3, 4, 5, 6, 7]), 32, 2), /2 uint32 cells need 8 bytes, got 7/);
  assert.throws(() => decodeCells(bytesView([1, 2]), 8, 2), /bits must be 12, 16 or 32, got 8/);
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
