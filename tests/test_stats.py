"""The numbers behind the views: code usage, entropy, the code preview and waveform envelopes."""

from __future__ import annotations

import numpy as np
import pytest

from qtok_widgets.grid import CodeGrid
from qtok_widgets.stats import (
    code_counts,
    code_preview,
    codebook_utilisation,
    envelope,
    layer_entropy,
    layer_usage,
)


@pytest.fixture(scope="module")
def grid(speech_roundtrip) -> CodeGrid:
    return speech_roundtrip[0]


def _small() -> CodeGrid:
    codes = np.array([[0, 1, 2, 3], [5, 5, 5, 5], [7, 7, 1, 1]])
    mask = np.zeros(codes.shape, bool)
    mask[2, :2] = True
    return _grid(codes, mask, codebook_size=8)


def _grid(codes: np.ndarray, mask: np.ndarray, codebook_size: int) -> CodeGrid:
    return CodeGrid(
        codes, codec="test", frame_rate=12.5, sample_rate=24000, codebook_size=codebook_size, mask=mask
    )


def test_counts_entropy_and_usage_by_hand():
    grid = _small()
    counts = code_counts(grid)
    assert counts.shape == (3, 8)
    assert counts[0].tolist() == [1, 1, 1, 1, 0, 0, 0, 0]
    assert counts[1, 5] == 4 and counts[1].sum() == 4
    assert counts[2].tolist() == [0, 2, 0, 0, 0, 0, 0, 0]  # masked 7s left out
    assert layer_entropy(grid).tolist() == [2.0, 0.0, 0.0]
    assert codebook_utilisation(grid).tolist() == [0.5, 0.125, 0.125]
    rows = layer_usage(grid)
    assert rows[0] == {"layer": 0, "distinct": 4, "entropy_bits": 2.0, "masked": 0}
    assert rows[2] == {"layer": 2, "distinct": 1, "entropy_bits": 0.0, "masked": 2}


def test_fully_masked_layer_has_no_usage():
    grid = _grid(np.zeros((2, 3), int), np.ones((2, 3), bool), codebook_size=4)
    assert layer_entropy(grid).tolist() == [0.0, 0.0]
    assert [row["distinct"] for row in layer_usage(grid)] == [0, 0]
    assert [row["masked"] for row in layer_usage(grid)] == [3, 3]


def test_usage_agrees_with_entropy_on_speech(grid):
    entropy = layer_entropy(grid)
    assert ((entropy > 0) & (entropy <= np.log2(grid.codebook_size))).all()
    rows = layer_usage(grid)
    assert [row["entropy_bits"] for row in rows] == pytest.approx(entropy.tolist())
    assert [row["distinct"] for row in rows] == (code_counts(grid) > 0).sum(axis=1).tolist()


def test_code_preview_first_and_last(grid):
    preview = code_preview(grid, 5)
    assert preview["first"] == grid.codes[:, :5].tolist()
    assert preview["last"] == grid.codes[:, -5:].tolist()
    assert len(preview["first"]) == 16
    short = code_preview(_small(), 10)  # shorter than n: every code, once each side
    assert short["first"] == short["last"] == _small().codes.tolist()


def test_envelope_bins_min_and_max():
    x = np.array([0.0, -1.0, 2.0, 3.0, -4.0, 5.0], np.float32)
    lo, hi = envelope(x, 3)
    assert lo.tolist() == [-1.0, 2.0, -4.0]
    assert hi.tolist() == [0.0, 3.0, 5.0]
    lo, hi = envelope(x, 100)  # never more bins than samples
    assert lo.size == hi.size == 6
    assert envelope(np.zeros(0, np.float32))[0].size == 0


def test_envelope_covers_a_given_length():
    x = np.array([0.5, -0.5, 0.25], np.float32)
    lo, hi = envelope(x, 4, n_samples=8)  # padded with silence: bins of 2 samples
    assert lo.tolist() == [-0.5, 0.0, 0.0, 0.0]
    assert hi.tolist() == [0.5, 0.25, 0.0, 0.0]
    lo, hi = envelope(x, 1, n_samples=2)  # cut
    assert (lo.tolist(), hi.tolist()) == ([-0.5], [0.5])
    assert lo.dtype == np.float32
