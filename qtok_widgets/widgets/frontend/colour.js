// Colour mapping of cells: viridis by code value, or by how often the code occurs in its layer
// (log scale), or by meaning: each code's colour from its layer's codebook vectors, projected
// into CIELAB in Python (the "palette" message), so codes that sound alike look alike. Masked
// cells have no colour here; the heatmap draws them as a grey checker.

import { CODE_BITS, MASK_BIT } from "./wire.js";

/** viridis, 9 control points. */
export const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];

/** VIRIDIS expanded to 256 RGB entries: LUT[3 i], LUT[3 i + 1], LUT[3 i + 2]. */
export const LUT = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const p = (i / 255) * (VIRIDIS.length - 1);
    const k = Math.min(Math.floor(p), VIRIDIS.length - 2);
    const f = p - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(VIRIDIS[k][c] * (1 - f) + VIRIDIS[k + 1][c] * f);
  }
  return lut;
})();

/** LUT index (0..255) of a code in a codebook of `codebookSize` codes: 0 dark, size - 1 bright. */
export function codeIndex(code, codebookSize) {
  return Math.round((code / Math.max(1, codebookSize - 1)) * 255);
}

/** LUT index (0..255) of a code seen `count` times in a layer whose commonest code is seen `max` times. */
export function frequencyIndex(count, max) {
  return Math.round((Math.log1p(count) / Math.log1p(max || 1)) * 255);
}

/**
 * How often each code occurs in each layer of the current grid.
 * @param {Uint32Array} cur held cells, layer-major (nL x nF)
 * @returns {{counts: Uint32Array, max: Uint32Array}} counts[l * codebookSize + code]; max[l] the
 *   count of layer l's commonest code
 */
export function codeFrequencies(cur, nL, nF, codebookSize) {
  const counts = new Uint32Array(nL * codebookSize);
  const max = new Uint32Array(nL);
  for (let l = 0; l < nL; l++) {
    const row = l * nF;
    const base = l * codebookSize;
    let m = 0; // the commonest code's count, found while counting (no pass over the codebook)
    for (let f = 0; f < nF; f++) m = Math.max(m, ++counts[base + (cur[row + f] & CODE_BITS)]);
    max[l] = m;
  }
  return { counts, max };
}

/**
 * A function (layer, value, rgb) -> rgb | null colouring held cells.
 * @param {{mode: "code"|"frequency"|"embedding", codebookSize: number, freq: object|null, palette?: Uint8Array|null}} p
 *   freq from codeFrequencies(), used in "frequency" mode; palette (RGB of code c of layer l at
 *   3 (l codebookSize + c)), used in "embedding" mode; without them cells are coloured by code
 * @returns {function(number, number, number[]): (number[]|null)} writes r, g, b into rgb and
 *   returns it; null for a masked cell
 */
export function colourer({ mode, codebookSize, freq, palette = null, lab = null, S = null }) {
  const byFrequency = mode === "frequency" && freq;
  const byEmbedding = mode === "embedding" && palette;
  const byChange = mode === "change" && lab && S;
  return (layer, value, rgb, frame) => {
    if (value & MASK_BIT) return null;
    const code = value & CODE_BITS;
    if (byChange && frame !== undefined) {
      const idx = changeIndex(S, lab, codebookSize, layer, value, frame);
      if (idx < 0) {
        rgb[0] = rgb[1] = rgb[2] = UNCHANGED;
        return rgb;
      }
      rgb[0] = LUT[idx * 3];
      rgb[1] = LUT[idx * 3 + 1];
      rgb[2] = LUT[idx * 3 + 2];
      return rgb;
    }
    if (byEmbedding) {
      const at = (layer * codebookSize + code) * 3;
      rgb[0] = palette[at];
      rgb[1] = palette[at + 1];
      rgb[2] = palette[at + 2];
      return rgb;
    }
    const idx = byFrequency
      ? frequencyIndex(freq.counts[layer * codebookSize + code], freq.max[layer])
      : codeIndex(code, codebookSize);
    rgb[0] = LUT[idx * 3];
    rgb[1] = LUT[idx * 3 + 1];
    rgb[2] = LUT[idx * 3 + 2];
    return rgb;
  };
}

/** Grey of a cell that did not change, in "change" mode. */
export const UNCHANGED = 200;

/**
 * LUT index (0..255) of how far a held cell moved from the original cell it came from, in
 * CIELAB units of its layer's codebook projection (codebook_lab() in Python): -1 when it did not
 * change; 255 for an inserted frame or a cell masked in the original; at least 40 for any change,
 * reaching 255 at a distance of 100.
 * @param {object} S state: cur/orig cells, origin (or null), nOF
 * @param {Int8Array} lab CIELAB of code c of layer l at 3 (l codebookSize + c)
 */
export function changeIndex(S, lab, codebookSize, layer, value, frame) {
  const o = S.origin ? S.origin[frame] : frame < S.nOF ? frame : -1;
  if (o < 0) return 255;
  const before = S.orig[layer * S.nOF + o];
  if (before === value) return -1;
  if (before & MASK_BIT) return 255;
  const a = (layer * codebookSize + (value & CODE_BITS)) * 3;
  const b = (layer * codebookSize + (before & CODE_BITS)) * 3;
  const d = Math.hypot(lab[a] - lab[b], lab[a + 1] - lab[b + 1], lab[a + 2] - lab[b + 2]);
  return Math.min(255, Math.max(40, Math.round((d / 100) * 255)));
}

/** A CSS linear-gradient of the colour scale, dark (left) to bright (right), for the legend. */
export function legendGradient() {
  const stops = VIRIDIS.map(([r, g, b], i) => `rgb(${r},${g},${b}) ${((i / (VIRIDIS.length - 1)) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}

/**
 * The legend's words at either end of the scale, and its tooltip.
 * @returns {{low: string, high: string, title: string}}
 */
export function legendText(mode, codebookSize) {
  if (mode === "change") {
    return {
      low: "near",
      high: "far",
      title: "colour: how far each cell moved from the original's code in its layer's codebook (CIELAB projection); light grey: unchanged; brightest: inserted frames; grey checker: masked",
    };
  }
  if (mode === "embedding") {
    return {
      low: "alike codes",
      high: "alike colours",
      title: "colour: the code's vector in its layer's codebook, projected into CIELAB (lightness: first principal axis); codes that sound alike look alike; grey checker: masked",
    };
  }
  if (mode === "frequency") {
    return { low: "rare", high: "common", title: "colour: how often the code occurs in its layer (log scale); grey checker: masked" };
  }
  return { low: "0", high: String(codebookSize - 1), title: "colour: code value; grey checker: masked" };
}
