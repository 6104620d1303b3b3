// Label rows above the grid: one row per tier of the `label_tiers` trait (word, phone or note
// labels as Python's timing edits left them), drawn on the grid's time axis; a click on a label
// selects its frames in all layers, Shift+click extends the selection. The frames of a label are
// resolved as Python's frames_from_seconds does (selection.py), so a click and
// editor.select(label=...) pick the same frames. Pure functions except drawLabels().

import { LABEL_ROW, xOfFrame } from "./layout.js";
const TOLERANCE = 1e-6; // as selection.py's _BOUNDARY_TOLERANCE

/** Tier names in the order Python sent them. */
export function tierNames(tiers) {
  return tiers ? Object.keys(tiers) : [];
}

/**
 * Frames [start, stop) overlapping [startS, endS): floor(t0 * rate) .. ceil(t1 * rate), clamped
 * into a grid of nF frames and never empty (Python's frames_from_seconds).
 */
export function labelFrames(startS, endS, frameRate, nF) {
  let start = Math.floor(startS * frameRate + TOLERANCE);
  let stop = Math.ceil(endS * frameRate - TOLERANCE);
  start = Math.max(0, Math.min(start, nF - 1));
  stop = Math.min(nF, Math.max(stop, start + 1));
  return [start, stop];
}

/**
 * The label under x in row `row`: {tier, index, start, end, text} or null.
 * @param {object} tiers {name: [[start_s, end_s, text], ...]}
 */
export function labelAt(tiers, row, seconds) {
  const name = tierNames(tiers)[row];
  if (name === undefined) return null;
  const items = tiers[name];
  for (let i = 0; i < items.length; i++) {
    const [start, end, text] = items[i];
    if (seconds >= start && seconds < end) return { tier: name, index: i, start, end, text };
  }
  return null;
}

/** The selection a click on `label` makes (all layers); with shift it extends `prev`. */
export function labelSelection(label, frameRate, nF, nL, prev, shift) {
  const frames = labelFrames(label.start, label.end, frameRate, nF);
  const sel = { frames, layers: [0, nL] };
  if (!shift || !prev) return sel;
  return {
    frames: [Math.min(prev.frames[0], frames[0]), Math.max(prev.frames[1], frames[1])],
    layers: [Math.min(prev.layers[0], 0), Math.max(prev.layers[1], nL)],
  };
}

/** Draw the label rows (L.labelH high at the top of the canvas) on the grid's time axis. */
export function drawLabels(g, { L, view, tiers, frameRate, ink }) {
  const names = tierNames(tiers);
  if (!names.length) return;
  g.save();
  g.font = "11px sans-serif";
  g.textBaseline = "middle";
  names.forEach((name, row) => {
    const y = row * LABEL_ROW;
    g.clearRect(0, y, L.width, LABEL_ROW);
    g.fillStyle = ink;
    g.textAlign = "right";
    g.fillText(name.slice(0, 9), L.gx - 6, y + LABEL_ROW / 2);
    g.beginPath();
    g.rect(L.gx, y, L.plotW, LABEL_ROW);
    g.clip();
    g.textAlign = "center";
    tiers[name].forEach(([start, end, text], i) => {
      const x0 = xOfFrame(L, view, start * frameRate);
      const x1 = xOfFrame(L, view, end * frameRate);
      if (x1 < L.gx || x0 > L.gx + L.plotW) return;
      g.fillStyle = i % 2 ? "rgba(31,119,180,0.16)" : "rgba(255,127,14,0.16)";
      g.fillRect(x0, y + 1, Math.max(1, x1 - x0), LABEL_ROW - 2);
      g.strokeStyle = "rgba(0,0,0,0.35)";
      g.beginPath();
      g.moveTo(x0 + 0.5, y + 1);
      g.lineTo(x0 + 0.5, y + LABEL_ROW - 1);
      g.stroke();
      if (x1 - x0 > 12) {
        g.fillStyle = ink;
        g.fillText(text, (x0 + x1) / 2, y + LABEL_ROW / 2, x1 - x0 - 4);
      }
    });
    g.restore();
    g.save();
    g.font = "11px sans-serif";
    g.textBaseline = "middle";
  });
  g.restore();
}
