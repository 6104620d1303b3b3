"""Editor strips for a one-hour recording: bytes, time for the whole hour, for a visible window and for an edit's span.

The hour is CMU ARCTIC a0007 (24 kHz) repeated; frames are 1920 samples (12.5 Hz), as the
built-in codec and Qwen 12 Hz have. Kernel side only (no browser).

    python benchmarks/bench_strips.py   # prints JSON and writes benchmarks/results/strips.json
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from qtok_widgets.analysis import pitch_range
from qtok_widgets.audio import Audio, load_audio
from qtok_widgets.examples import example_path
from qtok_widgets.widgets._strips import strip_span, strips

SPF = 1920


def main() -> None:
    warnings.simplefilter("ignore")
    clip = load_audio(example_path("arctic_a0007"), target_rate=24000)
    reps = int(3600 / clip.duration) + 1
    hour = Audio(np.tile(clip.samples, reps)[: 3600 * 24000], 24000)
    start = time.perf_counter()
    f0_range = pitch_range(clip)
    whole = strips(hour, SPF, 45_000, f0_range)
    whole_s = time.perf_counter() - start
    spans = []
    for frame in (4500, 22500, 40500):
        start = time.perf_counter()
        strip_span(hour, SPF, whole.cpf, frame, frame + 10, f0_range)
        spans.append(time.perf_counter() - start)
    start = time.perf_counter()
    strip_span(hour, SPF, 8, 22500, 22750, f0_range)
    window_s = time.perf_counter() - start
    out = {
        "machine": platform.platform(),
        "columns_per_frame": whole.cpf,
        "columns": int(whole.mel.shape[1]),
        "bytes_one_version": whole.nbytes,
        "whole_hour_s": whole_s,
        "edit_span_10_frames_s": spans,
        "visible_20s_window_at_8_columns_per_frame_s": window_s,
    }
    print(json.dumps(out, indent=1))
    path = Path(__file__).parent / "results" / "strips.json"
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
