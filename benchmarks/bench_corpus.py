"""Corpus scale: encode throughput on Ray with 1 and 2 workers, DuckDB statistics, find/concordance.

Encode rows: the real clips of ``tests/data`` copied ``copies`` times into a folder and encoded
with the built-in codec by :func:`~qtok_widgets.corpus.encode_corpus`, once with 1 worker and
once with 2, side by side (each run starts its own local Ray with that many CPUs; one file per
shard). ``steady_files_per_s`` is measured between the first and the last shard to finish, so
Ray's start-up is left out of it; ``wall_s`` includes it (and any retried start on a loaded
machine). ``worker_peak_mb`` is each worker's
peak resident memory (from the worker itself).

Stats rows: a synthetic corpus of codes written to Parquet in chunks (16 layers x 2048 codes
at 12.5 Hz, 60-second utterances; each layer a Zipf-like draw held for runs of geometric
length, and a second of the silence code at each end), for several sizes; ``qtok corpus
stats`` is timed in a fresh process per size and its peak memory read from that process. The
1,000-hour row (45 M frames x 16) is extrapolated from the largest size's rate per frame
when it is not measured (say so in ``note``). DuckDB runs with a 1 GB memory limit and
spills past it, so peak memory grows with the aggregates' size up to that limit, then stays. find and concordance (decoded, no sources)
latency are timed on the largest size.

``--quick``: 5 files to encode, synthetic corpora of 1 and 3 hours; the full run encodes 15
files and measures 10, 40 and 160 hours; ``QTOK_BENCH_CORPUS_HOURS=10,40,160,1000`` sets the
sizes (1,000 hours: about 2 min to generate, 0.9 GB of Parquet, 8 min of stats here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import measure

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CLIPS = sorted(p for p in DATA.iterdir() if p.suffix in {".wav", ".mp3"})
FRAME_RATE = 12.5
N_LAYERS = 16
SIZE = 2048
UTTERANCE_FRAMES = 750  # 60 s
FRAMES_1000H = int(1000 * 3600 * FRAME_RATE)  # 45 M


def encode_rows(tmp: Path, copies: int) -> list[dict]:
    from qtok_widgets.corpus import encode_corpus

    src = tmp / "clips"
    src.mkdir()
    for i in range(copies):
        for clip in CLIPS:
            shutil.copy(clip, src / f"{clip.stem}_{i}{clip.suffix}")
    rows = []
    for workers in (1, 2):
        events: list[tuple[float, int]] = []
        t0 = time.perf_counter()
        summary = encode_corpus(
            [str(src)],
            tmp / f"corpus_{workers}",
            codec="builtin",
            workers=workers,
            files_per_shard=1,
            progress=lambda p, events=events: events.append((time.perf_counter(), p.files_done)),
        )
        wall = time.perf_counter() - t0
        (t_first, n_first), (t_last, n_last) = events[0], events[-1]
        steady = (n_last - n_first) / (t_last - t_first) if t_last > t_first else float("nan")
        rows.append(
            {
                "case": f"encode_{workers}_workers",
                "files": summary.encoded,
                "audio_s": round(summary.audio_s, 1),
                "wall_s": round(wall, 2),
                "steady_files_per_s": round(steady, 3),
                "audio_h_per_s": summary.audio_hours_per_s,
                "worker_peak_mb": sorted(round(v) for v in summary.workers.values()),
            }
        )
    rows.append(
        {
            "case": "encode_speedup_2_vs_1",
            "steady_ratio": round(rows[1]["steady_files_per_s"] / rows[0]["steady_files_per_s"], 2),
            "wall_ratio": round(rows[0]["wall_s"] / rows[1]["wall_s"], 2),
        }
    )
    return rows


def write_synthetic(root: Path, hours: float, *, seed: int = 0, utterances_per_shard: int = 200) -> int:
    """A corpus folder of synthetic codes; returns its number of frames."""
    import pyarrow as pa

    from qtok_widgets.corpus.store import CODES_DIR, CORPUS_FORMAT, ERRORS_DIR, codes_table, write_atomic

    (root / CODES_DIR).mkdir(parents=True)
    (root / ERRORS_DIR).mkdir()
    rng = np.random.default_rng(seed)
    n_utt = max(1, round(hours * 3600 * FRAME_RATE / UTTERANCE_FRAMES))
    silence = [0] * N_LAYERS
    ranks = rng.permuted(np.tile(np.arange(1, SIZE), (N_LAYERS, 1)), axis=1)  # rank -> code, per layer
    for shard, start in enumerate(range(0, n_utt, utterances_per_shard)):
        count = min(utterances_per_shard, n_utt - start)
        frames = count * UTTERANCE_FRAMES
        block = np.empty((N_LAYERS, frames), np.uint16)
        for layer in range(N_LAYERS):
            n_runs = frames  # every run is at least one frame long
            lengths = rng.geometric(0.55 if layer < 4 else 0.8, n_runs)
            zipf = np.minimum(rng.zipf(1.3, n_runs), SIZE - 1) - 1
            values = ranks[layer][zipf]
            block[layer] = np.repeat(values, lengths)[:frames]
        block = block.reshape(N_LAYERS, count, UTTERANCE_FRAMES)
        block[:, :, :13] = 0
        block[:, :, -13:] = 0
        rows = [
            {
                "id": f"syn{start + i:07d}",
                "source": f"/nonexistent/syn{start + i:07d}.wav",
                "speaker": "",
                "text": "",
                "meta": "{}",
                "codec": "builtin",
                "frame_rate": FRAME_RATE,
                "sample_rate": 24000,
                "duration_s": UTTERANCE_FRAMES / FRAME_RATE,
                "n_samples": UTTERANCE_FRAMES * 1920,
                "n_frames": UTTERANCE_FRAMES,
                "codes": block[:, i, :],
            }
            for i in range(count)
        ]
        write_atomic(codes_table(rows), root / CODES_DIR / f"codes-{shard:06d}-synthetic.parquet")
        del rows, block
    manifest = {
        "format": CORPUS_FORMAT,
        "codec": "builtin",
        "codec_arg": "builtin",
        "frame_rate": FRAME_RATE,
        "sample_rate": 24000,
        "n_layers": N_LAYERS,
        "codebook_size": SIZE,
        "silence_codes": silence,
        "n_utterances": n_utt,
        "n_errors": 0,
        "n_frames": n_utt * UTTERANCE_FRAMES,
        "duration_s": n_utt * UTTERANCE_FRAMES / FRAME_RATE,
        "synthetic": True,
    }
    (root / "corpus.json").write_text(json.dumps(manifest, indent=1))
    assert pa is not None
    return n_utt * UTTERANCE_FRAMES


_STATS_CHILD = """
import json, resource, sys, time
from qtok_widgets.corpus import corpus_stats
t0 = time.perf_counter()
s = corpus_stats(sys.argv[1], threads=2)
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "entropy_l0": s["layers"][0]["entropy_bits"], "mi_l1": s["layers"][1]["mi_layer0_bits"]}))
"""


def stats_rows(tmp: Path, sizes_h: list[float]) -> list[dict]:
    from qtok_widgets.corpus import Corpus

    rows = []
    largest = None
    for hours in sizes_h:
        root = tmp / f"syn_{hours:g}h"
        t0 = time.perf_counter()
        frames = write_synthetic(root, hours)
        gen_s = time.perf_counter() - t0
        disk_mb = sum(p.stat().st_size for p in (root / "codes").glob("*.parquet")) / 2**20
        out = subprocess.run(
            [sys.executable, "-c", _STATS_CHILD, str(root)], capture_output=True, text=True, check=True
        )
        child = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(
            {
                "case": "stats",
                "hours": hours,
                "frames": frames,
                "cells": frames * N_LAYERS,
                "parquet_mb": round(disk_mb, 1),
                "generate_s": round(gen_s, 1),
                "wall_s": round(child["wall_s"], 2),
                "frames_per_s": round(frames / child["wall_s"]),
                "peak_rss_mb": round(child["peak_rss_mb"]),
            }
        )
        largest = root
    last = rows[-1]
    rows.append(
        {
            "case": "stats_1000h_extrapolated",
            "hours": 1000,
            "frames": FRAMES_1000H,
            "wall_s": round(FRAMES_1000H / last["frames_per_s"], 1),
            "parquet_mb": round(last["parquet_mb"] * FRAMES_1000H / last["frames"]),
            "note": f"extrapolated from the {last['hours']:g} h run's rate per frame (not measured)",
        }
    )
    assert largest is not None
    corpus = Corpus(largest)
    find = measure(lambda: corpus.find(3, int(corpus.code_counts()[3].argsort()[-50])), repeats=3, warmup=0)
    rows.append(
        {
            "case": "find",
            "hours": sizes_h[-1],
            "median_s": round(find["median_s"], 3),
            "occurrences": len(find["result"]),
        }
    )
    conc = measure(lambda: corpus.concordance(3, 5, n=10, context_s=1.0), repeats=3, warmup=1)
    rows.append(
        {
            "case": "concordance_decoded_n10",
            "hours": sizes_h[-1],
            "median_s": round(conc["median_s"], 3),
            "snippets": len(conc["result"]),
        }
    )
    return rows


def run(quick: bool = False) -> list[dict]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    with tempfile.TemporaryDirectory(prefix="qtok_bench_corpus_") as tmp:
        rows = encode_rows(Path(tmp), copies=1 if quick else 3)
        sizes = os.environ.get("QTOK_BENCH_CORPUS_HOURS")  # e.g. "10,40,160,1000"
        hours = [float(h) for h in sizes.split(",")] if sizes else [1, 3] if quick else [10, 40, 160]
        rows += stats_rows(Path(tmp), hours)
    return rows
