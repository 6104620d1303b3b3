"""The one-click round trip and its summaries (envelope, code preview), with the built-in codec."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from qtok_widgets import load_audio, load_codec
from qtok_widgets.roundtrip import RoundTrip, code_preview, envelope, roundtrip


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


def test_envelope_bins_min_and_max():
    x = np.array([0.0, -1.0, 2.0, 3.0, -4.0, 5.0], np.float32)
    lo, hi = envelope(x, 3)
    assert lo.tolist() == [-1.0, 2.0, -4.0]
    assert hi.tolist() == [0.0, 3.0, 5.0]
    lo, hi = envelope(x, 100)  # never more bins than samples
    assert lo.size == hi.size == 6
    assert envelope(np.zeros(0, np.float32))[0].size == 0


def test_code_preview_first_and_last(codec, speech_path):
    grid = codec.encode(load_audio(speech_path))
    preview = code_preview(grid, 5)
    assert preview["first"] == grid.codes[:, :5].tolist()
    assert preview["last"] == grid.codes[:, -5:].tolist()
    assert len(preview["first"]) == 16
