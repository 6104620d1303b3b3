"""Built-in codec: quality on held-out real speech, the layer table, and speed.

Quality rows: every real clip in ``tests/data`` (none of them is in the training corpus),
encoded and decoded with all 16 layers, scored with STOI, PESQ-WB, log-spectral distance and
mel-cepstral distortion against the 24 kHz original; the ``ceiling`` columns score the
unquantised WORLD resynthesis of the same features. Layer rows: medians over the clips when
only the first k layers are kept (upper layers masked), and, per feature group, the share of
its variation still missing after k layers. Speed rows: encode and decode of a
60 s clip (the real clips repeated), in multiples of real time, and the time to re-render a
single-frame edit of a 5-minute clip with ``affected_frames`` + ``decode_range``.
Beam rows: the 16-layer medians when the encoder keeps 1-8 paths instead of its default, a
measure of how much the scores move under a small change that is not a better model.

Sets. ``tests/data`` (5 clips, 5 speakers) is always measured. The **validation** set is the
evaluation clip (at most 10 s) of every validation speaker of the speaker split
``benchmarks/builtin_speech_split.csv`` (``scripts/split_builtin_speech.py``), read from the
speech folder given by ``--speech DIR`` or ``$QTOK_BENCH_SPEECH`` (the project's shared corpus,
``../shared/speech``); the model's settings are chosen there, never on ``tests/data``. Each set
gets its per-clip rows, the median and the worst speaker (lowest PESQ-WB), and the same
figures for the reference codecs of :mod:`benchmarks.reference_codecs` on the same clips:
Codec2 at 3.2 and 2.4 kbit/s (when ``pycodec2`` is installed) and Opus at 6 kbit/s.

``$QTOK_BENCH_BUILTIN_MODEL`` (or ``--model``) may name another model file (as written by
``scripts/train_builtin_codec.py``) to benchmark instead of the shipped one.

    nice -n 5 python -m benchmarks.bench_builtin --speech ../shared/speech
    QTOK_BENCH_SPEECH=../shared/speech nice -n 5 python -m benchmarks.run builtin
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import measure, peak_rss_mb
from qtok_widgets import load_audio, metrics
from qtok_widgets.codecs import load_codec
from qtok_widgets.codecs.builtin import ENCODE_BEAM, BuiltinCodec

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CLIPS = sorted(p for p in DATA.iterdir() if p.suffix in {".wav", ".mp3"})
SPLIT = Path(__file__).resolve().parent / "builtin_speech_split.csv"
LAYER_COUNTS = (1, 2, 4, 8, 12, 16)
#: The model shipped before the current one, timed beside it in the speed rows.
PREVIOUS_MODEL = "builtin_v2.npz"
#: Validation clips are cut to this many seconds.
EVAL_MAX_S = 10.0


def validation_clips(speech_dir: Path) -> list[tuple[str, Path]]:
    """``(speaker, path)`` of each validation speaker's evaluation clip in ``speech_dir``."""
    with open(SPLIT, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["side"] == "validation" and r["eval"] == "1"]
    out = [(f"{r['dataset']} {r['speaker']}", Path(speech_dir) / r["file"]) for r in rows]
    missing = [str(p) for _, p in out if not p.is_file()]
    if missing:
        msg = f"{missing[0]}: no such file ({len(missing)} validation clips missing; --speech names the speech folder)"
        raise FileNotFoundError(msg)
    return out


def test_clips() -> list[tuple[str, Path]]:
    """``(clip name, path)`` of the clips in ``tests/data``."""
    return [(p.name, p) for p in CLIPS]


def load_clip(path: Path, rate: int = 24000):
    """The clip at ``rate``, cut to :data:`EVAL_MAX_S` seconds."""
    audio = load_audio(path, target_rate=rate)
    limit = int(EVAL_MAX_S * rate)
    return audio if audio.n_samples <= limit else load_audio(audio.samples[:limit], sample_rate=rate)


def summary_rows(set_name: str, system: str, per_clip: list[tuple[str, dict[str, float]]]) -> list[dict]:
    """Median over the clips and the worst speaker (lowest PESQ-WB) of one system on one set."""
    row = {"case": f"{set_name}: {system}, median over {len(per_clip)} speakers"}
    for key in ("stoi", "pesq_wb", "lsd_db", "mcd_db"):
        vals = [s[key] for _, s in per_clip if s.get(key) is not None]
        if vals:
            row[key] = statistics.median(vals)
    worst_name, worst = min(per_clip, key=lambda item: item[1]["pesq_wb"])
    worst_row = {"case": f"{set_name}: {system}, worst speaker ({worst_name})"}
    worst_row.update({k: worst[k] for k in ("stoi", "pesq_wb") if k in worst})
    return [row, worst_row]


def reference_rows(set_name: str, clips: list[tuple[str, Path]]) -> list[dict]:
    """Codec2 (3.2 and 2.4 kbit/s) and Opus (6 kbit/s) on the same clips: median and worst."""
    from benchmarks import reference_codecs as ref

    systems = {"Opus 6 kbit/s": lambda x: ref.opus_roundtrip(x, 6000)}
    rows = []
    if ref.codec2_available():
        systems["Codec2 3.2 kbit/s"] = lambda x: ref.codec2_roundtrip(x, 3200)
        systems["Codec2 2.4 kbit/s"] = lambda x: ref.codec2_roundtrip(x, 2400)
    else:
        rows.append({"case": f"{set_name}: Codec2 not measured (pip install pycodec2)"})
    audios = [(name, load_clip(path).samples) for name, path in clips]
    for system, roundtrip in systems.items():
        per_clip = [(name, _scores(x, roundtrip(x), 24000)) for name, x in audios]
        rows.extend(summary_rows(set_name, system, per_clip))
    return rows


def _scores(ref, est, rate) -> dict[str, float]:
    return {
        "stoi": metrics.stoi(ref, est, rate),
        "pesq_wb": metrics.pesq_wb(ref, est, rate),
        "lsd_db": metrics.log_spectral_distance(ref, est, rate),
        "mcd_db": metrics.mel_cepstral_distortion(ref, est, rate),
    }


def quality_rows(codec, clips: list[tuple[str, Path]], set_name: str = "tests/data") -> list[dict]:
    """One row per clip, the median and worst speaker, then one row per kept-layer count (medians)."""
    from qtok_widgets.codecs import _world

    rows = []
    per_k: dict[int, list[dict[str, float]]] = {k: [] for k in LAYER_COUNTS}
    full: list[tuple[str, dict[str, float]]] = []
    ceilings: list[tuple[str, dict[str, float]]] = []
    for name, path in clips:
        audio = load_clip(path, codec.sample_rate)
        ref = audio.samples
        grid = codec.encode(audio)
        for k in LAYER_COUNTS:
            mask = np.zeros(grid.shape, dtype=bool)
            mask[k:] = True
            out = codec.decode(grid.with_codes(grid.codes, mask=mask)).samples
            per_k[k].append(_scores(ref, out, codec.sample_rate))
        model = codec.model
        feats = _world.analyze(
            ref, grid.n_frames, model.n_sp, f0_method=model.f0_method, band_hz=model.band_hz
        )
        ceiling = _world.synthesize(model.from_latent(model.to_latent(feats)), model.n_sp)[: ref.shape[0]]
        ceil = _scores(ref, ceiling.astype(np.float32), codec.sample_rate)
        row = {"case": f"{set_name}: quality {name}", "duration_s": round(audio.duration, 2)}
        row.update(per_k[16][-1])
        row.update({f"ceiling_{k}": v for k, v in ceil.items() if k in ("stoi", "pesq_wb")})
        rows.append(row)
        full.append((name, per_k[16][-1]))
        ceilings.append((name, ceil))
    rows += summary_rows(set_name, "builtin 16 layers", full)
    rows += summary_rows(set_name, "builtin unquantised ceiling", ceilings)
    for k in LAYER_COUNTS:
        row = {"case": f"{set_name}: layers 0..{k - 1} (k={k}), median"}
        for key in ("stoi", "pesq_wb", "lsd_db", "mcd_db"):
            vals = [s[key] for s in per_k[k] if s[key] is not None]
            row[key] = statistics.median(vals) if vals else None
        rows.append(row)
    return rows


def layer_content_rows(codec, clips) -> list[dict]:
    """What the first k layers carry: per feature group, the share of its variation (around
    the model's mean, in the weighted feature space) still missing after k layers, averaged
    over the clips; plus wrong voicing decisions and the median F0 error in cents."""
    from qtok_widgets.codecs import _world

    model = codec.model
    n_sp, n_feat = model.n_sp, model.n_feat
    groups = {
        "log_f0": [0],
        "voicing": [1],
        "energy_c0": [2],
        "envelope_c1_9": list(range(3, 12)),
        "envelope_c10_up": list(range(12, 2 + n_sp)),
        "aperiodicity": list(range(2 + n_sp, n_feat)),
    }
    sums = {
        k: {g: 0.0 for g in groups} | {"voicing_errors": 0.0, "f0_error_cents": 0.0} for k in LAYER_COUNTS
    }
    for _, path in clips:
        audio = load_clip(path, codec.sample_rate)
        n_frames = -(-audio.n_samples // codec.samples_per_frame)
        feats = _world.analyze(
            audio.samples, n_frames, n_sp, f0_method=model.f0_method, band_hz=model.band_hz
        )
        latent = model.to_latent(feats)
        codes, _ = codec.quantize_beam(latent)
        sub = _world.SUBFRAMES
        target = ((feats.reshape(n_frames, -1) - model.mean) * model.scale).reshape(n_frames, sub, n_feat)
        for k in LAYER_COUNTS:
            approx = np.zeros_like(latent)
            for layer in range(k):
                approx += codec.embeddings(layer)[codes[layer]]
            rebuilt = (approx @ model.components).reshape(n_frames, sub, n_feat)
            for g, cols in groups.items():
                missing = np.sum((target[:, :, cols] - rebuilt[:, :, cols]) ** 2)
                sums[k][g] += float(missing / np.sum(target[:, :, cols] ** 2)) / len(clips)
            decoded = model.from_latent(approx)
            voiced, voiced_hat = feats[:, 1] > 0.5, decoded[:, 1] > 0.5
            both = voiced & voiced_hat
            sums[k]["voicing_errors"] += float(np.mean(voiced != voiced_hat)) / len(clips)
            if both.any():
                cents = 1200 / np.log(2) * np.median(np.abs(feats[both, 0] - decoded[both, 0]))
                sums[k]["f0_error_cents"] += float(cents) / len(clips)
    rows = []
    for k in LAYER_COUNTS:
        row = {"case": f"missing share after {k} layers, mean"}
        row.update({key: round(value, 4) for key, value in sums[k].items()})
        rows.append(row)
    return rows


def loss_rows(codec, clips: list[tuple[str, Path]], set_name: str) -> list[dict]:
    """Where the quality goes: medians of whole-clip WORLD syntheses of the analysed features,
    (a) as analysed (the vocoder's own ceiling), (b) through the model's weighting and PCA
    (the unquantised ceiling), (c) quantised with all 16 layers (post-filtered and
    smoothed as the decoder does), and (d) quantised with one feature group put back to its true values."""
    from qtok_widgets.codecs import _world

    model = codec.model
    n_sp = model.n_sp
    groups = {
        "pitch and voicing": [0, 1],
        "envelope c0-c9": list(range(2, 12)),
        "envelope c10 up": list(range(12, 2 + n_sp)),
        "aperiodicity": list(range(2 + n_sp, model.n_feat)),
    }
    cases: dict[str, list[dict[str, float]]] = {}
    for _, path in clips:
        ref = load_clip(path, codec.sample_rate).samples
        n_frames = -(-ref.shape[0] // codec.samples_per_frame)
        feats = _world.analyze(ref, n_frames, n_sp, f0_method=model.f0_method, band_hz=model.band_hz)
        latent = model.to_latent(feats)
        codes, _ = codec.quantize_beam(latent)
        quant = model.decoded_features(codec._latent_of(codes, np.zeros_like(codes, bool), 0, n_frames))
        variants = {
            "vocoder (analysed features)": feats,
            "unquantised latent": model.from_latent(latent),
            "quantised 16 layers": quant,
        }
        for group, cols in groups.items():
            swapped = quant.copy()
            swapped[:, cols] = feats[:, cols]
            variants[f"quantised, true {group}"] = swapped
        for case, values in variants.items():
            out = _world.synthesize(values, n_sp)[: ref.shape[0]].astype(np.float32)
            cases.setdefault(case, []).append(_scores(ref, out, codec.sample_rate))
    rows = []
    for case, scores in cases.items():
        row = {"case": f"{set_name}: loss, {case}, median"}
        for key in ("stoi", "pesq_wb"):
            row[key] = statistics.median(s[key] for s in scores if s[key] is not None)
        rows.append(row)
    return rows


def degrade(samples: np.ndarray, condition: str, rng: np.random.Generator, babble: np.ndarray) -> np.ndarray:
    """A degraded copy of clean 24 kHz speech ``(n,)`` (float32, same length).

    ``noise``: white noise at 15 dB SNR; ``babble``: other speakers at 10 dB SNR; ``reverb``: a
    synthetic room (exponentially decaying noise, RT60 0.5 s, about as much reverberant energy
    as direct); ``telephone``: 300-3400 Hz through an 8 kHz copy; ``clipping``: clipped at 30 %
    of the peak.
    """
    from qtok_widgets.audio import resample

    x = np.asarray(samples, np.float64)
    n = x.shape[0]
    power = float(np.mean(x**2)) + 1e-12
    if condition == "noise":
        y = x + rng.standard_normal(n) * np.sqrt(power / 10**1.5)
    elif condition == "babble":
        b = np.resize(babble, n).astype(np.float64)
        y = x + b * np.sqrt(power / (float(np.mean(b**2)) + 1e-12) / 10.0)
    elif condition == "reverb":
        t = np.arange(int(0.5 * 24000)) / 24000
        rir = rng.standard_normal(t.shape[0]) * np.exp(-6.9 * t / 0.5) * 0.05
        rir[0] = 1.0
        y = np.convolve(x, rir)[:n]
        y *= np.sqrt(power / (float(np.mean(y**2)) + 1e-12))
    elif condition == "telephone":
        low = resample(x.astype(np.float32), 24000, 8000).astype(np.float64)
        spec = np.fft.rfft(low)
        freqs = np.fft.rfftfreq(low.shape[0], 1 / 8000)
        spec[(freqs < 300) | (freqs > 3400)] = 0
        y = resample(np.fft.irfft(spec, low.shape[0]).astype(np.float32), 8000, 24000).astype(np.float64)
        y = np.concatenate([y, np.zeros(max(0, n - y.shape[0]))])[:n]
    elif condition == "clipping":
        limit = 0.3 * float(np.max(np.abs(x)))
        y = np.clip(x, -limit, limit) / 0.3
    else:
        msg = f"unknown condition {condition!r}"
        raise ValueError(msg)
    return y.astype(np.float32)


ROBUSTNESS = ("clean", "noise", "babble", "reverb", "telephone", "clipping")


def robustness_rows(codec, clips: list[tuple[str, Path]], set_name: str) -> list[dict]:
    """Medians over the clips of STOI and PESQ-WB against the clean clip, per condition: of the
    degraded input itself, of the built-in codec's output and of Opus 6 kbit/s's output."""
    from benchmarks import reference_codecs as ref

    audios = [load_clip(p, codec.sample_rate).samples for _, p in clips]
    rng = np.random.default_rng(0)
    rows = []
    for condition in ROBUSTNESS:
        got: dict[str, list[dict[str, float]]] = {"input": [], "builtin": [], "opus": []}
        for i, clean in enumerate(audios):
            others = [audios[(i + j) % len(audios)] for j in (1, 2, 3)]
            babble = np.sum([np.resize(o, clean.shape[0]) for o in others], axis=0)
            noisy = clean if condition == "clean" else degrade(clean, condition, rng, babble)
            out = codec.decode(codec.encode(load_audio(noisy, sample_rate=codec.sample_rate))).samples
            got["input"].append(_scores(clean, noisy, codec.sample_rate))
            got["builtin"].append(_scores(clean, out, codec.sample_rate))
            got["opus"].append(_scores(clean, ref.opus_roundtrip(noisy, 6000), codec.sample_rate))
        row: dict[str, object] = {"case": f"{set_name}: robustness, {condition}, median"}
        for system, scores in got.items():
            for key in ("stoi", "pesq_wb"):
                row[f"{system}_{key}"] = statistics.median(s[key] for s in scores if s[key] is not None)
        rows.append(row)
    return rows


def beam_rows(codec, clips, beams=(1, 2, 3, 4, 6, 8)) -> list[dict]:
    """16-layer medians of STOI, PESQ-WB and LSD for several encoder beam widths."""
    audios = [load_clip(p, codec.sample_rate) for _, p in clips]
    grids = [codec.encode(a) for a in audios]
    latents = [codec.latents(a.samples) for a in audios]
    rows = []
    for beam in beams:
        scores = []
        for audio, grid, latent in zip(audios, grids, latents, strict=True):
            codes, _ = codec.quantize_beam(latent, beam=beam)
            out = codec.decode(grid.with_codes(codes)).samples
            scores.append(_scores(audio.samples, out, codec.sample_rate))
        default = " (default)" if beam == ENCODE_BEAM else ""
        row = {"case": f"16 layers, encoder beam {beam}{default}, median"}
        for key in ("stoi", "pesq_wb", "lsd_db"):
            vals = [s[key] for s in scores if s[key] is not None]
            row[key] = statistics.median(vals) if vals else None
        rows.append(row)
    return rows


def speed_rows(codec, clips, duration_s: float, edit_minutes: float, baseline=None) -> list[dict]:
    """Encode/decode speed on a ``duration_s`` clip and single-frame edit latency; with
    ``baseline`` (another :class:`BuiltinCodec`) also its encode and decode, side by side."""
    pieces = [load_audio(p, target_rate=codec.sample_rate).samples for p in clips]
    joined = np.concatenate(pieces)
    n = int(duration_s * codec.sample_rate)
    samples = np.resize(joined, n).astype(np.float32)
    audio = load_audio(samples, sample_rate=codec.sample_rate)
    enc = measure(lambda: codec.encode(audio), repeats=2)
    grid = enc["result"]

    def decode_cold():
        codec.clear_cache()  # time the synthesis, not the reuse of decoded windows
        return codec.decode(grid)

    dec = measure(decode_cold, repeats=2, warmup=0)
    rows = []
    if baseline is not None:
        name = Path(baseline.info()["model"]).name
        base_enc = measure(lambda: baseline.encode(audio), repeats=2)
        base_grid = base_enc["result"]

        def base_decode():
            baseline.clear_cache()
            return baseline.decode(base_grid)

        base_dec = measure(base_decode, repeats=2, warmup=0)
        for what, m in (("encode", base_enc), ("decode", base_dec)):
            rows.append(
                {
                    "case": f"{what} {duration_s:.0f} s, {name}",
                    "median_s": m["median_s"],
                    "x_realtime": duration_s / m["median_s"],
                }
            )
    rows += [
        {
            "case": f"encode {duration_s:.0f} s",
            "median_s": enc["median_s"],
            "x_realtime": duration_s / enc["median_s"],
            "peak_rss_mb": enc["peak_rss_mb"],
        },
        {
            "case": f"decode {duration_s:.0f} s",
            "median_s": dec["median_s"],
            "x_realtime": duration_s / dec["median_s"],
            "peak_rss_mb": dec["peak_rss_mb"],
        },
    ]
    # a long grid for the edit: the encoded codes tiled, each tile's top layer shifted so that
    # no decode window repeats (repeats would be served from the window cache)
    n_frames = int(edit_minutes * 60 * codec.frame_rate)
    tiles = -(-n_frames // grid.n_frames)
    long_codes = np.concatenate(
        [np.vstack([grid.codes[:-1], (grid.codes[-1:] + i) % codec.codebook_size]) for i in range(tiles)],
        axis=1,
    )[:, :n_frames]
    long_grid = grid.with_codes(np.ascontiguousarray(long_codes))
    codec.clear_cache()
    codec.decode(long_grid)
    t = n_frames // 2 + 1

    def edit(value: int) -> float:
        codes = long_grid.codes.copy()
        codes[:, t] = (codes[:, t] + value) % codec.codebook_size
        edited = long_grid.with_codes(codes)
        t0 = time.perf_counter()
        start, stop = codec.affected_frames(t, t + 1, n_frames)
        codec.decode_range(edited, start, stop)
        return time.perf_counter() - t0

    cold = []
    for value in range(1, 4):
        codec.clear_cache()
        cold.append(edit(value))
    warm = [edit(value) for value in range(4, 14)]
    start, stop = codec.affected_frames(t, t + 1, n_frames)
    rows.append(
        {
            "case": f"re-render 1-frame edit in {edit_minutes:g} min, empty window cache",
            "median_s": statistics.median(cold),
            "max_s": max(cold),
            "frames_redecoded": stop - start,
        }
    )
    rows.append(
        {
            "case": f"re-render 1-frame edit in {edit_minutes:g} min, repeated edits",
            "median_s": statistics.median(warm),
            "max_s": max(warm),
            "frames_redecoded": stop - start,
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
    )
    return rows


def run(quick: bool, speech: str | None = None, model: str | None = None) -> list[dict]:
    model = model or os.environ.get("QTOK_BENCH_BUILTIN_MODEL")
    speech = speech or os.environ.get("QTOK_BENCH_SPEECH")
    codec = BuiltinCodec(model_path=model) if model else load_codec("builtin")
    t0 = time.perf_counter()
    tests = test_clips()[:2] if quick else test_clips()
    sets = [("tests/data", tests)]
    if speech:
        val = validation_clips(Path(speech))
        sets.insert(0, ("validation", val[:4] if quick else val))
    rows = []
    if not speech:
        rows.append(
            {"case": "validation not measured (--speech DIR or $QTOK_BENCH_SPEECH names the speech folder)"}
        )
    for set_name, clips in sets:
        rows += quality_rows(codec, clips, set_name)
        rows += reference_rows(set_name, clips)
    choice = sets[0][1]  # validation when given: where settings are chosen
    # the costlier tables run on every 4th clip of a large set (14 of the 56 validation speakers)
    few = choice[:: 4 if len(choice) > 20 else 1]
    rows += loss_rows(codec, choice, sets[0][0])
    rows += robustness_rows(codec, few[:2] if quick else few, sets[0][0])
    rows += layer_content_rows(codec, choice)
    rows += beam_rows(codec, few, beams=(2, 4) if quick else (1, 2, 4, 8))
    baseline = None
    if Path(codec.info()["model"]).name != PREVIOUS_MODEL:
        from qtok_widgets.codecs.builtin import _default_model_path

        previous = Path(_default_model_path()).with_name(PREVIOUS_MODEL)
        baseline = BuiltinCodec(model_path=previous) if previous.is_file() else None
    rows += speed_rows(
        codec, CLIPS, duration_s=10.0 if quick else 60.0, edit_minutes=1 if quick else 5, baseline=baseline
    )
    rows.append({"case": "total wall time", "median_s": time.perf_counter() - t0})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--speech", type=Path, default=None, help="speech folder of the split (../shared/speech)"
    )
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the shipped one)")
    parser.add_argument("--quick", action="store_true", help="a few clips, short speed runs")
    args = parser.parse_args()
    if args.speech is not None and not (args.speech / "manifest.csv").is_file():
        parser.exit(2, f"{args.speech}: not a speech folder (no manifest.csv)\n")
    if args.model is not None and not args.model.is_file():
        parser.exit(2, f"{args.model}: no such model file\n")
    from benchmarks.harness import report

    rows = run(args.quick, str(args.speech) if args.speech else None, str(args.model) if args.model else None)
    command = "python -m benchmarks.bench_builtin" + (f" --speech {args.speech}" if args.speech else "")
    command += f" --model {args.model}" if args.model else ""
    report("builtin", rows, command=command + (" --quick" if args.quick else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
