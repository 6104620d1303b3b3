// The browser's copy of what Python sent, and how each message from Python updates it.
// The state is a plain object (no DOM): the codes of the original and the current grid, the map
// from current to original frames, the waveform envelopes, the PCM for playback, the operation
// list for the toolbar, and counters (bytes, patches, acknowledgements) that the debug API
// reports. handleMessage() applies one message and says what the view has to do about it; the
// message protocol itself is written down in docs/protocol.md.

import { byteSize, decodeCells, int8s, int16s, int32s } from "./wire.js";

/**
 * A fresh, empty state.
 * @returns {object} nL, nF (layers and frames of the current grid), nOF (frames of the original),
 *   orig, cur (Uint32Array cells, layer-major, code | mask << 30), origin (Int32Array: original
 *   frame of each current frame, -1 = inserted; null while no edit changed the length),
 *   version, src (the second clip's {nL, nF, cells} or null), env / pcm ({original, edited}),
 *   ops (OpSpec list), counters.
 */
export function createState() {
  return {
    nL: 0,
    nF: 0,
    nOF: 0,
    orig: new Uint32Array(0),
    cur: new Uint32Array(0),
    origin: null,
    version: 0, // counts grid and patch messages (caches of drawings derived from cur key on it)
    src: null, // the second clip: {nL, nF, cells}, or null
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
    pending: new Map(),
    lastActionMs: null,
  };
}

/** Original frame of current frame `f` (-1: inserted by an edit). */
export function originOf(S, f) {
  if (S.origin) return S.origin[f];
  return f < S.nOF ? f : -1;
}

/** Whether cell (layer `l`, frame `f`) differs from the original cell it came from. */
export function isEdited(S, l, f) {
  const o = originOf(S, f);
  return o < 0 || S.cur[l * S.nF + f] !== S.orig[l * S.nOF + o];
}

/**
 * What the browser holds for one cell.
 * @returns {{value: number, original: number|null, originFrame: number}} held cells (code |
 *   mask << 30); `original` is null for an inserted frame.
 */
export function cellAt(S, layer, frame) {
  const originFrame = originOf(S, frame);
  return {
    value: S.cur[layer * S.nF + frame],
    original: originFrame >= 0 ? S.orig[layer * S.nOF + originFrame] : null,
    originFrame,
  };
}

/** "grid": the whole original and current grid. */
export function applyGrid(S, msg, buffers) {
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

/**
 * "patch": frames [start, stop) of the current grid, which may have changed length.
 * @returns {number[]|null} the dirty frame range [start, stop) when the grid kept its shape and
 *   frame map (only those columns need repainting), else null (repaint everything).
 */
export function applyPatch(S, msg, buffers) {
  const { n_frames: nF, n_layers: nL, start, stop } = msg;
  const width = stop - start;
  const chunk = decodeCells(buffers[0], msg.bits, nL * width);
  let cur = S.cur;
  if (nF !== S.nF || nL !== S.nL) {
    cur = new Uint32Array(nL * nF);
    for (let l = 0; l < nL; l++) cur.set(S.cur.subarray(l * S.nF, l * S.nF + Math.min(start, S.nF)), l * nF);
    if (stop < nF) {
      // frames after the patch kept their codes (same count, shifted nowhere)
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

/**
 * "envelope": frames [start, start + k) of one waveform envelope; when the length is unchanged
 * the bins outside that range are kept. A part that arrives without a whole envelope to patch
 * (a view opened after the audio was sent) is dropped: the view would show silence around it.
 * A message marked `window` (long recordings) holds the frames in view only and replaces what
 * is held: S.env[which] = {bins, data, start, window} (start: its first frame).
 * @returns {boolean} whether the state now holds the envelope
 */
export function applyEnvelope(S, msg, buffers) {
  const part = int8s(buffers[0]);
  if (msg.window) {
    // a long recording: the envelope of the frames in view only, in place of the previous window
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

/**
 * "pcm": samples [start, start + k) of one version's audio, patched into the whole copy this
 * view holds. A part without a whole copy to patch is dropped (never padded with silence), so
 * the next Play asks for the whole audio. A message marked `slice` (long recordings) replaces
 * what is held: S.pcm[which] = {rate, data, start, total, slice} (start, total in samples).
 * @returns {boolean} whether the state now holds PCM for that version
 */
export function applyPcm(S, msg, buffers) {
  const part = int16s(buffers[0]);
  const old = S.pcm[msg.which];
  if (msg.slice) {
    // a long recording: only this slice is held, in place of the previous one
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

/**
 * "ack": Python finished action `id`.
 * @returns {number|null} milliseconds since the action was sent, or null for an id this view did not send.
 */
export function applyAck(S, msg, nowMs) {
  S.acks += 1;
  const p = S.pending.get(msg.id);
  if (!p) return null;
  S.pending.delete(msg.id);
  S.lastActionMs = nowMs - p.t0;
  return S.lastActionMs;
}

/** Record an action about to be sent; returns its id. */
export function startAction(S, name, nowMs) {
  const id = S.nextId++;
  S.pending.set(id, { t0: nowMs, name });
  return id;
}

/**
 * Apply one message from Python to the state.
 * @param {object} S state from createState()
 * @param {object} msg the message's JSON content
 * @param {Array<DataView>} buffers its binary buffers
 * @param {number} nowMs performance.now() when it arrived (for "ack")
 * @returns {object|null} what the view must do: {kind: "grid"} (everything is new),
 *   {kind: "patch", dirty: [start, stop] | null}, {kind: "envelope", which},
 *   {kind: "pcm", which}, {kind: "pcm_drop", which} (the PCM held for `which` is stale),
 *   {kind: "source"} (a second clip arrived), {kind: "ack", id, ok, message, ms}, {kind: "ops"};
 *   null for a part of audio with no whole copy to patch, and for a message
 *   this front end does not know (ignored, so an older front end survives a newer kernel).
 */
export function handleMessage(S, msg, buffers, nowMs) {
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
