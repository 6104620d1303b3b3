// Heatmap drawing on two stacked canvases: the base (cells, edit marks, layer labels, time axis,
// waveform strip), repainted when data or view change, and the overlay (selection, playhead),
// repainted on every pointer move and animation frame while playing. paintColumns() and
// envelopeColumns() are the pure parts: they turn cells and envelopes into pixel columns.
//
// A scene is what one paint needs: {S (state.js), L (layout.js), view, colour (colour.js
// colourer), colourMode, layerNames, showWaveform, frameRate, selection, playhead, playing, ink,
// heard (null, or per layer whether playback lets it through), sourceSelection ([start, stop]
// frames of the second clip, or null), waveNote (text in the waveform strip, or null)}.

import { AXIS, EDIT_LANE, MINI, MUTE_W, WAVE, axisTicks, frameAt, visibleFrames, xOfFrame } from "./layout.js";
import { fmtTime } from "./format.js";
import { isEdited } from "./state.js";
import { CODE_BITS, MASK_BIT } from "./wire.js";

const EDIT_COLOUR = "#ff7f0e";
const SELECTION_COLOUR = "#1f77b4";

/**
 * Which frames each image column covers: one column per frame when a frame is at least one
 * pixel wide, else one column per CSS pixel.
 * @returns {{f0: number, f1: number, perFrame: boolean, cols: number}}
 */
export function imageColumns(L, view, nF) {
  const [f0, f1] = visibleFrames(L, view, nF);
  const perFrame = view.cellW >= 1;
  const cols = Math.max(1, perFrame ? f1 - f0 : Math.ceil(L.plotW));
  return { f0, f1, perFrame, cols };
}

/** Frames [fa, fb) under image column x. */
export function columnFrames(view, geo, x) {
  if (geo.perFrame) return [geo.f0 + x, geo.f0 + x + 1];
  const fa = Math.floor(view.v0 + x / view.cellW);
  return [fa, Math.max(fa + 1, Math.floor(view.v0 + (x + 1) / view.cellW))];
}

/**
 * The commonest code among `values[a..b)` (held cells; the mask bit is ignored), the smaller
 * code on a tie. A column of a fitted long grid stands for many frames: it shows the code that
 * dominates them, not whichever frame happens to come first (which looks like noise).
 * @param {Uint32Array} values held cells
 * @param {Uint32Array} scratch at least b - a entries
 */
export function dominantCode(values, a, b, scratch) {
  const n = b - a;
  if (n <= 1) return values[a] & CODE_BITS;
  for (let i = 0; i < n; i++) scratch[i] = values[a + i] & CODE_BITS;
  const run = scratch.subarray(0, n).sort();
  let best = run[0];
  let bestCount = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && run[j] === run[i]) j++;
    if (j - i > bestCount) {
      bestCount = j - i;
      best = run[i];
    }
    i = j;
  }
  return best;
}

/**
 * How an edited cell is marked: "outline" (an orange frame round the cell), "corner" (an orange
 * corner only, for a masked cell, so that its grey checker stays visible) or null (cells too
 * narrow to mark; the edit lane above the grid still shows the column).
 */
export function editMark(masked, cellW) {
  if (cellW < 3) return null;
  return masked ? "corner" : "outline";
}

/**
 * Fill image columns [xa, xb) of an RGBA image of `geo.cols` x nL pixels: each pixel is the
 * colour of its column's frame or, where a column covers several frames, of the code that
 * dominates them (dominantCode()), or a grey checker when any cell under it is masked;
 * editedCols[x] is 1 when any cell under column x differs from the original.
 * @param {Uint8ClampedArray} px RGBA pixels, row l = layer l
 * @param {Uint8Array} editedCols one entry per column
 */
export function paintColumns(px, editedCols, S, view, geo, colour, xa = 0, xb = geo.cols) {
  const rgb = [0, 0, 0];
  const { cur, orig, origin, nF, nL, nOF } = S;
  const cols = geo.cols;
  let scratch = new Uint32Array(16);
  for (let x = xa; x < xb; x++) {
    const [fa, fb] = columnFrames(view, geo, x);
    if (fa >= nF) break;
    const stop = Math.min(fb, nF);
    if (stop - fa > scratch.length) scratch = new Uint32Array(2 * (stop - fa));
    let edited = 0;
    for (let l = 0; l < nL; l++) {
      const row = l * nF;
      const orow = l * nOF;
      let masked = false;
      for (let f = fa; f < stop; f++) {
        const v = cur[row + f];
        if (v & MASK_BIT) masked = true;
        if (!edited) {
          const o = origin ? origin[f] : f < nOF ? f : -1;
          if (o < 0 || v !== orig[orow + o]) edited = 1;
        }
      }
      const o = (l * cols + x) * 4;
      if (masked) {
        const dark = ((fa + l) & 1) === 0;
        px[o] = px[o + 1] = px[o + 2] = dark ? 34 : 58;
      } else {
        const code = stop - fa > 1 ? dominantCode(cur, row + fa, row + stop, scratch) : cur[row + fa];
        colour(l, code, rgb, fa);
        px[o] = rgb[0];
        px[o + 1] = rgb[1];
        px[o + 2] = rgb[2];
      }
      px[o + 3] = 255;
    }
    editedCols[x] = edited;
  }
}

/**
 * An RGBA image of a whole clip fitted into `cols` columns (the second clip's track, the
 * overview strip): dominant code per column and layer, grey checker where masked.
 * @returns {Uint8ClampedArray} cols x nL pixels, row l = layer l
 */
export function fittedImage(cells, nL, nF, cols, colour) {
  const px = new Uint8ClampedArray(cols * nL * 4);
  const rgb = [0, 0, 0];
  let scratch = new Uint32Array(Math.max(16, Math.ceil(nF / Math.max(1, cols)) + 2));
  for (let x = 0; x < cols; x++) {
    const fa = Math.floor((x * nF) / cols);
    const fb = Math.max(fa + 1, Math.floor(((x + 1) * nF) / cols));
    if (fa >= nF) break;
    if (fb - fa > scratch.length) scratch = new Uint32Array(2 * (fb - fa));
    for (let l = 0; l < nL; l++) {
      const row = l * nF;
      const o = (l * cols + x) * 4;
      let masked = false;
      for (let f = fa; f < fb; f++) if (cells[row + f] & MASK_BIT) masked = true;
      if (masked) {
        px[o] = px[o + 1] = px[o + 2] = ((fa + l) & 1) === 0 ? 34 : 58;
      } else {
        colour(l, dominantCode(cells, row + fa, row + fb, scratch), rgb);
        px[o] = rgb[0];
        px[o + 1] = rgb[1];
        px[o + 2] = rgb[2];
      }
      px[o + 3] = 255;
    }
  }
  return px;
}

/**
 * The waveform strip's pixel columns: for each of the plot's CSS pixels, the min and max of
 * the envelope bins under it, or null where the envelope has no bins.
 * @param {{bins: number, data: Int8Array, start?: number}} env bins per frame; data min, max
 *   pairs; start: the frame of its first bin (a window of a long recording; default 0)
 * @returns {Array<[number, number]|null>}
 */
export function envelopeColumns(env, L, view) {
  const nb = env.data.length / 2;
  const off = (env.start || 0) * env.bins; // a window of a long recording starts at frame env.start
  const cols = Math.ceil(L.plotW);
  const out = new Array(cols).fill(null);
  for (let x = 0; x < cols; x++) {
    const ba = Math.floor(frameAt(L, view, L.gx + x) * env.bins) - off;
    const bb = Math.max(ba + 1, Math.floor(frameAt(L, view, L.gx + x + 1) * env.bins) - off);
    if (ba >= nb || bb <= 0) continue;
    let lo = 127;
    let hi = -127;
    for (let b = Math.max(0, ba); b < Math.min(bb, nb); b++) {
      lo = Math.min(lo, env.data[2 * b]);
      hi = Math.max(hi, env.data[2 * b + 1]);
    }
    out[x] = [lo, hi];
  }
  return out;
}

/**
 * Painter for one editor's canvases.
 * @param {{base: HTMLCanvasElement, overlay: HTMLCanvasElement, stage: HTMLElement}} els
 * @returns {{drawBase(scene, dirty?), drawOverlay(scene)}} drawBase(scene, [start, stop])
 *   recomputes only the image columns over those frames when the view is unchanged
 */
export function createHeatmap({ base, overlay, stage }) {
  const scratch = document.createElement("canvas");
  let cache = null;
  const dpr = () => window.devicePixelRatio || 1;

  function sizeCanvases(L) {
    const ratio = dpr();
    for (const c of [base, overlay]) {
      const w = Math.round(L.width * ratio);
      const h = Math.round(L.height * ratio);
      if (c.width !== w || c.height !== h) {
        c.width = w;
        c.height = h;
        c.style.width = L.width + "px";
        c.style.height = L.height + "px";
      }
    }
    stage.style.height = L.height + "px";
  }

  function drawBase(scene, dirty) {
    const { S, L, view } = scene;
    sizeCanvases(L);
    const ratio = dpr();
    const g = base.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, L.width, L.height);
    if (!S.nF || !S.nL) return;
    const geo = imageColumns(L, view, S.nF);
    const { f0, f1, perFrame, cols } = geo;
    const reuse = dirty && cache && cache.v0 === view.v0 && cache.cellW === view.cellW && cache.cols === cols &&
      cache.nF === S.nF && cache.nL === S.nL && scene.colourMode === "code";
    if (!reuse) {
      scratch.width = cols;
      scratch.height = S.nL;
      cache = {
        v0: view.v0, cellW: view.cellW, cols, nF: S.nF, nL: S.nL,
        img: scratch.getContext("2d").createImageData(cols, S.nL),
        editedCols: new Uint8Array(cols),
      };
    }
    let xa = 0;
    let xb = cols;
    if (reuse) {
      xa = perFrame ? dirty[0] - f0 : Math.floor((dirty[0] - view.v0) * view.cellW) - 1;
      xb = perFrame ? dirty[1] - f0 : Math.ceil((dirty[1] - view.v0) * view.cellW) + 1;
      xa = Math.max(0, xa);
      xb = Math.min(cols, xb);
    }
    paintColumns(cache.img.data, cache.editedCols, S, view, geo, scene.colour, xa, xb);
    if (scratch.width !== cols || scratch.height !== S.nL) {
      scratch.width = cols;
      scratch.height = S.nL;
    }
    scratch.getContext("2d").putImageData(cache.img, 0, 0);
    const x = (f) => xOfFrame(L, view, f);
    g.imageSmoothingEnabled = false;
    g.save();
    g.beginPath();
    g.rect(L.gx, 0, L.plotW, L.height);
    g.clip();
    if (perFrame) g.drawImage(scratch, 0, 0, cols, S.nL, x(f0), L.gy, cols * view.cellW, L.gridH);
    else g.drawImage(scratch, 0, 0, cols, S.nL, L.gx, L.gy, cols, L.gridH);
    // edits lane and outlines of edited cells
    g.fillStyle = EDIT_COLOUR;
    for (let c = 0; c < cols; c++) {
      if (!cache.editedCols[c]) continue;
      g.fillRect(perFrame ? x(f0 + c) : L.gx + c, L.labelH || 0, perFrame ? Math.max(1, view.cellW) : 1, EDIT_LANE - 2);
    }
    if (perFrame && view.cellW >= 3) {
      g.strokeStyle = EDIT_COLOUR;
      g.fillStyle = EDIT_COLOUR;
      g.lineWidth = view.cellW >= 8 ? 2 : 1;
      const c = Math.max(3, Math.min(8, view.cellW / 2, L.rowH / 2)); // corner mark size
      for (let f = f0; f < f1; f++) {
        for (let l = 0; l < S.nL; l++) {
          if (!isEdited(S, l, f)) continue;
          const mark = editMark((S.cur[l * S.nF + f] & MASK_BIT) !== 0, view.cellW);
          const cx = x(f);
          const cy = L.gy + l * L.rowH;
          if (mark === "outline") g.strokeRect(cx + 1, cy + 1, view.cellW - 2, L.rowH - 2);
          else if (mark === "corner") {
            g.beginPath();
            g.moveTo(cx, cy);
            g.lineTo(cx + c, cy);
            g.lineTo(cx, cy + c);
            g.closePath();
            g.fill();
          }
        }
      }
    }
    if (perFrame && view.cellW >= 30) {
      // zoomed in: the code of every cell
      g.font = "10px sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      for (let f = f0; f < f1; f++) {
        for (let l = 0; l < S.nL; l++) {
          const v = S.cur[l * S.nF + f];
          g.fillStyle = v & MASK_BIT ? "#bbb" : "rgba(255,255,255,0.85)";
          g.fillText(v & MASK_BIT ? "×" : String(v & CODE_BITS), x(f) + view.cellW / 2, L.gy + (l + 0.5) * L.rowH);
        }
      }
    }
    if (scene.showWaveform) drawWave(g, scene);
    g.restore();
    drawLabels(g, scene);
    drawAxis(g, scene);
    if (L.trackH && S.src) drawSource(g, scene);
    drawMini(g, scene);
  }

  // the second clip, fitted across the plot, with a label; cached until it or the width changes
  let srcCache = null;
  function drawSource(g, { S, L, colour, colourMode, ink }) {
    const cols = Math.max(1, Math.round(L.plotW));
    if (!srcCache || srcCache.src !== S.src || srcCache.cols !== cols || srcCache.mode !== colourMode) {
      const c = document.createElement("canvas");
      c.width = cols;
      c.height = S.src.nL;
      const img = c.getContext("2d").createImageData(cols, S.src.nL);
      img.data.set(fittedImage(S.src.cells, S.src.nL, S.src.nF, cols, colour));
      c.getContext("2d").putImageData(img, 0, 0);
      srcCache = { src: S.src, cols, mode: colourMode, canvas: c };
    }
    g.imageSmoothingEnabled = false;
    g.drawImage(srcCache.canvas, 0, 0, cols, S.src.nL, L.gx, L.trackY, L.plotW, L.trackH);
    g.fillStyle = ink;
    g.font = "10px sans-serif";
    g.textAlign = "right";
    g.textBaseline = "middle";
    g.fillText("2nd clip", L.gx - 8, L.trackY + L.trackH / 2);
  }

  // the whole recording, fitted, under everything: the view's window is drawn on the overlay
  let miniCache = null;
  function drawMini(g, { S, L, colour, colourMode }) {
    const cols = Math.max(1, Math.round(L.plotW));
    const key = `${cols}|${S.nF}|${S.nL}|${colourMode}|${S.version}`;
    if (!miniCache || miniCache.key !== key) {
      const c = document.createElement("canvas");
      c.width = cols;
      c.height = S.nL;
      const img = c.getContext("2d").createImageData(cols, S.nL);
      img.data.set(fittedImage(S.cur, S.nL, S.nF, cols, colour));
      c.getContext("2d").putImageData(img, 0, 0);
      miniCache = { key, canvas: c };
    }
    g.imageSmoothingEnabled = false;
    g.drawImage(miniCache.canvas, 0, 0, cols, S.nL, L.gx, L.miniY + 2, L.plotW, MINI - 4);
  }

  function drawLabels(g, { S, L, layerNames, selection, ink, heard }) {
    g.font = `${Math.min(12, L.rowH - 2)}px sans-serif`;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (let l = 0; l < S.nL; l++) {
      const inSel = selection && l >= selection.layers[0] && l < selection.layers[1];
      const name = layerNames[l] || `L${l}`;
      const muted = heard && !heard[l];
      const cy = L.gy + (l + 0.5) * L.rowH;
      g.fillStyle = inSel ? "rgba(31,119,180,0.18)" : l % 2 ? "rgba(0,0,0,0.03)" : "transparent";
      g.fillRect(0, L.gy + l * L.rowH, L.gx - 4, L.rowH);
      // the playback toggle: a filled dot when the layer is heard, a ring when it is muted
      const r = Math.max(1.5, Math.min(4, L.rowH / 2 - 1));
      g.beginPath();
      g.arc(MUTE_W / 2, cy, r, 0, 2 * Math.PI);
      g.strokeStyle = g.fillStyle = muted ? "#999" : "#2ca02c";
      if (muted) g.stroke();
      else g.fill();
      g.globalAlpha = muted ? 0.4 : 1;
      g.fillStyle = name.includes("sem") ? "#c0510c" : ink;
      if (L.rowH >= 8 || l % 4 === 0) g.fillText(name, L.gx - 8, cy);
      g.globalAlpha = 1;
    }
    if (S.nL > 1) {
      // separator under semantic rows
      layerNames.forEach((name, l) => {
        if (!name.includes("sem")) return;
        g.strokeStyle = "#8c2d04";
        g.beginPath();
        g.moveTo(L.gx - 4, L.gy + (l + 1) * L.rowH);
        g.lineTo(L.gx, L.gy + (l + 1) * L.rowH);
        g.stroke();
      });
    }
  }

  function drawAxis(g, { L, view, frameRate, ink }) {
    const y = L.axisY;
    g.fillStyle = "rgba(0,0,0,0.04)";
    g.fillRect(L.gx, y, L.plotW, AXIS);
    g.strokeStyle = "#888";
    g.fillStyle = ink;
    g.font = "10px sans-serif";
    g.textAlign = "left";
    g.textBaseline = "top";
    const { step, ticks } = axisTicks(L, view, frameRate);
    for (const { seconds, x } of ticks) {
      g.beginPath();
      g.moveTo(x + 0.5, y);
      g.lineTo(x + 0.5, y + 6);
      g.stroke();
      g.fillText(fmtTime(seconds, step), x + 2, y + 8);
    }
    g.textAlign = "right";
    g.fillText("time", L.gx - 8, y + 8);
  }

  function drawWave(g, { S, L, view, ink, waveNote }) {
    const y0 = L.waveY;
    const mid = y0 + WAVE / 2;
    g.fillStyle = "rgba(0,0,0,0.025)";
    g.fillRect(L.gx, y0, L.plotW, WAVE);
    if (waveNote) {
      g.fillStyle = ink;
      g.font = "11px sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      g.fillText(waveNote, L.gx + L.plotW / 2, mid);
    }
    const draw = (env, colour) => {
      if (!env) return;
      g.fillStyle = colour;
      envelopeColumns(env, L, view).forEach((c, x) => {
        if (!c) return;
        const top = mid - (c[1] / 127) * (WAVE / 2 - 2);
        const bot = mid - (c[0] / 127) * (WAVE / 2 - 2);
        g.fillRect(L.gx + x, top, 1, Math.max(1, bot - top));
      });
    };
    draw(S.env.original, "rgba(120,120,120,0.55)");
    draw(S.env.edited, "rgba(31,119,180,0.6)");
    g.fillStyle = ink;
    g.font = "10px sans-serif";
    g.textAlign = "left";
    g.textBaseline = "top";
    g.fillText("original", L.gx + 4, y0 + 2);
    g.fillStyle = "rgb(31,119,180)";
    g.fillText("edited", L.gx + 52, y0 + 2);
  }

  function drawOverlay({ S, L, view, selection, playhead, playing, frameRate, showWaveform, sourceSelection }) {
    const ratio = dpr();
    const g = overlay.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, L.width, L.height);
    if (!S.nF) return;
    // the visible window on the overview strip, and the playhead there
    const mx = (f) => L.gx + (f / S.nF) * L.plotW;
    const [v0, v1] = [Math.max(0, view.v0), Math.min(S.nF, view.v0 + L.plotW / view.cellW)];
    g.strokeStyle = "#d62728";
    g.lineWidth = 1.5;
    g.strokeRect(mx(v0), L.miniY + 1, Math.max(2, mx(v1) - mx(v0)), MINI - 2);
    g.fillStyle = playing ? "#d62728" : "#222";
    g.fillRect(mx(playhead * frameRate) - 0.5, L.miniY, 1, MINI);
    if (L.trackH && S.src && sourceSelection) {
      const sx = (f) => L.gx + (f / S.src.nF) * L.plotW;
      const x0 = sx(sourceSelection[0]);
      g.fillStyle = "rgba(255,255,255,0.25)";
      g.fillRect(x0, L.trackY, Math.max(1, sx(sourceSelection[1]) - x0), L.trackH);
      g.strokeStyle = SELECTION_COLOUR;
      g.lineWidth = 2;
      g.strokeRect(x0, L.trackY + 1, Math.max(1, sx(sourceSelection[1]) - x0), L.trackH - 2);
    }
    g.save();
    g.beginPath();
    g.rect(L.gx, 0, L.plotW, L.height);
    g.clip();
    if (selection) {
      const x0 = xOfFrame(L, view, selection.frames[0]);
      const w = Math.max(1, xOfFrame(L, view, selection.frames[1]) - x0);
      const y0 = L.gy + selection.layers[0] * L.rowH;
      const h = (selection.layers[1] - selection.layers[0]) * L.rowH;
      g.fillStyle = "rgba(255,255,255,0.22)";
      g.fillRect(x0, y0, w, h);
      g.strokeStyle = "#fff";
      g.lineWidth = 2;
      g.strokeRect(x0, y0, w, h);
      g.strokeStyle = SELECTION_COLOUR;
      g.lineWidth = 1;
      g.setLineDash([4, 3]);
      g.strokeRect(x0, y0, w, h);
      g.setLineDash([]);
      g.fillStyle = "rgba(31,119,180,0.25)";
      g.fillRect(x0, L.axisY, w, AXIS);
      if (showWaveform) g.fillRect(x0, L.waveY, w, WAVE);
    }
    const x = xOfFrame(L, view, playhead * frameRate);
    g.strokeStyle = playing ? "#d62728" : "#222";
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, L.trackY);
    g.stroke();
    g.restore();
  }

  return { drawBase, drawOverlay };
}
