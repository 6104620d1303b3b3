"""The transformers codecs (Mimi, EnCodec, DAC, X-Codec): encode and decode real-time factor and memory, CPU.

Each backend runs at its released size with seeded random weights
(``qtok_widgets.codecs.hf.build_random_checkpoint(dir, name, "released")``): speed and memory
depend on the architecture, not on the weight values, and the real weights cannot be
downloaded here. Each backend is measured in a child process of its own, so its peak
resident memory (``VmHWM``) is its own: ``load_mb`` after loading the model, ``peak_mb`` after
encoding and decoding. The real-time factor is seconds of compute per second of audio (below
1 is faster than real time). ``edit_render_s`` is the session's render after masking two
frames in the middle, and ``edit_decoded_frames`` how many frames it decoded (DAC and X-Codec
decode only the chunks around the edit). Audio is the real speech clips of ``tests/data``, looped.

``quick=True`` measures 5 s of audio once; the full run 30 s, best of 3.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BACKENDS = ("mimi", "encodec", "dac", "xcodec")


def speech(seconds: float) -> np.ndarray:
    """Real speech (every clip in tests/data at 24 kHz, concatenated) looped to ``seconds``."""
    from qtok_widgets import load_audio

    paths = sorted(DATA.glob("*.wav")) + sorted(DATA.glob("*.mp3"))
    base = np.concatenate([load_audio(p, target_rate=24000).samples for p in paths])
    n = round(seconds * 24000)
    return np.tile(base, 1 + n // base.size)[:n].astype(np.float32)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (``VmHWM``: a child's own, not its parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _child(checkpoint: str, seconds: float, repeats: int) -> None:
    """Child process: load, encode and decode ``seconds`` of speech; print one JSON row."""
    import torch

    from qtok_widgets import load_audio
    from qtok_widgets.codecs import load_codec

    codec = load_codec(checkpoint, device="cpu")
    load_mb = _peak_rss_mb()
    audio = load_audio(speech(seconds), sample_rate=24000).resample(codec.sample_rate)
    encode_s, decode_s = [], []
    grid = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        grid = codec.encode(audio)
        encode_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        codec.decode(grid)
        decode_s.append(time.perf_counter() - t0)
    assert grid is not None
    from qtok_widgets import EditSession

    session = EditSession(grid, codec)
    session.render_original()
    mid = grid.n_frames // 2
    session.mask(frames=slice(mid, mid + 2), layers=range(1, grid.n_layers))
    t0 = time.perf_counter()
    session.render()
    render_s = time.perf_counter() - t0
    decoded = sum(b - a for a, b in session.last_render.decoded)
    n_params = sum(p.numel() for p in codec.model.parameters())
    print(
        json.dumps(
            {
                "codec": codec.name,
                "params_m": round(n_params / 1e6, 1),
                "grid": f"{grid.n_layers}x{grid.n_frames}",
                "codebook": codec.codebook_size,
                "audio_s": seconds,
                "encode_rtf": min(encode_s) / seconds,
                "decode_rtf": min(decode_s) / seconds,
                "edit_render_s": round(render_s, 3),
                "edit_decoded_frames": f"{decoded}/{grid.n_frames}",
                "load_mb": round(load_mb, 1),
                "peak_mb": round(_peak_rss_mb(), 1),
                "threads": torch.get_num_threads(),
            }
        )
    )


def run(quick: bool) -> list[dict[str, Any]]:
    """One row per backend: parameters, grid shape, encode/decode RTF, memory after load and peak."""
    from qtok_widgets.codecs.hf import build_random_checkpoint

    seconds, repeats = (5.0, 1) if quick else (30.0, 3)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_codecs_") as tmp:
        for name in BACKENDS:
            t0 = time.perf_counter()
            folder = build_random_checkpoint(Path(tmp) / name, name, "released", seed=0)
            built = time.perf_counter() - t0
            argv = [
                sys.executable,
                "-m",
                "benchmarks.bench_codecs",
                "--child",
                str(folder),
                str(seconds),
                str(repeats),
            ]
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
            if proc.returncode != 0:
                msg = f"{name}: child failed: {proc.stderr.strip()[-600:]}"
                raise RuntimeError(msg)
            row = {
                "backend": name,
                **json.loads(proc.stdout.strip().splitlines()[-1]),
                "build_s": round(built, 1),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("CHECKPOINT", "SECONDS", "REPEATS"))
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], float(args.child[1]), int(args.child[2]))
    else:
        from .harness import report

        report("codecs", run(quick=False), command="python -m benchmarks.run codecs")
