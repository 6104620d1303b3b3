"""Built-in codec: quality on held-out real speech, the layer table, and speed.

Quality rows: every real clip in ``tests/data`` (none of them is in the training corpus),
encoded and decoded with all 16 layers, scored with STOI, PESQ-WB, log-spectral distance and
mel-cepstral distortion against the 24 kHz original; the ``ceiling`` columns score the
unquantised WORLD resynthesis of the same features. Layer rows: medians over the clips when
only the first k layers are kept (upper layers masked). Speed rows: encode and decode of a
60 s clip (the real clips repeated), in multiples of real time, and the time to re-render a
single-frame edit of a 5-minute clip with ``affected_frames`` + ``decode_range``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import measure, peak_rss_mb
from qtok_widgets import load_audio, metrics
from qtok_widgets.codecs import load_codec

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
    codec = load_codec("builtin")
    t0 = time.perf_counter()
    clips = CLIPS[:2] if quick else CLIPS
    rows = quality_rows(codec, clips)
    rows += speed_rows(codec, CLIPS, duration_s=10.0 if quick else 60.0, edit_minutes=1 if quick else 5)
    rows.append({"case": "total wall time", "median_s": time.perf_counter() - t0})
    return rows
