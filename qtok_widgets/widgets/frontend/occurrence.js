// "Next occurrence": the next frame where the same code appears in the same layer, as the edit
// engine's code search (replace_code) would find it, with its rank among all of them. Pure.

import { CODE_BITS, MASK_BIT } from "./wire.js";

/**
 * The next (step 1) or previous (step -1) unmasked cell of `layer` holding the same code as
 * frame `frame`, wrapping around the clip.
 * @param {Uint32Array} cur held cells, layer-major (nL x nF), code | mask << 30
 * @returns {{frame: number, index: number, count: number, code: number}|null} the frame found,
 *   its rank (0-based) among the code's unmasked frames in that layer and how many there are;
 *   null for a masked cell
 */
export function nextOccurrence(cur, nF, layer, frame, step = 1) {
  const row = layer * nF;
  const held = cur[row + frame];
  if (held & MASK_BIT) return null;
  const code = held & CODE_BITS;
  const frames = [];
  for (let f = 0; f < nF; f++) if (cur[row + f] === code) frames.push(f);
  const at = frames.indexOf(frame);
  const index = (at + (step < 0 ? frames.length - 1 : 1)) % frames.length;
  return { frame: frames[index], index, count: frames.length, code };
}
