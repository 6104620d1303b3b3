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


def _snr_db(reference: np.ndarray, other: np.ndarray) -> float | None:
    noise = float(np.sum((other.astype(np.float64) - reference) ** 2))
    return (
        round(10 * np.log10(float(np.sum(reference.astype(np.float64) ** 2)) / noise), 1)
        if noise > 0
        else None
    )


def comparison_cases(checkpoint: str | Path, frames: int = 400, seed: int = 11) -> list[dict[str, Any]]:
    """Which decode ``codec.decode`` should be: qwen-tts's chunked decode, the same chunks
    streamed (what ``codec.decode`` is) and one stream over the whole file, side by side.

    Rows: time and the difference from the library for both streamed decodes (max abs,
    SNR, per chunk for the whole-file stream); then how far a one-code edit at frame 20
    (layer 1) reaches in the whole-file stream, which no chunk boundary stops.
    """
    import torch

    from qtok_widgets.codecs.qwen import QwenCodec
    from qtok_widgets.codecs.qwen_stream import StreamingDecoder

    codec = QwenCodec(path=checkpoint, device="cpu")
    spf, step = codec.samples_per_frame, codec.stream_step_frames
    codes = np.random.default_rng(seed).integers(0, 2048, (16, frames))
    stream = StreamingDecoder(codec.model.decoder)

    def whole(grid_codes: np.ndarray) -> np.ndarray:
        codes_t = torch.from_numpy(grid_codes)
        keep_t = torch.ones_like(codes_t, dtype=torch.bool)
        state, out = stream.initial_state(), []
        with torch.inference_mode():
            for a in range(0, frames, step):
                latent = codec._latent(codes_t[:, a : a + step], keep_t[:, a : a + step])
                out.append(stream.step(state, latent).numpy())
        return np.concatenate(out)

    t0 = time.perf_counter()
    library = codec.library_decode(codes)
    t_lib = time.perf_counter() - t0
    t0 = time.perf_counter()
    chunked = codec._decode_codes(codes, np.zeros(codes.shape, bool))
    t_chunked = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = whole(codes)
    t_whole = time.perf_counter() - t0
    seam = codec.chunk_frames * spf
    rows = [_log({
        "case": "decode_comparison", "frames": frames, "step_frames": step, "threads": torch.get_num_threads(),
        "library_s": round(t_lib, 2), "chunked_stream_s": round(t_chunked, 2), "whole_stream_s": round(t_whole, 2),
        "chunked_vs_library_max": float(np.abs(chunked - library).max()), "chunked_vs_library_snr_db": _snr_db(library, chunked),
        "whole_vs_library_max_first_chunk": float(np.abs(single - library)[:seam].max()),
        "whole_vs_library_max_later_chunks": float(np.abs(single - library)[seam:].max()),
        "whole_vs_library_snr_db_later_chunks": _snr_db(library[seam:], single[seam:]),
        "rms": round(float(np.sqrt(np.mean(library.astype(np.float64) ** 2))), 4),
    })]  # fmt: skip
    edited = codes.copy()
    edited[1, 20] = (edited[1, 20] + 999) % 2048
    per_frame = np.abs(whole(edited) - single).reshape(frames, spf).max(axis=1)
    rows.append(_log({
        "case": "whole_stream_edit_reach", "edit_frame": 20, "last_frame_over_1e-4": int(np.flatnonzero(per_frame > 1e-4).max()),
        "max_diff_frames_100_to_200": float(per_frame[100:200].max()), "max_diff_from_300": float(per_frame[300:].max()),
        "diff_at_last_frame": float(per_frame[-1]),
    }))  # fmt: skip
    return rows


def streaming_cases(
    checkpoint: str | Path,
    seconds: float,
    n_edits: int,
    device: str = "cpu",
    seed: int = 0,
    *,
    library: bool = True,
) -> list[dict[str, Any]]:
    """Full decode, edit-then-render and checkpoint memory, side by side in one process.

    Rows: qwen-tts's chunked decode (``library_decode``, skipped with ``library=False``) and
    ``decode_checkpointed`` (``codec.decode`` with checkpoints, the first render) of the same
    ``seconds`` of random codes: time, real-time factor, max abs difference and SNR between
    them. Then ``n_edits`` one-code edits (one layer of one frame, both seeded random), each
    followed by ``EditSession.render()``: time, frames decoded, speed-up against the full
    decode by work (frames run through the decoder) and by time, and the largest
    difference from ``codec.decode`` of the edited grid over the chunks the edit reaches
    (``decode_range``, bit-identical to the full decode's samples there; the other chunks
    are not re-decoded and their codes did not change). Then checkpoint memory, measured and
    for one hour. On CUDA the peak GPU memory is reported.
    """
    import torch

    from qtok_widgets import CodeGrid, EditSession
    from qtok_widgets.codecs.qwen import QwenCodec

    codec = QwenCodec(path=checkpoint, device=device)
    cuda = codec.device.startswith("cuda")
    rng = np.random.default_rng(seed)
    n_frames = round(seconds * 12.5)
    spf = codec.samples_per_frame
    grid = CodeGrid(rng.integers(0, 2048, (16, n_frames)), codec=codec.name, frame_rate=12.5,
                    sample_rate=24000, codebook_size=2048)  # fmt: skip
    full_work = n_frames + sum(codec._chunk_context(lo) for lo, _ in codec.decode_chunks(n_frames))

    def timed(fn: Any) -> tuple[Any, float]:
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = fn()
        if cuda:
            torch.cuda.synchronize()
        return out, time.perf_counter() - t0

    def peak() -> float | None:
        return round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else None

    rows: list[dict[str, Any]] = []
    codec._decode_codes(grid.codes[:, :30], grid.mask[:, :30])  # warm-up
    codec.library_decode(grid.codes[:, :30])
    t_lib = peak_lib = None
    if library:
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        reference, t_lib = timed(lambda: codec.library_decode(grid.codes, grid.mask))
        peak_lib = peak()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    session = EditSession(grid, codec)
    _, t_stream = timed(session.render)
    peak_stream = peak()
    stream = session._renderer._buf
    assert stream is not None
    rows.append(_log({
        "case": "full_decode", "device": codec.device, "threads": torch.get_num_threads(), "audio_s": seconds,
        "frames": n_frames, "frames_with_context": full_work,
        "library_s": None if t_lib is None else round(t_lib, 2),
        "library_rtf": None if t_lib is None else round(t_lib / seconds, 3),
        "stream_s": round(t_stream, 2), "stream_rtf": round(t_stream / seconds, 3),
        "stream_vs_library_time": None if t_lib is None else round(t_stream / t_lib, 3),
        "max_abs_diff_vs_library": None if t_lib is None else float(np.abs(stream - reference).max()),
        "snr_db_vs_library": None if t_lib is None else _snr_db(reference, stream),
        "peak_gpu_mb_library": peak_lib, "peak_gpu_mb_stream": peak_stream,
    }))  # fmt: skip

    times, frames, errors = [], [], []
    for _ in range(n_edits):
        frame = int(rng.integers(0, n_frames))
        layer = int(rng.integers(0, 16))
        session.replace(
            [frame], [layer], int((session.grid.codes[layer, frame] + rng.integers(1, 2048)) % 2048)
        )
        rendered, t_edit = timed(session.render)
        stats = session.render_stats or {}
        lo, hi = codec.affected_frames(frame, frame + 1, n_frames)
        exact = codec.decode_range(session.grid, lo, hi)
        error = float(np.abs(rendered.samples[lo * spf : hi * spf] - np.clip(exact, -1, 1)).max())
        times.append(t_edit)
        frames.append(int(stats.get("frames_decoded", 0)))
        errors.append(error)
        _log({
            "case": "edit", "frame": frame, "layer": layer, "render_s": round(t_edit, 2),
            **{k: stats[k] for k in ("frames_decoded", "decoded", "converged", "checkpoints_used")},
            "speedup_by_work": round(full_work / max(1, frames[-1]), 1),
            "speedup_by_time": round(t_stream / t_edit, 1), "max_abs_diff_vs_decode": error,
        })  # fmt: skip
    by_work = [full_work / max(1, f) for f in frames]
    by_time = [t_stream / t for t in times]
    rows.append(_log({
        "case": "edit_render", "device": codec.device, "audio_s": seconds, "edits": n_edits,
        "frames_decoded": frames, "render_s": [round(t, 2) for t in times],
        "median_render_s": round(float(np.median(times)), 2), "full_decode_s": round(t_stream, 2),
        "median_speedup_by_work": round(float(np.median(by_work)), 1), "worst_speedup_by_work": round(min(by_work), 1),
        "median_speedup_by_time": round(float(np.median(by_time)), 1), "worst_speedup_by_time": round(min(by_time), 1),
        "max_abs_diff_vs_decode": max(errors) if errors else None,
    }))  # fmt: skip

    store = session._renderer._store
    hour = 45000
    budget = session._renderer.checkpoint_budget_bytes
    every_hour = codec.checkpoint_interval(hour, budget_bytes=budget)
    count_hour = sum(
        (hi - lo + codec._chunk_context(lo) - 1) // every_hour for lo, hi in codec.decode_chunks(hour)
    )
    rows.append(_log({
        "case": "checkpoint_memory", "bytes_per_checkpoint": store.state_bytes, "interval_frames": store.interval,
        "held": store.count, "held_mb": round(store.nbytes / 2**20, 1), "audio_s": seconds,
        "one_hour_interval_in_budget": every_hour, "one_hour_checkpoints": count_hour,
        "one_hour_mb": round(count_hour * codec.checkpoint_bytes(every_hour) / 2**20),
        "one_hour_mb_at_5_frames": round(
            sum((hi - lo + codec._chunk_context(lo) - 1) // 5 for lo, hi in codec.decode_chunks(hour))
            * codec.checkpoint_bytes(5) / 2**20),
        "budget_mb": round(budget / 2**20),
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
    codes, keep = codec._tensors(grid.codes, grid.mask)
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


def step_cases(
    checkpoint: str | Path, frames: int = 100, threads: tuple[int, ...] = (2, 1)
) -> list[dict[str, Any]]:
    """Streaming step size and thread count, side by side: one decode of ``frames`` random
    frames per (threads, step) and the library's one-call decode, time and difference."""
    import torch

    from qtok_widgets.codecs.qwen import QwenCodec
    from qtok_widgets.codecs.qwen_stream import StreamingDecoder

    codec = QwenCodec(path=checkpoint, device="cpu")
    codes = torch.from_numpy(np.random.default_rng(0).integers(0, 2048, (16, frames)))
    keep = torch.ones_like(codes, dtype=torch.bool)
    stream = StreamingDecoder(codec.model.decoder)
    before = torch.get_num_threads()
    rows = []
    with torch.inference_mode():
        latent = codec._latent(codes, keep)
        codec._decode_window(codes[:, :10], keep[:, :10])
        for n_threads in threads:
            torch.set_num_threads(n_threads)
            t0 = time.perf_counter()
            whole = codec._decode_window(codes, keep).numpy()
            row: dict[str, Any] = {"case": "step_size", "threads": n_threads, "frames": frames,
                                   "library_one_call_s": round(time.perf_counter() - t0, 2)}  # fmt: skip
            for step in (5, 10, 25):
                state = stream.initial_state()
                t0 = time.perf_counter()
                out = np.concatenate(
                    [stream.step(state, latent[..., a : a + step]).numpy() for a in range(0, frames, step)]
                )
                row[f"step_{step}_s"] = round(time.perf_counter() - t0, 2)
                row[f"step_{step}_max_diff"] = float(np.abs(out - whole).max())
            rows.append(_log(row))
    torch.set_num_threads(before)
    return rows


def compile_cases(checkpoint: str | Path, frames: int = 25, repeats: int = 2) -> list[dict[str, Any]]:
    """``torch.compile`` (inductor, CPU) of the decoder on ``frames`` random frames against eager.

    One row: the first compiled call (compilation included), the median of ``repeats`` calls
    each way afterwards, and the largest difference from eager float32. A failure to compile
    is reported in the row rather than raised.
    """
    import torch

    from qtok_widgets import CodeGrid
    from qtok_widgets.codecs.qwen import QwenCodec

    codec = QwenCodec(path=checkpoint, device="cpu")
    rng = np.random.default_rng(1)
    grid = CodeGrid(rng.integers(0, 2048, (16, frames)), codec=codec.name, frame_rate=12.5,
                    sample_rate=24000, codebook_size=2048)  # fmt: skip
    codes, keep = codec._tensors(grid.codes, grid.mask)

    def median_time(fn: Any) -> tuple[float, Any]:
        times, out = [], None
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return float(np.median(times)), out

    with torch.inference_mode():
        codec._decode_window(codes, keep)
        eager_s, eager = median_time(lambda: codec._decode_window(codes, keep).numpy().copy())
        row: dict[str, Any] = {"case": "torch_compile", "frames": frames, "threads": torch.get_num_threads(),
                               "eager_s": round(eager_s, 2)}  # fmt: skip
        try:
            compiled = torch.compile(codec._decode_window, dynamic=False)
            t0 = time.perf_counter()
            compiled(codes, keep)
            row["first_call_s"] = round(time.perf_counter() - t0, 1)
            compiled_s, out = median_time(lambda: compiled(codes, keep).numpy().copy())
        except Exception as exc:
            row["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
            return [_log(row)]
    row.update(compiled_s=round(compiled_s, 2), speedup=round(eager_s / compiled_s, 2),
               max_abs_diff=float(np.abs(out - eager).max()), snr_db=_snr_db(eager, out))  # fmt: skip
    return [_log(row)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Qwen benchmark cases run on their own")
    parser.add_argument("--encode-child", nargs=4, metavar=("CHECKPOINT", "SECONDS", "MODE", "OUT"))
    parser.add_argument("--streaming", nargs=3, metavar=("CHECKPOINT", "SECONDS", "N_EDITS"))
    parser.add_argument("--precision", metavar="CHECKPOINT")
    parser.add_argument("--compare", nargs=2, metavar=("CHECKPOINT", "FRAMES"))
    parser.add_argument("--compile", metavar="CHECKPOINT", help="torch.compile against eager")
    parser.add_argument("--steps", metavar="CHECKPOINT", help="streaming step sizes and thread counts")
    parser.add_argument("--no-library", action="store_true", help="skip the library decode in --streaming")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads for the whole run")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", metavar="OUT", help="write the rows as JSON")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    if args.encode_child:
        checkpoint, seconds, mode, out = args.encode_child
        _encode_child(checkpoint, float(seconds), mode, out)
        return 0
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.compare:
        rows += comparison_cases(args.compare[0], int(args.compare[1]))
    if args.streaming:
        checkpoint, seconds, n_edits = args.streaming
        rows += streaming_cases(
            checkpoint, float(seconds), int(n_edits), device=args.device, library=not args.no_library
        )
    if args.precision:
        rows += precision_cases(args.precision)
    if args.compile:
        rows += compile_cases(args.compile)
    if args.steps:
        rows += step_cases(args.steps)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
