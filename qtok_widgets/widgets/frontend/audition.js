// Audition: hear the selected frame in context (the original around it, a pause, then the
// edited) or what the selected cell's code carries alone. Python renders the clip (the
// "audition" message, int16 PCM); this module plays it once on its own Web Audio context, apart
// from the A/B player, so auditioning never moves the playhead or changes what Play plays.

import { pcmToFloat } from "./playback.js";
import { bytesOf } from "./wire.js";

let ctx = null;
let playing = null;

/** Int16 samples of an "audition" message's buffer. */
export function auditionSamples(buffer) {
  return new Int16Array(bytesOf(buffer).buffer);
}

/**
 * Play `samples` (Int16Array) at `rate` Hz once, stopping any audition still playing.
 * @param {function()} onEnd called when it has played (not when a newer one replaced it)
 * @returns {number} the clip's duration in seconds
 */
export function playAudition(samples, rate, onEnd) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!ctx) ctx = new Ctx({ sampleRate: rate });
  if (ctx.state === "suspended") ctx.resume();
  if (playing) {
    playing.onended = null;
    try {
      playing.stop();
    } catch (_) {
      /* already stopped */
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
