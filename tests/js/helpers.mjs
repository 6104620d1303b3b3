// Shared helpers of the front end's unit tests: the wire fixture written by the Python side
// (tests/js/test_js_fixtures.py) and buffers shaped like those anywidget hands to the front end.

import { readFileSync } from "node:fs";

/** tests/js/fixtures/wire.json, parsed. */
export const fixture = JSON.parse(readFileSync(new URL("./fixtures/wire.json", import.meta.url), "utf8"));

/**
 * Bytes from hex as a DataView that starts at an odd offset of a larger buffer, as buffers of a
 * message can (the decoders must not assume alignment).
 */
export function dataView(hex) {
  const n = hex.length / 2;
  const backing = new Uint8Array(n + 3).fill(0xee);
  for (let i = 0; i < n; i++) backing[1 + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return new DataView(backing.buffer, 1, n);
}

/** A DataView over the given byte values (at an odd offset too). */
export function bytesView(bytes) {
  return dataView(Buffer.from(bytes).toString("hex"));
}
