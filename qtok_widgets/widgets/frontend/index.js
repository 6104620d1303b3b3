// TokenEditor front end (anywidget ES module): a canvas heatmap of codes (layers x frames) with
// selection, edit actions, zoom/scroll, a waveform strip and Web Audio A/B playback. This file
// wires the modules together for one view of the widget:
//   wire.js     binary buffers -> typed arrays          state.js    messages from Python -> state
//   layout.js   geometry, hit testing, selections        colour.js   cell colours
//   heatmap.js  canvas painting                          playback.js Web Audio
//   input.js    keys, pointer, wheel                     toolbar.js  toolbar from the "ops" message
//   format.js   text of labels, info line, tooltip   labels.js   word/phone label rows
//   strips.js   spectrogram, pitch, energy strips       occurrence.js, audition.js  N and H keys
// Every action is sent to Python, which runs it on the EditSession and answers with a patch and
// an "ack"; the browser never edits codes itself. docs/protocol.md describes every message and
// the debug API (root.qtokDebug) that tests and benchmarks read.

import { auditionSamples, playAudition } from "./audition.js";
import { colourer, codeFrequencies, legendGradient, legendText } from "./colour.js";
import { el } from "./dom.js";
import { infoText, tooltipText } from "./format.js";
import { createHeatmap } from "./heatmap.js";
import { bindInput, shortcutList } from "./input.js";
import { drawLabels, labelAt, labelSelection, tierNames } from "./labels.js";
import {
  LABEL_ROW, cellCentre, centreOn, clampView, computeLayout, followV0, frameAt, scrollBar, v0FromScroll, zoomView,
} from "./layout.js";
import { createRestoreBar, hidePicture } from "./notebook.js";
import { nextOccurrence } from "./occurrence.js";
import { createPlayer } from "./playback.js";
import { cellAt, createState, handleMessage, startAction } from "./state.js";
import { SPECTROGRAM_VIEWS, drawStrips, mergeStrips, windowRequest } from "./strips.js";
import { createToolbar, opKeys, readParams, withParam } from "./toolbar.js";
import { bytesOf, exportCells } from "./wire.js";

function render({ model, el: host }) {
  // ------------------------------------------------------------------ DOM
  const root = el("div", { class: "qtok-editor", tabindex: "0", "data-lm-suppress-shortcuts": "true" });
  root.setAttribute("data-p-suppress-shortcuts", "true");
  const group = (...children) => el("span", { class: "qtok-group" }, children);
  const editBar = el("div", { class: "qtok-toolbar qtok-edit-bar" });
  const colourSelect = el("select", { class: "qtok-colour", title: "Colour cells by" }, [
    el("option", { value: "code", text: "colour: code" }),
    el("option", { value: "frequency", text: "colour: frequency" }),
    el("option", { value: "embedding", text: "colour: embedding" }),
    el("option", { value: "change", text: "colour: change" }),
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
    legendLow, legendBar, legendHigh,
  ]);
  const specSelect = el("select", { class: "qtok-spectrogram", title: "Spectrogram strip: which audio, or edited minus original" },
    SPECTROGRAM_VIEWS.map((v) => el("option", { value: v, text: `spectrogram: ${v === "both" ? "side by side" : v}` })));
  const unitsSelect = el("select", { class: "qtok-pitch-units", title: "Pitch strip's axis" }, [
    el("option", { value: "Hz", text: "F0: Hz" }), el("option", { value: "semitones", text: "F0: semitones" }),
  ]);
  const stripControls = el("span", { class: "qtok-group qtok-strip-controls" }, [specSelect, unitsSelect]);
  const helpBtn = el("button", { class: "qtok-btn qtok-help-btn", title: "Keyboard shortcuts (?)", text: "?" });
  const info = el("span", { class: "qtok-info" });
  const playBar = el("div", { class: "qtok-toolbar qtok-play-bar" }, [
    group(playBtn, abBtn,
      el("label", { class: "qtok-check", title: "Play the selection only" }, [selOnly, " selection"]),
      el("label", { class: "qtok-check", title: "Loop the selection (L)" }, [loopBox, " loop"]),
      listenSelect),
    group(zoomOut, zoomIn, zoomFit,
      el("label", { class: "qtok-check", title: "Scroll with the playhead while playing" }, [followBox, " follow"])),
    group(colourSelect, legend), stripControls, helpBtn, info,
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

  // ------------------------------------------------------------------ state
  const S = createState();
  let view = { v0: 0, cellW: 0, fitted: true };
  let L = computeLayout({ nLayers: 0, heightPx: model.get("height_px"), width: 800, showWaveform: false });
  let freq = null; // per-layer code counts, for colour by frequency
  let palette = null; // RGB per layer and code from the "palette" message, for colour by embedding
  let lab = null; // CIELAB (Int8Array) per layer and code, from the same message, for colour by change
  let strips = { original: null, edited: null }; // acoustic strips held (strips.js mergeStrips())
  let draftSel = null; // selection being dragged, not yet committed
  let opKeyMap = new Map();
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

  // ------------------------------------------------------------------ drawing
  const heatmap = createHeatmap({ base, overlay, stage });
  function computeFreq() {
    freq = model.get("color_mode") === "frequency"
      ? codeFrequencies(S.cur, S.nL, S.nF, model.get("codebook_size"))
      : null;
  }
  function relayout() {
    L = computeLayout({
      nLayers: S.nL,
      heightPx: model.get("height_px"),
      width: stage.clientWidth || root.clientWidth || 800,
      showWaveform: model.get("show_waveform"),
      source: !!S.src,
      labelRows: tierNames(model.get("label_tiers")).length,
      strips: model.get("show_strips") ? (model.get("spectrogram_view") === "both" ? 2 : 1) : 0,
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
      S, L, view, colourMode,
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
      ink: getComputedStyle(root).color || "#333",
    };
  }
  // drawBase(dirty): repaint the static layer; with dirty = [startFrame, stopFrame) and an
  // unchanged view, only the image columns over those frames are recomputed.
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
  // the strips alone (their band of the base canvas), as a "strips" message needs
  function paintStrips(ink = getComputedStyle(root).color || "#333") {
    drawStrips(base.getContext("2d"), {
      L, view, nF: S.nF, strips, ink, spectrogram: model.get("spectrogram_view"), units: model.get("pitch_units"),
    });
  }
  function drawOverlay() {
    const sc = scene();
    heatmap.drawOverlay(sc);
    root.dataset.playhead = sc.playhead.toFixed(4);
  }
  function updateInfo() {
    info.textContent = infoText({
      nLayers: S.nL, nFrames: S.nF, frameRate: frameRate(), codecName: model.get("codec_name"), selection: currentSelection(),
    });
  }
  function redraw() {
    drawBase();
    drawOverlay();
    updateInfo();
  }

  // ------------------------------------------------------------------ waveform of a long recording
  // A long clip's strip is decoded for the frames in view once the view spans at most
  // waveform_window_s seconds: asked for after the view settles, and again after an edit.
  let waveTimer = null;
  let waveAsked = null; // [start, stop] last asked for
  const windowS = () => (model.get("show_waveform") ? model.get("waveform_window_s") || 0 : 0);
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
    model.send({ type: "waveform", start, stop, ...(editedOnly && covered ? { which: "edited" } : {}) });
  }
  function scheduleWaveform(editedOnly = false) {
    if (!windowS()) return;
    clearTimeout(waveTimer);
    waveTimer = setTimeout(() => askWaveform(editedOnly), 150);
  }
  // a long clip's strips: an overview of the whole clip, and the view's window in detail (strips.js)
  let stripTimer = null;
  function scheduleStrips(again = false) {
    const w = model.get("waveform_window_s") || 0;
    if (!model.get("show_strips") || !w) return;
    clearTimeout(stripTimer);
    stripTimer = setTimeout(() => {
      const req = windowRequest({
        L, view, nF: S.nF, frameRate: frameRate(), windowS: w, dpr: window.devicePixelRatio || 1, held: again ? null : strips.edited,
      });
      if (req) model.send({ type: "strips_window", ...req });
    }, 150);
  }

  // ------------------------------------------------------------------ listening view, 2nd clip
  let draftSource = null; // frames of the second clip being dragged
  const sourceSelection = () => {
    const v = model.get("source_selection");
    return v && v.length === 2 ? v : null;
  };
  /** Per layer, whether playback lets it through; null when every layer plays. */
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
        el("table", {}, shortcutList(S.ops).map(([k, what]) =>
          el("tr", {}, [el("td", { class: "qtok-help-key", text: k }), el("td", { text: what })]))),
      );
    }
    help.classList.toggle("qtok-open", show);
  }
  helpBtn.addEventListener("click", () => {
    toggleHelp();
    root.focus({ preventScroll: true });
  });

  // ------------------------------------------------------------------ actions
  // N / Shift+N: the next frame where the selected cell's code appears in its layer
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
      root.focus({ preventScroll: true }); // back to the grid, so its shortcuts work again
    },
    onParam: (op, param, value) => setTrait("op_params", withParam(model.get("op_params"), op, param, value)),
    onPasteMode: (value) => setTrait("paste_mode", value),
  });
  toolbar.render(S.ops); // the widget's own actions until Python sends the operations
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

  // ------------------------------------------------------------------ playback
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
    },
  });
  const togglePlay = () => (player.isPlaying() ? player.stop(true) : player.start());
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

  // ------------------------------------------------------------------ zoom, scroll, pointer, keys
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
      layerName: names[h.layer] || "L" + h.layer, frame: h.frame, frameRate: frameRate(), ...cellAt(S, h.layer, h.frame),
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
    else if (cmd.scroll) scrollBy((L.plotW / view.cellW) * cmd.scroll);
    else if (cmd.command === "play") togglePlay();
    else if (cmd.command === "ab") toggleAB();
    else if (cmd.command === "loop") setTrait("loop", !loopBox.checked);
    else if (cmd.command === "fit") fit();
    else if (cmd.command === "help") toggleHelp();
    else if (cmd.command === "next" || cmd.command === "previous") jumpToOccurrence(cmd.command === "next" ? 1 : -1);
    else if (cmd.command === "audition" || cmd.command === "hear_code") {
      if (!committedSelection()) say("select a cell first, then H plays it in context", true);
      else model.send({ type: "audition", what: cmd.command === "hear_code" ? "code" : "context" });
    }
    else if (cmd.command === "clear") {
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
    leave: () => (tooltip.style.display = "none"),
    command,
    keys: () => opKeyMap,
    toggleLayer,
    sourceFrames: () => (S.src ? S.src.nF : 0),
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
    },
  });

  // ------------------------------------------------------------------ messages from Python
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
      drawBase(fx.dirty || undefined);
      if (windowS()) {
        S.env.edited = null; // the edited window is stale: ask for it again
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

  // ------------------------------------------------------------------ form controls <-> traits
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
    ["change:selection", () => { draftSel = null; drawBase(); drawOverlay(); updateInfo(); }],
    ["change:playhead", () => { if (!player.isPlaying()) drawOverlay(); }],
    ["change:color_mode", () => { computeFreq(); drawBase(); syncControls(); }],
    ["change:listen_layers", () => { drawBase(); syncListen(); }],
    ["change:source_selection", () => { draftSource = null; drawOverlay(); }],
    ["change:height_px change:show_waveform change:waveform_window_s change:layer_names change:label_tiers change:show_strips", redraw],
    ["change:spectrogram_view change:pitch_units change:show_strips", () => { syncControls(); redraw(); }],
    [
      "change:message change:message_kind change:history_labels change:can_undo change:can_redo " +
        "change:op_params change:paste_mode change:loop change:ab change:source_info change:restore_offer",
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

  // The debug API (docs/protocol.md): read-only copies of what this view holds, for tests and
  // benchmarks. data-ready, data-acks, data-last-action-ms, data-playing and data-playhead on
  // the root say the same things to CSS selectors.
  const cellsOf = (which) => {
    const original = which === "original";
    const nFrames = original ? S.nOF : S.nF;
    return { nLayers: S.nL, nFrames, ...exportCells(original ? S.orig : S.cur, model.get("codebook_size")) };
  };
  root.qtokDebug = Object.freeze({
    cells: (which = "edited") => cellsOf(which),
    frameMap: () => (S.origin ? S.origin.slice() : null),
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
    source: () => (S.src ? { nLayers: S.src.nL, nFrames: S.src.nF } : null),
    waveformWindow: () => (waveAsked ? waveAsked.slice() : null),
    // the strips held: per version, the levels ("base", "window") with their columns
    strips: () => Object.fromEntries(["original", "edited"].map((v) => [v, strips[v] && Object.fromEntries(
      ["base", "window"].filter((k) => strips[v][k]).map((k) => {
        const p = strips[v][k];
        return [k, { cpf: p.cpf, fpc: p.fpc, start: p.start, stop: p.stop, total: p.total }];
      }))])),
    // the PCM this view holds for a version: its rate, length and loudest sample in [t0, t1) s
    pcm: (which = "edited", t0 = 0, t1 = Infinity) => {
      const pcm = S.pcm[which];
      if (!pcm) return null;
      const a = Math.max(0, Math.floor(t0 * pcm.rate));
      const b = Math.min(pcm.data.length, Math.floor(t1 * pcm.rate));
      let peak = 0;
      for (let i = a; i < b; i++) peak = Math.max(peak, Math.abs(pcm.data[i]));
      return { rate: pcm.rate, samples: pcm.data.length, peak };
    },
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

export default { render };
