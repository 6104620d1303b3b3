// Playback with Web Audio: the int16 PCM that Python sent for the original or the edited
// version, from the playhead, the selection only, or looping it. playWindow() and
// playheadAt() are the pure parts (which stretch plays, where the playhead is); createPlayer()
// holds the AudioContext and the playing source.

/**
 * Which stretch of a recording to play.
 * @param {{duration: number, selection: object|null, frameRate: number, start: number,
 *   loop: boolean, selectionOnly: boolean}} p duration of the audio (s); start: where to start (s)
 * @returns {{offset, end, loop, loopStart, loopEnd, only}} seconds; end is Infinity when looping;
 *   only: the selection alone plays
 */
export function playWindow({ duration, selection, frameRate, start, loop, selectionOnly }) {
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

/** Seconds before a slice runs out at which the next one is asked for (it takes ~0.3 s to decode). */
export const PREFETCH_S = 6;

/**
 * What playing from `from` seconds needs of the audio a view holds.
 * @param {{rate: number, data: ArrayLike, start: number, total: number, slice: boolean}|null} held S.pcm[which]
 * @returns {"play"|"fetch"} "fetch": nothing is held, or a slice that does not cover `from`
 *   (a slice covers [start, start + length); its last quarter second counts as not covered,
 *   unless it ends the recording)
 */
export function needFor(held, from) {
  if (!held) return "fetch";
  if (!held.slice) return "play";
  const ws = held.start / held.rate;
  const we = (held.start + held.data.length) / held.rate;
  const endsRecording = held.start + held.data.length >= held.total;
  if (from < ws - 1e-6) return "fetch";
  if (from >= we - (endsRecording ? 1e-3 : 0.25)) return endsRecording && from < we ? "play" : "fetch";
  return "play";
}

/**
 * Where the playhead of a playing stretch is, `elapsed` seconds after it started.
 * @param {{offset, end, loop, loopStart, loopEnd}} p from playWindow()
 */
export function playheadAt(p, elapsed) {
  let pos = p.offset + elapsed;
  if (p.loop) pos = p.loopStart + ((pos - p.loopStart) % (p.loopEnd - p.loopStart));
  return Math.min(pos, p.end);
}

/** int16 PCM as float samples in [-1, 1] (divided by 32767, as Python scaled them). */
export function pcmToFloat(data, out = new Float32Array(data.length)) {
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 32767;
  return out;
}

/**
 * The player of one editor view.
 * @param {object} o
 * @param {object} o.model the anywidget model (reads ab, selection, playhead, frame_rate, sample_rate; sends "audio")
 * @param {object} o.S state (reads S.pcm)
 * @param {function(): {loop: boolean, selectionOnly: boolean}} o.options the play checkboxes
 * @param {function(string, boolean=)} o.say message line
 * @param {function(string|null)} o.onChange called with the version now playing, or null when stopped
 * @param {function(number)} o.onStop called with the position where playback stopped (seconds) when it is kept
 * @param {function()} o.onFrame called on every animation frame while playing
 */
export function createPlayer({ model, S, options, say, onChange, onStop, onFrame }) {
  let ctx = null;
  let playing = null;
  let pendingPlay = null; // {which, from}: the version whose PCM was asked for, and where to start it
  let buffers = { original: null, edited: null };

  function ensureContext() {
    if (!ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) throw new Error("this browser has no Web Audio");
      ctx = new Ctx({ sampleRate: model.get("sample_rate") });
      buffers = { original: null, edited: null };
    }
    if (ctx.state === "suspended") ctx.resume();
    return ctx;
  }

  function audioBuffer(which) {
    if (buffers[which]) return buffers[which];
    const pcm = S.pcm[which];
    if (!pcm) return null;
    const buf = ctx.createBuffer(1, Math.max(1, pcm.data.length), pcm.rate);
    pcmToFloat(pcm.data, buf.getChannelData(0));
    buffers[which] = buf;
    return buf;
  }

  /** Seconds of the recording that the held PCM of `which` covers: [ws, we), and the whole duration. */
  function span(which) {
    const pcm = S.pcm[which];
    const ws = (pcm.start || 0) / pcm.rate;
    return { ws, we: ws + pcm.data.length / pcm.rate, duration: (pcm.total ?? pcm.data.length) / pcm.rate };
  }

  /** Seconds: where the playhead is now (moving while playing). */
  function position() {
    if (playing) return playheadAt(playing, ctx.currentTime - playing.startedAt);
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
    const window = (duration, from) => playWindow({
      duration,
      selection: model.get("selection"),
      frameRate: model.get("frame_rate"),
      start: from,
      loop: opts.loop,
      selectionOnly: opts.selectionOnly,
    });
    // where playing starts, as far as it can be known before the audio is here
    const from = held ? window(span(which).duration, fromSeconds ?? model.get("playhead")).offset : fromSeconds ?? model.get("playhead");
    if (needFor(held, from) === "fetch") {
      // keep the place: an A/B switch while playing resumes where it was, not at 0 s; a long
      // recording sends the slice under the playhead (`at`), a short one all of its audio
      pendingPlay = { which, from: fromSeconds ?? from };
      model.send({ type: "audio", which, at: from });
      say(`loading ${which} audio…`);
      return;
    }
    const buf = audioBuffer(which);
    stop(false);
    const { ws, we, duration } = span(which);
    const w = window(duration, fromSeconds ?? model.get("playhead"));
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    const windowEnd = Math.min(w.loop ? w.loopEnd : w.end, we);
    if (w.loop) {
      src.loop = true;
      src.loopStart = Math.max(0, w.loopStart - ws);
      src.loopEnd = Math.min(we, w.loopEnd) - ws;
      src.start(0, w.offset - ws);
    } else {
      src.start(0, w.offset - ws, Math.max(0, windowEnd - w.offset));
    }
    // sliced: windowEnd < end, and the next slice is asked for PREFETCH_S before it
    const p = { ...w, src, srcs: [src], which, startedAt: ctx.currentTime, windowEnd, nextAsked: false };
    src.onended = () => {
      if (playing === p) stop(true);
    };
    playing = p;
    onChange(which);
    say(`playing ${which}${w.only ? " selection" : ""}${w.loop ? " (loop)" : ""}`);
    const tick = () => {
      if (playing !== p) return;
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
    const p = playing;
    if (!p) return;
    let pos = position();
    if (!Number.isFinite(pos)) pos = 0;
    playing = null;
    for (const src of p.srcs) {
      src.onended = null;
      try {
        src.stop();
      } catch (_) {
        /* already stopped */
      }
      src.disconnect();
    }
    onChange(null);
    if (keepPosition) onStop(pos);
    say(`stopped at ${pos.toFixed(2)} s`);
    onFrame();
  }

  /** New PCM for `which` arrived: drop its old buffer, and play it if it was waited for. */
  function pcmArrived(which) {
    buffers[which] = null;
    if (pendingPlay && pendingPlay.which === which) {
      const from = pendingPlay.from;
      pendingPlay = null;
      start(from);
    } else if (playing && playing.which === which && playing.nextAsked) {
      continueWith(playing);
    }
  }

  /** The next slice of a long recording arrived while `p` plays: schedule it right after this one. */
  function continueWith(p) {
    const { ws, we } = span(p.which);
    if (!(ws <= p.windowEnd + 1e-6 && we > p.windowEnd)) return;
    const src = ctx.createBufferSource();
    src.buffer = audioBuffer(p.which);
    src.connect(ctx.destination);
    const when = p.startedAt + (p.windowEnd - p.offset); // context time at which the current slice ends
    const late = Math.max(0, ctx.currentTime - when);
    const stopAt = Math.min(p.end, we);
    src.start(when + late, p.windowEnd - ws + late, Math.max(0, stopAt - p.windowEnd - late));
    for (const old of p.srcs) old.onended = null;
    src.onended = () => {
      if (playing === p) stop(true);
    };
    p.srcs.push(src);
    if (p.srcs.length > 3) p.srcs.shift(); // those long finished
    p.windowEnd = stopAt;
    p.nextAsked = false;
  }

  /** The PCM held for `which` is stale (a listening view changed): play on from here with new PCM. */
  function pcmDropped(which) {
    buffers[which] = null;
    if (playing && playing.which === which) {
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
    isPlaying: () => playing !== null,
    close() {
      stop(false);
      if (ctx) ctx.close();
    },
  };
}
