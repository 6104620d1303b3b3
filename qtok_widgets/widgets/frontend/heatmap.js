// Heatmap drawing on two stacked canvases: the base (cells, edit marks, layer labels, time axis,
// waveform strip), repainted when data or view change, and the overlay (selection, playhead),
// repainted on every pointer move and animation frame while playing. paintColumns() and
// envelopeColumns() are the pure parts: they turn cells and envelopes into pixel columns.
//
// A scene is what one paint needs: {S (state.js), L (layout.js), view, colour (colour.js
// colourer), colourMode, layerNames, showWaveform, frameRate, selection, playhead, playing, ink}.

import { AXIS, EDIT_LANE, WAVE, axisTicks, frameAt, visibleFrames, xOfFrame } from "./layout.js";
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
 * Fill image columns [xa, xb) of an RGBA image of `geo.cols` x nL pixels: each pixel is the
 * colour of the first frame of its column, or a grey checker when any cell under it is masked;
 * editedCols[x] is 1 when any cell under column x differs from the original.
 * @param {Uint8ClampedArray} px RGBA pixels, row l = layer l
 * @param {Uint8Array} editedCols one entry per column
 */
export function paintColumns(px, editedCols, S, view, geo, colour, xa = 0, xb = geo.cols) {
  const rgb = [0, 0, 0];
  const { cur, orig, origin, nF, nL, nOF } = S;
  const cols = geo.cols;
  for (let x = xa; x < xb; x++) {
    const [fa, fb] = columnFrames(view, geo, x);
    if (fa >= nF) break;
    const stop = Math.min(fb, nF);
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
        colour(l, cur[row + fa], rgb);
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
 * The waveform strip's pixel columns: for each of the plot's CSS pixels, the min and max of
 * the envelope bins under it, or null where the envelope has no bins.
 * @param {{bins: number, data: Int8Array}} env bins per frame; data min, max pairs
 * @returns {Array<[number, number]|null>}
 */
export function envelopeColumns(env, L, view) {
  const nb = env.data.length / 2;
  const cols = Math.ceil(L.plotW);
  const out = new Array(cols).fill(null);
  for (let x = 0; x < cols; x++) {
    const ba = Math.floor(frameAt(L, view, L.gx + x) * env.bins);
    const bb = Math.max(ba + 1, Math.floor(frameAt(L, view, L.gx + x + 1) * env.bins));
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
      g.fillRect(perFrame ? x(f0 + c) : L.gx + c, 0, perFrame ? Math.max(1, view.cellW) : 1, EDIT_LANE - 2);
    }
    if (perFrame && view.cellW >= 3) {
      g.strokeStyle = EDIT_COLOUR;
      g.lineWidth = view.cellW >= 8 ? 2 : 1;
      for (let f = f0; f < f1; f++) {
        for (let l = 0; l < S.nL; l++) {
          if (isEdited(S, l, f)) g.strokeRect(x(f) + 1, L.gy + l * L.rowH + 1, view.cellW - 2, L.rowH - 2);
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
  }

  function drawLabels(g, { S, L, layerNames, selection, ink }) {
    g.font = `${Math.min(12, L.rowH - 2)}px sans-serif`;
    g.textAlign = "right";
    g.textBaseline = "middle";
    for (let l = 0; l < S.nL; l++) {
      const inSel = selection && l >= selection.layers[0] && l < selection.layers[1];
      const name = layerNames[l] || `L${l}`;
      g.fillStyle = inSel ? "rgba(31,119,180,0.18)" : l % 2 ? "rgba(0,0,0,0.03)" : "transparent";
      g.fillRect(0, L.gy + l * L.rowH, L.gx - 4, L.rowH);
      g.fillStyle = name.includes("sem") ? "#c0510c" : ink;
      if (L.rowH >= 8 || l % 4 === 0) g.fillText(name, L.gx - 8, L.gy + (l + 0.5) * L.rowH);
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

  function drawWave(g, { S, L, view, ink }) {
    const y0 = L.waveY;
    const mid = y0 + WAVE / 2;
    g.fillStyle = "rgba(0,0,0,0.025)";
    g.fillRect(L.gx, y0, L.plotW, WAVE);
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

  function drawOverlay({ S, L, view, selection, playhead, playing, frameRate, showWaveform }) {
    const ratio = dpr();
    const g = overlay.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, L.width, L.height);
    if (!S.nF) return;
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
    g.lineTo(x, L.height);
    g.stroke();
    g.restore();
  }

  return { drawBase, drawOverlay };
}
