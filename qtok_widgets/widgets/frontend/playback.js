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
    const buf = audioBuffer(which);
    if (!buf) {
      // keep the place: an A/B switch while playing resumes where it was, not at 0 s
      pendingPlay = { which, from: fromSeconds };
      model.send({ type: "audio", which });
      say(`loading ${which} audio…`);
      return;
    }
    stop(false);
    const opts = options();
    const w = playWindow({
      duration: buf.duration,
      selection: model.get("selection"),
      frameRate: model.get("frame_rate"),
      start: fromSeconds ?? model.get("playhead"),
      loop: opts.loop,
      selectionOnly: opts.selectionOnly,
    });
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(ctx.destination);
    if (w.loop) {
      src.loop = true;
      src.loopStart = w.loopStart;
      src.loopEnd = w.loopEnd;
      src.start(0, w.offset);
    } else {
      src.start(0, w.offset, Math.max(0, w.end - w.offset));
    }
    const p = { ...w, src, which, startedAt: ctx.currentTime };
    src.onended = () => {
      if (playing === p) stop(true);
    };
    playing = p;
    onChange(which);
    say(`playing ${which}${w.only ? " selection" : ""}${w.loop ? " (loop)" : ""}`);
    const tick = () => {
      if (playing !== p) return;
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
    p.src.onended = null;
    try {
      p.src.stop();
    } catch (_) {
      /* already stopped */
    }
    p.src.disconnect();
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
    }
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
