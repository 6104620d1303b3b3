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

``$QTOK_BENCH_BUILTIN_MODEL`` may name another model file (as written by
``scripts/train_builtin_codec.py``) to benchmark instead of the shipped one.
"""

from __future__ import annotations

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
LAYER_COUNTS = (1, 2, 4, 8, 12, 16)


def _scores(ref, est, rate) -> dict[str, float]:
    return {
        "stoi": metrics.stoi(ref, est, rate),
        "pesq_wb": metrics.pesq_wb(ref, est, rate),
        "lsd_db": metrics.log_spectral_distance(ref, est, rate),
        "mcd_db": metrics.mel_cepstral_distortion(ref, est, rate),
    }


def quality_rows(codec, clips) -> list[dict]:
    """One row per clip, then one row per kept-layer count (medians)."""
    from qtok_widgets.codecs import _world

    rows = []
    per_k: dict[int, list[dict[str, float]]] = {k: [] for k in LAYER_COUNTS}
    for path in clips:
        audio = load_audio(path, target_rate=codec.sample_rate)
        ref = audio.samples
        grid = codec.encode(audio)
        for k in LAYER_COUNTS:
            mask = np.zeros(grid.shape, dtype=bool)
            mask[k:] = True
            out = codec.decode(grid.with_codes(grid.codes, mask=mask)).samples
            per_k[k].append(_scores(ref, out, codec.sample_rate))
        model = codec.model
        feats = _world.analyze(ref, grid.n_frames, model.n_sp)
        ceiling = _world.synthesize(model.from_latent(model.to_latent(feats)), model.n_sp)[: ref.shape[0]]
        ceil = _scores(ref, ceiling.astype(np.float32), codec.sample_rate)
        row = {"case": f"quality {path.name}", "duration_s": round(audio.duration, 2)}
        row.update(per_k[16][-1])
        row.update({f"ceiling_{k}": v for k, v in ceil.items() if k in ("stoi", "pesq_wb")})
        rows.append(row)
    for k in LAYER_COUNTS:
        row = {"case": f"layers 0..{k - 1} (k={k}), median"}
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
    for path in clips:
        audio = load_audio(path, target_rate=codec.sample_rate)
        n_frames = -(-audio.n_samples // codec.samples_per_frame)
        feats = _world.analyze(audio.samples, n_frames, n_sp)
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


def beam_rows(codec, clips, beams=(1, 2, 3, 4, 6, 8)) -> list[dict]:
    """16-layer medians of STOI, PESQ-WB and LSD for several encoder beam widths."""
    audios = [load_audio(p, target_rate=codec.sample_rate) for p in clips]
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


def speed_rows(codec, clips, duration_s: float, edit_minutes: float) -> list[dict]:
    """Encode/decode speed on a ``duration_s`` clip and single-frame edit latency."""
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
    rows = [
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


def run(quick: bool) -> list[dict]:
    model = os.environ.get("QTOK_BENCH_BUILTIN_MODEL")
    codec = BuiltinCodec(model_path=model) if model else load_codec("builtin")
    t0 = time.perf_counter()
    clips = CLIPS[:2] if quick else CLIPS
    rows = quality_rows(codec, clips)
    rows += layer_content_rows(codec, clips)
    rows += beam_rows(codec, clips, beams=(2, 4) if quick else (1, 2, 3, 4, 6, 8))
    rows += speed_rows(codec, CLIPS, duration_s=10.0 if quick else 60.0, edit_minutes=1 if quick else 5)
    rows.append({"case": "total wall time", "median_s": time.perf_counter() - t0})
    return rows
