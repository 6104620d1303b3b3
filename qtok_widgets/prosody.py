"""Prosody you can dial: pitch, duration and level of a stretch of frames as edit operations.

``pitch_shift(frames, semitones)``, ``time_stretch(frames, factor)`` and ``gain(frames, db)``
are operations of the registry (:data:`qtok_widgets.ops.OPS`), so they undo, replay from a
recipe, export to Python, appear on the editor's toolbar and run in ``qtok edit`` like any
other. Each one renders the selected frames with :data:`CONTEXT_FRAMES` frames of context on
either side, transforms that audio, encodes it again with the same codec, and writes the new
codes of the selected frames only (of the chosen ``layers``; by default those measured to carry
the change for the codec, :data:`DEFAULT_LAYERS`). Codes outside the selection are never
changed, so the audio outside it changes only as far as the codec's decoder reaches
(:meth:`~qtok_widgets.codecs.Codec.affected_frames`).

The transform is WORLD analysis and resynthesis (``pyworld``, the built-in codec's vocoder):
F0 is multiplied by ``2 ** (semitones / 12)``, the spectral envelope and aperiodicity kept
(formants stay put); a stretch resamples F0, envelope and aperiodicity along time; gain
multiplies the samples. Pitch and level ramp in over :data:`CROSSFADE_S` at each end of the
selection, inside it, so the new codes join their neighbours without a step. A stretch changes
the number of frames to ``round(n_selected * factor)`` (at least one): the grid's length is
updated, and layers not chosen keep their own codes, repeated or dropped at the nearest frame.
How the defaults were chosen is in ``benchmarks/bench_prosody.py`` and docs/editing.md.
"""

# The field helpers (spec, number) return dataclasses.field(...), which ruff cannot see through.
# ruff: noqa: RUF009

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .delta import Delta, plan_cells, runs
from .errors import CodecError, EditError
from .grid import CODE_DTYPE, CodeGrid
from .ops import Op, OpContext, _n_samples_after, number, register, spec
from .selection import Selection, resolve_indices, select

__all__ = [
    "CONTEXT_FRAMES",
    "CROSSFADE_S",
    "DEFAULT_LAYERS",
    "Gain",
    "PitchShift",
    "TimeStretch",
    "default_layers",
]

#: Frames of audio rendered on each side of the selection, so the encoder sees the selection in
#: its own context (the built-in codec's analysis and decode windows reach about 1 frame).
CONTEXT_FRAMES = 4

#: Length of the ramp, inside each end of the selection, over which pitch and gain move from
#: none to the full amount (seconds).
CROSSFADE_S = 0.04

#: Layers an operation rewrites when ``layers`` is not given, per codec and operation, as
#: ``stop`` of the prefix ``0:stop`` (residual layers refine the ones before them, so a change
#: is carried by a prefix). Measured with ``python -m benchmarks.run prosody`` on the validation
#: speakers; codecs not listed rewrite all layers.
DEFAULT_LAYERS: dict[str, dict[str, int]] = {
    "builtin": {"pitch_shift": 16, "time_stretch": 16, "gain": 16},
}

#: WORLD analysis frame period (ms) and F0 search range (Hz).
_PERIOD_MS = 5.0
_F0_FLOOR_HZ = 60.0
_F0_CEIL_HZ = 500.0
_F0_RATE = 4000


def default_layers(codec_name: str, op_name: str, n_layers: int) -> np.ndarray:
    """Layers ``op_name`` rewrites by default for a codec: int64 ``(k,)``, a prefix ``0..k-1``."""
    stop = DEFAULT_LAYERS.get(codec_name, {}).get(op_name, n_layers)
    return np.arange(min(stop, n_layers), dtype=np.int64)


# ---------------------------------------------------------------------------- WORLD helpers
def _analyze(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WORLD F0 ``(n,)`` Hz, envelope ``(n, bins)`` and aperiodicity ``(n, bins)`` every 5 ms."""
    from .audio import resample
    from .codecs import _world

    pw = _world.world()
    x = np.ascontiguousarray(samples, dtype=np.float64)
    low = resample(x.astype(np.float32), sample_rate, _F0_RATE).astype(np.float64)
    f0, _ = pw.harvest(low, _F0_RATE, f0_floor=_F0_FLOOR_HZ, f0_ceil=_F0_CEIL_HZ, frame_period=_PERIOD_MS)
    times = np.arange(f0.shape[0], dtype=np.float64) * (_PERIOD_MS / 1000.0)
    sp = pw.cheaptrick(x, f0, times, sample_rate)
    ap = pw.d4c(x, f0, times, sample_rate)
    return f0, sp, ap


def _synthesize(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, sample_rate: int, n: int) -> np.ndarray:
    """WORLD synthesis, float32 ``(n,)`` (cut or zero-padded to ``n`` samples)."""
    from .codecs import _world

    pw = _world.world()
    out = pw.synthesize(
        np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap), sample_rate, _PERIOD_MS
    )
    out = out[:n] if out.shape[0] >= n else np.concatenate([out, np.zeros(n - out.shape[0])])
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def _ramp(n: int, a: int, b: int, fade: int) -> np.ndarray:
    """Weights ``(n,)``: 0 outside ``[a, b)``, 1 inside, raised-cosine ramps of ``fade`` inside each end."""
    w = np.zeros(n, dtype=np.float64)
    w[a:b] = 1.0
    fade = max(0, min(fade, (b - a) // 2))
    if fade:
        up = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
        w[a : a + fade] = up
        w[b - fade : b] = up[::-1]
    return w


# ---------------------------------------------------------------------------- shared plan
@dataclass(frozen=True)
class _Segment:
    """The selection and its rendered context."""

    start: int  # first selected frame
    stop: int  # one past the last selected frame
    lo: int  # first rendered frame
    hi: int  # one past the last rendered frame
    samples: np.ndarray  # float32 ((hi - lo) * samples_per_frame,)
    layers: np.ndarray  # int64 (k,): layers to rewrite


@dataclass(frozen=True)
class _ProsodyOp(Op):
    """Base of the prosody operations: render with context, transform, re-encode, splice."""

    group: ClassVar[str] = "prosody"
    selection: ClassVar[str | None] = "frames"
    key_does: ClassVar[str] = "focus"

    def _identity(self) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def _segment(self, grid: CodeGrid, ctx: OpContext) -> tuple[Any, _Segment]:
        codec = ctx.codec
        if codec is None:
            msg = f"{self.name} needs the codec to render and re-encode audio (it runs in an EditSession with a codec)"
            raise EditError(msg)
        try:
            codec.check_grid(grid)
        except CodecError as exc:
            raise EditError(str(exc)) from None
        frames_field = getattr(self, "frames", None)
        sel = select(grid, frames_field, None)
        frames = np.unique(sel.frames)
        parts = runs(frames)
        if len(parts) != 1:
            msg = f"{self.name} needs one run of consecutive frames, got {len(parts)} runs; apply it to each run"
            raise EditError(msg)
        start, stop = parts[0]
        layer_field = getattr(self, "layers", None)
        if layer_field is None:
            layers = default_layers(grid.codec, self.name, grid.n_layers)
        else:
            layers = np.unique(resolve_indices(layer_field, grid.n_layers, "layer"))
        lo, hi = max(0, start - CONTEXT_FRAMES), min(grid.n_frames, stop + CONTEXT_FRAMES)
        spf = grid.samples_per_frame
        window = grid.with_codes(grid.codes[:, lo:hi], grid.mask[:, lo:hi], (hi - lo) * spf)
        try:
            rendered = codec.decode(window)
        except CodecError as exc:
            raise EditError(str(exc)) from None
        samples = np.zeros((hi - lo) * spf, dtype=np.float32)
        samples[: rendered.samples.shape[0]] = rendered.samples
        return codec, _Segment(start, stop, lo, hi, samples, layers)

    def _encode(self, codec: Any, grid: CodeGrid, samples: np.ndarray) -> np.ndarray:
        from .audio import Audio

        try:
            new = codec.encode(Audio(samples, grid.sample_rate, f"{self.name} render"))
        except CodecError as exc:
            raise EditError(str(exc)) from None
        return np.asarray(new.codes)

    def _splice_same_length(self, grid: CodeGrid, seg: _Segment, codes: np.ndarray) -> Delta:
        """Delta writing ``codes`` (of the rendered window) into the selection's chosen layers."""
        k = seg.stop - seg.start
        frames = np.arange(seg.start, seg.stop)
        cl = np.repeat(seg.layers, k)
        cf = np.tile(frames, seg.layers.size)
        new = codes[cl, cf - seg.lo]
        delta = plan_cells(grid, cl, cf, new, np.zeros(cl.size, dtype=bool))
        return dataclasses.replace(delta, selection=Selection(frames, seg.layers, grid.frame_rate))

    def _plan(self, grid: CodeGrid, ctx: OpContext) -> Delta:
        if self._identity():
            sel = select(grid, getattr(self, "frames", None), None)
            return Delta(
                old_n_samples=grid.n_samples,
                new_n_samples=grid.n_samples,
                selection=Selection(np.unique(sel.frames), np.arange(0), grid.frame_rate),
            )
        codec, seg = self._segment(grid, ctx)
        return self._apply(codec, grid, seg)

    def _apply(self, codec: Any, grid: CodeGrid, seg: _Segment) -> Delta:  # pragma: no cover - abstract
        raise NotImplementedError


def _in_samples(grid: CodeGrid, seg: _Segment) -> tuple[int, int]:
    """The selection as sample offsets into the rendered window."""
    spf = grid.samples_per_frame
    return (seg.start - seg.lo) * spf, (seg.stop - seg.lo) * spf


# ---------------------------------------------------------------------------- operations
@register
@dataclass(frozen=True)
class PitchShift(_ProsodyOp):
    """Raise or lower the pitch of a run of frames by ``semitones``, keeping its timing and timbre.

    The selection is rendered with context, its F0 multiplied by ``2 ** (semitones / 12)`` by
    WORLD analysis and resynthesis (envelope and aperiodicity kept), ramped in over
    :data:`CROSSFADE_S` at each end, and encoded again; the new codes of the chosen ``layers``
    (default: :data:`DEFAULT_LAYERS`) replace those of the selected frames. Other frames keep
    their codes.
    """

    name: ClassVar[str] = "pitch_shift"
    title: ClassVar[str] = "Pitch"
    help: ClassVar[str] = "Shift the pitch of the selected frames by some semitones"
    frames: Any = spec(required=True)
    semitones: float = number(
        2.0,
        lo=-12.0,
        hi=12.0,
        ui={"kind": "float", "label": "st", "help": "Semitones (+ up, - down)", "step": 0.5},
    )
    layers: Any = spec()

    def _identity(self) -> bool:
        return self.semitones == 0.0

    def _apply(self, codec: Any, grid: CodeGrid, seg: _Segment) -> Delta:
        f0, sp, ap = _analyze(seg.samples, grid.sample_rate)
        a, b = _in_samples(grid, seg)
        hop = grid.sample_rate * _PERIOD_MS / 1000.0
        fa, fb = round(a / hop), round(b / hop)
        w = _ramp(f0.shape[0], fa, fb, round(CROSSFADE_S * 1000.0 / _PERIOD_MS))
        shifted = f0 * 2.0 ** (w * self.semitones / 12.0)
        out = _synthesize(shifted, sp, ap, grid.sample_rate, seg.samples.shape[0])
        # outside the selection the window keeps the decoded audio, so the encoder's context is
        # unchanged; inside, the resynthesis fades in and out over the same ramp as the shift
        fade = _ramp(seg.samples.shape[0], a, b, round(CROSSFADE_S * grid.sample_rate))
        samples = (seg.samples * (1.0 - fade) + out * fade).astype(np.float32)
        return self._splice_same_length(grid, seg, self._encode(codec, grid, samples))


@register
@dataclass(frozen=True)
class Gain(_ProsodyOp):
    """Make a run of frames louder or softer by ``db`` decibels.

    The rendered selection is multiplied by ``10 ** (db / 20)`` (ramped in over
    :data:`CROSSFADE_S` at each end, clipped to [-1, 1]) and encoded again; the new codes of
    the chosen ``layers`` replace those of the selected frames.
    """

    name: ClassVar[str] = "gain"
    title: ClassVar[str] = "Gain"
    help: ClassVar[str] = "Make the selected frames louder (+dB) or softer (-dB)"
    frames: Any = spec(required=True)
    db: float = number(
        3.0, lo=-24.0, hi=24.0, ui={"kind": "float", "label": "dB", "help": "Gain in decibels", "step": 1.0}
    )
    layers: Any = spec()

    def _identity(self) -> bool:
        return self.db == 0.0

    def _apply(self, codec: Any, grid: CodeGrid, seg: _Segment) -> Delta:
        a, b = _in_samples(grid, seg)
        n = seg.samples.shape[0]
        w = _ramp(n, a, b, round(CROSSFADE_S * grid.sample_rate))
        samples = np.clip(seg.samples * 10.0 ** (w * self.db / 20.0), -1.0, 1.0).astype(np.float32)
        return self._splice_same_length(grid, seg, self._encode(codec, grid, samples))


def _stretch_rows(values: np.ndarray, n_out: int) -> np.ndarray:
    """Rows of ``values`` ``(n, ...)`` linearly resampled along time to ``(n_out, ...)``."""
    n = values.shape[0]
    pos = (np.arange(n_out) + 0.5) * n / n_out - 0.5
    pos = np.clip(pos, 0.0, n - 1.0)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    t = (pos - i0).reshape((-1,) + (1,) * (values.ndim - 1))
    return values[i0] * (1.0 - t) + values[i1] * t


@register
@dataclass(frozen=True)
class TimeStretch(_ProsodyOp):
    """Make a run of frames slower (``factor`` > 1) or faster (< 1), keeping its pitch.

    The selection becomes ``max(1, round(n_selected * factor))`` frames: its WORLD F0 (log,
    through unvoiced stretches), envelope and aperiodicity are resampled along time,
    resynthesised between the unchanged context, and encoded again. The chosen ``layers``
    (default: :data:`DEFAULT_LAYERS`) take the new codes; the others keep their own, repeated or
    dropped at the nearest frame. The grid's length changes by the difference.
    """

    name: ClassVar[str] = "time_stretch"
    title: ClassVar[str] = "Stretch"
    help: ClassVar[str] = "Make the selected frames slower (factor > 1) or faster (< 1), keeping the pitch"
    group: ClassVar[str] = "timing"
    frames: Any = spec(required=True)
    factor: float = number(
        1.25,
        lo=0.5,
        hi=2.0,
        ui={"kind": "float", "label": "factor", "help": "Duration factor (1.25: 25 % slower)", "step": 0.05},
    )
    layers: Any = spec()

    def _identity(self) -> bool:
        return self.factor == 1.0

    def _apply(self, codec: Any, grid: CodeGrid, seg: _Segment) -> Delta:
        spf = grid.samples_per_frame
        k = seg.stop - seg.start
        k_new = max(1, round(k * self.factor))
        a, b = _in_samples(grid, seg)
        if k_new == k:
            return self._splice_same_length(grid, seg, self._encode(codec, grid, seg.samples))
        f0, sp, ap = _analyze(seg.samples, grid.sample_rate)
        hop = grid.sample_rate * _PERIOD_MS / 1000.0
        fa, fb = round(a / hop), min(f0.shape[0], round(b / hop))
        n_new = max(1, round((fb - fa) * k_new / k))
        voiced = f0[fa:fb] > 0
        lf0 = np.log(np.maximum(f0[fa:fb], 1.0))
        if voiced.any():
            idx = np.flatnonzero(voiced)
            lf0 = np.interp(np.arange(fb - fa), idx, lf0[idx])
        voiced_new = _stretch_rows(voiced.astype(np.float64), n_new) > 0.5
        f0_new = np.where(voiced_new, np.exp(_stretch_rows(lf0, n_new)), 0.0)
        sp_new = np.exp(_stretch_rows(np.log(np.maximum(sp[fa:fb], 1e-16)), n_new))
        ap_new = _stretch_rows(ap[fa:fb], n_new)
        f0_all = np.concatenate([f0[:fa], f0_new, f0[fb:]])
        sp_all = np.concatenate([sp[:fa], sp_new, sp[fb:]])
        ap_all = np.concatenate([ap[:fa], ap_new, ap[fb:]])
        n_out = seg.samples.shape[0] + (k_new - k) * spf
        out = _synthesize(f0_all, sp_all, ap_all, grid.sample_rate, n_out)
        b_new = a + k_new * spf
        samples = np.concatenate([seg.samples[:a], out[a:b_new], seg.samples[b:]])
        codes = self._encode(codec, grid, samples)
        first = seg.start - seg.lo
        inserted_codes = np.empty((grid.n_layers, k_new), dtype=CODE_DTYPE)
        # layers not rewritten keep their own codes, taken at the nearest original frame
        nearest = seg.start + np.minimum(k - 1, ((np.arange(k_new) + 0.5) * k / k_new).astype(np.int64))
        inserted_codes[:] = grid.codes[:, nearest]
        inserted_mask = np.array(grid.mask[:, nearest])
        inserted_codes[seg.layers] = codes[seg.layers, first : first + k_new]
        inserted_mask[seg.layers] = False
        removed = np.arange(seg.start, seg.stop, dtype=np.int64)
        n = grid.n_frames
        return Delta(
            removed=removed,
            removed_codes=np.array(grid.codes[:, removed]),
            removed_mask=np.array(grid.mask[:, removed]),
            inserted=np.arange(seg.start, seg.start + k_new, dtype=np.int64),
            inserted_codes=inserted_codes,
            inserted_mask=inserted_mask,
            old_n_samples=grid.n_samples,
            new_n_samples=_n_samples_after(grid, n - k + k_new, seg.stop != n),
            selection=Selection(removed, seg.layers, grid.frame_rate),
        )
