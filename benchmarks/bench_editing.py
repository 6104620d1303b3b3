"""Editing speed: incremental render() after a one-frame edit against a full decode, and history cost.

Render rows, per codec, measured side by side in this run: the session's first full decode
(``render_original``), ``codec.decode`` of the edited grid, and ``EditSession.render()`` right
after a single-frame edit (edit + render timed together, a new random cell each repeat); the
``speedup_vs_full`` column divides the full decode's median by the edit + render median. The
built-in codec decodes a real 5-minute clip (the clips in ``tests/data`` looped); the Qwen
backend decodes a 5-minute grid of random codes with the released architecture and random
weights on the CPU (``build_random_checkpoint(preset="released")``), where one full decode
takes many minutes, so only the session's own full decode is timed there and the
render-equals-decode check (``max_abs_diff``, ``bit_identical``) is made on the other rows
and in the tests.

History rows: 1,000 random edits (mask, unmask, replace, splice, delete, duplicate) on a
5-minute grid, then undoing all of them: time per step, the bytes the history's deltas hold,
the memory traced while editing, and what copying the grid at every step would hold.

``--quick`` uses a 20-second clip, 200 edits and the tiny Qwen preset on 600 frames.
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from benchmarks.harness import measure
from qtok_widgets import CodeGrid, EditSession, load_audio
from qtok_widgets.codecs import load_codec

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CLIPS = sorted(p for p in DATA.iterdir() if p.suffix in {".wav", ".mp3"})


def looped_speech(rate: int, duration_s: float):
    """The real clips, resampled to ``rate`` and repeated to ``duration_s`` seconds."""
    pieces = [load_audio(p, target_rate=rate).samples for p in CLIPS]
    samples = np.resize(np.concatenate(pieces), int(duration_s * rate)).astype(np.float32)
    return load_audio(samples, sample_rate=rate)


def render_rows(codec, grid: CodeGrid, label: str, *, repeats: int, full_repeats: int) -> list[dict]:
    """Full decode vs single-frame edit + incremental render, side by side.

    The first full decode is the session's own (``render_original``, which incremental renders
    start from); ``full_repeats`` more are ``codec.decode`` of the edited grid, whose output
    also checks the rendered audio. With ``full_repeats=0`` (the released-size Qwen model,
    where one full decode of 5 minutes takes many minutes on a CPU) the check is left to the
    tests, which do it on the tiny checkpoint.
    """
    rng = np.random.default_rng(0)
    session = EditSession(grid, codec)
    t0 = time.perf_counter()
    session.render_original()
    first_s = time.perf_counter() - t0
    decoded = []

    def edit_and_render():
        frame = int(rng.integers(grid.n_frames))
        layer = int(rng.integers(grid.n_layers))
        session.replace([frame], [layer], (int(session.grid.codes[layer, frame]) + 1) % grid.codebook_size)
        audio = session.render()
        decoded.append(session.last_render.decoded_frames)
        return audio

    inc = measure(edit_and_render, repeats=repeats, warmup=0)
    common = {
        "codec": codec.name,
        "label": label,
        "n_frames": grid.n_frames,
        "duration_s": round(grid.duration, 1),
    }
    full_s = first_s
    rows = [{**common, "case": "full decode (render_original)", "median_s": round(first_s, 4), "repeats": 1}]
    check: dict = {}
    if full_repeats:
        full = measure(lambda: codec.decode(session.grid), repeats=full_repeats, warmup=0)
        full_s = full["median_s"]
        rows.append({**common, "case": "full decode (codec.decode)", **_timing(full)})
        check = {
            "max_abs_diff": float(np.max(np.abs(inc["result"].samples - full["result"].samples))),
            "bit_identical": bool(np.array_equal(inc["result"].samples, full["result"].samples)),
        }
    rows.append(
        {
            **common,
            "case": "1-frame edit + render()",
            **_timing(inc),
            "decoded_frames": "/".join(str(d) for d in decoded),
            "speedup_vs_full": round(full_s / inc["median_s"], 1),
            **check,
        }
    )
    return rows


def history_rows(grid: CodeGrid, n_edits: int) -> list[dict]:
    """``n_edits`` random edits then undo them all: time and memory of the history."""
    rng = np.random.default_rng(1)
    n = grid.n_frames

    def one_edit(session: EditSession) -> None:
        kind = rng.integers(6)
        m = session.grid.n_frames
        a = int(rng.integers(m - 8))
        layers = sorted({int(v) for v in rng.integers(16, size=int(rng.integers(1, 5)))})
        if kind == 0:
            session.mask(slice(a, a + int(rng.integers(1, 8))), layers)
        elif kind == 1:
            session.unmask(slice(a, a + int(rng.integers(1, 8))), layers)
        elif kind == 2:
            session.replace([a], layers, int(rng.integers(2048)))
        elif kind == 3:
            session.splice(grid, range(a, a + 4), int(rng.integers(m - 4)), layers)
        elif kind == 4:
            session.delete_frames([a])
        else:
            session.duplicate_frames([a])

    session = EditSession(grid)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(n_edits):
        one_edit(session)
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    undo_session = session
    # time on a fresh session without tracemalloc's overhead
    session = EditSession(grid)
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for _ in range(n_edits):
        one_edit(session)
    apply_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    while session.can_undo:
        session.undo()
    undo_s = time.perf_counter() - t0
    restored = session.grid == grid
    grid_bytes = grid.codes.nbytes + grid.mask.nbytes
    return [
        {
            "case": f"{n_edits} random edits",
            "n_frames": n,
            "total_s": round(apply_s, 3),
            "per_edit_ms": round(1000 * apply_s / n_edits, 3),
            "history_kb": round(undo_session.history_nbytes / 1024, 1),
            "traced_kb": round(held / 1024, 1),
            "copy_per_step_kb": round(n_edits * grid_bytes / 1024, 1),
        },
        {
            "case": f"undo all {n_edits}",
            "n_frames": n,
            "total_s": round(undo_s, 3),
            "per_edit_ms": round(1000 * undo_s / n_edits, 3),
            "restored": restored,
        },
    ]


def _timing(m: dict) -> dict:
    return {"median_s": round(m["median_s"], 4), "min_s": round(m["min_s"], 4), "repeats": m["repeats"]}


def run(quick: bool) -> list[dict]:
    duration_s = 20.0 if quick else 300.0
    rows: list[dict] = []

    builtin = load_codec("builtin")
    speech = looped_speech(builtin.sample_rate, duration_s)
    grid = builtin.encode(speech)
    rows += render_rows(builtin, grid, "real speech, looped", repeats=9, full_repeats=3)
    rows += history_rows(grid, 200 if quick else 1000)

    try:
        from qtok_widgets.codecs.qwen_random import build_random_checkpoint
    except ImportError as exc:  # the Qwen extra is not installed
        rows.append({"codec": "qwen3-12hz", "case": "skipped", "reason": str(exc).splitlines()[0]})
        return rows
    preset = "tiny" if quick else "released"
    with tempfile.TemporaryDirectory() as folder:
        qwen = load_codec(str(build_random_checkpoint(Path(folder) / preset, preset=preset)))
        n_frames = 600 if quick else grid.n_frames  # quick: two of Qwen's 300-frame decode chunks
        rng = np.random.default_rng(2)
        qgrid = CodeGrid(
            rng.integers(0, qwen.codebook_size, size=(qwen.n_layers, n_frames)),
            codec=qwen.name,
            frame_rate=qwen.frame_rate,
            sample_rate=qwen.sample_rate,
            codebook_size=qwen.codebook_size,
        )
        rows += render_rows(
            qwen, qgrid, f"random codes, {preset} preset", repeats=3, full_repeats=1 if quick else 0
        )
    return rows
