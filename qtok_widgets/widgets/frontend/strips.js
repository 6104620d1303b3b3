// Acoustic strips under the waveform, on the grid's time axis: the log-mel spectrogram of the
// edited audio, the pitch curves of the original (grey) and the edited audio (blue), and the
// edited audio's energy. Python computes them (qtok_widgets/widgets/_strips.py) at `cpf`
// columns per code frame and sends them quantised in "strips" messages: the whole clip when a
// view opens, then only the columns an edit re-rendered. mergeStrips() is pure; drawStrips()
// paints on the base canvas.

import { LUT } from "./colour.js";
import { STRIP_ENERGY, STRIP_MEL, STRIP_PITCH, visibleFrames, xOfFrame } from "./layout.js";
import { bytesOf } from "./wire.js";

const DB_LOW = -90; // _strips.DB_LOW: byte 0 is -90 dB or below, 255 is 0 dB
const F0_LOW = 50; // pitch axis, Hz (log scale)
const F0_HIGH = 500;

/**
 * Held strips after a "strips" message.
 * @param {object|null} held {cpf, nMels, total, mel: Uint8Array (nMels x total, band-major),
 *   f0: Uint16Array (tenths of Hz, 0 unvoiced), energy: Uint8Array}, or null
 * @param {{cpf, start, stop, total, n_mels}} msg columns [start, stop) of `total`
 * @param {Array} buffers mel (n_mels x (stop - start)), f0 (uint16), energy (uint8)
 * @returns {object} the new held strips; columns before `start` are kept from `held` when the
 *   level of detail is the same (a length change resends everything from its first frame on)
 */
export function mergeStrips(held, msg, buffers) {
  const { cpf, start, stop, total, n_mels: nMels } = msg;
  let h = held;
  if (!h || h.cpf !== cpf || h.nMels !== nMels || h.total !== total) {
    const fresh = {
      cpf, nMels, total,
      mel: new Uint8Array(nMels * total), f0: new Uint16Array(total), energy: new Uint8Array(total),
    };
    if (h && h.cpf === cpf && h.nMels === nMels) {
      const keep = Math.min(start, h.total, total);
      for (let b = 0; b < nMels; b++) fresh.mel.set(h.mel.subarray(b * h.total, b * h.total + keep), b * total);
      fresh.f0.set(h.f0.subarray(0, keep));
      fresh.energy.set(h.energy.subarray(0, keep));
    }
    h = fresh;
  }
  const w = stop - start;
  const mel = bytesOf(buffers[0]);
  const f0 = new Uint16Array(bytesOf(buffers[1]).buffer);
  const energy = bytesOf(buffers[2]);
  for (let b = 0; b < nMels; b++) h.mel.set(mel.subarray(b * w, (b + 1) * w), b * total + start);
  h.f0.set(f0, start);
  h.energy.set(energy, start);
  return h;
}

/** y of a pitch in Hz in a band [top, top + height) (log scale, F0_LOW..F0_HIGH). */
export function pitchY(hz, top, height) {
  const t = Math.log(Math.min(F0_HIGH, Math.max(F0_LOW, hz)) / F0_LOW) / Math.log(F0_HIGH / F0_LOW);
  return top + height - t * height;
}

let scratch = null;

/** Paint the strips (L.stripH high at L.stripY) for the visible frames. */
export function drawStrips(g, { L, view, nF, strips, ink }) {
  if (!L.stripH) return;
  const top = L.stripY;
  g.save();
  g.clearRect(0, top, L.width, L.stripH);
  g.fillStyle = ink;
  g.font = "10px sans-serif";
  g.textAlign = "right";
  g.textBaseline = "middle";
  g.fillText("mel", L.gx - 6, top + STRIP_MEL / 2);
  g.fillText("F0", L.gx - 6, top + STRIP_MEL + STRIP_PITCH / 2);
  g.fillText("dB", L.gx - 6, top + STRIP_MEL + STRIP_PITCH + STRIP_ENERGY / 2);
  g.beginPath();
  g.rect(L.gx, top, L.plotW, L.stripH);
  g.clip();
  const [fa, fb] = visibleFrames(L, view, nF);
  const spec = strips.edited || strips.original;
  if (spec && fb > fa && typeof document !== "undefined") {
    const c0 = fa * spec.cpf;
    const c1 = Math.min(spec.total, fb * spec.cpf);
    const step = Math.max(1, Math.ceil((c1 - c0) / Math.max(1, L.plotW)));
    const cols = Math.max(1, Math.ceil((c1 - c0) / step));
    scratch = scratch || document.createElement("canvas");
    scratch.width = cols;
    scratch.height = spec.nMels;
    const sg = scratch.getContext("2d");
    const img = sg.createImageData(cols, spec.nMels);
    for (let b = 0; b < spec.nMels; b++) {
      const row = (spec.nMels - 1 - b) * cols; // low bands at the bottom
      for (let x = 0; x < cols; x++) {
        const v = spec.mel[b * spec.total + c0 + x * step];
        const o = (row + x) * 4;
        img.data[o] = LUT[v * 3];
        img.data[o + 1] = LUT[v * 3 + 1];
        img.data[o + 2] = LUT[v * 3 + 2];
        img.data[o + 3] = 255;
      }
    }
    sg.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    const x0 = xOfFrame(L, view, c0 / spec.cpf);
    const x1 = xOfFrame(L, view, (c0 + cols * step) / spec.cpf);
    g.drawImage(scratch, 0, 0, cols, spec.nMels, x0, top, x1 - x0, STRIP_MEL);
  }
  const curve = (held, colour, values, y) => {
    if (!held) return;
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.beginPath();
    let down = false;
    const c1 = Math.min(held.total, fb * held.cpf);
    for (let c = fa * held.cpf; c < c1; c++) {
      const v = values(held, c);
      if (v === null) {
        down = false;
        continue;
      }
      const x = xOfFrame(L, view, (c + 0.5) / held.cpf);
      if (down) g.lineTo(x, y(v));
      else g.moveTo(x, y(v));
      down = true;
    }
    g.stroke();
  };
  const pitchTop = top + STRIP_MEL;
  const f0 = (held, c) => (held.f0[c] ? held.f0[c] / 10 : null);
  curve(strips.original, "rgba(128,128,128,0.9)", f0, (hz) => pitchY(hz, pitchTop, STRIP_PITCH));
  curve(strips.edited, "#1f77b4", f0, (hz) => pitchY(hz, pitchTop, STRIP_PITCH));
  const energyTop = pitchTop + STRIP_PITCH;
  curve(strips.edited || strips.original, "#2ca02c", (held, c) => held.energy[c],
    (v) => energyTop + STRIP_ENERGY - (v / 255) * STRIP_ENERGY);
  g.restore();
}

export { DB_LOW };
