// Text the editor shows: time-axis labels, the info line and the cell tooltip. Pure functions.

import { CODE_BITS, MASK_BIT } from "./wire.js";

/**
 * A time-axis label: seconds below a minute ("1.5s"), else minutes:seconds ("2:05.0"), with as
 * many decimals as the tick step needs (2 below 0.1 s, 1 below 1 s, else none).
 */
export function fmtTime(seconds, step) {
  const digits = step < 0.1 - 1e-9 ? 2 : step < 1 ? 1 : 0;
  if (seconds < 60) return seconds.toFixed(digits) + "s";
  const m = Math.floor(seconds / 60);
  const r = seconds - m * 60;
  return `${m}:${r.toFixed(digits).padStart(digits ? digits + 3 : 2, "0")}`;
}

/** A held cell as text: "17", or "17 (masked)". */
export function fmtCell(value) {
  return value & MASK_BIT ? `${value & CODE_BITS} (masked)` : String(value & CODE_BITS);
}

/** The info line: grid size, duration, codec and, with a selection, what it covers. */
export function infoText({ nLayers, nFrames, frameRate, codecName, selection }) {
  const fr = frameRate;
  let text = `${nLayers}×${nFrames} · ${(nFrames / fr).toFixed(2)} s · ${codecName}`;
  const sel = selection;
  if (sel) {
    const [f0, f1] = sel.frames;
    const [l0, l1] = sel.layers;
    const cells = (f1 - f0) * (l1 - l0);
    text += ` · sel ${f0}..${f1 - 1} (${(f0 / fr).toFixed(2)}–${(f1 / fr).toFixed(2)} s) × L${l0}..${l1 - 1} = ${cells} cells`;
  }
  return text;
}

/**
 * The tooltip of one cell: layer name, frame, time, code and the original code.
 * @param {{layerName: string, frame: number, frameRate: number, value: number,
 *   original: number|null, originFrame: number}} c value and original are held cells
 *   (code | mask << 30); original is null for an inserted frame
 */
export function tooltipText({ layerName, frame, frameRate, value, original, originFrame }) {
  const moved = originFrame >= 0 && originFrame !== frame ? ` (frame ${originFrame})` : "";
  return (
    `${layerName} · frame ${frame} · ${(frame / frameRate).toFixed(3)} s\n` +
    `code ${fmtCell(value)} · original ${original === null ? "— (inserted)" : fmtCell(original)}${moved}`
  );
}
