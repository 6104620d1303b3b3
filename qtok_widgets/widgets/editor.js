// GENERATED FILE, do not edit: bundled by esbuild 0.28.2 from qtok_widgets/widgets/frontend/*.js
// (entry qtok_widgets/widgets/frontend/index.js) with `npm run build`. Edit those modules and rebuild;
// `npm run check` fails when this file is stale. The message protocol is in docs/protocol.md.

// qtok_widgets/widgets/frontend/playback.js
function playWindow({ duration, selection, frameRate, start, loop, selectionOnly }) {
  const hasSel = !!(selection && selection.frames);
  const loopStart = hasSel ? selection.frames[0] / frameRate : 0;
  const loopEnd = hasSel ? Math.min(duration, selection.frames[1] / frameRate) : duration;
  const looping = loop && hasSel;
  const only = (selectionOnly || looping) && hasSel;
  let offset = start;
  let end = only ? loopEnd : duration;
  if (only && (offset < loopStart || offset >= loopEnd)) offset = loopStart;
  if (offset >= end - 1e-3) offset = only ? loopStart : 0;
  return { offset, end: looping ? Infinity : end, loop: looping, loopStart, loopEnd, only };
}
var PREFETCH_S = 6;
function needFor(held, from) {
  if (!held) return "fetch";
  if (!held.slice) return "play";
  const ws = held.start / held.rate;
  const we = (held.start + held.data.length) / held.rate;
  const endsRecording = held.start + held.data.length >= held.total;
  if (from < ws - 1e-6) return "fetch";
  if (from >= we - (endsRecording ? 1e-3 : 0.25)) return endsRecording && from < we ? "play" : "fetch";
  return "play";
}
function playheadAt(p, elapsed) {
  let pos = p.offset + elapsed;
  if (p.loop) pos = p.loopStart + (pos - p.loopStart) % (p.loopEnd - p.loopStart);
  return Math.min(pos, p.end);
}
function pcmToFloat(data, out = new Float32Array(data.length)) {
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 32767;
  return out;
}
function createPlayer({ model, S, options, say, onChange, onStop, onFrame }) {
  let ctx2 = null;
  let playing2 = null;
  let pendingPlay = null;
  let buffers = { original: null, edited: null };
  function ensureContext() {
    if (!ctx2) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) throw new Error("this browser has no Web Audio");
      ctx2 = new Ctx({ sampleRate: model.get("sample_rate") });
      buffers = { original: null, edited: null };
    }
    if (ctx2.state === "suspended") ctx2.resume();
    return ctx2;
  }
  function audioBuffer(which) {
    if (buffers[which]) return buffers[which];
    const pcm = S.pcm[which];
    if (!pcm) return null;
    const buf = ctx2.createBuffer(1, Math.max(1, pcm.data.length), pcm.rate);
    pcmToFloat(pcm.data, buf.getChannelData(0));
    buffers[which] = buf;
    return buf;
  }
  function span(which) {
    const pcm = S.pcm[which];
    const ws = (pcm.start || 0) / pcm.rate;
    return { ws, we: ws + pcm.data.length / pcm.rate, duration: (pcm.total ?? pcm.data.length) / pcm.rate };
  }
  function position() {
    if (playing2) return playheadAt(playing2, ctx2.currentTime - playing2.startedAt);
    if (pendingPlay && pendingPlay.from != null) return pendingPlay.from;
    return model.get("playhead");
  }
  function start(fromSeconds) {
    try {
      ensureContext();
    } catch (err) {
      say(`play: ${err.message}`, true);
      return;
    }
    const which = model.get("ab");
    const held = S.pcm[which];
    const opts = options();
    const window2 = (duration2, from2) => playWindow({
      duration: duration2,
      selection: model.get("selection"),
      frameRate: model.get("frame_rate"),
      start: from2,
      loop: opts.loop,
      selectionOnly: opts.selectionOnly
    });
    const from = held ? window2(span(which).duration, fromSeconds ?? model.get("playhead")).offset : fromSeconds ?? model.get("playhead");
    if (needFor(held, from) === "fetch") {
      pendingPlay = { which, from: fromSeconds ?? from };
      model.send({ type: "audio", which, at: from });
      say(`loading ${which} audio…`);
      return;
    }
    const buf = audioBuffer(which);
    stop(false);
    const { ws, we, duration } = span(which);
    const w = window2(duration, fromSeconds ?? model.get("playhead"));
    const src = ctx2.createBufferSource();
    src.buffer = buf;
    src.connect(ctx2.destination);
    const windowEnd = Math.min(w.loop ? w.loopEnd : w.end, we);
    if (w.loop) {
      src.loop = true;
      src.loopStart = Math.max(0, w.loopStart - ws);
      src.loopEnd = Math.min(we, w.loopEnd) - ws;
      src.start(0, w.offset - ws);
    } else {
      src.start(0, w.offset - ws, Math.max(0, windowEnd - w.offset));
    }
    const p = { ...w, src, srcs: [src], which, startedAt: ctx2.currentTime, windowEnd, nextAsked: false };
    src.onended = () => {
      if (playing2 === p) stop(true);
    };
    playing2 = p;
    onChange(which);
    say(`playing ${which}${w.only ? " selection" : ""}${w.loop ? " (loop)" : ""}`);
    const tick = () => {
      if (playing2 !== p) return;
      if (!p.loop && !p.nextAsked && p.windowEnd < p.end - 1e-3 && position() > p.windowEnd - PREFETCH_S) {
        p.nextAsked = true;
        model.send({ type: "audio", which: p.which, at: p.windowEnd });
      }
      onFrame();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
  function stop(keepPosition) {
    const p = playing2;
    if (!p) return;
    let pos = position();
    if (!Number.isFinite(pos)) pos = 0;
    playing2 = null;
    for (const src of p.srcs) {
      src.onended = null;
      try {
        src.stop();
      } catch (_) {
      }
      src.disconnect();
    }
    onChange(null);
    if (keepPosition) onStop(pos);
    say(`stopped at ${pos.toFixed(2)} s`);
    onFrame();
  }
  function pcmArrived(which) {
    buffers[which] = null;
    if (pendingPlay && pendingPlay.which === which) {
      const from = pendingPlay.from;
      pendingPlay = null;
      start(from);
    } else if (playing2 && playing2.which === which && playing2.nextAsked) {
      continueWith(playing2);
    }
  }
  function continueWith(p) {
    const { ws, we } = span(p.which);
    if (!(ws <= p.windowEnd + 1e-6 && we > p.windowEnd)) return;
    const src = ctx2.createBufferSource();
    src.buffer = audioBuffer(p.which);
    src.connect(ctx2.destination);
    const when = p.startedAt + (p.windowEnd - p.offset);
    const late = Math.max(0, ctx2.currentTime - when);
    const stopAt = Math.min(p.end, we);
    src.start(when + late, p.windowEnd - ws + late, Math.max(0, stopAt - p.windowEnd - late));
    for (const old of p.srcs) old.onended = null;
    src.onended = () => {
      if (playing2 === p) stop(true);
    };
    p.srcs.push(src);
    if (p.srcs.length > 3) p.srcs.shift();
    p.windowEnd = stopAt;
    p.nextAsked = false;
  }
  function pcmDropped(which) {
    buffers[which] = null;
    if (playing2 && playing2.which === which) {
      const pos = position();
      stop(false);
      start(pos);
    }
  }
  return {
    start,
    stop,
    position,
    pcmArrived,
    pcmDropped,
    isPlaying: () => playing2 !== null,
    close() {
      stop(false);
      if (ctx2) ctx2.close();
    }
  };
}

// qtok_widgets/widgets/frontend/wire.js
var MASK_BIT = 1073741824;
var CODE_BITS = 1073741823;
function bytesOf(view) {
  if (view instanceof ArrayBuffer) return new Uint8Array(view.slice(0));
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}
function decodeCells(view, bits, n) {
  const src = bytesOf(view);
  if (bits === 32) {
    if (src.byteLength < 4 * n) throw new RangeError(`cells: ${n} uint32 cells need ${4 * n} bytes, got ${src.byteLength}`);
    const out2 = new Uint32Array(src.buffer, 0, n);
    for (let i = 0; i < n; i++) if (out2[i] >= 2147483648) throw new RangeError(`cells: cell ${i} has bit 31 set`);
    return out2;
  }
  if (bits === 16) {
    if (src.byteLength < 2 * n) throw new RangeError(`cells: ${n} uint16 cells need ${2 * n} bytes, got ${src.byteLength}`);
    const v = new Uint16Array(src.buffer, 0, n);
    const out2 = new Uint32Array(n);
    for (let i = 0; i < n; i++) out2[i] = v[i] & 32767 | (v[i] & 32768) << 15;
    return out2;
  }
  if (bits !== 12) throw new RangeError(`cells: bits must be 12, 16 or 32, got ${bits}`);
  const need = 3 * Math.ceil(n / 2);
  if (src.byteLength < need) throw new RangeError(`cells: ${n} 12-bit cells need ${need} bytes, got ${src.byteLength}`);
  const out = new Uint32Array(n);
  for (let i = 0, j = 0; i < n; i += 2, j += 3) {
    const a = src[j] | (src[j + 1] & 15) << 8;
    out[i] = a & 2047 | (a & 2048) << 19;
    if (i + 1 < n) {
      const b = src[j + 1] >> 4 | src[j + 2] << 4;
      out[i + 1] = b & 2047 | (b & 2048) << 19;
    }
  }
  return out;
}
function exportCells(cells, codebookSize) {
  if (codebookSize > 32768) return { values: cells.slice(), maskBit: MASK_BIT };
  const values = new Uint16Array(cells.length);
  for (let i = 0; i < cells.length; i++) values[i] = cells[i] & 32767 | (cells[i] & MASK_BIT) >>> 15;
  return { values, maskBit: 32768 };
}
function int8s(view) {
  return new Int8Array(bytesOf(view).buffer);
}
function int16s(view) {
  const bytes = bytesOf(view);
  return new Int16Array(bytes.buffer, 0, bytes.byteLength >> 1);
}
function int32s(view) {
  const bytes = bytesOf(view);
  return new Int32Array(bytes.buffer, 0, bytes.byteLength >> 2);
}
function byteSize(buffers) {
  return (buffers || []).reduce((n, b) => n + b.byteLength, 0);
}

// qtok_widgets/widgets/frontend/audition.js
var ctx = null;
var playing = null;
function auditionSamples(buffer) {
  return new Int16Array(bytesOf(buffer).buffer);
}
function playAudition(samples, rate, onEnd) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!ctx) ctx = new Ctx({ sampleRate: rate });
  if (ctx.state === "suspended") ctx.resume();
  if (playing) {
    playing.onended = null;
    try {
      playing.stop();
    } catch (_) {
    }
  }
  const buf = ctx.createBuffer(1, Math.max(1, samples.length), rate);
  pcmToFloat(samples, buf.getChannelData(0));
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(ctx.destination);
  src.onended = () => {
    if (playing === src) playing = null;
    onEnd();
  };
  src.start();
  playing = src;
  return samples.length / rate;
}

// qtok_widgets/widgets/frontend/colour.js
var VIRIDIS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37]
];
var LUT = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const p = i / 255 * (VIRIDIS.length - 1);
    const k = Math.min(Math.floor(p), VIRIDIS.length - 2);
    const f = p - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(VIRIDIS[k][c] * (1 - f) + VIRIDIS[k + 1][c] * f);
  }
  return lut;
})();
function codeIndex(code, codebookSize) {
  return Math.round(code / Math.max(1, codebookSize - 1) * 255);
}
function frequencyIndex(count, max) {
  return Math.round(Math.log1p(count) / Math.log1p(max || 1) * 255);
}
function codeFrequencies(cur, nL, nF, codebookSize) {
  const counts = new Uint32Array(nL * codebookSize);
  const max = new Uint32Array(nL);
  for (let l = 0; l < nL; l++) {
    const row = l * nF;
    const base = l * codebookSize;
    let m = 0;
    for (let f = 0; f < nF; f++) m = Math.max(m, ++counts[base + (cur[row + f] & CODE_BITS)]);
    max[l] = m;
  }
  return { counts, max };
}
function colourer({ mode, codebookSize, freq, palette = null, lab = null, S = null }) {
  const byFrequency = mode === "frequency" && freq;
  const byEmbedding = mode === "embedding" && palette;
  const byChange = mode === "change" && lab && S;
  return (layer, value, rgb, frame) => {
    if (value & MASK_BIT) return null;
    const code = value & CODE_BITS;
    if (byChange && frame !== void 0) {
      const idx2 = changeIndex(S, lab, codebookSize, layer, value, frame);
      if (idx2 < 0) {
        rgb[0] = rgb[1] = rgb[2] = UNCHANGED;
        return rgb;
      }
      rgb[0] = LUT[idx2 * 3];
      rgb[1] = LUT[idx2 * 3 + 1];
      rgb[2] = LUT[idx2 * 3 + 2];
      return rgb;
    }
    if (byEmbedding) {
      const at = (layer * codebookSize + code) * 3;
      rgb[0] = palette[at];
      rgb[1] = palette[at + 1];
      rgb[2] = palette[at + 2];
      return rgb;
    }
    const idx = byFrequency ? frequencyIndex(freq.counts[layer * codebookSize + code], freq.max[layer]) : codeIndex(code, codebookSize);
    rgb[0] = LUT[idx * 3];
    rgb[1] = LUT[idx * 3 + 1];
    rgb[2] = LUT[idx * 3 + 2];
    return rgb;
  };
}
var UNCHANGED = 200;
function changeIndex(S, lab, codebookSize, layer, value, frame) {
  const o = S.origin ? S.origin[frame] : frame < S.nOF ? frame : -1;
  if (o < 0) return 255;
  const before = S.orig[layer * S.nOF + o];
  if (before === value) return -1;
  if (before & MASK_BIT) return 255;
  const a = (layer * codebookSize + (value & CODE_BITS)) * 3;
  const b = (layer * codebookSize + (before & CODE_BITS)) * 3;
  const d = Math.hypot(lab[a] - lab[b], lab[a + 1] - lab[b + 1], lab[a + 2] - lab[b + 2]);
  return Math.min(255, Math.max(40, Math.round(d / 100 * 255)));
}
function legendGradient() {
  const stops = VIRIDIS.map(([r, g, b], i) => `rgb(${r},${g},${b}) ${(i / (VIRIDIS.length - 1) * 100).toFixed(1)}%`);
  return `linear-gradient(to right, ${stops.join(", ")})`;
}
function legendText(mode, codebookSize) {
  if (mode === "change") {
    return {
      low: "near",
      high: "far",
      title: "colour: how far each cell moved from the original's code in its layer's codebook (CIELAB projection); light grey: unchanged; brightest: inserted frames; grey checker: masked"
    };
  }
  if (mode === "embedding") {
    return {
      low: "alike codes",
      high: "alike colours",
      title: "colour: the code's vector in its layer's codebook, projected into CIELAB (lightness: first principal axis); codes that sound alike look alike; grey checker: masked"
    };
  }
  if (mode === "frequency") {
    return { low: "rare", high: "common", title: "colour: how often the code occurs in its layer (log scale); grey checker: masked" };
  }
  return { low: "0", high: String(codebookSize - 1), title: "colour: code value; grey checker: masked" };
}

// qtok_widgets/widgets/frontend/dom.js
function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

// qtok_widgets/widgets/frontend/format.js
function fmtTime(seconds, step) {
  const digits = step < 0.1 - 1e-9 ? 2 : step < 1 ? 1 : 0;
  if (seconds < 60) return seconds.toFixed(digits) + "s";
  const m = Math.floor(seconds / 60);
  const r = seconds - m * 60;
  return `${m}:${r.toFixed(digits).padStart(digits ? digits + 3 : 2, "0")}`;
}
function fmtCell(value) {
  return value & MASK_BIT ? `${value & CODE_BITS} (masked)` : String(value & CODE_BITS);
}
function infoText({ nLayers, nFrames, frameRate, codecName, selection }) {
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
function tooltipText({ layerName, frame, frameRate, value, original, originFrame }) {
  const moved = originFrame >= 0 && originFrame !== frame ? ` (frame ${originFrame})` : "";
  return `${layerName} · frame ${frame} · ${(frame / frameRate).toFixed(3)} s
code ${fmtCell(value)} · original ${original === null ? "— (inserted)" : fmtCell(original)}${moved}`;
}

// qtok_widgets/widgets/frontend/layout.js
var GUTTER = 64;
var EDIT_LANE = 6;
var AXIS = 24;
var WAVE = 64;
var MAX_CELL = 48;
var MUTE_W = 14;
var TRACK = 40;
var MINI = 16;
var LABEL_ROW = 16;
var STRIP_MEL = 48;
var STRIP_PITCH = 36;
var STRIP_ENERGY = 18;
var STRIPS = STRIP_MEL + STRIP_PITCH + STRIP_ENERGY;
function computeLayout({
  nLayers,
  heightPx,
  width,
  showWaveform,
  source = false,
  labelRows = 0,
  strips = false
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
    rowH,
    width: w,
    plotW,
    gx: GUTTER,
    gy,
    gridH,
    axisY,
    waveY,
    trackY,
    trackH,
    miniY,
    height,
    labelH,
    stripY,
    stripH,
    melH
  };
}
function fitCellWidth(L, nF) {
  return L.plotW / Math.max(1, nF);
}
function clampView(view, L, nF) {
  const minCell = fitCellWidth(L, nF);
  let cellW = view.fitted || view.cellW <= 0 ? minCell : view.cellW;
  cellW = Math.min(MAX_CELL, Math.max(minCell, cellW));
  const visible = L.plotW / cellW;
  let v0 = Math.max(0, Math.min(view.v0, nF - visible));
  if (nF <= visible) v0 = 0;
  return { v0, cellW, fitted: view.fitted };
}
function scrollSpan(view, L, nF) {
  return Math.max(0, nF - L.plotW / view.cellW);
}
function scrollBar(view, L, nF) {
  const span = scrollSpan(view, L, nF);
  const max = Math.max(1e3, nF);
  return { max, value: span > 0 ? Math.round(view.v0 / span * max) : 0, disabled: span <= 0 };
}
function v0FromScroll(value, max, view, L, nF) {
  return value / max * scrollSpan(view, L, nF);
}
function xOfFrame(L, view, f) {
  return L.gx + (f - view.v0) * view.cellW;
}
function frameAt(L, view, x) {
  return view.v0 + (x - L.gx) / view.cellW;
}
function cellCentre(L, view, frame, layer) {
  return { x: xOfFrame(L, view, frame + 0.5), y: L.gy + (layer + 0.5) * L.rowH };
}
function visibleFrames(L, view, nF) {
  return [Math.floor(view.v0), Math.min(nF, Math.ceil(view.v0 + L.plotW / view.cellW))];
}
function hitTest(L, view, nF, nL, x, y) {
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
function fittedFrameAt(L, n, x) {
  return Math.max(0, Math.min(n - 1, Math.floor((x - L.gx) / L.plotW * n)));
}
function centreOn(L, view, f) {
  return f - L.plotW / view.cellW / 2;
}
function followV0(L, view, f) {
  const visible = L.plotW / view.cellW;
  if (f >= view.v0 && f <= view.v0 + 0.9 * visible) return view.v0;
  return Math.max(0, f - 0.05 * visible);
}
function cellRect(a, b) {
  return {
    frames: [Math.min(a.frame, b.frame), Math.max(a.frame, b.frame) + 1],
    layers: [Math.min(a.layer, b.layer), Math.max(a.layer, b.layer) + 1]
  };
}
function union(s, t) {
  if (!s) return t;
  return {
    frames: [Math.min(s.frames[0], t.frames[0]), Math.max(s.frames[1], t.frames[1])],
    layers: [Math.min(s.layers[0], t.layers[0]), Math.max(s.layers[1], t.layers[1])]
  };
}
function dragSelection({ zone, start, shift, prev }, h, nF, nL) {
  let sel = cellRect(start, h);
  if (zone === "labels") sel = { frames: [0, nF], layers: sel.layers };
  if (zone === "axis" || zone === "wave") sel = { frames: sel.frames, layers: [0, nL] };
  return shift ? union(prev, sel) : sel;
}
function zoomView(view, L, nF, factor, anchorX) {
  const ax = anchorX ?? L.gx + L.plotW / 2;
  const fAt = frameAt(L, view, ax);
  const minCell = fitCellWidth(L, nF);
  const cellW = Math.min(MAX_CELL, Math.max(minCell, view.cellW * factor));
  return { v0: fAt - (ax - L.gx) / cellW, cellW, fitted: cellW <= minCell + 1e-9 };
}
function tickStep(cellW, frameRate) {
  const steps = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800];
  const pxPerS = cellW * frameRate;
  return steps.find((s) => s * pxPerS >= 70) || 3600;
}
function axisTicks(L, view, frameRate) {
  const step = tickStep(view.cellW, frameRate);
  const tStart = view.v0 / frameRate;
  const tEnd = (view.v0 + L.plotW / view.cellW) / frameRate;
  const first = Math.ceil(tStart / step - 1e-9) * step;
  const ticks = [];
  for (let k = 0; first + k * step <= tEnd + 1e-9; k++) {
    const seconds = Math.round((first + k * step) * 1e3) / 1e3;
    const x = xOfFrame(L, view, seconds * frameRate);
    if (x > L.gx + L.plotW - 24) break;
    ticks.push({ seconds, x });
  }
  return { step, ticks };
}

// qtok_widgets/widgets/frontend/state.js
function createState() {
  return {
    nL: 0,
    nF: 0,
    nOF: 0,
    orig: new Uint32Array(0),
    cur: new Uint32Array(0),
    origin: null,
    version: 0,
    // counts grid and patch messages (caches of drawings derived from cur key on it)
    src: null,
    // the second clip: {nL, nF, cells}, or null
    env: { original: null, edited: null },
    pcm: { original: null, edited: null },
    ops: [],
    ready: false,
    // counters for the debug API and benchmarks
    gridBytes: 0,
    patches: 0,
    patchBytes: 0,
    acks: 0,
    // actions sent and not yet acknowledged: id -> {t0, name}
    nextId: 1,
    pending: /* @__PURE__ */ new Map(),
    lastActionMs: null
  };
}
function originOf(S, f) {
  if (S.origin) return S.origin[f];
  return f < S.nOF ? f : -1;
}
function isEdited(S, l, f) {
  const o = originOf(S, f);
  return o < 0 || S.cur[l * S.nF + f] !== S.orig[l * S.nOF + o];
}
function cellAt(S, layer, frame) {
  const originFrame = originOf(S, frame);
  return {
    value: S.cur[layer * S.nF + frame],
    original: originFrame >= 0 ? S.orig[layer * S.nOF + originFrame] : null,
    originFrame
  };
}
function applyGrid(S, msg, buffers) {
  S.nL = msg.n_layers;
  S.nF = msg.n_frames;
  S.nOF = msg.orig_frames;
  S.orig = decodeCells(buffers[0], msg.bits, msg.n_layers * msg.orig_frames);
  S.cur = msg.same ? S.orig.slice() : decodeCells(buffers[1], msg.bits, msg.n_layers * msg.n_frames);
  S.origin = msg.origin ? int32s(buffers[buffers.length - 1]) : null;
  S.gridBytes = byteSize(buffers);
  S.version += 1;
  S.ready = true;
}
function applyPatch(S, msg, buffers) {
  const { n_frames: nF, n_layers: nL, start, stop } = msg;
  const width = stop - start;
  const chunk = decodeCells(buffers[0], msg.bits, nL * width);
  let cur = S.cur;
  if (nF !== S.nF || nL !== S.nL) {
    cur = new Uint32Array(nL * nF);
    for (let l = 0; l < nL; l++) cur.set(S.cur.subarray(l * S.nF, l * S.nF + Math.min(start, S.nF)), l * nF);
    if (stop < nF) {
      for (let l = 0; l < nL; l++) cur.set(S.cur.subarray(l * S.nF + stop, (l + 1) * S.nF), l * nF + stop);
    }
  }
  for (let l = 0; l < nL; l++) cur.set(chunk.subarray(l * width, (l + 1) * width), l * nF + start);
  const sameShape = nF === S.nF && nL === S.nL && !msg.origin && !S.origin;
  S.cur = cur;
  S.origin = msg.origin ? int32s(buffers[1]) : null;
  S.nF = nF;
  S.nL = nL;
  S.patches += 1;
  S.version += 1;
  S.patchBytes += buffers[0].byteLength;
  return sameShape ? [start, stop] : null;
}
function applyEnvelope(S, msg, buffers) {
  const part = int8s(buffers[0]);
  if (msg.window) {
    S.env[msg.which] = { bins: msg.bins, data: part, start: msg.start, window: true };
    return true;
  }
  const total = msg.n_frames * msg.bins * 2;
  const old = S.env[msg.which];
  let data = part;
  if (part.length !== total) {
    if (!old || old.window || old.data.length !== total) return false;
    data = old.data;
    data.set(part, msg.start * msg.bins * 2);
  }
  S.env[msg.which] = { bins: msg.bins, data, start: 0, window: false };
  return true;
}
function applyPcm(S, msg, buffers) {
  const part = int16s(buffers[0]);
  const old = S.pcm[msg.which];
  if (msg.slice) {
    S.pcm[msg.which] = { rate: msg.sample_rate, data: part, start: msg.start, total: msg.n_samples, slice: true };
    return true;
  }
  let data = part;
  if (part.length !== msg.n_samples) {
    if (!old || old.slice || old.data.length !== msg.n_samples) return false;
    data = old.data;
    data.set(part, msg.start);
  }
  S.pcm[msg.which] = { rate: msg.sample_rate, data, start: 0, total: msg.n_samples, slice: false };
  return true;
}
function applyAck(S, msg, nowMs) {
  S.acks += 1;
  const p = S.pending.get(msg.id);
  if (!p) return null;
  S.pending.delete(msg.id);
  S.lastActionMs = nowMs - p.t0;
  return S.lastActionMs;
}
function startAction(S, name, nowMs) {
  const id = S.nextId++;
  S.pending.set(id, { t0: nowMs, name });
  return id;
}
function handleMessage(S, msg, buffers, nowMs) {
  if (!msg || typeof msg !== "object") return null;
  switch (msg.type) {
    case "grid":
      applyGrid(S, msg, buffers);
      return { kind: "grid" };
    case "patch":
      return { kind: "patch", dirty: applyPatch(S, msg, buffers) };
    case "envelope":
      return applyEnvelope(S, msg, buffers) ? { kind: "envelope", which: msg.which } : null;
    case "pcm":
      return applyPcm(S, msg, buffers) ? { kind: "pcm", which: msg.which } : null;
    case "pcm_drop":
      S.pcm[msg.which] = null;
      return { kind: "pcm_drop", which: msg.which };
    case "source":
      S.src = { nL: msg.n_layers, nF: msg.n_frames, cells: decodeCells(buffers[0], msg.bits, msg.n_layers * msg.n_frames) };
      return { kind: "source" };
    case "ack":
      return { kind: "ack", id: msg.id, ok: msg.ok, message: msg.message, ms: applyAck(S, msg, nowMs) };
    case "ops":
      S.ops = Array.isArray(msg.ops) ? msg.ops : [];
      return { kind: "ops" };
    default:
      return null;
  }
}

// qtok_widgets/widgets/frontend/heatmap.js
var EDIT_COLOUR = "#ff7f0e";
var SELECTION_COLOUR = "#1f77b4";
function imageColumns(L, view, nF) {
  const [f0, f1] = visibleFrames(L, view, nF);
  const perFrame = view.cellW >= 1;
  const cols = Math.max(1, perFrame ? f1 - f0 : Math.ceil(L.plotW));
  return { f0, f1, perFrame, cols };
}
function columnFrames(view, geo, x) {
  if (geo.perFrame) return [geo.f0 + x, geo.f0 + x + 1];
  const fa = Math.floor(view.v0 + x / view.cellW);
  return [fa, Math.max(fa + 1, Math.floor(view.v0 + (x + 1) / view.cellW))];
}
function dominantCode(values, a, b, scratch) {
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
function editMark(masked, cellW) {
  if (cellW < 3) return null;
  return masked ? "corner" : "outline";
}
function paintColumns(px, editedCols, S, view, geo, colour, xa = 0, xb = geo.cols) {
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
          const o2 = origin ? origin[f] : f < nOF ? f : -1;
          if (o2 < 0 || v !== orig[orow + o2]) edited = 1;
        }
      }
      const o = (l * cols + x) * 4;
      if (masked) {
        const dark = (fa + l & 1) === 0;
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
function fittedImage(cells, nL, nF, cols, colour) {
  const px = new Uint8ClampedArray(cols * nL * 4);
  const rgb = [0, 0, 0];
  let scratch = new Uint32Array(Math.max(16, Math.ceil(nF / Math.max(1, cols)) + 2));
  for (let x = 0; x < cols; x++) {
    const fa = Math.floor(x * nF / cols);
    const fb = Math.max(fa + 1, Math.floor((x + 1) * nF / cols));
    if (fa >= nF) break;
    if (fb - fa > scratch.length) scratch = new Uint32Array(2 * (fb - fa));
    for (let l = 0; l < nL; l++) {
      const row = l * nF;
      const o = (l * cols + x) * 4;
      let masked = false;
      for (let f = fa; f < fb; f++) if (cells[row + f] & MASK_BIT) masked = true;
      if (masked) {
        px[o] = px[o + 1] = px[o + 2] = (fa + l & 1) === 0 ? 34 : 58;
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
function envelopeColumns(env, L, view) {
  const nb = env.data.length / 2;
  const off = (env.start || 0) * env.bins;
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
function createHeatmap({ base, overlay, stage }) {
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
    const reuse = dirty && cache && cache.v0 === view.v0 && cache.cellW === view.cellW && cache.cols === cols && cache.nF === S.nF && cache.nL === S.nL && scene.colourMode === "code";
    if (!reuse) {
      scratch.width = cols;
      scratch.height = S.nL;
      cache = {
        v0: view.v0,
        cellW: view.cellW,
        cols,
        nF: S.nF,
        nL: S.nL,
        img: scratch.getContext("2d").createImageData(cols, S.nL),
        editedCols: new Uint8Array(cols)
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
    g.fillStyle = EDIT_COLOUR;
    for (let c = 0; c < cols; c++) {
      if (!cache.editedCols[c]) continue;
      g.fillRect(perFrame ? x(f0 + c) : L.gx + c, L.labelH || 0, perFrame ? Math.max(1, view.cellW) : 1, EDIT_LANE - 2);
    }
    if (perFrame && view.cellW >= 3) {
      g.strokeStyle = EDIT_COLOUR;
      g.fillStyle = EDIT_COLOUR;
      g.lineWidth = view.cellW >= 8 ? 2 : 1;
      const c = Math.max(3, Math.min(8, view.cellW / 2, L.rowH / 2));
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
    drawLabels2(g, scene);
    drawAxis(g, scene);
    if (L.trackH && S.src) drawSource(g, scene);
    drawMini(g, scene);
  }
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
  function drawLabels2(g, { S, L, layerNames, selection, ink, heard }) {
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
        const top = mid - c[1] / 127 * (WAVE / 2 - 2);
        const bot = mid - c[0] / 127 * (WAVE / 2 - 2);
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
  function drawOverlay({ S, L, view, selection, playhead, playing: playing2, frameRate, showWaveform, sourceSelection }) {
    const ratio = dpr();
    const g = overlay.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, L.width, L.height);
    if (!S.nF) return;
    const mx = (f) => L.gx + f / S.nF * L.plotW;
    const [v0, v1] = [Math.max(0, view.v0), Math.min(S.nF, view.v0 + L.plotW / view.cellW)];
    g.strokeStyle = "#d62728";
    g.lineWidth = 1.5;
    g.strokeRect(mx(v0), L.miniY + 1, Math.max(2, mx(v1) - mx(v0)), MINI - 2);
    g.fillStyle = playing2 ? "#d62728" : "#222";
    g.fillRect(mx(playhead * frameRate) - 0.5, L.miniY, 1, MINI);
    if (L.trackH && S.src && sourceSelection) {
      const sx = (f) => L.gx + f / S.src.nF * L.plotW;
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
    g.strokeStyle = playing2 ? "#d62728" : "#222";
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, L.trackY);
    g.stroke();
    g.restore();
  }
  return { drawBase, drawOverlay };
}

// qtok_widgets/widgets/frontend/input.js
function keyCommand(e, keys) {
  const mod = e.ctrl || e.meta;
  const k = e.key.toLowerCase();
  if (mod && k === "z") return { action: e.shift ? "redo" : "undo" };
  if (mod && k === "y") return { action: "redo" };
  if (e.inField) return { field: true };
  if (mod && k === "c") return { action: "copy" };
  if (mod && k === "v") return { action: "paste" };
  if (mod) return null;
  if (e.key === "?") return { command: "help" };
  if (e.key === " ") return { command: "play" };
  if (k === "a") return { command: "ab" };
  if (k === "l") return { command: "loop" };
  if (k === "n") return { command: e.shift ? "previous" : "next" };
  if (k === "h") return { command: e.shift ? "hear_code" : "audition" };
  if (e.key === "+" || e.key === "=") return { zoom: 2 };
  if (e.key === "-") return { zoom: 0.5 };
  if (e.key === "0") return { command: "fit" };
  if (e.key === "Escape") return { command: "clear" };
  if (e.key === "ArrowRight") return { scroll: 0.1 };
  if (e.key === "ArrowLeft") return { scroll: -0.1 };
  const op = keys && keys.get(k);
  if (op) return op.does === "focus" ? { focus: op.op } : { action: op.op };
  return null;
}
var SHORTCUTS = [
  ["Space", "play / stop"],
  ["A", "switch A (original) / B (edited)"],
  ["L", "loop the selection"],
  ["N / Shift+N", "next / previous frame with the selected cell's code in its layer"],
  ["H / Shift+H", "hear the selected frame in context (original, then edited) / its code alone"],
  ["+ / −, Ctrl+wheel", "zoom in / out"],
  ["0", "fit the whole clip"],
  ["← / →, Shift+wheel", "scroll"],
  ["Esc", "clear the selection (or close this help)"],
  ["Ctrl+Z / Shift+Ctrl+Z, Ctrl+Y", "undo / redo"],
  ["Ctrl+C / Ctrl+V", "copy / paste at the playhead"],
  ["click a layer's dot", "mute / unmute it in playback (Shift: hear it alone)"],
  ["drag on the 2nd clip", "choose the frames Paste 2nd pastes"],
  ["click the overview strip", "jump there"],
  ["?", "this help"]
];
function shortcutList(ops) {
  const out = SHORTCUTS.slice();
  for (const op of ops || []) {
    if (!op.key) continue;
    const what = op.key_does === "focus" ? `type a value for ${op.title || op.name} (Enter applies)` : op.title || op.name;
    out.push([String(op.key).length === 1 ? String(op.key).toUpperCase() : String(op.key), what]);
  }
  return out;
}
function isTextField(target) {
  return typeof HTMLInputElement !== "undefined" && target instanceof HTMLInputElement && (target.type === "number" || target.type === "text");
}
function bindInput(o) {
  const { root, overlay } = o;
  let drag = null;
  const hit = (e) => {
    const r = overlay.getBoundingClientRect();
    const { L, view, nF, nL } = o.geometry();
    return hitTest(L, view, nF, nL, e.clientX - r.left, e.clientY - r.top);
  };
  const update = (h) => {
    const { nF, nL } = o.geometry();
    drag.sel = dragSelection(drag, h, nF, nL);
    o.draft(drag.sel);
  };
  const sourceFrame = (h) => fittedFrameAt(o.geometry().L, o.sourceFrames(), h.x);
  const miniFrame = (h) => fittedFrameAt(o.geometry().L, o.geometry().nF, h.x);
  const down = (e) => {
    if (!o.geometry().nF || e.button !== 0) return;
    root.focus({ preventScroll: true });
    const h = hit(e);
    if (h.zone === "none") return;
    if (h.zone === "mute") {
      o.toggleLayer(h.layer, e.shiftKey);
      e.preventDefault();
      return;
    }
    if (h.zone === "tier") {
      if (o.labelClick) o.labelClick(h, e.shiftKey);
      e.preventDefault();
      return;
    }
    overlay.setPointerCapture(e.pointerId);
    if (h.zone === "source" || h.zone === "mini") {
      drag = { zone: h.zone, start: h, sf: h.zone === "source" ? sourceFrame(h) : 0 };
      if (h.zone === "mini") o.jump(miniFrame(h));
      else o.sourceSelect([drag.sf, drag.sf + 1], false);
      e.preventDefault();
      return;
    }
    drag = { start: h, zone: h.zone, shift: e.shiftKey, prev: o.selection(), moved: false };
    update(h);
    e.preventDefault();
  };
  const move = (e) => {
    const h = hit(e);
    if (drag && drag.zone === "mini") o.jump(miniFrame(h));
    else if (drag && drag.zone === "source") {
      const f = sourceFrame(h);
      drag.sel = [Math.min(f, drag.sf), Math.max(f, drag.sf) + 1];
      o.sourceSelect(drag.sel, false);
    } else if (drag) {
      if (Math.abs(h.x - drag.start.x) > 3 || Math.abs(h.y - drag.start.y) > 3) drag.moved = true;
      update(h);
    }
    o.hover(h, e);
  };
  const up = (e) => {
    const d = drag;
    if (!d) return;
    drag = null;
    if (d.zone === "mini") return;
    if (d.zone === "source") {
      o.sourceSelect(d.sel || [d.sf, d.sf + 1], true);
      return;
    }
    if ((d.zone === "axis" || d.zone === "wave") && !d.moved) {
      const h = hit(e);
      const { L, view } = o.geometry();
      o.draft(null);
      o.seek(Math.max(0, o.seconds(frameAt(L, view, h.x))));
      return;
    }
    o.commit(d.sel);
  };
  const wheel = (e) => {
    const focused = root.contains(document.activeElement);
    const horizontal = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
    if (horizontal) {
      const d = e.shiftKey ? e.deltaY || e.deltaX : e.deltaX;
      o.scrollFrames(d / o.geometry().view.cellW);
      e.preventDefault();
    } else if (e.ctrlKey || e.metaKey || focused) {
      o.zoom(Math.exp(-e.deltaY * 2e-3), hit(e).x);
      e.preventDefault();
    }
  };
  const key = (e) => {
    const cmd = keyCommand(
      { key: e.key, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey, inField: isTextField(e.target) },
      o.keys()
    );
    if (!cmd) return;
    if (cmd.field) {
      e.stopPropagation();
      return;
    }
    o.command(cmd);
    e.preventDefault();
    e.stopPropagation();
  };
  const leave = () => o.leave();
  overlay.addEventListener("pointerdown", down);
  overlay.addEventListener("pointermove", move);
  overlay.addEventListener("pointerup", up);
  overlay.addEventListener("pointerleave", leave);
  overlay.addEventListener("wheel", wheel, { passive: false });
  root.addEventListener("keydown", key);
  return () => {
    overlay.removeEventListener("pointerdown", down);
    overlay.removeEventListener("pointermove", move);
    overlay.removeEventListener("pointerup", up);
    overlay.removeEventListener("pointerleave", leave);
    overlay.removeEventListener("wheel", wheel);
    root.removeEventListener("keydown", key);
  };
}

// qtok_widgets/widgets/frontend/labels.js
var TOLERANCE = 1e-6;
function tierNames(tiers) {
  return tiers ? Object.keys(tiers) : [];
}
function labelFrames(startS, endS, frameRate, nF) {
  let start = Math.floor(startS * frameRate + TOLERANCE);
  let stop = Math.ceil(endS * frameRate - TOLERANCE);
  start = Math.max(0, Math.min(start, nF - 1));
  stop = Math.min(nF, Math.max(stop, start + 1));
  return [start, stop];
}
function labelAt(tiers, row, seconds) {
  const name = tierNames(tiers)[row];
  if (name === void 0) return null;
  const items = tiers[name];
  for (let i = 0; i < items.length; i++) {
    const [start, end, text] = items[i];
    if (seconds >= start && seconds < end) return { tier: name, index: i, start, end, text };
  }
  return null;
}
function labelSelection(label, frameRate, nF, nL, prev, shift) {
  const frames = labelFrames(label.start, label.end, frameRate, nF);
  const sel = { frames, layers: [0, nL] };
  if (!shift || !prev) return sel;
  return {
    frames: [Math.min(prev.frames[0], frames[0]), Math.max(prev.frames[1], frames[1])],
    layers: [Math.min(prev.layers[0], 0), Math.max(prev.layers[1], nL)]
  };
}
function drawLabels(g, { L, view, tiers, frameRate, ink }) {
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

// qtok_widgets/widgets/frontend/notebook.js
function pictureContainer(node) {
  return node.closest && node.closest(".jp-OutputArea-child, .output_area") || node;
}
function hidePicture(doc, pictureId) {
  if (!pictureId || !doc || !doc.querySelectorAll) return () => {
  };
  const selector = `[data-qtok-picture="${CSS.escape(pictureId)}"]`;
  const hidden = /* @__PURE__ */ new Set();
  const hideAll = () => {
    for (const node of doc.querySelectorAll(selector)) {
      const box = pictureContainer(node);
      if (box.style.display !== "none") {
        box.style.display = "none";
        hidden.add(box);
      }
    }
  };
  hideAll();
  const observer = new MutationObserver(hideAll);
  observer.observe(doc.body, { childList: true, subtree: true });
  return () => {
    observer.disconnect();
    for (const box of hidden) if (box.isConnected) box.style.display = "";
  };
}
function createRestoreBar(onAction) {
  const text = el("span", { class: "qtok-restore-text" });
  const bar = el("div", { class: "qtok-restore", role: "status" }, [
    text,
    el("button", { class: "qtok-btn", "data-action": "restore", text: "Restore", title: "Bring the saved edits back" }),
    el("button", { class: "qtok-btn", "data-action": "discard_saved", text: "Discard", title: "Delete the saved edits" })
  ]);
  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) onAction(b.dataset.action);
  });
  return {
    node: bar,
    /** Show `offer` ("37 edits from 14:02 were saved for this clip"), or hide the bar when empty. */
    sync(offer) {
      text.textContent = offer ? `${offer}. ` : "";
      bar.style.display = offer ? "" : "none";
    }
  };
}

// qtok_widgets/widgets/frontend/occurrence.js
function nextOccurrence(cur, nF, layer, frame, step = 1) {
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

// qtok_widgets/widgets/frontend/strips.js
var DB_LOW = -90;
var F0_RANGE = [50, 500];
var DIFF_DB = 24;
var SPECTROGRAM_VIEWS = ["edited", "original", "both", "difference"];
function piece({ cpf, fpc, start, stop, total, nMels, f0Range }) {
  const n = stop - start;
  return {
    cpf,
    fpc,
    start,
    stop,
    total,
    nMels,
    f0Range,
    mel: new Uint8Array(nMels * n),
    f0: new Uint16Array(n),
    energy: new Uint8Array(n)
  };
}
function mergeStrips(held, msg, buffers) {
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
  h.rev = (h.rev || 0) + 1;
  for (let b = 0; b < nMels; b++) h.mel.set(mel.subarray(b * w, (b + 1) * w), b * total + start);
  h.f0.set(f0, start);
  h.energy.set(energy, start);
  out.base = h;
  return out;
}
function pitchY(hz, top, height, units = "semitones", range = F0_RANGE) {
  const [lo, hi] = range;
  const f = Math.min(hi, Math.max(lo, hz));
  const t = units === "Hz" ? (f - lo) / (hi - lo) : Math.log(f / lo) / Math.log(hi / lo);
  return top + height - t * height;
}
function semitones(hz) {
  return 12 * Math.log2(hz / 100);
}
function pitchTicks(units, range = F0_RANGE) {
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
function diffColour(d) {
  const t = Math.max(-1, Math.min(1, d / DIFF_DB));
  const a = Math.abs(t);
  const fade = Math.round(255 * (1 - a));
  return t >= 0 ? [255, fade + Math.round(40 * a), fade + Math.round(40 * a)] : [fade + Math.round(40 * a), fade + Math.round(80 * a), 255];
}
var painted = /* @__PURE__ */ new WeakMap();
function paintSpec(g, { L, view, fa, fb, p, y, h, pixel, key }) {
  const k = p.cpf / p.fpc;
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
      const row = (p.nMels - 1 - band) * cols;
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
var levelPixel = (p) => (i) => {
  const v = p.mel[i];
  return [LUT[v * 3], LUT[v * 3 + 1], LUT[v * 3 + 2]];
};
var diffPixel = (o, e) => (i) => diffColour((e.mel[i] - o.mel[i]) * -DB_LOW / 255);
var levels = (v) => v ? [v.base, v.window].filter(Boolean) : [];
function drawStrips(g, { L, view, nF, strips, ink, spectrogram = "edited", units = "semitones" }) {
  if (!L.stripH) return;
  const top = L.stripY;
  const melH = L.melH || STRIP_MEL;
  const both = spectrogram === "both" && melH >= 2 * STRIP_MEL;
  const pitchTop = top + melH;
  const energyTop = pitchTop + STRIP_PITCH;
  const orig = strips.original;
  const edit = strips.edited;
  const ref = edit && edit.base || orig && orig.base || null;
  const range = ref && ref.f0Range || F0_RANGE;
  g.save();
  g.clearRect(0, top, L.width, L.stripH);
  g.fillStyle = ink;
  g.font = "10px sans-serif";
  g.textAlign = "right";
  g.textBaseline = "middle";
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
      specRow(top, melH, (o, e) => o && e && o.stop - o.start === e.stop - e.start && o.start === e.start ? { p: e, pixel: diffPixel(o, e), key: `diff|${o.rev || 0}` } : null);
    } else {
      specRow(top, melH, one(spectrogram === "original" ? "original" : "edited"));
    }
  }
  const curve = (version, colour, value, y) => {
    if (!version) return;
    const win = version.window;
    const covered = win ? [win.start * win.fpc / win.cpf, win.stop * win.fpc / win.cpf] : null;
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
  const f0 = (p, i) => p.f0[i] ? p.f0[i] / 10 : null;
  const py = (hz) => pitchY(hz, pitchTop, STRIP_PITCH, units, range);
  curve(orig, "rgba(128,128,128,0.9)", f0, py);
  curve(edit, "#1f77b4", f0, py);
  curve(edit || orig, "#2ca02c", (p, i) => p.energy[i], (v) => energyTop + STRIP_ENERGY - v / 255 * STRIP_ENERGY);
  g.restore();
}
function windowRequest({ L, view, nF, frameRate, windowS, dpr = 1, held = null }) {
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

// qtok_widgets/widgets/frontend/toolbar.js
var CLIPBOARD_GROUP = [
  { kind: "button", action: "copy", text: "Copy", title: "Copy selected cells (Ctrl+C)" },
  { kind: "button", action: "paste", text: "Paste", title: "Paste at the playhead (Ctrl+V)" },
  { kind: "paste-mode" },
  { kind: "button", action: "paste_source", text: "Paste 2nd", title: "Paste the second clip at the playhead" }
];
var HISTORY_GROUP = [
  { kind: "button", action: "undo", text: "Undo", title: "Undo (Ctrl+Z)" },
  { kind: "button", action: "redo", text: "Redo", title: "Redo (Shift+Ctrl+Z)" },
  { kind: "button", action: "reset", text: "Reset", title: "Back to the original (undoable)" }
];
var LEGACY_CLASSES = {
  "replace.code": "qtok-code",
  "interpolate.alpha": "qtok-alpha",
  "interpolate.target": "qtok-target"
};
function paramClasses(op, param) {
  const legacy = LEGACY_CLASSES[`${op}.${param}`];
  return `qtok-param qtok-param-${op}-${param}` + (legacy ? ` ${legacy}` : "");
}
function isSlider(param) {
  return param.kind === "float" && param.min != null && param.max != null;
}
function toolbarModel(ops) {
  const groups = /* @__PURE__ */ new Map();
  for (const op of ops || []) {
    const name = op.group || op.name;
    if (!groups.has(name)) groups.set(name, { name, ops: [] });
    groups.get(name).ops.push(op);
  }
  const cells = [];
  const frames = [];
  for (const g of groups.values()) {
    const items = [];
    for (const op of g.ops) {
      for (const param of op.params || []) items.push({ kind: "param", op: op.name, param });
      items.push({ kind: "button", action: op.name, text: op.title || op.name, title: op.help || "", op: op.name });
    }
    (g.ops.every((op) => op.selection === "frames") ? frames : cells).push({ name: g.name, items });
  }
  return [
    ...cells,
    { name: "clipboard", items: CLIPBOARD_GROUP },
    ...frames,
    { name: "history", items: HISTORY_GROUP }
  ];
}
function opKeys(ops) {
  const keys = /* @__PURE__ */ new Map();
  for (const op of ops || []) {
    if (!op.key) continue;
    const entry = { op: op.name, does: op.key_does === "focus" ? "focus" : "run" };
    const key = String(op.key).toLowerCase();
    keys.set(key, entry);
    if (key === "delete") keys.set("backspace", entry);
  }
  return keys;
}
function parseParam(opName, param, text) {
  const s = String(text ?? "").trim();
  if (param.kind === "choice") return { value: String(text) };
  if (param.kind === "int") {
    if (s === "" && param.optional) return { value: null };
    const n = Number(s);
    if (s === "" || !Number.isInteger(n)) return { error: `${opName}: type a whole-number ${param.name} first` };
    return { value: n };
  }
  const x = Number(s);
  if (s === "" || !Number.isFinite(x)) return { error: `${opName}: type a number for ${param.name} first` };
  return { value: x };
}
function readParams(op, texts) {
  const params = {};
  for (const param of op.params || []) {
    const r = parseParam(op.name, param, texts[param.name]);
    if ("error" in r) return r;
    params[param.name] = r.value;
  }
  return { params };
}
function withParam(opParams, op, param, value) {
  const out = {};
  for (const [k, v] of Object.entries(opParams || {})) out[k] = { ...v };
  out[op] = { ...out[op] || {}, [param]: value };
  return out;
}
function paramText(param, value) {
  if (value === null || value === void 0) {
    if (param.optional) return "";
    if (param.kind === "choice") return param.choices && param.choices.length ? String(param.choices[0][0]) : "";
    return param.min != null ? String(param.min) : "0";
  }
  return String(value);
}
function sliderText(value) {
  return Number(value).toFixed(2);
}
function paramInput(opName, param) {
  const cls = paramClasses(opName, param.name);
  const title = param.help || `${param.name} for ${opName}`;
  if (param.kind === "choice") {
    return el(
      "select",
      { class: cls, title },
      (param.choices || []).map(([value, text]) => el("option", { value: String(value), text: String(text) }))
    );
  }
  const attrs = { class: cls, title, type: isSlider(param) ? "range" : "number" };
  if (param.min != null) attrs.min = String(param.min);
  if (param.max != null) attrs.max = String(param.max);
  attrs.step = String(param.step ?? (param.kind === "int" ? 1 : "any"));
  if (param.optional) attrs.placeholder = "random";
  return el("input", attrs);
}
function createToolbar({ bar, onAction, onParam, onEnter, onPasteMode }) {
  let inputs = /* @__PURE__ */ new Map();
  const pasteMode = el("select", { class: "qtok-paste-mode", title: "Paste mode" }, [
    el("option", { value: "replace", text: "overwrite" }),
    el("option", { value: "insert", text: "insert" })
  ]);
  pasteMode.addEventListener("change", () => onPasteMode(pasteMode.value));
  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) onAction(b.dataset.action);
  });
  function item(it) {
    if (it.kind === "paste-mode") return [pasteMode];
    if (it.kind === "button") {
      return [el("button", { class: "qtok-btn", "data-action": it.action, title: it.title, text: it.text })];
    }
    const { op, param } = it;
    const input = paramInput(op, param);
    const out = [];
    if (param.label) out.push(el("span", { class: "qtok-label", text: param.label }));
    out.push(input);
    const entry = { op, param, input, label: null };
    if (isSlider(param)) {
      entry.label = el("span", {
        class: "qtok-param-value" + (op === "interpolate" && param.name === "alpha" ? " qtok-alpha-label" : "")
      });
      input.addEventListener("input", () => entry.label.textContent = sliderText(input.value));
      out.push(entry.label);
    }
    input.addEventListener("change", () => {
      const r = parseParam(op, param, input.value);
      if (!("error" in r)) onParam(op, param.name, r.value);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        onEnter(op);
      }
    });
    inputs.set(`${op}.${param.name}`, entry);
    return out;
  }
  function render2(ops) {
    inputs = /* @__PURE__ */ new Map();
    const groups = toolbarModel(ops).map(
      (g) => el("span", { class: "qtok-group", "data-group": g.name }, g.items.flatMap(item))
    );
    bar.replaceChildren(...groups);
  }
  function sync(opParams) {
    for (const { op, param, input, label } of inputs.values()) {
      const value = opParams && opParams[op] ? opParams[op][param.name] : void 0;
      if (document.activeElement !== input) input.value = paramText(param, value);
      if (label) label.textContent = sliderText(input.value);
    }
  }
  function texts(op) {
    const out = {};
    for (const e of inputs.values()) if (e.op === op) out[e.param.name] = e.input.value;
    return out;
  }
  function focus(op) {
    for (const e of inputs.values()) {
      if (e.op === op) {
        e.input.focus();
        return true;
      }
    }
    return false;
  }
  return {
    render: render2,
    sync,
    texts,
    focus,
    pasteMode: () => pasteMode.value,
    setPasteMode: (v) => pasteMode.value = v,
    button: (action) => bar.querySelector(`button[data-action="${action}"]`)
  };
}

// qtok_widgets/widgets/frontend/index.js
function render({ model, el: host }) {
  const root = el("div", { class: "qtok-editor", tabindex: "0", "data-lm-suppress-shortcuts": "true" });
  root.setAttribute("data-p-suppress-shortcuts", "true");
  const group = (...children) => el("span", { class: "qtok-group" }, children);
  const editBar = el("div", { class: "qtok-toolbar qtok-edit-bar" });
  const colourSelect = el("select", { class: "qtok-colour", title: "Colour cells by" }, [
    el("option", { value: "code", text: "colour: code" }),
    el("option", { value: "frequency", text: "colour: frequency" }),
    el("option", { value: "embedding", text: "colour: embedding" }),
    el("option", { value: "change", text: "colour: change" })
  ]);
  const playBtn = el("button", { class: "qtok-btn qtok-play", title: "Play / stop (Space)", text: "▶ Play" });
  const abBtn = el("button", { class: "qtok-btn qtok-ab", title: "A/B: which version plays (A)" });
  const selOnly = el("input", { type: "checkbox", class: "qtok-selonly" });
  const loopBox = el("input", { type: "checkbox", class: "qtok-loop" });
  const zoomOut = el("button", { class: "qtok-btn qtok-zoom-out", title: "Zoom out (-)", text: "−" });
  const zoomIn = el("button", { class: "qtok-btn qtok-zoom-in", title: "Zoom in (+)", text: "+" });
  const zoomFit = el("button", { class: "qtok-btn qtok-zoom-fit", title: "Show all (0)", text: "Fit" });
  const followBox = el("input", { type: "checkbox", class: "qtok-follow" });
  followBox.checked = true;
  const listenSelect = el("select", { class: "qtok-listen", title: "Layers playback lets through (a listening view: the grid is not edited)" });
  const legendLow = el("span", { class: "qtok-legend-low" });
  const legendBar = el("span", { class: "qtok-legend-bar", style: `background: ${legendGradient()}` });
  const legendHigh = el("span", { class: "qtok-legend-high" });
  const legend = el("span", { class: "qtok-legend" }, [
    legendLow,
    legendBar,
    legendHigh
  ]);
  const specSelect = el(
    "select",
    { class: "qtok-spectrogram", title: "Spectrogram strip: which audio, or edited minus original" },
    SPECTROGRAM_VIEWS.map((v) => el("option", { value: v, text: `spectrogram: ${v === "both" ? "side by side" : v}` }))
  );
  const unitsSelect = el("select", { class: "qtok-pitch-units", title: "Pitch strip's axis" }, [
    el("option", { value: "Hz", text: "F0: Hz" }),
    el("option", { value: "semitones", text: "F0: semitones" })
  ]);
  const stripControls = el("span", { class: "qtok-group qtok-strip-controls" }, [specSelect, unitsSelect]);
  const helpBtn = el("button", { class: "qtok-btn qtok-help-btn", title: "Keyboard shortcuts (?)", text: "?" });
  const info = el("span", { class: "qtok-info" });
  const playBar = el("div", { class: "qtok-toolbar qtok-play-bar" }, [
    group(
      playBtn,
      abBtn,
      el("label", { class: "qtok-check", title: "Play the selection only" }, [selOnly, " selection"]),
      el("label", { class: "qtok-check", title: "Loop the selection (L)" }, [loopBox, " loop"]),
      listenSelect
    ),
    group(
      zoomOut,
      zoomIn,
      zoomFit,
      el("label", { class: "qtok-check", title: "Scroll with the playhead while playing" }, [followBox, " follow"])
    ),
    group(colourSelect, legend),
    stripControls,
    helpBtn,
    info
  ]);
  const help = el("div", { class: "qtok-help", role: "dialog", "aria-label": "Keyboard shortcuts" });
  const base = el("canvas", { class: "qtok-base" });
  const overlay = el("canvas", { class: "qtok-overlay" });
  const tooltip = el("div", { class: "qtok-tooltip" });
  const stage = el("div", { class: "qtok-stage" }, [base, overlay, tooltip]);
  const scroll = el("input", { type: "range", class: "qtok-scroll", min: "0", max: "1000", step: "1", value: "0", title: "Scroll" });
  const message = el("div", { class: "qtok-message", role: "status" });
  const historyList = el("ol", { class: "qtok-history-list" });
  const historySummary = el("summary", { text: "History" });
  const history = el("details", { class: "qtok-history" }, [historySummary, historyList]);
  root.append(editBar, playBar, stage, scroll, message, history, help);
  host.append(root);
  const S = createState();
  let view = { v0: 0, cellW: 0, fitted: true };
  let L = computeLayout({ nLayers: 0, heightPx: model.get("height_px"), width: 800, showWaveform: false });
  let freq = null;
  let palette = null;
  let lab = null;
  let strips = { original: null, edited: null };
  let draftSel = null;
  let opKeyMap = /* @__PURE__ */ new Map();
  const timings = { paintMs: null, firstPaintMs: null, stripMessages: 0, stripsPaintedAt: null };
  const frameRate = () => model.get("frame_rate");
  const setTrait = (name, value) => {
    model.set(name, value);
    model.save_changes();
  };
  const committedSelection = () => {
    const sel = model.get("selection");
    return sel && sel.frames ? sel : null;
  };
  const currentSelection = () => draftSel || committedSelection();
  const heatmap = createHeatmap({ base, overlay, stage });
  function computeFreq() {
    freq = model.get("color_mode") === "frequency" ? codeFrequencies(S.cur, S.nL, S.nF, model.get("codebook_size")) : null;
  }
  function relayout() {
    L = computeLayout({
      nLayers: S.nL,
      heightPx: model.get("height_px"),
      width: stage.clientWidth || root.clientWidth || 800,
      showWaveform: model.get("show_waveform"),
      source: !!S.src,
      labelRows: tierNames(model.get("label_tiers")).length,
      strips: model.get("show_strips") ? model.get("spectrogram_view") === "both" ? 2 : 1 : 0
    });
    view = clampView(view, L, S.nF);
    const bar = scrollBar(view, L, S.nF);
    scroll.max = String(bar.max);
    scroll.disabled = bar.disabled;
    scroll.value = String(bar.value);
  }
  function scene() {
    const colourMode = model.get("color_mode");
    return {
      S,
      L,
      view,
      colourMode,
      colour: colourer({ mode: colourMode, codebookSize: model.get("codebook_size"), freq, palette, lab, S }),
      layerNames: model.get("layer_names"),
      showWaveform: model.get("show_waveform"),
      frameRate: frameRate(),
      selection: currentSelection(),
      playhead: player.position(),
      playing: player.isPlaying(),
      heard: heardLayers(),
      waveNote: waveNote(),
      sourceSelection: draftSource || sourceSelection(),
      // text colour of the surrounding theme (JupyterLab light or dark), for labels drawn on canvas
      ink: getComputedStyle(root).color || "#333"
    };
  }
  function drawBase(dirty) {
    const t0 = performance.now();
    relayout();
    heatmap.drawBase(scene(), dirty);
    const ink = getComputedStyle(root).color || "#333";
    drawLabels(base.getContext("2d"), { L, view, tiers: model.get("label_tiers"), frameRate: frameRate(), ink });
    paintStrips(ink);
    timings.paintMs = performance.now() - t0;
    if (!dirty) {
      scheduleWaveform();
      scheduleStrips();
    }
  }
  function paintStrips(ink = getComputedStyle(root).color || "#333") {
    drawStrips(base.getContext("2d"), {
      L,
      view,
      nF: S.nF,
      strips,
      ink,
      spectrogram: model.get("spectrogram_view"),
      units: model.get("pitch_units")
    });
  }
  function drawOverlay() {
    const sc = scene();
    heatmap.drawOverlay(sc);
    root.dataset.playhead = sc.playhead.toFixed(4);
  }
  function updateInfo() {
    info.textContent = infoText({
      nLayers: S.nL,
      nFrames: S.nF,
      frameRate: frameRate(),
      codecName: model.get("codec_name"),
      selection: currentSelection()
    });
  }
  function redraw() {
    drawBase();
    drawOverlay();
    updateInfo();
  }
  let waveTimer = null;
  let waveAsked = null;
  const windowS = () => model.get("show_waveform") ? model.get("waveform_window_s") || 0 : 0;
  function waveNote() {
    const w = windowS();
    if (!w || !S.nF) return null;
    const span = L.plotW / view.cellW / frameRate();
    return span > w ? `long recording: zoom in to ${w} s or less to see the waveform` : null;
  }
  function askWaveform(editedOnly = false) {
    const w = windowS();
    if (!w || waveNote() !== null) return;
    const visible = L.plotW / view.cellW;
    const span = Math.floor(w * frameRate());
    const start = Math.max(0, Math.floor(view.v0 - (span - visible) / 2));
    const stop = Math.min(S.nF, start + span);
    const held = S.env.original;
    const covered = held && held.window && held.start <= view.v0 && held.start + held.data.length / 2 / held.bins >= view.v0 + visible;
    if (!editedOnly && covered && S.env.edited) return;
    waveAsked = [start, stop];
    model.send({ type: "waveform", start, stop, ...editedOnly && covered ? { which: "edited" } : {} });
  }
  function scheduleWaveform(editedOnly = false) {
    if (!windowS()) return;
    clearTimeout(waveTimer);
    waveTimer = setTimeout(() => askWaveform(editedOnly), 150);
  }
  let stripTimer = null;
  function scheduleStrips(again = false) {
    const w = model.get("waveform_window_s") || 0;
    if (!model.get("show_strips") || !w) return;
    clearTimeout(stripTimer);
    stripTimer = setTimeout(() => {
      const req = windowRequest({
        L,
        view,
        nF: S.nF,
        frameRate: frameRate(),
        windowS: w,
        dpr: window.devicePixelRatio || 1,
        held: again ? null : strips.edited
      });
      if (req) model.send({ type: "strips_window", ...req });
    }, 150);
  }
  let draftSource = null;
  const sourceSelection = () => {
    const v = model.get("source_selection");
    return v && v.length === 2 ? v : null;
  };
  function heardLayers() {
    const layers = model.get("listen_layers");
    if (!Array.isArray(layers)) return null;
    const heard = new Array(S.nL).fill(false);
    for (const l of layers) if (l >= 0 && l < S.nL) heard[l] = true;
    return heard;
  }
  function setListen(layers) {
    const all = layers.length === S.nL;
    setTrait("listen_layers", all ? null : layers);
  }
  function toggleLayer(layer, solo) {
    const heard = heardLayers() || new Array(S.nL).fill(true);
    if (solo) {
      const alone = heard.every((h, l) => h === (l === layer));
      setListen(alone ? [...Array(S.nL).keys()] : [layer]);
      return;
    }
    heard[layer] = !heard[layer];
    const layers = [...heard.keys()].filter((l) => heard[l]);
    if (!layers.length) {
      say("at least one layer must play: Shift+click a dot to hear that layer alone", true);
      return;
    }
    setListen(layers);
  }
  function syncListen() {
    const n = S.nL;
    if (listenSelect.options.length !== n + 1) {
      const opts = [el("option", { value: "all", text: "hear: all layers" })];
      for (let k = 1; k < n; k++) opts.push(el("option", { value: String(k), text: `hear: L0..${k - 1}` }));
      opts.push(el("option", { value: "custom", text: "hear: chosen layers", hidden: "" }));
      listenSelect.replaceChildren(...opts);
    }
    const layers = model.get("listen_layers");
    let value = "all";
    if (Array.isArray(layers)) {
      const prefix = layers.every((l, i) => l === i);
      value = prefix ? String(layers.length) : "custom";
    }
    listenSelect.value = value;
  }
  listenSelect.addEventListener("change", () => {
    const v = listenSelect.value;
    if (v === "all") setListen([...Array(S.nL).keys()]);
    else if (v !== "custom") setListen([...Array(Number(v)).keys()]);
    root.focus({ preventScroll: true });
  });
  function syncLegend() {
    const t = legendText(model.get("color_mode"), model.get("codebook_size"));
    legendLow.textContent = t.low;
    legendHigh.textContent = t.high;
    legend.title = t.title;
    legendBar.style.display = model.get("color_mode") === "embedding" ? "none" : "";
  }
  function toggleHelp(show = !help.classList.contains("qtok-open")) {
    if (show) {
      help.replaceChildren(
        el("div", { class: "qtok-help-title", text: "Keyboard shortcuts (? or Esc closes)" }),
        el("table", {}, shortcutList(S.ops).map(([k, what]) => el("tr", {}, [el("td", { class: "qtok-help-key", text: k }), el("td", { text: what })])))
      );
    }
    help.classList.toggle("qtok-open", show);
  }
  helpBtn.addEventListener("click", () => {
    toggleHelp();
    root.focus({ preventScroll: true });
  });
  function jumpToOccurrence(step) {
    const sel = committedSelection();
    if (!sel || !S.nF) return say("select a cell first, then N finds its code again", true);
    const layer = sel.layers[0];
    const hit = nextOccurrence(S.cur, S.nF, layer, sel.frames[0], step);
    if (!hit) return say("a masked cell has no code to look for", true);
    setSelection({ frames: [hit.frame, hit.frame + 1], layers: [layer, layer + 1] });
    const visible = L.plotW / view.cellW;
    if (hit.frame < view.v0 || hit.frame >= view.v0 + visible) {
      view = clampView({ ...view, fitted: false, v0: centreOn(L, view, hit.frame) }, L, S.nF);
      drawBase();
      drawOverlay();
    }
    say(`code ${hit.code} in L${layer}: occurrence ${hit.index + 1} of ${hit.count} (frame ${hit.frame})`);
  }
  function say(text, error = false) {
    message.textContent = text;
    message.classList.toggle("qtok-error", error);
  }
  function sendAction(name, extra = {}) {
    const id = startAction(S, name, performance.now());
    const args = { ...extra };
    const sel = committedSelection();
    if (sel) args.selection = sel;
    args.playhead = model.get("playhead");
    model.send({ type: "action", id, name, args });
    return id;
  }
  function act(name) {
    const op = S.ops.find((o) => o.name === name);
    if (op) {
      const r = readParams(op, toolbar.texts(name));
      if ("error" in r) {
        say(r.error, true);
        return;
      }
      sendAction(name, { params: r.params });
    } else if (name === "paste" || name === "paste_source") {
      sendAction(name, { paste_mode: toolbar.pasteMode() });
    } else {
      sendAction(name);
    }
  }
  const toolbar = createToolbar({
    bar: editBar,
    onAction: act,
    onEnter: (name) => {
      act(name);
      root.focus({ preventScroll: true });
    },
    onParam: (op, param, value) => setTrait("op_params", withParam(model.get("op_params"), op, param, value)),
    onPasteMode: (value) => setTrait("paste_mode", value)
  });
  toolbar.render(S.ops);
  const restoreBar = createRestoreBar(act);
  root.prepend(restoreBar.node);
  const showPicture = hidePicture(document, model.get("picture_id"));
  function setSelection(sel) {
    draftSel = null;
    setTrait("selection", sel || {});
    drawBase();
    drawOverlay();
    updateInfo();
  }
  function setPlayhead(seconds) {
    const dur = S.nF / frameRate();
    setTrait("playhead", Math.max(0, Math.min(dur, seconds)));
  }
  const player = createPlayer({
    model,
    S,
    options: () => ({ loop: loopBox.checked, selectionOnly: selOnly.checked }),
    say,
    onChange: (which) => {
      playBtn.textContent = which ? "■ Stop" : "▶ Play";
      if (which) root.dataset.playing = which;
      else delete root.dataset.playing;
    },
    onStop: setPlayhead,
    onFrame: () => {
      if (followBox.checked && player.isPlaying() && !view.fitted) {
        const v0 = followV0(L, view, player.position() * frameRate());
        if (v0 !== view.v0) {
          view = { ...view, v0 };
          drawBase();
        }
      }
      drawOverlay();
    }
  });
  const togglePlay = () => player.isPlaying() ? player.stop(true) : player.start();
  playBtn.addEventListener("click", togglePlay);
  function toggleAB() {
    setTrait("ab", model.get("ab") === "edited" ? "original" : "edited");
    if (player.isPlaying()) {
      const pos = player.position();
      player.stop(false);
      player.start(pos);
    }
  }
  abBtn.addEventListener("click", toggleAB);
  function zoom(factor, anchorX) {
    view = zoomView(view, L, S.nF, factor, anchorX);
    redraw();
  }
  function scrollBy(frames) {
    view = { ...view, v0: view.v0 + frames };
    redraw();
  }
  function fit() {
    view = { ...view, fitted: true };
    redraw();
  }
  scroll.addEventListener("input", () => {
    view = { ...view, v0: v0FromScroll(Number(scroll.value), Number(scroll.max), view, L, S.nF) };
    drawBase();
    drawOverlay();
  });
  zoomIn.addEventListener("click", () => zoom(2));
  zoomOut.addEventListener("click", () => zoom(0.5));
  zoomFit.addEventListener("click", fit);
  function showTooltip(h, e) {
    if (h.zone !== "grid" || !S.nF) {
      tooltip.style.display = "none";
      return;
    }
    const names = model.get("layer_names");
    tooltip.textContent = tooltipText({
      layerName: names[h.layer] || "L" + h.layer,
      frame: h.frame,
      frameRate: frameRate(),
      ...cellAt(S, h.layer, h.frame)
    });
    tooltip.style.display = "block";
    const r = stage.getBoundingClientRect();
    tooltip.style.left = Math.min(e.clientX - r.left + 12, L.width - 220) + "px";
    tooltip.style.top = e.clientY - r.top + 14 + "px";
  }
  function command(cmd) {
    if (cmd.action) act(cmd.action);
    else if (cmd.focus) toolbar.focus(cmd.focus) || act(cmd.focus);
    else if (cmd.zoom) zoom(cmd.zoom);
    else if (cmd.scroll) scrollBy(L.plotW / view.cellW * cmd.scroll);
    else if (cmd.command === "play") togglePlay();
    else if (cmd.command === "ab") toggleAB();
    else if (cmd.command === "loop") setTrait("loop", !loopBox.checked);
    else if (cmd.command === "fit") fit();
    else if (cmd.command === "help") toggleHelp();
    else if (cmd.command === "next" || cmd.command === "previous") jumpToOccurrence(cmd.command === "next" ? 1 : -1);
    else if (cmd.command === "audition" || cmd.command === "hear_code") {
      if (!committedSelection()) say("select a cell first, then H plays it in context", true);
      else model.send({ type: "audition", what: cmd.command === "hear_code" ? "code" : "context" });
    } else if (cmd.command === "clear") {
      if (help.classList.contains("qtok-open")) toggleHelp(false);
      else setSelection(null);
    }
  }
  const unbindInput = bindInput({
    root,
    overlay,
    geometry: () => ({ L, view, nF: S.nF, nL: S.nL }),
    selection: committedSelection,
    draft: (sel) => {
      draftSel = sel;
      drawOverlay();
      updateInfo();
    },
    commit: setSelection,
    seek: (seconds) => {
      setPlayhead(seconds);
      if (player.isPlaying()) player.start(seconds);
      drawOverlay();
    },
    seconds: (frames) => frames / frameRate(),
    zoom,
    scrollFrames: scrollBy,
    hover: showTooltip,
    leave: () => tooltip.style.display = "none",
    command,
    keys: () => opKeyMap,
    toggleLayer,
    sourceFrames: () => S.src ? S.src.nF : 0,
    sourceSelect: (sel, done) => {
      draftSource = done ? null : sel;
      if (done) setTrait("source_selection", sel);
      drawOverlay();
    },
    labelClick: (h, shift) => {
      const label = labelAt(model.get("label_tiers"), Math.floor(h.y / LABEL_ROW), frameAt(L, view, h.x) / frameRate());
      if (label) setSelection(labelSelection(label, frameRate(), S.nF, S.nL, committedSelection(), shift));
    },
    jump: (frame) => {
      view = clampView({ ...view, v0: centreOn(L, view, frame) }, L, S.nF);
      drawBase();
      drawOverlay();
    }
  });
  function onCustom(msg, buffers) {
    if (msg && msg.type === "audition") {
      root.dataset.auditioning = msg.what;
      playAudition(auditionSamples(buffers[0]), msg.sample_rate, () => delete root.dataset.auditioning);
      return;
    }
    if (msg && msg.type === "strips") {
      for (const which of msg.which === "both" ? ["original", "edited"] : [msg.which]) {
        strips = { ...strips, [which]: mergeStrips(strips[which], msg, buffers || []) };
      }
      timings.stripMessages += 1;
      if (L.stripH) paintStrips();
      else drawBase();
      timings.stripsPaintedAt = performance.now();
      root.dataset.strips = String(timings.stripMessages);
      return;
    }
    if (msg && msg.type === "palette") {
      palette = bytesOf(buffers[0]);
      lab = buffers[1] ? new Int8Array(bytesOf(buffers[1]).buffer) : null;
      drawBase();
      return;
    }
    const fx = handleMessage(S, msg, buffers || [], performance.now());
    if (!fx) return;
    if (fx.kind === "grid") {
      computeFreq();
      view = { ...view, fitted: true };
      redraw();
      root.dataset.ready = "true";
      timings.firstPaintMs = timings.paintMs;
      syncListen();
    } else if (fx.kind === "patch") {
      computeFreq();
      drawBase(fx.dirty || void 0);
      if (windowS()) {
        S.env.edited = null;
        scheduleWaveform(true);
      }
      scheduleStrips(true);
      drawOverlay();
      updateInfo();
    } else if (fx.kind === "ack") {
      if (fx.ms !== null) root.dataset.lastActionMs = fx.ms.toFixed(2);
      root.dataset.acks = String(S.acks);
    } else if (fx.kind === "envelope") {
      drawBase();
      drawOverlay();
    } else if (fx.kind === "pcm") {
      player.pcmArrived(fx.which);
    } else if (fx.kind === "pcm_drop") {
      player.pcmDropped(fx.which);
    } else if (fx.kind === "source") {
      redraw();
    } else if (fx.kind === "ops") {
      opKeyMap = opKeys(S.ops);
      toolbar.render(S.ops);
      syncControls();
    }
  }
  function syncControls() {
    toolbar.sync(model.get("op_params") || {});
    toolbar.setPasteMode(model.get("paste_mode"));
    colourSelect.value = model.get("color_mode");
    loopBox.checked = model.get("loop");
    abBtn.textContent = model.get("ab") === "edited" ? "B: edited" : "A: original";
    abBtn.classList.toggle("qtok-ab-original", model.get("ab") === "original");
    toolbar.button("undo").disabled = !model.get("can_undo");
    toolbar.button("redo").disabled = !model.get("can_redo");
    const labels = model.get("history_labels");
    historySummary.textContent = `History (${labels.length} edit${labels.length === 1 ? "" : "s"})`;
    historyList.replaceChildren(...labels.map((s) => el("li", { text: s })));
    const src = model.get("source_info");
    const pasteSource = toolbar.button("paste_source");
    pasteSource.disabled = !src;
    pasteSource.title = src || "Load a second clip with editor.load_source(other)";
    say(model.get("message"), model.get("message_kind") === "error");
    restoreBar.sync(model.get("restore_offer"));
    syncListen();
    syncLegend();
    specSelect.value = model.get("spectrogram_view");
    unitsSelect.value = model.get("pitch_units");
    stripControls.style.display = model.get("show_strips") ? "" : "none";
  }
  colourSelect.addEventListener("change", () => setTrait("color_mode", colourSelect.value));
  specSelect.addEventListener("change", () => setTrait("spectrogram_view", specSelect.value));
  unitsSelect.addEventListener("change", () => setTrait("pitch_units", unitsSelect.value));
  loopBox.addEventListener("change", () => setTrait("loop", loopBox.checked));
  const traitHandlers = [
    ["change:selection", () => {
      draftSel = null;
      drawBase();
      drawOverlay();
      updateInfo();
    }],
    ["change:playhead", () => {
      if (!player.isPlaying()) drawOverlay();
    }],
    ["change:color_mode", () => {
      computeFreq();
      drawBase();
      syncControls();
    }],
    ["change:listen_layers", () => {
      drawBase();
      syncListen();
    }],
    ["change:source_selection", () => {
      draftSource = null;
      drawOverlay();
    }],
    ["change:height_px change:show_waveform change:waveform_window_s change:layer_names change:label_tiers change:show_strips", redraw],
    ["change:spectrogram_view change:pitch_units change:show_strips", () => {
      syncControls();
      redraw();
    }],
    [
      "change:message change:message_kind change:history_labels change:can_undo change:can_redo change:op_params change:paste_mode change:loop change:ab change:source_info change:restore_offer",
      syncControls
    ]
  ];
  for (const [ev, fn] of traitHandlers) model.on(ev, fn);
  model.on("msg:custom", onCustom);
  const resize = new ResizeObserver(() => {
    if (Math.abs((stage.clientWidth || 0) - L.width) > 1) redraw();
  });
  resize.observe(stage);
  syncControls();
  const cellsOf = (which) => {
    const original = which === "original";
    const nFrames = original ? S.nOF : S.nF;
    return { nLayers: S.nL, nFrames, ...exportCells(original ? S.orig : S.cur, model.get("codebook_size")) };
  };
  root.qtokDebug = Object.freeze({
    cells: (which = "edited") => cellsOf(which),
    frameMap: () => S.origin ? S.origin.slice() : null,
    layout: () => ({ ...L }),
    view: () => ({ ...view }),
    cellCentre: (frame, layer) => cellCentre(L, view, frame, layer),
    envelope: (which = "edited") => {
      const env = S.env[which];
      return env ? { bins: env.bins, data: env.data.slice() } : null;
    },
    timings: () => ({ ...timings, lastActionMs: S.lastActionMs }),
    traffic: () => ({ gridBytes: S.gridBytes, patches: S.patches, patchBytes: S.patchBytes, acks: S.acks }),
    ops: () => S.ops.map((o) => o.name),
    source: () => S.src ? { nLayers: S.src.nL, nFrames: S.src.nF } : null,
    waveformWindow: () => waveAsked ? waveAsked.slice() : null,
    // the strips held: per version, the levels ("base", "window") with their columns
    strips: () => Object.fromEntries(["original", "edited"].map((v) => [v, strips[v] && Object.fromEntries(
      ["base", "window"].filter((k) => strips[v][k]).map((k) => {
        const p = strips[v][k];
        return [k, { cpf: p.cpf, fpc: p.fpc, start: p.start, stop: p.stop, total: p.total }];
      })
    )])),
    // the PCM this view holds for a version: its rate, length and loudest sample in [t0, t1) s
    pcm: (which = "edited", t0 = 0, t1 = Infinity) => {
      const pcm = S.pcm[which];
      if (!pcm) return null;
      const a = Math.max(0, Math.floor(t0 * pcm.rate));
      const b = Math.min(pcm.data.length, Math.floor(t1 * pcm.rate));
      let peak = 0;
      for (let i = a; i < b; i++) peak = Math.max(peak, Math.abs(pcm.data[i]));
      return { rate: pcm.rate, samples: pcm.data.length, peak };
    }
  });
  model.send({ type: "hello" });
  return () => {
    showPicture();
    player.close();
    clearTimeout(waveTimer);
    clearTimeout(stripTimer);
    resize.disconnect();
    unbindInput();
    for (const [ev, fn] of traitHandlers) model.off(ev, fn);
    model.off("msg:custom", onCustom);
  };
}
var index_default = { render };
export {
  index_default as default
};
