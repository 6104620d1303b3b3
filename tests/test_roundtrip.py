"""The one-click round trip, with the built-in codec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qtok_widgets import load_audio, load_codec
from qtok_widgets.audio import Audio
from qtok_widgets.roundtrip import RoundTrip, roundtrip


@pytest.fixture(scope="module")
def codec():
    return load_codec("builtin")


def test_roundtrip_matches_encode_then_decode(codec, speech_path):
    steps: list[tuple[int, int]] = []
    rt = roundtrip(codec, speech_path, progress=lambda done, total: steps.append((done, total)))
    grid = codec.encode(load_audio(speech_path))
    assert rt.grid == grid
    assert np.array_equal(rt.reconstructed.samples, codec.decode(grid).samples)
    assert rt.original.sample_rate == 16000
    assert rt.encode_s > 0 and rt.decode_s > 0
    assert {"snr_db", "lsd_db", "mcd_db"} <= set(rt.metrics)
    assert steps[-1] == (2, 2)
    fractions = [done / total for done, total in steps]
    assert fractions == sorted(fractions)


def test_summary_is_json_without_infinities(codec, speech_path):
    rt = roundtrip(codec, speech_path, compare=False)
    assert rt.metrics == {}
    identical = RoundTrip(
        rt.original, rt.grid, rt.reconstructed, 0.1, 0.2, {"snr_db": math.inf, "lsd_db": 0.0}
    )
    summary = json.loads(json.dumps(identical.summary(), allow_nan=False))
    assert summary["metrics"] == {"snr_db": None, "lsd_db": 0.0}
    assert summary["shape"] == [16, rt.grid.n_frames]
    assert summary["duration_s"] == pytest.approx(4.0)


def test_clip_too_short_for_stoi_is_measured_without_it(codec, speech_path):
    clip = load_audio(speech_path)
    short = Audio(clip.samples[: int(0.025 * clip.sample_rate)], clip.sample_rate)  # 25 ms
    rt = roundtrip(codec, short, with_pesq=True)
    assert rt.grid.n_frames == 1
    assert rt.metrics["stoi"] is None and rt.metrics["pesq_wb"] is None
    assert len(rt.metrics["notes"]) == 2
    summary = json.loads(json.dumps(rt.summary(), allow_nan=False))
    assert summary["metrics"]["notes"] == rt.metrics["notes"]
    assert summary["metrics"]["lsd_db"] > 0
