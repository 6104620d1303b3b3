// Acoustic strips under the waveform, on the grid's time axis: the log-mel spectrogram (of the
// edited audio, the original, both stacked, or their difference), the pitch curves of the
// original (grey) and the edited audio (blue), in Hz or semitones, and the edited audio's
// energy. Python computes them (qtok_widgets/widgets/_strips.py) and sends them quantised in
// "strips" messages; the original's columns arrive already laid under the edited audio, so
// both versions share one time axis after timing edits. A short clip's strips are held whole
// ("whole": sent once, then the columns an edit re-rendered); a long clip's as an overview of
// the whole clip ("overview", fpc frames per column) plus the visible window in detail
// ("window"), each drawn where it has columns. mergeStrips(), pitchY(), pitchTicks() and
// diffColour() are pure; drawStrips() paints on the base canvas.

import { LUT } from "./colour.js";
import { STRIP_ENERGY, STRIP_MEL, STRIP_PITCH, visibleFrames, xOfFrame } from "./layout.js";
import { bytesOf } from "./wire.js";

const DB_LOW = -90; // _strips.DB_LOW: byte 0 is -90 dB or below, 255 is 0 dB
const F0_RANGE = [50, 500]; // pitch axis (Hz) until the kernel sends the recording's range
export const DIFF_DB = 24; // the difference view's colours saturate at +-DIFF_DB dB
export const SPECTROGRAM_VIEWS = ["edited", "original", "both", "difference"];

/** An empty held piece of columns [start, stop) of `total` at cpf/fpc. */
function piece({ cpf, fpc, start, stop, total, nMels, f0Range }) {
  const n = stop - start;
  return {
    cpf, fpc, start, stop, total, nMels, f0Range,
    mel: new Uint8Array(nMels * n), f0: new Uint16Array(n), energy: new Uint8Array(n),
  };
}

/**
 * What a view holds of one version after a "strips" message.
 * @param {{base: object|null, window: object|null}|null} held the version's strips: `base` the
 *   whole clip (a short clip's "whole" strips or a long clip's "overview"), `window` a long
 *   clip's visible window; each {cpf, fpc, start, stop, total, nMels, f0Range, mel (nMels x
 *   (stop - start), band-major), f0 (Uint16Array, tenths of Hz, 0 unvoiced), energy}
 * @param {{level, cpf, fpc, start, stop, total, n_mels, f0_range}} msg columns [start, stop) of
 *   `total` at cpf columns per frame / fpc frames per column
 * @param {Array} buffers mel (n_mels x (stop - start)), f0 (uint16), energy (uint8)
 * @returns {{base, window}} a new object; a window replaces the window held; base columns
 *   before `start` are kept when the level of detail is the same (a length change resends
 *   everything from its first changed column on)
 */
export function mergeStrips(held, msg, buffers) {
  const { cpf, start, stop, total, n_mels: nMels } = msg;
  const fpc = msg.fpc || 1;
  const f0Range = msg.f0_range || F0_RANGE;
  const out = { base: held ? held.base : null, window: held ? held.window : null };
  const w = stop - start;
  const mel = bytesOf(buffers[0]);
  const f0 = new Uint16Array(bytesOf(buffers[1]).slice().buffer);
  const energy = bytesOf(buffers[2]);
  if (msg.level === "window") {
    const p = piece({ cpf, fpc, start, stop, total, nMels, f0Range });
    p.mel.set(mel.subarray(0, nMels * w));
    p.f0.set(f0);
    p.energy.set(energy);
    out.window = p;
    return out;
  }
  let h = out.base;
  if (!h || h.cpf !== cpf || h.fpc !== fpc || h.nMels !== nMels || h.total !== total) {
    const fresh = piece({ cpf, fpc, start: 0, stop: total, total, nMels, f0Range });
    if (h && h.cpf === cpf && h.fpc === fpc && h.nMels === nMels) {
      const keep = Math.min(start, h.total, total);
      for (let b = 0; b < nMels; b++) fresh.mel.set(h.mel.subarray(b * h.total, b * h.total + keep), b * total);
      fresh.f0.set(h.f0.subarray(0, keep));
      fresh.energy.set(h.energy.subarray(0, keep));
    }
    h = fresh;
  }
  h.f0Range = f0Range;
  h.rev = (h.rev || 0) + 1; // what the spectrogram's painted image was made from
  for (let b = 0; b < nMels; b++) h.mel.set(mel.subarray(b * w, (b + 1) * w), b * total + start);
  h.f0.set(f0, start);
  h.energy.set(energy, start);
  out.base = h;
  return out;
}

/**
 * y of a pitch in a band [top, top + height): "Hz" on a linear axis, "semitones" on a
 * logarithmic one (equal steps per semitone), both spanning range [lo, hi] Hz.
 */
export function pitchY(hz, top, height, units = "semitones", range = F0_RANGE) {
  const [lo, hi] = range;
  const f = Math.min(hi, Math.max(lo, hz));
  const t = units === "Hz" ? (f - lo) / (hi - lo) : Math.log(f / lo) / Math.log(hi / lo);
  return top + height - t * height;
}

/** Semitones of `hz` relative to 100 Hz (analysis.hz_to_semitones). */
export function semitones(hz) {
  return 12 * Math.log2(hz / 100);
}

/**
 * Tick marks for the pitch axis over [lo, hi] Hz: {value (Hz), text}, two to four of them:
 * round hertz (multiples of 50 or 100) or whole octaves and fifths in semitones re 100 Hz.
 */
export function pitchTicks(units, range = F0_RANGE) {
  const [lo, hi] = range;
  const out = [];
  if (units === "Hz") {
    const step = hi - lo > 200 ? 100 : 50;
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push({ value: v, text: String(v) });
  } else {
    const s0 = semitones(lo);
    const s1 = semitones(hi);
    const step = s1 - s0 > 18 ? 12 : 6;
    for (let s = Math.ceil(s0 / step) * step; s <= s1; s += step) out.push({ value: 100 * 2 ** (s / 12), text: `${s > 0 ? "+" : ""}${s}` });
  }
  return out;
}

/**
 * RGB of a level difference `d` dB (edited minus original) on a diverging map: blue where the
 * original is louder, white where they agree, red where the edited is louder, saturated at
 * +-DIFF_DB.
 */
export function diffColour(d) {
  const t = Math.max(-1, Math.min(1, d / DIFF_DB));
  const a = Math.abs(t);
  const fade = Math.round(255 * (1 - a));
  return t >= 0 ? [255, fade + Math.round(40 * a), fade + Math.round(40 * a)] : [fade + Math.round(40 * a), fade + Math.round(80 * a), 255];
}

// the image last made of each piece, reused while the piece, the columns and the view choice are
// the same (an edit's repaint of the grid repaints the strips from it)
const painted = new WeakMap();

/**
 * Paint one spectrogram row (h high at y) of piece `p`'s columns over frames [fa, fb);
 * `pixel(i)` gives the [r, g, b] of index i of p.mel (band-major); `key` names what `pixel` shows.
 */
function paintSpec(g, { L, view, fa, fb, p, y, h, pixel, key }) {
  const k = p.cpf / p.fpc; // columns per frame
  const c0 = Math.max(p.start, Math.floor(fa * k));
  const c1 = Math.min(p.stop, Math.ceil(fb * k));
  if (c1 <= c0 || typeof document === "undefined") return;
  const step = Math.max(1, Math.ceil((c1 - c0) / Math.max(1, L.plotW)));
  const cols = Math.max(1, Math.ceil((c1 - c0) / step));
  const tag = `${key}|${p.rev || 0}|${c0}|${step}|${cols}`;
  let hit = painted.get(p);
  if (!hit || hit.tag !== tag) {
    const canvas = hit ? hit.canvas : document.createElement("canvas");
    canvas.width = cols;
    canvas.height = p.nMels;
    const sg = canvas.getContext("2d");
    const img = sg.createImageData(cols, p.nMels);
    const n = p.stop - p.start;
    for (let band = 0; band < p.nMels; band++) {
      const row = (p.nMels - 1 - band) * cols; // low bands at the bottom
      for (let x = 0; x < cols; x++) {
        const rgb = pixel(band * n + c0 - p.start + x * step);
        const o = (row + x) * 4;
        img.data[o] = rgb[0];
        img.data[o + 1] = rgb[1];
        img.data[o + 2] = rgb[2];
        img.data[o + 3] = 255;
      }
    }
    sg.putImageData(img, 0, 0);
    hit = { tag, canvas };
    painted.set(p, hit);
  }
  const scratch = hit.canvas;
  g.imageSmoothingEnabled = false;
  const x0 = xOfFrame(L, view, c0 / k);
  const x1 = xOfFrame(L, view, (c0 + cols * step) / k);
  g.drawImage(scratch, 0, 0, cols, p.nMels, x0, y, x1 - x0, h);
}

const levelPixel = (p) => (i) => {
  const v = p.mel[i];
  return [LUT[v * 3], LUT[v * 3 + 1], LUT[v * 3 + 2]];
};
const diffPixel = (o, e) => (i) => diffColour(((e.mel[i] - o.mel[i]) * -DB_LOW) / 255);

/** The pieces to draw of a version, coarse first: [base, window] without missing ones. */
const levels = (v) => (v ? [v.base, v.window].filter(Boolean) : []);

/**
 * Paint the strips (L.stripH high at L.stripY) for the visible frames.
 * @param {{L, view, nF, strips: {original, edited}, ink, spectrogram?: string, units?: string}} o
 *   spectrogram: one of SPECTROGRAM_VIEWS; units: "Hz" or "semitones" for the pitch axis
 */
export function drawStrips(g, { L, view, nF, strips, ink, spectrogram = "edited", units = "semitones" }) {
  if (!L.stripH) return;
  const top = L.stripY;
  const melH = L.melH || STRIP_MEL;
  const both = spectrogram === "both" && melH >= 2 * STRIP_MEL;
  const pitchTop = top + melH;
  const energyTop = pitchTop + STRIP_PITCH;
  const orig = strips.original;
  const edit = strips.edited;
  const ref = (edit && edit.base) || (orig && orig.base) || null;
  const range = (ref && ref.f0Range) || F0_RANGE;
  g.save();
  g.clearRect(0, top, L.width, L.stripH);
  g.fillStyle = ink;
  g.font = "10px sans-serif";
  g.textAlign = "right";
  g.textBaseline = "middle";
  // the gutter: what each row is, the pitch axis's ticks, the difference view's legend
  if (both) {
    g.fillText("orig", L.gx - 6, top + STRIP_MEL / 2);
    g.fillText("edit", L.gx - 6, top + STRIP_MEL * 1.5);
  } else if (spectrogram === "difference") {
    const bar = g.createLinearGradient(0, top + 4, 0, top + melH - 4);
    for (let k = 0; k <= 4; k++) {
      const [r, gg, b] = diffColour(DIFF_DB * (1 - k / 2));
      bar.addColorStop(k / 4, `rgb(${r},${gg},${b})`);
    }
    g.fillStyle = bar;
    g.fillRect(L.gx - 10, top + 4, 6, melH - 8);
    g.fillStyle = ink;
    g.fillText(`+${DIFF_DB}`, L.gx - 12, top + 8);
    g.fillText("Δ dB", L.gx - 12, top + melH / 2);
    g.fillText(`−${DIFF_DB}`, L.gx - 12, top + melH - 8);
  } else {
    g.fillText(spectrogram === "original" ? "mel orig" : "mel", L.gx - 6, top + melH / 2);
  }
  g.textAlign = "left";
  g.fillText(units === "Hz" ? "F0 Hz" : "F0 st", 4, pitchTop + STRIP_PITCH / 2);
  g.textAlign = "right";
  for (const tick of pitchTicks(units, range)) {
    const y = pitchY(tick.value, pitchTop, STRIP_PITCH, units, range);
    if (y > pitchTop + 4 && y < pitchTop + STRIP_PITCH - 4) g.fillText(tick.text, L.gx - 3, y);
  }
  g.fillText("dB", L.gx - 6, energyTop + STRIP_ENERGY / 2);
  g.beginPath();
  g.rect(L.gx, top, L.plotW, L.stripH);
  g.clip();
  const [fa, fb] = visibleFrames(L, view, nF);
  if (fb > fa) {
    const specRow = (y, h, choose) => {
      for (const lev of ["base", "window"]) {
        const o = orig && orig[lev];
        const e = edit && edit[lev];
        const got = choose(o, e);
        if (got) paintSpec(g, { L, view, fa, fb, y, h, ...got });
      }
    };
    const one = (which) => (o, e) => {
      const p = which === "original" ? o : e || o;
      return p ? { p, pixel: levelPixel(p), key: "level" } : null;
    };
    if (both) {
      specRow(top, STRIP_MEL, one("original"));
      specRow(top + STRIP_MEL, STRIP_MEL, one("edited"));
    } else if (spectrogram === "difference") {
      specRow(top, melH, (o, e) => (o && e && o.stop - o.start === e.stop - e.start && o.start === e.start
        ? { p: e, pixel: diffPixel(o, e), key: `diff|${o.rev || 0}` } : null));
    } else {
      specRow(top, melH, one(spectrogram === "original" ? "original" : "edited"));
    }
  }
  const curve = (version, colour, value, y) => {
    if (!version) return;
    const win = version.window; // where the finer window has columns, the coarse level is not drawn
    const covered = win ? [(win.start * win.fpc) / win.cpf, (win.stop * win.fpc) / win.cpf] : null;
    for (const p of levels(version)) {
      const k = p.cpf / p.fpc;
      const skip = p === version.base ? covered : null;
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.beginPath();
      let down = false;
      const c1 = Math.min(p.stop, Math.ceil(fb * k));
      for (let c = Math.max(p.start, Math.floor(fa * k)); c < c1; c++) {
        const f = (c + 0.5) / k;
        const v = skip && f >= skip[0] && f < skip[1] ? null : value(p, c - p.start);
        if (v === null) {
          down = false;
          continue;
        }
        const x = xOfFrame(L, view, f);
        if (down) g.lineTo(x, y(v));
        else g.moveTo(x, y(v));
        down = true;
      }
      g.stroke();
    }
  };
  const f0 = (p, i) => (p.f0[i] ? p.f0[i] / 10 : null);
  const py = (hz) => pitchY(hz, pitchTop, STRIP_PITCH, units, range);
  curve(orig, "rgba(128,128,128,0.9)", f0, py);
  curve(edit, "#1f77b4", f0, py);
  curve(edit || orig, "#2ca02c", (p, i) => p.energy[i], (v) => energyTop + STRIP_ENERGY - (v / 255) * STRIP_ENERGY);
  g.restore();
}

export { DB_LOW };

/**
 * The window of a long clip to ask the kernel strips for, or null: none while the view spans
 * more than `windowS` seconds, nor when the window held (`held`, a version's strips; null to
 * ask again after an edit) covers the view at half the detail its pixels could show or more.
 * @returns {{start: number, stop: number, px_per_frame: number}|null} frames [start, stop),
 *   at most windowS seconds centred on the view, and the device pixels per frame
 */
export function windowRequest({ L, view, nF, frameRate, windowS, dpr = 1, held = null }) {
  if (!windowS || !nF || !view.cellW) return null;
  const visible = L.plotW / view.cellW;
  if (visible / frameRate > windowS) return null;
  const span = Math.max(1, Math.min(nF, Math.floor(windowS * frameRate)));
  const start = Math.max(0, Math.min(nF - span, Math.floor(view.v0 - (span - visible) / 2)));
  const stop = Math.min(nF, start + span);
  const px = view.cellW * dpr;
  const w = held && held.window;
  if (w) {
    const k = w.cpf / w.fpc;
    const covers = w.start / k <= view.v0 + 1e-9 && w.stop / k >= Math.min(nF, view.v0 + visible) - 1e-9;
    if (covers && k >= Math.min(8, px) / 2) return null;
  }
  return { start, stop, px_per_frame: px };
}
