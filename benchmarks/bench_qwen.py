"""Qwen 12 Hz backend: encode/decode speed and memory, windowed-encode agreement, incremental render.

Uses a seeded random checkpoint with the released architecture (``build_random_checkpoint(...,
"released")``, ~154 M parameters) because the real weights cannot be downloaded here; speed and
memory depend on the architecture, not on the weight values. Audio is the real speech clips of
``tests/data`` concatenated and looped to length. Encode cases run in child processes so each
reports its own peak memory; decode cases run in this process.

``quick=True`` uses the tiny preset and short clips (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .harness import measure

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
#: encoder window settings per mode: the default (30 s + 10 s context), whole-file, and small windows (quick run)
_WINDOWS: dict[str, dict[str, float]] = {
    "windowed": {},
    "whole": {"encode_window_s": 1e9},
    "windowed-small": {"encode_window_s": 6.0, "encode_context_s": 2.0},
}
EDIT_FRAME = 1650  # mid-chunk (chunk [1500, 1800)), away from any lead-in


def speech(seconds: float) -> np.ndarray:
    """Real speech (all clips in tests/data at 24 kHz, concatenated) looped to ``seconds``."""
    from qtok_widgets import load_audio

    clips = [
        load_audio(p, target_rate=24000).samples
        for p in sorted(DATA.glob("*.wav")) + sorted(DATA.glob("*.mp3"))
    ]
    base = np.concatenate(clips)
    n = round(seconds * 24000)
    return np.tile(base, 1 + n // base.size)[:n].astype(np.float32)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB: ``VmHWM``, which, unlike ``ru_maxrss``, does
    not carry the parent's peak into a child started with fork + exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _log(row: dict[str, Any]) -> dict[str, Any]:
    print(json.dumps({k: v for k, v in row.items() if k != "result"}, default=str), flush=True)
    return row


def _encode_child(checkpoint: str, seconds: float, mode: str, out: str) -> None:
    """Child process: encode ``seconds`` of speech, save codes, print time and peak memory as JSON."""
    from qtok_widgets.codecs.qwen import QwenCodec

    codec = QwenCodec(path=checkpoint, device="cpu", **_WINDOWS[mode])
    info = _encode_case(codec, seconds, out)
    info.pop("codes")
    print(json.dumps(info))


def _encode_case(codec: Any, seconds: float, out: str | None = None) -> dict[str, Any]:
    from qtok_widgets import load_audio

    audio = load_audio(speech(seconds), sample_rate=24000)
    windows: list[int] = []
    t0 = time.perf_counter()
    grid = codec.encode(audio, progress=lambda done, total: windows.append(total))
    elapsed = time.perf_counter() - t0
    if out is not None:
        np.save(out, grid.codes)
    return {
        "time_s": elapsed,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "windows": windows[-1] if windows else 1,
        "codes": grid.codes,
    }


def _run_child(
    checkpoint: Path, seconds: float, mode: str, workdir: Path
) -> tuple[dict[str, Any], np.ndarray]:
    out = workdir / f"codes_{mode}_{seconds:g}.npy"
    argv = [
        sys.executable,
        "-m",
        "benchmarks.bench_qwen",
        "--encode-child",
        str(checkpoint),
        str(seconds),
        mode,
        str(out),
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=DATA.parent.parent)
    if proc.returncode != 0:
        msg = f"encode child failed: {proc.stderr.strip()[-600:]}"
        raise RuntimeError(msg)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    info.pop("codes", None)
    return info, np.load(out)


def run(quick: bool) -> list[dict[str, Any]]:
    """Rows: encode (child processes), incremental render, decode, windowed-encode agreement.

    The slow cases come in order of importance (each row is also printed as JSON when done):
    the incremental-render ratio first, the 10-minute windowed encode last.
    ``$QTOK_BENCH_QWEN_DIR`` may name a checkpoint already written by
    ``build_random_checkpoint(dir, preset, seed=0)`` to skip rebuilding it.
    """
    from qtok_widgets import CodeGrid
    from qtok_widgets.codecs.qwen import QwenCodec
    from qtok_widgets.codecs.qwen_random import build_random_checkpoint

    preset = "tiny" if quick else "released"
    rows: list[dict[str, Any]] = []
    codes: dict[tuple[float, str], np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="bench_qwen_") as tmp:
        workdir = Path(tmp)
        t0 = time.perf_counter()
        prebuilt = os.environ.get("QTOK_BENCH_QWEN_DIR")
        if prebuilt and not quick and (Path(prebuilt) / "config.json").is_file():
            checkpoint = Path(prebuilt)
        else:
            checkpoint = build_random_checkpoint(workdir / preset, preset=preset, seed=0)
        print(f"{preset} checkpoint ready in {time.perf_counter() - t0:.1f} s", flush=True)
        codec = QwenCodec(path=checkpoint, device="cpu")
        n_params = sum(p.numel() for p in codec.model.parameters())

        def encode(seconds: float, mode: str) -> None:
            """Encode speed and peak memory (windowed: default 30 s + 10 s context; whole-file)."""
            if quick:  # in this process: no memory isolation, but no second model load either
                info = _encode_case(QwenCodec(path=checkpoint, device="cpu", **_WINDOWS[mode]), seconds)
                codes[(seconds, mode)] = info["codes"]
            else:
                info, codes[(seconds, mode)] = _run_child(checkpoint, seconds, mode, workdir)
            rows.append(_log({
                "case": f"encode_{mode}", "preset": preset, "params_m": round(n_params / 1e6, 1),
                "audio_s": seconds, "time_s": round(info["time_s"], 2),
                "rtf": round(info["time_s"] / seconds, 3), "peak_rss_mb": info["peak_rss_mb"],
                "windows": info["windows"],
            }))  # fmt: skip

        def grid_of(seconds: float) -> CodeGrid:
            """Codes of real speech (the first encode), looped to ``seconds``."""
            source = next(iter(codes.values()))
            n_frames = round(seconds * 12.5)
            reps = -(-n_frames // source.shape[1])
            return CodeGrid(np.tile(source, reps)[:, :n_frames], codec=codec.name, frame_rate=12.5,
                            sample_rate=24000, codebook_size=2048)  # fmt: skip

        encode(12 if quick else 10, "whole")

        # -------- incremental render: one-frame edit, decode_range of the affected chunk(s) vs full decode
        seconds = 30 if quick else 300
        grid = grid_of(seconds)
        frame = 150 if quick else EDIT_FRAME
        edited_codes = np.array(grid.codes)
        edited_codes[5, frame] = (edited_codes[5, frame] + 777) % 2048
        edited = grid.with_codes(edited_codes)
        lo, hi = codec.affected_frames(frame, frame + 1, grid.n_frames)
        full = measure(lambda: codec._decode_codes(edited.codes, edited.mask), repeats=1, warmup=0)
        part = measure(lambda: codec.decode_range(edited, lo, hi), repeats=3, warmup=0)
        same = bool(np.array_equal(part["result"], full["result"][lo * 1920 : hi * 1920]))
        rows.append(_log({
            "case": "incremental_render", "preset": preset, "audio_s": seconds, "edit_frame": frame,
            "range_frames": f"[{lo}, {hi})", "full_decode_s": round(full["median_s"], 2),
            "decode_range_s": round(part["median_s"], 3), "speedup": round(full["median_s"] / part["median_s"], 1),
            "range_equals_full": same, "full_rtf": round(full["median_s"] / seconds, 3),
            "peak_rss_mb": part["peak_rss_mb"],
        }))  # fmt: skip

        # -------- decode speed of short clips
        for seconds, repeats in ((4, 2),) if quick else ((10, 2),):
            grid = grid_of(seconds)
            m = measure(lambda g=grid: codec.decode(g), repeats=repeats, warmup=1)
            rows.append(_log({
                "case": "decode", "preset": preset, "audio_s": seconds, "time_s": round(m["median_s"], 2),
                "rtf": round(m["median_s"] / seconds, 3), "repeats": m["repeats"], "peak_rss_mb": m["peak_rss_mb"],
            }))  # fmt: skip

        # -------- windowed vs whole-file encode agreement per layer, then long windowed encodes
        agree_s = 12 if quick else 60
        encode(agree_s, "whole")
        encode(agree_s, "windowed-small" if quick else "windowed")
        agree = codes[(agree_s, "windowed-small" if quick else "windowed")] == codes[(agree_s, "whole")]
        agree = agree.mean(axis=1) * 100
        rows.append(_log({
            "case": "windowed_agreement", "preset": preset, "audio_s": agree_s,
            "agree_min_pct": round(float(agree.min()), 2), "agree_mean_pct": round(float(agree.mean()), 2),
            "agree_per_layer_pct": [round(float(a), 2) for a in agree],
        }))  # fmt: skip
        for seconds in () if quick else (600,):
            encode(seconds, "windowed")

        # -------- streaming decode, edit-then-render from checkpoints, checkpoint memory
        rows += streaming_cases(checkpoint, 4 if quick else 24, 2 if quick else 5)
    return rows


def streaming_cases(
    checkpoint: str | Path, seconds: float, n_edits: int, device: str = "cpu", seed: int = 0
) -> list[dict[str, Any]]:
    """Streaming decode, edit-then-render and checkpoint memory, side by side in one process.

    Rows: qwen-tts's chunked decode and the checkpointed streaming decode of the same
    ``seconds`` of random codes (time, real-time factor, max abs difference, SNR); then
    ``n_edits`` one-code edits (one layer of one frame, both seeded random), each
    followed by ``EditSession.render()`` (time and frames decoded per edit, median speed-up
    against the library decode measured here, and the largest difference from
    ``codec.decode`` of the final grid, which carries every edit's residual); then checkpoint
    memory measured and extrapolated to one hour. On CUDA the peak GPU memory is reported.
    """
    import torch

    from qtok_widgets import CodeGrid, EditSession
    from qtok_widgets.codecs.qwen import QwenCodec

    codec = QwenCodec(path=checkpoint, device=device)
    cuda = codec.device.startswith("cuda")
    rng = np.random.default_rng(seed)
    n_frames = round(seconds * 12.5)
    grid = CodeGrid(rng.integers(0, 2048, (16, n_frames)), codec=codec.name, frame_rate=12.5,
                    sample_rate=24000, codebook_size=2048)  # fmt: skip

    def timed(fn: Any) -> tuple[Any, float]:
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        if cuda:
            torch.cuda.synchronize()
        return out, time.perf_counter() - t0

    rows: list[dict[str, Any]] = []
    codec._decode_codes(grid.codes[:, :30], grid.mask[:, :30])  # warm-up
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    library, t_lib = timed(lambda: codec._decode_codes(grid.codes, grid.mask))
    peak_lib = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    (stream, store), t_stream = timed(lambda: codec.decode_checkpointed(grid))
    peak_stream = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    noise = float(np.sum((stream - library) ** 2))
    rows.append(_log({
        "case": "streaming_decode", "device": codec.device, "audio_s": seconds, "frames": n_frames,
        "library_s": round(t_lib, 2), "library_rtf": round(t_lib / seconds, 3),
        "stream_s": round(t_stream, 2), "stream_rtf": round(t_stream / seconds, 3),
        "stream_vs_library": round(t_stream / t_lib, 3),
        "max_abs_diff": float(np.abs(stream - library).max()),
        "snr_db": round(10 * np.log10(float(np.sum(library**2)) / noise), 1) if noise > 0 else None,
        "peak_gpu_mb_library": peak_lib, "peak_gpu_mb_stream": peak_stream,
    }))  # fmt: skip

    session = EditSession(grid, codec)
    session._renderer._buf, session._renderer._store = (
        stream.copy(),
        store,
    )  # the decode above is its first render
    session._renderer._audio = None
    times, frames = [], []
    for _ in range(n_edits):
        frame = int(rng.integers(0, n_frames))
        layer = int(rng.integers(0, 16))
        session.replace([frame], [layer], int((grid.codes[layer, frame] + rng.integers(1, 2048)) % 2048))
        _, t_edit = timed(session.render)
        stats = session.render_stats or {}
        times.append(t_edit)
        frames.append(int(stats.get("frames_decoded", 0)))
        _log(
            {
                "case": "edit",
                "frame": frame,
                "render_s": round(t_edit, 2),
                **{k: stats[k] for k in ("frames_decoded", "decoded", "converged", "checkpoints_used")},
            }
        )
    final = session.render().samples
    reference = codec.decode(session.grid).samples
    median = float(np.median(times))
    full_5min = t_lib * (3750 + 12 * 25) / (n_frames + 25 * (len(codec.decode_chunks(n_frames)) - 1))
    rows.append(_log({
        "case": "edit_render", "device": codec.device, "audio_s": seconds, "edits": n_edits,
        "median_render_s": round(median, 2), "render_s": [round(t, 2) for t in times],
        "frames_decoded": frames, "library_decode_s": round(t_lib, 2),
        "speedup_measured": round(t_lib / median, 1),
        "speedup_5min_extrapolated": round(full_5min / median, 1),
        "speedup_5min_by_work": round((3750 + 12 * 25) / float(np.median(frames)), 1),
        "max_abs_diff_after_all_edits": float(np.abs(final - reference).max()),
    }))  # fmt: skip

    size = codec.checkpoint_bytes()
    hour = 45000
    every = codec.checkpoint_interval(hour)
    count_hour = sum(
        (hi - lo + codec._chunk_context(lo) - 1) // every for lo, hi in codec.decode_chunks(hour)
    )
    rows.append(_log({
        "case": "checkpoint_memory", "bytes_per_checkpoint": size, "interval_frames": store.interval,
        "held": store.count, "held_mb": round(store.nbytes / 2**20, 1), "audio_s": seconds,
        "one_hour_checkpoints_at_25": count_hour,
        "one_hour_mb_at_25": round(count_hour * size / 2**20),
        "one_hour_interval_in_1gib": codec.checkpoint_interval(hour, budget_bytes=1 << 30),
    }))  # fmt: skip
    return rows


def precision_cases(checkpoint: str | Path, frames: int = 25) -> list[dict[str, Any]]:
    """One decode of ``frames`` random frames per CPU setting, side by side, against float32.

    Settings: float32 under ``inference_mode`` (the default), under ``no_grad``, with one
    thread, bfloat16 autocast and dynamic int8 ``Linear`` layers; each reports time and the
    largest difference and SNR against the float32 decode.
    """
    import torch

    from qtok_widgets import CodeGrid
    from qtok_widgets.codecs.qwen import QwenCodec

    codec = QwenCodec(path=checkpoint, device="cpu")
    rng = np.random.default_rng(1)
    grid = CodeGrid(rng.integers(0, 2048, (16, frames)), codec=codec.name, frame_rate=12.5,
                    sample_rate=24000, codebook_size=2048)  # fmt: skip
    codes, keep = codec._tensors(grid)
    codec._decode_window(codes[:, :5], keep[:, :5])
    threads = torch.get_num_threads()

    def run(setting: str) -> Any:
        if setting == "no_grad":
            with torch.no_grad():
                return codec._decode_window(codes, keep)
        with torch.inference_mode():
            if setting == "bf16":
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return codec._decode_window(codes, keep).float()
            return codec._decode_window(codes, keep)

    reference = None
    rows = []
    for setting in ("float32", "no_grad", "1_thread", "bf16", "int8_dynamic"):
        model = codec.model
        if setting == "1_thread":
            torch.set_num_threads(1)
        if setting == "int8_dynamic":
            codec.model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        t0 = time.perf_counter()
        out = run(setting).detach().numpy().copy()
        elapsed = time.perf_counter() - t0
        torch.set_num_threads(threads)
        codec.model = model
        if reference is None:
            reference = out
        err = out - reference
        noise = float(np.sum(err.astype(np.float64) ** 2))
        rows.append(_log({
            "case": "cpu_setting", "setting": setting, "frames": frames, "time_s": round(elapsed, 2),
            "max_abs_diff": float(np.abs(err).max()) if np.all(np.isfinite(out)) else "nan",
            "snr_db": round(10 * np.log10(float(np.sum(reference.astype(np.float64) ** 2)) / noise), 1) if noise > 0 else None,
        }))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Qwen benchmark cases run on their own")
    parser.add_argument("--encode-child", nargs=4, metavar=("CHECKPOINT", "SECONDS", "MODE", "OUT"))
    parser.add_argument("--streaming", nargs=3, metavar=("CHECKPOINT", "SECONDS", "N_EDITS"))
    parser.add_argument("--precision", metavar="CHECKPOINT")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", metavar="OUT", help="write the rows as JSON")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    if args.encode_child:
        checkpoint, seconds, mode, out = args.encode_child
        _encode_child(checkpoint, float(seconds), mode, out)
        return 0
    if args.streaming:
        checkpoint, seconds, n_edits = args.streaming
        rows += streaming_cases(checkpoint, float(seconds), int(n_edits), device=args.device)
    if args.precision:
        rows += precision_cases(args.precision)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
