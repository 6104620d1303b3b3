import assert from "node:assert/strict";
import { test } from "node:test";

import { keyCommand } from "../../qtok_widgets/widgets/frontend/input.js";
import { nextOccurrence } from "../../qtok_widgets/widgets/frontend/occurrence.js";
import { MASK_BIT } from "../../qtok_widgets/widgets/frontend/wire.js";

// 2 layers x 6 frames; layer 1 holds code 7 at frames 0, 2 (masked there) and 4, 5
const cur = Uint32Array.from([7, 7, 7, 7, 7, 7, 7, 3, 7 | MASK_BIT, 3, 7, 7]);

test("next and previous occurrence of a code in its layer, wrapping, masked cells skipped", () => {
  assert.deepEqual(nextOccurrence(cur, 6, 1, 0), { frame: 4, index: 1, count: 3, code: 7 });
  assert.deepEqual(nextOccurrence(cur, 6, 1, 4), { frame: 5, index: 2, count: 3, code: 7 });
  assert.deepEqual(nextOccurrence(cur, 6, 1, 5), { frame: 0, index: 0, count: 3, code: 7 });
  assert.deepEqual(nextOccurrence(cur, 6, 1, 0, -1), { frame: 5, index: 2, count: 3, code: 7 });
  assert.deepEqual(nextOccurrence(cur, 6, 1, 1), { frame: 3, index: 1, count: 2, code: 3 });
  assert.equal(nextOccurrence(cur, 6, 1, 2), null);
  assert.deepEqual(nextOccurrence(cur, 6, 0, 3), { frame: 4, index: 4, count: 6, code: 7 });
});

test("N and Shift+N are the widget's keys", () => {
  const key = (k, shift = false) => keyCommand({ key: k, ctrl: false, meta: false, shift, inField: false }, new Map());
  assert.deepEqual(key("n"), { command: "next" });
  assert.deepEqual(key("N", true), { command: "previous" });
});

test("H and Shift+H ask to hear the frame in context or its code alone", () => {
  const key = (k, shift = false) => keyCommand({ key: k, ctrl: false, meta: false, shift, inField: false }, new Map());
  assert.deepEqual(key("h"), { command: "audition" });
  assert.deepEqual(key("H", true), { command: "hear_code" });
});
