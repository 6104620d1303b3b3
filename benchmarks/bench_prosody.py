"""Dialled prosody (pitch_shift, time_stretch, gain) on the built-in codec: accuracy and locality.

Two sets of clips, split by speaker so that no setting is chosen on a clip it is judged on:

* **validation** (settings are chosen here): the first clip of 2-8 s of each of :data:`VAL_SPEAKERS`
  in ``../shared/speech`` (VCTK p225-p228, LibriSpeech 1688/1998/2033/2414, CMU ARCTIC aew);
  none of them speaks in ``tests/data``. Rows sweep the rewritten layers (a prefix ``0:L``),
  which is how :data:`qtok_widgets.prosody.DEFAULT_LAYERS` was chosen.
* **test**: the five clips of ``tests/data`` (CMU ARCTIC a0007/a0009, LibriSpeech 1320 and 3575,
  VCTK p240), with the default layers only.

Each edit acts on the 12 middle frames (0.96 s) of the first 4 s of a clip. Measures, on the decoded audio:

* ``st_err_median``: median over clips of |achieved - asked| semitones, where achieved is the
  median over voiced 10 ms frames (inside the selection, ramps excluded) of
  ``12 log2(F0_after / F0_before)`` (Harvest F0);
* ``outside_max``: the largest sample difference outside the frames the codec's decoder can
  reach from the selection (``affected_frames``); 0 means nothing changed there (for a
  stretch, only the audio before the selection: a change of length moves the codec's 4-frame
  decode chunks after it, as deleting frames does);
* ``codes_kept``: every code outside the selection is unchanged (checked on the grid);
* ``near_st_median``: within that reach but outside the selection (where the decoder
  cross-fades into the edited frames), the median |F0 change| in semitones over voiced frames;
* stretches: ``dur_err_ms``, the selection's new length against ``factor`` x old length, and
  ``st_err_median`` (pitch should stay put, asked 0);
* gain: ``db_err_median``, |achieved - asked| level change of the selection (RMS, dB).

Method rows (validation only) compare the shipped WORLD pitch shift with a phase-vocoder shift
(``librosa.effects.pitch_shift``: STFT time stretch and resampling), run through the same
render / cross-fade / re-encode / splice path: ``st_err_median`` as above and ``env_mcd_db``,
the mel-cepstral distance between the WORLD spectral envelopes of the selection before and after
(voiced frames; what a pitch shift should leave alone: timbre and formants).

``python -m benchmarks.run prosody`` (``--quick``: 2 clips per set, fewer settings).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from qtok_widgets import EditSession, load_audio, load_codec
from qtok_widgets.audio import Audio, resample
from qtok_widgets.codecs import _world
from qtok_widgets.prosody import CROSSFADE_S, PitchShift, _in_samples, _ramp

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "speech"
TEST_CLIPS = ["arctic_a0007.wav", "arctic_a0009.wav", "1320_00000.mp3", "3575_00000.mp3", "p240_00000.mp3"]
VAL_SPEAKERS = ["p225", "p226", "p227", "p228", "1688", "1998", "2033", "2414", "aew"]
SEL_FRAMES = 12
CLIP_S = 4.0
RAMP_SUB = 4  # 10 ms F0 frames left out at each end of the selection (the 40 ms ramp)


def validation_clips() -> list[Path]:
    """First clip of 2-8 s per validation speaker, from ``../shared/speech/manifest.csv``."""
    out = []
    with open(SHARED / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for speaker in VAL_SPEAKERS:
        for row in rows:
            if row["speaker"] == speaker and 2.0 <= float(row["duration_s"]) <= 8.0:
                out.append(SHARED / row["dest"])
                break
    return out


def f0_track(samples: np.ndarray) -> np.ndarray:
    """Harvest F0 (Hz, 0 = unvoiced) every 10 ms of 24 kHz samples."""
    pw = _world.world()
    low = resample(np.asarray(samples, np.float32), 24000, 4000).astype(np.float64)
    f0, _ = pw.harvest(low, 4000, f0_floor=60.0, f0_ceil=500.0, frame_period=10.0)
    return f0


def achieved_semitones(fb: np.ndarray, after: np.ndarray, start: int, stop: int) -> float:
    """Median F0 change (semitones) over frames ``[start, stop)`` voiced in both (nan if none),
    given the F0 track ``fb`` before the edit."""
    fa = f0_track(after)
    i0, i1 = start * 8 + RAMP_SUB, stop * 8 - RAMP_SUB
    fb, fa = fb[i0:i1], fa[i0 : i0 + (i1 - i0)]
    both = (fb > 0) & (fa[: fb.size] > 0)
    if not both.any():
        return float("nan")
    return float(np.median(12.0 * np.log2(fa[: fb.size][both] / fb[both])))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


_REFERENCE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _reference(codec: Any, grid: Any) -> tuple[np.ndarray, np.ndarray]:
    """Decoded audio of an unedited grid and its F0 track, computed once per grid."""
    key = id(grid)
    if key not in _REFERENCE:
        before = codec.decode(grid).samples
        _REFERENCE[key] = (before, f0_track(before))
    return _REFERENCE[key]


def measure_edit(codec: Any, grid: Any, name: str, amount: float, layers: str | None) -> dict[str, float]:
    """Apply one prosody edit to the middle of ``grid`` and measure it (see the module docstring)."""
    n = grid.n_frames
    start = n // 2 - SEL_FRAMES // 2
    stop = start + SEL_FRAMES
    spf = grid.samples_per_frame
    before, fb = _reference(codec, grid)
    session = EditSession(grid, codec)
    key = {"pitch_shift": "semitones", "time_stretch": "factor", "gain": "db"}[name]
    session.apply({"op": name, "frames": f"{start}:{stop}", key: amount, "layers": layers})
    after = codec.decode(session.grid).samples
    k_new = session.grid.n_frames - n + SEL_FRAMES
    lo, hi = codec.affected_frames(start, stop, n)
    # codes outside the selection are never rewritten: check it on the grid itself
    kept = np.array_equal(session.grid.codes[:, :start], grid.codes[:, :start]) and np.array_equal(
        session.grid.codes[:, start + k_new :], grid.codes[:, stop:]
    )
    # audio before the decoder's reach; after it too when the length is unchanged (a length
    # change moves the codec's 4-frame decode chunks, so later audio is re-chunked, as with delete)
    far = after[: lo * spf] - before[: lo * spf]
    if k_new == SEL_FRAMES:
        far = np.concatenate([far, after[hi * spf :] - before[hi * spf :]])
    # within the reach, outside the selection: how far the pitch moved (the cross-fade's leak)
    fa = f0_track(after)
    near = [(lo * 8, start * 8, 0), (stop * 8, hi * 8, (k_new - SEL_FRAMES) * 8)]
    leaks = []
    for i0, i1, off in near:
        b_, a_ = fb[i0:i1], fa[i0 + off : i1 + off]
        m = min(b_.size, a_.size)
        both = (b_[:m] > 0) & (a_[:m] > 0)
        leaks.extend(np.abs(12.0 * np.log2(a_[:m][both] / b_[:m][both])).tolist())
    out = {
        "codes_kept": float(kept),
        "outside_max": float(np.abs(far).max()) if far.size else 0.0,
        "near_st": float(np.median(leaks)) if leaks else 0.0,
    }
    if name == "pitch_shift":
        out["achieved"] = achieved_semitones(fb, after, start, stop)
        out["err"] = abs(out["achieved"] - amount)
    elif name == "time_stretch":
        out["dur_err_ms"] = abs(k_new - SEL_FRAMES * amount) / grid.frame_rate * 1000.0
        # pitch kept: compare the medians of voiced F0 before and after in the selection
        fb = f0_track(before[start * spf : stop * spf])
        fa = f0_track(after[start * spf : (start + k_new) * spf])
        vb, va = fb[fb > 0], fa[fa > 0]
        out["err"] = (
            abs(12.0 * np.log2(np.median(va) / np.median(vb))) if vb.size and va.size else float("nan")
        )
    else:
        level = 20.0 * np.log10(
            max(_rms(after[start * spf : stop * spf]), 1e-9)
            / max(_rms(before[start * spf : stop * spf]), 1e-9)
        )
        out["achieved"] = level
        out["err"] = abs(level - amount)
    return out


class _PhaseVocoderShift(PitchShift):
    """The same pitch shift with a phase vocoder instead of WORLD (benchmark only, not registered)."""

    def _apply(self, codec: Any, grid: Any, seg: Any) -> Any:
        import librosa

        a, b = _in_samples(grid, seg)
        shifted = librosa.effects.pitch_shift(
            seg.samples.astype(np.float32), sr=grid.sample_rate, n_steps=self.semitones
        )
        fade = _ramp(seg.samples.shape[0], a, b, round(CROSSFADE_S * grid.sample_rate))
        samples = (seg.samples * (1.0 - fade) + shifted * fade).astype(np.float32)
        return self._splice_same_length(grid, seg, self._encode(codec, grid, samples))


def _envelope_mcd(before: np.ndarray, after: np.ndarray, rate: int) -> float:
    """Mel-cepstral distance (dB) between WORLD envelopes of two equal-length signals, voiced frames."""
    pw = _world.world()
    x, y = before.astype(np.float64), after.astype(np.float64)
    f0, t = pw.harvest(x, rate, f0_floor=60.0, f0_ceil=500.0, frame_period=10.0)
    voiced = f0 > 0
    if not voiced.any():
        return float("nan")
    sx = pw.cheaptrick(x, f0, t, rate)
    sy = pw.cheaptrick(y, f0, t, rate)
    cx = pw.code_spectral_envelope(sx, rate, 25)[voiced, 1:]
    cy = pw.code_spectral_envelope(sy, rate, 25)[voiced, 1:]
    return float(np.mean((10.0 / np.log(10.0)) * np.sqrt(2.0 * np.sum((cx - cy) ** 2, axis=1))))


def _method_rows(clips: list[Path], amounts: list[float]) -> list[dict[str, Any]]:
    """WORLD against a phase vocoder, the same selection and pipeline, on the validation clips."""
    codec = load_codec("builtin")
    spf, rows = codec.samples_per_frame, []
    grids = []
    for path in clips:
        audio = load_audio(path, target_rate=codec.sample_rate)
        grids.append(codec.encode(Audio(audio.samples[: int(CLIP_S * codec.sample_rate)], codec.sample_rate)))
    for method, cls in (("world", PitchShift), ("phase_vocoder", _PhaseVocoderShift)):
        for amount in amounts:
            errs, mcds = [], []
            for grid in grids:
                n = grid.n_frames
                if n < SEL_FRAMES + 16:
                    continue
                start = n // 2 - SEL_FRAMES // 2
                stop = start + SEL_FRAMES
                before, fb = _reference(codec, grid)
                session = EditSession(grid, codec)
                session.apply(cls(frames=f"{start}:{stop}", semitones=amount))
                after = codec.decode(session.grid).samples
                errs.append(abs(achieved_semitones(fb, after, start, stop) - amount))
                a, b = start * spf, stop * spf
                mcds.append(_envelope_mcd(before[a:b], after[a:b], codec.sample_rate))
            row = {
                "split": "validation",
                "op": f"pitch_shift ({method})",
                "amount": amount,
                "clips": len(errs),
                "err_median": round(float(np.nanmedian(errs)), 3),
                "err_max": round(float(np.nanmax(errs)), 3),
                "env_mcd_db_median": round(float(np.nanmedian(mcds)), 2),
            }
            rows.append(row)
            print(row, flush=True)
    return rows


def _rows_for(
    clips: list[Path], split: str, settings: list[tuple[str, float, str | None]]
) -> list[dict[str, Any]]:
    codec = load_codec("builtin")
    grids = []
    for path in clips:  # the first CLIP_S seconds of each clip
        audio = load_audio(path, target_rate=codec.sample_rate)
        grids.append(codec.encode(Audio(audio.samples[: int(CLIP_S * codec.sample_rate)], codec.sample_rate)))
    rows = []
    for name, amount, layers in settings:
        per = [measure_edit(codec, g, name, amount, layers) for g in grids if g.n_frames >= SEL_FRAMES + 16]
        errs = np.array([p["err"] for p in per])
        row: dict[str, Any] = {
            "split": split,
            "op": name,
            "amount": amount,
            "layers": layers or "default",
            "clips": len(per),
            "err_median": round(float(np.nanmedian(errs)), 3),
            "err_max": round(float(np.nanmax(errs)), 3),
            "outside_max": round(max(p["outside_max"] for p in per), 6),
            "codes_kept": all(p["codes_kept"] == 1.0 for p in per),
            "near_st_median": round(float(np.median([p["near_st"] for p in per])), 3),
        }
        if name == "time_stretch":
            row["dur_err_ms_max"] = round(max(p["dur_err_ms"] for p in per), 1)
        rows.append(row)
        print(row, flush=True)
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Validation sweep over layer prefixes, then the test clips with the defaults."""
    val = validation_clips()
    test = [ROOT / "tests" / "data" / name for name in TEST_CLIPS]
    if quick:
        val, test = val[:2], test[:2]
    prefixes = ["0:1", "0:4", "0:8"] if not quick else ["0:1"]
    amounts = [-4.0, -2.0, 2.0, 4.0] if not quick else [-4.0, 4.0]
    # the layer sweep at the ends of the range; the default (None) at every amount
    val_settings = [("pitch_shift", a, p) for p in prefixes for a in (-4.0, 4.0)]
    val_settings += [("pitch_shift", a, None) for a in amounts]
    val_settings += [("gain", d, p) for p in [*prefixes[:1], None] for d in (-6.0, 6.0)]
    val_settings += [("time_stretch", f, None) for f in (0.75, 1.25, 1.5)]
    test_settings = [("pitch_shift", a, None) for a in amounts]
    test_settings += [("gain", d, None) for d in (-6.0, 6.0)]
    test_settings += [("time_stretch", f, None) for f in (0.75, 1.25, 1.5)]
    methods = _method_rows(
        val, [0.01, -4.0, 4.0] if quick else [0.01, *amounts]
    )  # 0.01 st: the re-encode baseline
    return _rows_for(val, "validation", val_settings) + methods + _rows_for(test, "test", test_settings)
