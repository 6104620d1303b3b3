// TokenEditor front end: a canvas heatmap of codes (layers x frames) with selection, edit
// actions, zoom/scroll, a waveform strip and Web Audio A/B playback. Codes arrive as binary
// buffers (uint16, or 12-bit cells; held as uint16 with the top bit = masked) in custom messages: the whole grid once ("grid"), then only the
// frames an edit changed ("patch"). Every action is sent to Python, which runs it on the
// EditSession and answers with a patch and an "ack"; the browser never edits codes itself.

const MASK_BIT = 0x8000;
const CODE_BITS = 0x7fff;
const GUTTER = 64; // label column, CSS px
const EDIT_LANE = 6; // strip above the grid marking frames with edits
const AXIS = 24; // time axis height
const WAVE = 64; // waveform strip height
const MAX_CELL = 48; // widest frame column when zoomed in, CSS px

// viridis, 9 control points; expanded to a 256-entry lookup table
const VIRIDIS = [
  [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
  [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
];
const LUT = (() => {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const p = (i / 255) * (VIRIDIS.length - 1);
    const k = Math.min(Math.floor(p), VIRIDIS.length - 2);
    const f = p - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(VIRIDIS[k][c] * (1 - f) + VIRIDIS[k + 1][c] * f);
  }
  return lut;
})();

// cells on the wire: uint16 (bits = 16) or two 12-bit cells in 3 bytes (code | mask << 11)
function cells(view, bits, n) {
  if (bits === 16) return u16(view);
  const src = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  const out = new Uint16Array(n);
  for (let i = 0, j = 0; i < n; i += 2, j += 3) {
    const a = src[j] | ((src[j + 1] & 0x0f) << 8);
    out[i] = (a & 0x7ff) | ((a & 0x800) << 4);
    if (i + 1 < n) {
      const b = (src[j + 1] >> 4) | (src[j + 2] << 4);
      out[i + 1] = (b & 0x7ff) | ((b & 0x800) << 4);
    }
  }
  return out;
}
function u16(view) {
  // copy: a DataView's byteOffset need not be 2-aligned
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return new Uint16Array(bytes.buffer);
}
function i16(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return new Int16Array(bytes.buffer);
}
function i32(view) {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
  return new Int32Array(bytes.buffer);
}
function i8(view) {
  return new Int8Array(new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer);
}

function fmtTime(s, step) {
  const digits = step < 0.1 ? 2 : step < 1 ? 1 : 0;
  if (s < 60) return s.toFixed(digits) + "s";
  const m = Math.floor(s / 60);
  const r = s - m * 60;
  return `${m}:${r.toFixed(digits).padStart(digits ? digits + 3 : 2, "0")}`;
}

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

function render({ model, el: host }) {
  // ------------------------------------------------------------------ DOM
  const root = el("div", { class: "qtok-editor", tabindex: "0", "data-lm-suppress-shortcuts": "true" });
  root.setAttribute("data-p-suppress-shortcuts", "true");
  const btn = (name, label, title) => el("button", { class: "qtok-btn", "data-action": name, title, text: label });
  const codeInput = el("input", { type: "number", class: "qtok-code", min: "0", title: "Code for Replace" });
  const alphaInput = el("input", { type: "range", class: "qtok-alpha", min: "0", max: "1", step: "0.05", title: "Interpolation alpha" });
  const alphaLabel = el("span", { class: "qtok-alpha-label" });
  const targetSelect = el("select", { class: "qtok-target", title: "Interpolate toward" }, [
    el("option", { value: "neighbours", text: "neighbours" }),
    el("option", { value: "source", text: "2nd clip" }),
  ]);
  const pasteMode = el("select", { class: "qtok-paste-mode", title: "Paste mode" }, [
    el("option", { value: "replace", text: "overwrite" }),
    el("option", { value: "insert", text: "insert" }),
  ]);
  const colourSelect = el("select", { class: "qtok-colour", title: "Colour cells by" }, [
    el("option", { value: "code", text: "colour: code" }),
    el("option", { value: "frequency", text: "colour: frequency" }),
  ]);
  const group = (...children) => el("span", { class: "qtok-group" }, children);
  const editBar = el("div", { class: "qtok-toolbar" }, [
    group(btn("mask", "Mask", "Mask selected cells (M)"), btn("unmask", "Unmask", "Unmask selected cells (U)")),
    group(codeInput, btn("replace", "Replace", "Write the code into the selection (R)")),
    group(el("span", { class: "qtok-label", text: "α" }), alphaInput, alphaLabel, targetSelect,
      btn("interpolate", "Interpolate", "Interpolate the selection (I)")),
    group(btn("copy", "Copy", "Copy selected cells (Ctrl+C)"), btn("paste", "Paste", "Paste at the playhead (Ctrl+V)"),
      pasteMode, btn("paste_source", "Paste 2nd", "Paste the second clip at the playhead")),
    group(btn("delete_frames", "Delete", "Delete selected frames (Del)"),
      btn("duplicate_frames", "Duplicate", "Duplicate selected frames (D)")),
    group(btn("undo", "Undo", "Undo (Ctrl+Z)"), btn("redo", "Redo", "Redo (Shift+Ctrl+Z)"),
      btn("reset", "Reset", "Back to the original (undoable)")),
  ]);
  const playBtn = el("button", { class: "qtok-btn qtok-play", title: "Play / stop (Space)", text: "▶ Play" });
  const abBtn = el("button", { class: "qtok-btn qtok-ab", title: "A/B: which version plays (A)" });
  const selOnly = el("input", { type: "checkbox", class: "qtok-selonly" });
  const loopBox = el("input", { type: "checkbox", class: "qtok-loop" });
  const zoomOut = el("button", { class: "qtok-btn qtok-zoom-out", title: "Zoom out (-)", text: "−" });
  const zoomIn = el("button", { class: "qtok-btn qtok-zoom-in", title: "Zoom in (+)", text: "+" });
  const zoomFit = el("button", { class: "qtok-btn qtok-zoom-fit", title: "Show all (0)", text: "Fit" });
  const info = el("span", { class: "qtok-info" });
  const playBar = el("div", { class: "qtok-toolbar" }, [
    group(playBtn, abBtn,
      el("label", { class: "qtok-check", title: "Play the selection only" }, [selOnly, " selection"]),
      el("label", { class: "qtok-check", title: "Loop the selection (L)" }, [loopBox, " loop"])),
    group(zoomOut, zoomIn, zoomFit), group(colourSelect), info,
  ]);
  const base = el("canvas", { class: "qtok-base" });
  const overlay = el("canvas", { class: "qtok-overlay" });
  const tooltip = el("div", { class: "qtok-tooltip" });
  const stage = el("div", { class: "qtok-stage" }, [base, overlay, tooltip]);
  const scroll = el("input", { type: "range", class: "qtok-scroll", min: "0", max: "1000", step: "1", value: "0", title: "Scroll" });
  const message = el("div", { class: "qtok-message", role: "status" });
  const historyList = el("ol", { class: "qtok-history-list" });
  const historySummary = el("summary", { text: "History" });
  const history = el("details", { class: "qtok-history" }, [historySummary, historyList]);
  root.append(editBar, playBar, stage, scroll, message, history);
  host.append(root);

  // ------------------------------------------------------------------ state
  const S = {
    nL: 0, nF: 0, nOF: 0,
    orig: new Uint16Array(0), cur: new Uint16Array(0),
    freq: null, // per-layer counts for colour by frequency
    env: { original: null, edited: null },
    pcm: { original: null, edited: null },
    buffers: { original: null, edited: null },
    v0: 0, cellW: 0, fitted: true,
    drag: null, hover: null, draftSel: null,
    playing: null, ctx: null, pendingPlay: false,
    nextId: 1, pending: new Map(), lastActionMs: null, ready: false,
  };
  const dpr = () => window.devicePixelRatio || 1;
  // text colour of the surrounding theme (JupyterLab light or dark), for labels drawn on canvas
  const ink = () => getComputedStyle(root).color || "#333";
  const frameRate = () => model.get("frame_rate");
  const layout = () => {
    const rowH = Math.max(6, Math.round(model.get("height_px") / Math.max(1, S.nL)));
    const width = Math.max(200, stage.clientWidth || root.clientWidth || 800);
    const plotW = width - GUTTER - 8;
    const gy = EDIT_LANE;
    const gridH = rowH * S.nL;
    const axisY = gy + gridH;
    const waveY = axisY + AXIS;
    const height = waveY + (model.get("show_waveform") ? WAVE : 0);
    return { rowH, width, plotW, gx: GUTTER, gy, gridH, axisY, waveY, height };
  };
  let L = layout();

  function clampView() {
    const minCell = L.plotW / Math.max(1, S.nF);
    if (S.fitted || S.cellW <= 0) S.cellW = minCell;
    S.cellW = Math.min(MAX_CELL, Math.max(minCell, S.cellW));
    const visible = L.plotW / S.cellW;
    S.v0 = Math.max(0, Math.min(S.v0, S.nF - visible));
    if (S.nF <= visible) S.v0 = 0;
    const span = Math.max(0, S.nF - visible);
    scroll.max = String(Math.max(1000, S.nF));
    scroll.disabled = span <= 0;
    scroll.value = span > 0 ? String(Math.round((S.v0 / span) * Number(scroll.max))) : "0";
  }
  const xOfFrame = (f) => L.gx + (f - S.v0) * S.cellW;
  const frameAt = (x) => S.v0 + (x - L.gx) / S.cellW;

  // ------------------------------------------------------------------ drawing
  const scratch = document.createElement("canvas");
  function colourOf(layer, value, rgb) {
    if (value & MASK_BIT) return null;
    const code = value & CODE_BITS;
    let idx;
    if (model.get("color_mode") === "frequency" && S.freq) {
      const size = model.get("codebook_size");
      const n = S.freq.counts[layer * size + code];
      idx = Math.round((Math.log1p(n) / Math.log1p(S.freq.max[layer] || 1)) * 255);
    } else {
      idx = Math.round((code / Math.max(1, model.get("codebook_size") - 1)) * 255);
    }
    rgb[0] = LUT[idx * 3]; rgb[1] = LUT[idx * 3 + 1]; rgb[2] = LUT[idx * 3 + 2];
    return rgb;
  }
  function computeFreq() {
    if (model.get("color_mode") !== "frequency") { S.freq = null; return; }
    const size = model.get("codebook_size");
    const counts = new Uint32Array(S.nL * size);
    const max = new Uint32Array(S.nL);
    for (let l = 0; l < S.nL; l++) {
      const row = l * S.nF;
      for (let f = 0; f < S.nF; f++) counts[l * size + (S.cur[row + f] & CODE_BITS)]++;
      let m = 0;
      for (let c = 0; c < size; c++) m = Math.max(m, counts[l * size + c]);
      max[l] = m;
    }
    S.freq = { counts, max };
  }
  // current frame -> original frame (-1: inserted); null while no edit changed the length
  const originOf = (f) => (S.origin ? S.origin[f] : f < S.nOF ? f : -1);
  const isEdited = (l, f) => {
    const o = originOf(f);
    return o < 0 || S.cur[l * S.nF + f] !== S.orig[l * S.nOF + o];
  };

  // drawBase(dirty): repaint the static layer. With dirty = [startFrame, stopFrame) and an
  // unchanged view, only the image columns over those frames are recomputed.
  function drawBase(dirty) {
    const t0 = performance.now();
    L = layout();
    S.L = L;
    clampView();
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
    const g = base.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, L.width, L.height);
    if (!S.nF || !S.nL) { S.paintMs = performance.now() - t0; return; }
    // visible frames -> image columns; one image column per frame, or per CSS pixel when zoomed out
    const f0 = Math.floor(S.v0);
    const f1 = Math.min(S.nF, Math.ceil(S.v0 + L.plotW / S.cellW));
    const perFrame = S.cellW >= 1;
    const cols = Math.max(1, perFrame ? f1 - f0 : Math.ceil(L.plotW));
    const mode = model.get("color_mode");
    const c = S.cache;
    const reuse = dirty && c && c.v0 === S.v0 && c.cellW === S.cellW && c.cols === cols &&
      c.nF === S.nF && c.nL === S.nL && mode === "code";
    if (!reuse) {
      scratch.width = cols;
      scratch.height = S.nL;
      S.cache = {
        v0: S.v0, cellW: S.cellW, cols, nF: S.nF, nL: S.nL,
        img: scratch.getContext("2d").createImageData(cols, S.nL),
        editedCols: new Uint8Array(cols),
      };
    }
    const img = S.cache.img;
    const editedCols = S.cache.editedCols;
    let xa = 0;
    let xb = cols;
    if (reuse) {
      xa = perFrame ? dirty[0] - f0 : Math.floor((dirty[0] - S.v0) * S.cellW) - 1;
      xb = perFrame ? dirty[1] - f0 : Math.ceil((dirty[1] - S.v0) * S.cellW) + 1;
      xa = Math.max(0, xa);
      xb = Math.min(cols, xb);
    }
    const sg = scratch.getContext("2d");
    const px = img.data;
    const rgb = [0, 0, 0];
    const { cur, orig, origin, nF, nOF } = S;
    for (let x = xa; x < xb; x++) {
      const fa = perFrame ? f0 + x : Math.floor(S.v0 + x / S.cellW);
      const fb = perFrame ? fa + 1 : Math.max(fa + 1, Math.floor(S.v0 + (x + 1) / S.cellW));
      const stop = Math.min(fb, nF);
      if (fa >= nF) break;
      let edited = 0;
      for (let l = 0; l < S.nL; l++) {
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
          colourOf(l, S.cur[row + fa], rgb);
          px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2];
        }
        px[o + 3] = 255;
      }
      editedCols[x] = edited;
    }
    if (scratch.width !== cols || scratch.height !== S.nL) {
      scratch.width = cols;
      scratch.height = S.nL;
    }
    sg.putImageData(img, 0, 0);
    g.imageSmoothingEnabled = false;
    g.save();
    g.beginPath();
    g.rect(L.gx, 0, L.plotW, L.height);
    g.clip();
    if (perFrame) {
      g.drawImage(scratch, 0, 0, cols, S.nL, xOfFrame(f0), L.gy, cols * S.cellW, L.gridH);
    } else {
      g.drawImage(scratch, 0, 0, cols, S.nL, L.gx, L.gy, cols, L.gridH);
    }
    // edits lane and outlines of edited cells
    g.fillStyle = "#ff7f0e";
    for (let x = 0; x < cols; x++) {
      if (!editedCols[x]) continue;
      const xx = perFrame ? xOfFrame(f0 + x) : L.gx + x;
      g.fillRect(xx, 0, perFrame ? Math.max(1, S.cellW) : 1, EDIT_LANE - 2);
    }
    if (perFrame && S.cellW >= 3) {
      g.strokeStyle = "#ff7f0e";
      g.lineWidth = S.cellW >= 8 ? 2 : 1;
      for (let f = f0; f < f1; f++) {
        for (let l = 0; l < S.nL; l++) {
          if (!isEdited(l, f)) continue;
          g.strokeRect(xOfFrame(f) + 1, L.gy + l * L.rowH + 1, S.cellW - 2, L.rowH - 2);
        }
      }
    }
    if (perFrame && S.cellW >= 30) {
      g.font = "10px sans-serif";
      g.textAlign = "center";
      g.textBaseline = "middle";
      for (let f = f0; f < f1; f++) {
        for (let l = 0; l < S.nL; l++) {
          const v = S.cur[l * S.nF + f];
          g.fillStyle = v & MASK_BIT ? "#bbb" : "rgba(255,255,255,0.85)";
          g.fillText(v & MASK_BIT ? "×" : String(v & CODE_BITS), xOfFrame(f) + S.cellW / 2, L.gy + (l + 0.5) * L.rowH);
        }
      }
    }
    drawWave(g);
    g.restore();
    drawLabels(g);
    drawAxis(g);
    S.paintMs = performance.now() - t0;
  }

  function drawLabels(g) {
    const names = model.get("layer_names");
    g.font = `${Math.min(12, L.rowH - 2)}px sans-serif`;
    g.textAlign = "right";
    g.textBaseline = "middle";
    const sel = currentSelection();
    for (let l = 0; l < S.nL; l++) {
      const inSel = sel && l >= sel.layers[0] && l < sel.layers[1];
      const name = names[l] || `L${l}`;
      g.fillStyle = inSel ? "rgba(31,119,180,0.18)" : l % 2 ? "rgba(0,0,0,0.03)" : "transparent";
      g.fillRect(0, L.gy + l * L.rowH, L.gx - 4, L.rowH);
      g.fillStyle = name.includes("sem") ? "#c0510c" : ink();
      if (L.rowH >= 8 || l % 4 === 0) g.fillText(name, L.gx - 8, L.gy + (l + 0.5) * L.rowH);
    }
    if (S.nL > 1) {
      // separator under semantic rows
      names.forEach((name, l) => {
        if (!name.includes("sem")) return;
        g.strokeStyle = "#8c2d04";
        g.beginPath();
        g.moveTo(L.gx - 4, L.gy + (l + 1) * L.rowH);
        g.lineTo(L.gx, L.gy + (l + 1) * L.rowH);
        g.stroke();
      });
    }
  }

  function tickStep() {
    const steps = [0.08, 0.16, 0.4, 0.8, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800];
    const pxPerS = S.cellW * frameRate();
    return steps.find((s) => s * pxPerS >= 70) || 3600;
  }

  function drawAxis(g) {
    const y = L.axisY;
    g.fillStyle = "rgba(0,0,0,0.04)";
    g.fillRect(L.gx, y, L.plotW, AXIS);
    g.strokeStyle = "#888";
    g.fillStyle = ink();
    g.font = "10px sans-serif";
    g.textAlign = "left";
    g.textBaseline = "top";
    const step = tickStep();
    const fr = frameRate();
    const tStart = S.v0 / fr;
    const tEnd = (S.v0 + L.plotW / S.cellW) / fr;
    const first = Math.ceil(tStart / step - 1e-9) * step;
    for (let k = 0; first + k * step <= tEnd + 1e-9; k++) {
      const ts = first + k * step;
      const x = xOfFrame(ts * fr);
      if (x > L.gx + L.plotW - 24) break; // keep the label inside the plot
      g.beginPath();
      g.moveTo(x + 0.5, y);
      g.lineTo(x + 0.5, y + 6);
      g.stroke();
      g.fillText(fmtTime(ts, step), x + 2, y + 8);
    }
    g.textAlign = "right";
    g.fillText("time", L.gx - 8, y + 8);
  }

  function drawWave(g) {
    if (!model.get("show_waveform")) return;
    const y0 = L.waveY;
    const mid = y0 + WAVE / 2;
    g.fillStyle = "rgba(0,0,0,0.025)";
    g.fillRect(L.gx, y0, L.plotW, WAVE);
    const draw = (env, colour) => {
      if (!env) return;
      const bins = env.bins;
      const nb = env.data.length / 2;
      g.fillStyle = colour;
      const cols = Math.ceil(L.plotW);
      for (let x = 0; x < cols; x++) {
        const ba = Math.floor(frameAt(L.gx + x) * bins);
        const bb = Math.max(ba + 1, Math.floor(frameAt(L.gx + x + 1) * bins));
        if (ba >= nb || bb <= 0) continue;
        let lo = 127, hi = -127;
        for (let b = Math.max(0, ba); b < Math.min(bb, nb); b++) {
          lo = Math.min(lo, env.data[2 * b]);
          hi = Math.max(hi, env.data[2 * b + 1]);
        }
        const top = mid - (hi / 127) * (WAVE / 2 - 2);
        const bot = mid - (lo / 127) * (WAVE / 2 - 2);
        g.fillRect(L.gx + x, top, 1, Math.max(1, bot - top));
      }
    };
    draw(S.env.original, "rgba(120,120,120,0.55)");
    draw(S.env.edited, "rgba(31,119,180,0.6)");
    g.fillStyle = ink();
    g.font = "10px sans-serif";
    g.textAlign = "left";
    g.textBaseline = "top";
    g.fillText("original", L.gx + 4, y0 + 2);
    g.fillStyle = "rgb(31,119,180)";
    g.fillText("edited", L.gx + 52, y0 + 2);
  }

  function currentSelection() {
    if (S.draftSel) return S.draftSel;
    const sel = model.get("selection");
    return sel && sel.frames ? sel : null;
  }

  function playheadSeconds() {
    if (S.playing) {
      const p = S.playing;
      let pos = p.offset + (S.ctx.currentTime - p.startedAt);
      if (p.loop) pos = p.loopStart + ((pos - p.loopStart) % (p.loopEnd - p.loopStart));
      return Math.min(pos, p.end);
    }
    return model.get("playhead");
  }

  function drawOverlay() {
    const ratio = dpr();
    const g = overlay.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, L.width, L.height);
    if (!S.nF) return;
    g.save();
    g.beginPath();
    g.rect(L.gx, 0, L.plotW, L.height);
    g.clip();
    const sel = currentSelection();
    if (sel) {
      const x0 = xOfFrame(sel.frames[0]);
      const x1 = xOfFrame(sel.frames[1]);
      const y0 = L.gy + sel.layers[0] * L.rowH;
      const y1 = L.gy + sel.layers[1] * L.rowH;
      g.fillStyle = "rgba(255,255,255,0.22)";
      g.fillRect(x0, y0, Math.max(1, x1 - x0), y1 - y0);
      g.strokeStyle = "#fff";
      g.lineWidth = 2;
      g.strokeRect(x0, y0, Math.max(1, x1 - x0), y1 - y0);
      g.strokeStyle = "#1f77b4";
      g.lineWidth = 1;
      g.setLineDash([4, 3]);
      g.strokeRect(x0, y0, Math.max(1, x1 - x0), y1 - y0);
      g.setLineDash([]);
      g.fillStyle = "rgba(31,119,180,0.25)";
      g.fillRect(x0, L.axisY, Math.max(1, x1 - x0), AXIS);
      if (model.get("show_waveform")) g.fillRect(x0, L.waveY, Math.max(1, x1 - x0), WAVE);
    }
    const ph = playheadSeconds();
    const x = xOfFrame(ph * frameRate());
    g.strokeStyle = S.playing ? "#d62728" : "#222";
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(x, 0);
    g.lineTo(x, L.height);
    g.stroke();
    g.restore();
    root.dataset.playhead = ph.toFixed(4);
  }

  function redraw() {
    drawBase();
    drawOverlay();
    updateInfo();
  }

  function updateInfo() {
    const fr = frameRate();
    const sel = currentSelection();
    const dur = S.nF / fr;
    let text = `${S.nL}×${S.nF} · ${dur.toFixed(2)} s · ${model.get("codec_name")}`;
    if (sel) {
      const nf = sel.frames[1] - sel.frames[0];
      text += ` · sel ${sel.frames[0]}..${sel.frames[1] - 1} (${(sel.frames[0] / fr).toFixed(2)}–${(sel.frames[1] / fr).toFixed(2)} s) × L${sel.layers[0]}..${sel.layers[1] - 1} = ${nf * (sel.layers[1] - sel.layers[0])} cells`;
    }
    info.textContent = text;
  }

  // ------------------------------------------------------------------ messages from Python
  function onCustom(msg, buffers) {
    if (!msg || typeof msg !== "object") return;
    if (msg.type === "grid") {
      S.nL = msg.n_layers;
      S.nF = msg.n_frames;
      S.nOF = msg.orig_frames;
      S.orig = cells(buffers[0], msg.bits, msg.n_layers * msg.orig_frames);
      S.gridBytes = buffers.reduce((n, b) => n + b.byteLength, 0);
      S.cur = msg.same ? S.orig.slice() : cells(buffers[1], msg.bits, msg.n_layers * msg.n_frames);
      S.origin = msg.origin ? i32(buffers[buffers.length - 1]) : null;
      computeFreq();
      S.fitted = true;
      redraw();
      root.dataset.ready = "true";
      S.ready = true;
      S.firstPaintMs = S.paintMs;
    } else if (msg.type === "patch") {
      const nF = msg.n_frames;
      const nL = msg.n_layers;
      const width = msg.stop - msg.start;
      const chunk = cells(buffers[0], msg.bits, nL * width);
      let cur = S.cur;
      if (nF !== S.nF || nL !== S.nL) {
        cur = new Uint16Array(nL * nF);
        for (let l = 0; l < nL; l++) cur.set(S.cur.subarray(l * S.nF, l * S.nF + Math.min(msg.start, S.nF)), l * nF);
        if (msg.stop < nF) {
          // frames after the patch kept their codes (same count, shifted nowhere)
          for (let l = 0; l < nL; l++) cur.set(S.cur.subarray(l * S.nF + msg.stop, (l + 1) * S.nF), l * nF + msg.stop);
        }
      }
      for (let l = 0; l < nL; l++) cur.set(chunk.subarray(l * width, (l + 1) * width), l * nF + msg.start);
      const sameShape = nF === S.nF && nL === S.nL && !msg.origin && !S.origin;
      S.cur = cur;
      S.origin = msg.origin ? i32(buffers[1]) : null;
      S.nF = nF;
      S.nL = nL;
      computeFreq();
      drawBase(sameShape ? [msg.start, msg.stop] : undefined);
      drawOverlay();
      updateInfo();
      S.patches = (S.patches || 0) + 1;
      S.patchBytes = (S.patchBytes || 0) + buffers[0].byteLength;
    } else if (msg.type === "ack") {
      const p = S.pending.get(msg.id);
      if (p) {
        S.lastActionMs = performance.now() - p.t0;
        S.pending.delete(msg.id);
        root.dataset.lastActionMs = S.lastActionMs.toFixed(2);
      }
      root.dataset.acks = String((Number(root.dataset.acks) || 0) + 1);
    } else if (msg.type === "envelope") {
      // the envelope of frames [start, start + k); the rest is kept when the length is unchanged
      const part = i8(buffers[0]);
      const total = msg.n_frames * msg.bins * 2;
      const old = S.env[msg.which];
      let data = part;
      if (part.length !== total) {
        data = old && old.data.length === total ? old.data : new Int8Array(total);
        data.set(part, msg.start * msg.bins * 2);
      }
      S.env[msg.which] = { bins: msg.bins, data };
      drawBase();
      drawOverlay();
    } else if (msg.type === "pcm") {
      const part = i16(buffers[0]);
      const old = S.pcm[msg.which];
      let data = part;
      if (part.length !== msg.n_samples) {
        data = old && old.data.length === msg.n_samples ? old.data : new Int16Array(msg.n_samples);
        data.set(part, msg.start);
      }
      S.pcm[msg.which] = { rate: msg.sample_rate, data };
      S.buffers[msg.which] = null;
      if (S.pendingPlay === msg.which) {
        S.pendingPlay = false;
        startPlayback();
      }
    }
  }

  // ------------------------------------------------------------------ actions
  function say(text, error = false) {
    message.textContent = text;
    message.classList.toggle("qtok-error", error);
  }
  function sendAction(name, extra = {}) {
    const id = S.nextId++;
    const args = { ...extra };
    const sel = model.get("selection");
    if (sel && sel.frames) args.selection = sel;
    args.playhead = model.get("playhead");
    S.pending.set(id, { t0: performance.now(), name });
    model.send({ type: "action", id, name, args });
    return id;
  }
  const ACTION_ARGS = {
    replace: () => ({ replace_code: Number(codeInput.value) }),
    interpolate: () => ({ alpha: Number(alphaInput.value), interpolate_target: targetSelect.value }),
    paste: () => ({ paste_mode: pasteMode.value }),
    paste_source: () => ({ paste_mode: pasteMode.value }),
  };
  function act(name) {
    if (name === "replace" && (codeInput.value === "" || !Number.isInteger(Number(codeInput.value)))) {
      say("replace: type a whole-number code first", true);
      return;
    }
    sendAction(name, ACTION_ARGS[name] ? ACTION_ARGS[name]() : {});
  }
  editBar.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-action]");
    if (b) act(b.dataset.action);
  });

  function setSelection(sel) {
    S.draftSel = null;
    model.set("selection", sel || {});
    model.save_changes();
    drawBase();
    drawOverlay();
    updateInfo();
  }
  function setPlayhead(seconds) {
    const dur = S.nF / frameRate();
    model.set("playhead", Math.max(0, Math.min(dur, seconds)));
    model.save_changes();
  }

  // ------------------------------------------------------------------ playback
  function audioBuffer(which) {
    if (S.buffers[which]) return S.buffers[which];
    const pcm = S.pcm[which];
    if (!pcm) return null;
    const buf = S.ctx.createBuffer(1, Math.max(1, pcm.data.length), pcm.rate);
    const ch = buf.getChannelData(0);
    for (let i = 0; i < pcm.data.length; i++) ch[i] = pcm.data[i] / 32767;
    S.buffers[which] = buf;
    return buf;
  }
  function ensureContext() {
    if (!S.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) throw new Error("this browser has no Web Audio");
      S.ctx = new Ctx({ sampleRate: model.get("sample_rate") });
      S.buffers = { original: null, edited: null };
    }
    if (S.ctx.state === "suspended") S.ctx.resume();
    return S.ctx;
  }
  function startPlayback(fromSeconds) {
    try {
      ensureContext();
    } catch (err) {
      say(`play: ${err.message}`, true);
      return;
    }
    const which = model.get("ab");
    const buf = audioBuffer(which);
    if (!buf) {
      S.pendingPlay = which;
      model.send({ type: "audio", which });
      say(`loading ${which} audio…`);
      return;
    }
    stopPlayback(false);
    const dur = buf.duration;
    const sel = model.get("selection");
    const fr = frameRate();
    const hasSel = sel && sel.frames;
    const selStart = hasSel ? sel.frames[0] / fr : 0;
    const selEnd = hasSel ? Math.min(dur, sel.frames[1] / fr) : dur;
    const loop = loopBox.checked && hasSel;
    const only = (selOnly.checked || loop) && hasSel;
    let offset = fromSeconds ?? model.get("playhead");
    let end = only ? selEnd : dur;
    if (only && (offset < selStart || offset >= selEnd)) offset = selStart;
    if (offset >= end - 1e-3) offset = only ? selStart : 0;
    const src = S.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(S.ctx.destination);
    if (loop) {
      src.loop = true;
      src.loopStart = selStart;
      src.loopEnd = selEnd;
      end = Infinity;
      src.start(0, offset);
    } else {
      src.start(0, offset, Math.max(0, end - offset));
    }
    const p = { src, which, offset, end, startedAt: S.ctx.currentTime, loop, loopStart: selStart, loopEnd: selEnd };
    src.onended = () => {
      if (S.playing === p) stopPlayback(true);
    };
    S.playing = p;
    playBtn.textContent = "■ Stop";
    root.dataset.playing = which;
    say(`playing ${which}${only ? " selection" : ""}${loop ? " (loop)" : ""}`);
    const tick = () => {
      if (S.playing !== p) return;
      drawOverlay();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
  function stopPlayback(keepPosition) {
    const p = S.playing;
    if (!p) return;
    const pos = playheadSeconds();
    S.playing = null;
    p.src.onended = null;
    try { p.src.stop(); } catch (_) { /* already stopped */ }
    p.src.disconnect();
    playBtn.textContent = "▶ Play";
    delete root.dataset.playing;
    if (keepPosition) setPlayhead(Number.isFinite(pos) ? pos : 0);
    say(`stopped at ${(Number.isFinite(pos) ? pos : 0).toFixed(2)} s`);
    drawOverlay();
  }
  playBtn.addEventListener("click", () => (S.playing ? stopPlayback(true) : startPlayback()));
  function toggleAB() {
    const next = model.get("ab") === "edited" ? "original" : "edited";
    model.set("ab", next);
    model.save_changes();
    if (S.playing) {
      const pos = playheadSeconds();
      stopPlayback(false);
      startPlayback(pos);
    }
  }
  abBtn.addEventListener("click", toggleAB);

  // ------------------------------------------------------------------ pointer
  function hit(e) {
    const r = overlay.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    let zone = "none";
    if (y >= L.gy && y < L.axisY) zone = x < L.gx ? "labels" : "grid";
    else if (y >= L.axisY && y < L.waveY && x >= L.gx) zone = "axis";
    else if (y >= L.waveY && x >= L.gx) zone = "wave";
    const frame = Math.max(0, Math.min(S.nF - 1, Math.floor(frameAt(x))));
    const layer = Math.max(0, Math.min(S.nL - 1, Math.floor((y - L.gy) / L.rowH)));
    return { x, y, zone, frame, layer };
  }
  function rect(a, b) {
    return {
      frames: [Math.min(a.frame, b.frame), Math.max(a.frame, b.frame) + 1],
      layers: [Math.min(a.layer, b.layer), Math.max(a.layer, b.layer) + 1],
    };
  }
  function union(s, t) {
    if (!s) return t;
    return {
      frames: [Math.min(s.frames[0], t.frames[0]), Math.max(s.frames[1], t.frames[1])],
      layers: [Math.min(s.layers[0], t.layers[0]), Math.max(s.layers[1], t.layers[1])],
    };
  }
  overlay.addEventListener("pointerdown", (e) => {
    if (!S.nF || e.button !== 0) return;
    root.focus({ preventScroll: true });
    const h = hit(e);
    if (h.zone === "none") return;
    overlay.setPointerCapture(e.pointerId);
    const prev = model.get("selection");
    S.drag = { start: h, zone: h.zone, shift: e.shiftKey, prev: prev && prev.frames ? prev : null, moved: false };
    updateDrag(h);
    e.preventDefault();
  });
  function updateDrag(h) {
    const d = S.drag;
    let sel = rect(d.start, h);
    // layer labels select whole rows (every frame); the time axis whole columns (every layer)
    if (d.zone === "labels") sel = { frames: [0, S.nF], layers: sel.layers };
    if (d.zone === "axis" || d.zone === "wave") sel = { frames: sel.frames, layers: [0, S.nL] };
    if (d.shift) sel = union(d.prev, sel);
    S.draftSel = sel;
    drawOverlay();
    updateInfo();
  }
  overlay.addEventListener("pointermove", (e) => {
    const h = hit(e);
    if (S.drag) {
      if (Math.abs(h.x - S.drag.start.x) > 3 || Math.abs(h.y - S.drag.start.y) > 3) S.drag.moved = true;
      updateDrag(h);
    }
    showTooltip(h, e);
  });
  overlay.addEventListener("pointerup", (e) => {
    const d = S.drag;
    if (!d) return;
    S.drag = null;
    const h = hit(e);
    if ((d.zone === "axis" || d.zone === "wave") && !d.moved) {
      // a click on the time axis or waveform seeks
      S.draftSel = null;
      const seconds = Math.max(0, frameAt(h.x) / frameRate());
      setPlayhead(seconds);
      if (S.playing) startPlayback(seconds);
      drawOverlay();
      return;
    }
    setSelection(S.draftSel);
  });
  overlay.addEventListener("pointerleave", () => {
    tooltip.style.display = "none";
  });
  function showTooltip(h, e) {
    if (h.zone !== "grid" || !S.nF) {
      tooltip.style.display = "none";
      return;
    }
    const v = S.cur[h.layer * S.nF + h.frame];
    const of = originOf(h.frame);
    const o = of >= 0 ? S.orig[h.layer * S.nOF + of] : null;
    const names = model.get("layer_names");
    const fmt = (x) => (x & MASK_BIT ? `${x & CODE_BITS} (masked)` : String(x & CODE_BITS));
    tooltip.textContent =
      `${names[h.layer] || "L" + h.layer} · frame ${h.frame} · ${(h.frame / frameRate()).toFixed(3)} s\n` +
      `code ${fmt(v)} · original ${o === null ? "— (inserted)" : fmt(o)}${of >= 0 && of !== h.frame ? ` (frame ${of})` : ""}`;
    tooltip.style.display = "block";
    const r = stage.getBoundingClientRect();
    const left = Math.min(e.clientX - r.left + 12, L.width - 220);
    tooltip.style.left = left + "px";
    tooltip.style.top = e.clientY - r.top + 14 + "px";
  }

  // ------------------------------------------------------------------ zoom & scroll
  function zoom(factor, anchorX) {
    const ax = anchorX ?? L.gx + L.plotW / 2;
    const fAt = frameAt(ax);
    S.fitted = false;
    S.cellW = Math.min(MAX_CELL, Math.max(L.plotW / Math.max(1, S.nF), S.cellW * factor));
    if (S.cellW <= L.plotW / Math.max(1, S.nF) + 1e-9) S.fitted = true;
    S.v0 = fAt - (ax - L.gx) / S.cellW;
    redraw();
  }
  function scrollBy(frames) {
    S.v0 += frames;
    redraw();
  }
  overlay.addEventListener(
    "wheel",
    (e) => {
      const focused = root.contains(document.activeElement);
      const horizontal = e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY);
      if (horizontal) {
        const d = e.shiftKey ? e.deltaY || e.deltaX : e.deltaX;
        scrollBy(d / S.cellW);
        e.preventDefault();
      } else if (e.ctrlKey || e.metaKey || focused) {
        // pinch arrives as ctrl+wheel; a plain wheel zooms once the editor has focus
        zoom(Math.exp(-e.deltaY * 0.002), hit(e).x);
        e.preventDefault();
      }
    },
    { passive: false },
  );
  scroll.addEventListener("input", () => {
    const span = Math.max(0, S.nF - L.plotW / S.cellW);
    S.v0 = (Number(scroll.value) / Number(scroll.max)) * span;
    drawBase();
    drawOverlay();
  });
  zoomIn.addEventListener("click", () => zoom(2));
  zoomOut.addEventListener("click", () => zoom(0.5));
  zoomFit.addEventListener("click", () => {
    S.fitted = true;
    redraw();
  });

  // ------------------------------------------------------------------ keyboard
  root.addEventListener("keydown", (e) => {
    const inField = e.target instanceof HTMLInputElement && e.target.type === "number";
    const mod = e.ctrlKey || e.metaKey;
    const k = e.key.toLowerCase();
    let handled = true;
    if (mod && k === "z") act(e.shiftKey ? "redo" : "undo");
    else if (mod && k === "y") act("redo");
    else if (inField) {
      if (e.key === "Enter") act("replace");
      e.stopPropagation();
      return;
    } else if (mod && k === "c") act("copy");
    else if (mod && k === "v") act("paste");
    else if (mod) handled = false;
    else if (k === "m") act("mask");
    else if (k === "u") act("unmask");
    else if (k === "r") codeInput.focus();
    else if (k === "i") act("interpolate");
    else if (k === "d") act("duplicate_frames");
    else if (e.key === "Delete" || e.key === "Backspace") act("delete_frames");
    else if (e.key === " ") S.playing ? stopPlayback(true) : startPlayback();
    else if (k === "a") toggleAB();
    else if (k === "l") loopBox.checked = !loopBox.checked;
    else if (e.key === "+" || e.key === "=") zoom(2);
    else if (e.key === "-") zoom(0.5);
    else if (e.key === "0") zoomFit.click();
    else if (e.key === "Escape") setSelection(null);
    else if (e.key === "ArrowRight") scrollBy(L.plotW / S.cellW / 10);
    else if (e.key === "ArrowLeft") scrollBy(-L.plotW / S.cellW / 10);
    else handled = false;
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  });

  // ------------------------------------------------------------------ form controls <-> traits
  function syncControls() {
    codeInput.max = String(model.get("codebook_size") - 1);
    if (document.activeElement !== codeInput) codeInput.value = String(model.get("replace_code"));
    alphaInput.value = String(model.get("alpha"));
    alphaLabel.textContent = Number(model.get("alpha")).toFixed(2);
    targetSelect.value = model.get("interpolate_target");
    pasteMode.value = model.get("paste_mode");
    colourSelect.value = model.get("color_mode");
    loopBox.checked = model.get("loop");
    abBtn.textContent = model.get("ab") === "edited" ? "B: edited" : "A: original";
    abBtn.classList.toggle("qtok-ab-original", model.get("ab") === "original");
    root.querySelector('[data-action="undo"]').disabled = !model.get("can_undo");
    root.querySelector('[data-action="redo"]').disabled = !model.get("can_redo");
    const labels = model.get("history_labels");
    historySummary.textContent = `History (${labels.length} edit${labels.length === 1 ? "" : "s"})`;
    historyList.replaceChildren(...labels.map((s) => el("li", { text: s })));
    const src = model.get("source_info");
    root.querySelector('[data-action="paste_source"]').disabled = !src;
    root.querySelector('[data-action="paste_source"]').title = src || "Load a second clip with editor.load_source(other)";
    say(model.get("message"), model.get("message_kind") === "error");
  }
  const bind = (input, trait, parse) =>
    input.addEventListener("change", () => {
      model.set(trait, parse(input));
      model.save_changes();
    });
  bind(alphaInput, "alpha", (i) => Number(i.value));
  alphaInput.addEventListener("input", () => (alphaLabel.textContent = Number(alphaInput.value).toFixed(2)));
  bind(targetSelect, "interpolate_target", (i) => i.value);
  bind(pasteMode, "paste_mode", (i) => i.value);
  bind(colourSelect, "color_mode", (i) => i.value);
  bind(loopBox, "loop", (i) => i.checked);

  const traitHandlers = [
    ["change:selection", () => { S.draftSel = null; drawBase(); drawOverlay(); updateInfo(); }],
    ["change:playhead", () => { if (!S.playing) drawOverlay(); }],
    ["change:color_mode", () => { computeFreq(); drawBase(); syncControls(); }],
    ["change:height_px change:show_waveform change:layer_names", redraw],
    [
      "change:message change:message_kind change:history_labels change:can_undo change:can_redo " +
        "change:alpha change:replace_code change:interpolate_target change:paste_mode change:loop change:ab " +
        "change:source_info change:codebook_size",
      syncControls,
    ],
  ];
  for (const [ev, fn] of traitHandlers) model.on(ev, fn);
  model.on("msg:custom", onCustom);
  const resize = new ResizeObserver(() => {
    if (Math.abs((stage.clientWidth || 0) - L.width) > 1) redraw();
  });
  resize.observe(stage);
  syncControls();

  // State for tests and benchmarks (tests/browser, benchmarks/bench_editor_browser.py read
  // S.cur, S.L, S.v0, S.cellW, S.env, S.paintMs, S.firstPaintMs, S.gridBytes, S.patches);
  // data-ready, data-acks, data-last-action-ms, data-playing and data-playhead mirror it on the root.
  root.__qtok = S;
  model.send({ type: "hello" });

  return () => {
    stopPlayback(false);
    if (S.ctx) S.ctx.close();
    resize.disconnect();
    for (const [ev, fn] of traitHandlers) model.off(ev, fn);
    model.off("msg:custom", onCustom);
  };
}

export default { render };
