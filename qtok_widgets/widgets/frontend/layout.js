// Layout math: where the grid, the time axis and the waveform strip sit on the canvas, which
// frames are visible at the current zoom, what is under the pointer, and the selection
// rectangles a drag makes. Pure functions of numbers; all lengths are CSS pixels.
//
// A view is {v0, cellW, fitted}: v0 is the (fractional) frame at the left edge of the plot,
// cellW the width of one frame column, fitted whether the whole recording fills the width.
// A selection is {frames: [start, stop], layers: [start, stop]}, half-open.

export const GUTTER = 64; // layer label column
export const EDIT_LANE = 6; // strip above the grid marking frames with edits
export const AXIS = 24; // time axis height
export const WAVE = 64; // waveform strip height
export const MAX_CELL = 48; // widest frame column when zoomed in
export const MUTE_W = 14; // left part of the label column: click toggles the layer in playback
export const TRACK = 40; // the second clip's track, under the waveform
export const MINI = 16; // overview strip of the whole recording, at the bottom
export const LABEL_ROW = 16; // one row of labels (a tier), above the edit lane
export const STRIP_MEL = 48; // acoustic strips under the waveform: spectrogram, pitch, energy
export const STRIP_PITCH = 36;
export const STRIP_ENERGY = 18;
export const STRIPS = STRIP_MEL + STRIP_PITCH + STRIP_ENERGY;

/**
 * Canvas layout for a grid of `nLayers` rows.
 * @param {{nLayers: number, heightPx: number, width: number, showWaveform: boolean, source?: boolean, labelRows?: number}} p
 *   heightPx: wanted height of the heatmap; width: the stage's width (at least 200 is used);
 *   source: a second clip is loaded (its track is drawn under the waveform); labelRows: tiers
 *   of labels drawn above the edit lane (LABEL_ROW each); strips: the acoustic strips (STRIPS
 *   high) are drawn under the waveform; 2: with two spectrogram rows (original and edited)
 * @returns {{rowH, width, plotW, gx, gy, gridH, axisY, waveY, trackY, trackH, miniY, height, labelH, stripY, stripH, melH}}
 *   rowH: one layer's row height; gx, gy: top left corner of the grid; plotW: width of the plot
 *   right of the labels; axisY, waveY, trackY, miniY: tops of the time axis, the waveform strip,
 *   the second clip's track (trackH high, 0 without one) and the overview strip (MINI high);
 *   height: of the whole canvas; labelH: height of the label rows at the top (0 without labels);
 *   stripY, stripH: top and height of the acoustic strips (stripH 0 without them); melH: of
 *   their spectrogram rows
 */
export function computeLayout({
  nLayers, heightPx, width, showWaveform, source = false, labelRows = 0, strips = false,
}) {
  const rowH = Math.max(6, Math.round(heightPx / Math.max(1, nLayers)));
  const w = Math.max(200, width || 800);
  const plotW = w - GUTTER - 8;
  const labelH = labelRows * LABEL_ROW;
  const gy = labelH + EDIT_LANE;
  const gridH = rowH * nLayers;
  const axisY = gy + gridH;
  const waveY = axisY + AXIS;
  const stripY = waveY + (showWaveform ? WAVE : 0);
  const melH = strips ? STRIP_MEL * (strips === 2 ? 2 : 1) : 0;
  const stripH = strips ? STRIPS - STRIP_MEL + melH : 0;
  const trackY = stripY + stripH;
  const trackH = source ? TRACK : 0;
  const miniY = trackY + trackH + (source ? 2 : 0);
  const height = miniY + MINI;
  return {
    rowH, width: w, plotW, gx: GUTTER, gy, gridH, axisY, waveY, trackY, trackH, miniY, height, labelH, stripY, stripH, melH,
  };
}

/** Narrowest frame column: the whole recording fills the plot. */
export function fitCellWidth(L, nF) {
  return L.plotW / Math.max(1, nF);
}

/**
 * The view kept inside the recording: cellW between fitting everything and MAX_CELL, v0 so
 * that the plot never shows past the last frame.
 * @returns {{v0: number, cellW: number, fitted: boolean}} a new view
 */
export function clampView(view, L, nF) {
  const minCell = fitCellWidth(L, nF);
  let cellW = view.fitted || view.cellW <= 0 ? minCell : view.cellW;
  cellW = Math.min(MAX_CELL, Math.max(minCell, cellW));
  const visible = L.plotW / cellW;
  let v0 = Math.max(0, Math.min(view.v0, nF - visible));
  if (nF <= visible) v0 = 0;
  return { v0, cellW, fitted: view.fitted };
}

/** Frames that can scroll out of sight at this zoom (0 when everything is visible). */
export function scrollSpan(view, L, nF) {
  return Math.max(0, nF - L.plotW / view.cellW);
}

/** The scroll bar for a view: {max, value, disabled} (value in 0..max, as strings go to an <input type=range>). */
export function scrollBar(view, L, nF) {
  const span = scrollSpan(view, L, nF);
  const max = Math.max(1000, nF);
  return { max, value: span > 0 ? Math.round((view.v0 / span) * max) : 0, disabled: span <= 0 };
}

/** v0 for scroll bar position `value` of `max`. */
export function v0FromScroll(value, max, view, L, nF) {
  return (value / max) * scrollSpan(view, L, nF);
}

/** x (CSS px from the canvas's left) of the left edge of frame `f` (fractional frames allowed). */
export function xOfFrame(L, view, f) {
  return L.gx + (f - view.v0) * view.cellW;
}

/** Fractional frame at x (CSS px from the canvas's left). */
export function frameAt(L, view, x) {
  return view.v0 + (x - L.gx) / view.cellW;
}

/** Middle of cell (frame, layer), in CSS px from the canvas's top left corner. */
export function cellCentre(L, view, frame, layer) {
  return { x: xOfFrame(L, view, frame + 0.5), y: L.gy + (layer + 0.5) * L.rowH };
}

/** Visible frames [f0, f1) (f1 exclusive, at most nF). */
export function visibleFrames(L, view, nF) {
  return [Math.floor(view.v0), Math.min(nF, Math.ceil(view.v0 + L.plotW / view.cellW))];
}

/**
 * What is at (x, y): the zone ("tier" (the label rows), "grid", "labels", "mute" (the left of a layer label), "axis",
 * "wave", "source" (the second clip's track), "mini" (the overview strip) or "none") and the
 * nearest cell, clamped into the grid.
 * @returns {{x, y, zone, frame, layer}}
 */
export function hitTest(L, view, nF, nL, x, y) {
  let zone = "none";
  if (L.labelH && y < L.labelH && x >= L.gx) zone = "tier";
  else if (y >= L.gy && y < L.axisY) zone = x >= L.gx ? "grid" : x < MUTE_W ? "mute" : "labels";
  else if (y >= L.axisY && y < L.waveY && x >= L.gx) zone = "axis";
  else if (y >= L.waveY && y < L.trackY && x >= L.gx) zone = "wave";
  else if (L.trackH && y >= L.trackY && y < L.trackY + L.trackH && x >= L.gx) zone = "source";
  else if (y >= L.miniY && y < L.miniY + MINI && x >= L.gx) zone = "mini";
  const frame = Math.max(0, Math.min(nF - 1, Math.floor(frameAt(L, view, x))));
  const layer = Math.max(0, Math.min(nL - 1, Math.floor((y - L.gy) / L.rowH)));
  return { x, y, zone, frame, layer };
}

/** Frame of a clip of `n` frames drawn fitted across the plot (the track, the overview) at x. */
export function fittedFrameAt(L, n, x) {
  return Math.max(0, Math.min(n - 1, Math.floor(((x - L.gx) / L.plotW) * n)));
}

/** v0 that centres frame `f` in the plot (the overview strip's click), before clampView(). */
export function centreOn(L, view, f) {
  return f - L.plotW / view.cellW / 2;
}

/**
 * Where the view goes so that it follows a playing playhead at frame `f`: unchanged while `f`
 * is inside the left 90 % of the view, else a page on, with `f` near the left edge.
 * @returns {number} the new v0
 */
export function followV0(L, view, f) {
  const visible = L.plotW / view.cellW;
  if (f >= view.v0 && f <= view.v0 + 0.9 * visible) return view.v0;
  return Math.max(0, f - 0.05 * visible);
}

/** The selection spanned by two cells (each {frame, layer}), both included. */
export function cellRect(a, b) {
  return {
    frames: [Math.min(a.frame, b.frame), Math.max(a.frame, b.frame) + 1],
    layers: [Math.min(a.layer, b.layer), Math.max(a.layer, b.layer) + 1],
  };
}

/** Smallest selection holding both `s` (may be null) and `t`. */
export function union(s, t) {
  if (!s) return t;
  return {
    frames: [Math.min(s.frames[0], t.frames[0]), Math.max(s.frames[1], t.frames[1])],
    layers: [Math.min(s.layers[0], t.layers[0]), Math.max(s.layers[1], t.layers[1])],
  };
}

/**
 * The selection of a drag from `start` to `h` (hitTest results) that began in `zone`: layer
 * labels select whole rows, the time axis and waveform whole columns; with shift it extends `prev`.
 */
export function dragSelection({ zone, start, shift, prev }, h, nF, nL) {
  let sel = cellRect(start, h);
  if (zone === "labels") sel = { frames: [0, nF], layers: sel.layers };
  if (zone === "axis" || zone === "wave") sel = { frames: sel.frames, layers: [0, nL] };
  return shift ? union(prev, sel) : sel;
}

/**
 * Zoom by `factor` keeping the frame under `anchorX` (default: the plot's middle) in place.
 * @returns {{v0, cellW, fitted}} a new view (not yet clamped)
 */
export function zoomView(view, L, nF, factor, anchorX) {
  const ax = anchorX ?? L.gx + L.plotW / 2;
  const fAt = frameAt(L, view, ax);
  const minCell = fitCellWidth(L, nF);
  const cellW = Math.min(MAX_CELL, Math.max(minCell, view.cellW * factor));
  return { v0: fAt - (ax - L.gx) / cellW, cellW, fitted: cellW <= minCell + 1e-9 };
}

/** Seconds between time-axis ticks: the first of a fixed ladder that leaves 70 px between labels. */
export function tickStep(cellW, frameRate) {
  // round numbers only, so that labels step evenly (0.2, 0.4, 0.6, never 0.16, 0.32, 0.48)
  const steps = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800];
  const pxPerS = cellW * frameRate;
  return steps.find((s) => s * pxPerS >= 70) || 3600;
}

/**
 * Time-axis ticks in view, each {seconds, x}; labels that would not fit at the right edge are dropped.
 * @returns {{step: number, ticks: Array<{seconds: number, x: number}>}}
 */
export function axisTicks(L, view, frameRate) {
  const step = tickStep(view.cellW, frameRate);
  const tStart = view.v0 / frameRate;
  const tEnd = (view.v0 + L.plotW / view.cellW) / frameRate;
  const first = Math.ceil(tStart / step - 1e-9) * step;
  const ticks = [];
  for (let k = 0; first + k * step <= tEnd + 1e-9; k++) {
    const seconds = Math.round((first + k * step) * 1000) / 1000; // 0.6, not 0.6000000000000001
    const x = xOfFrame(L, view, seconds * frameRate);
    if (x > L.gx + L.plotW - 24) break; // keep the label inside the plot
    ticks.push({ seconds, x });
  }
  return { step, ticks };
}
