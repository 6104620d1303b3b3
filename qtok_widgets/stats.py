"""Numbers that summarise a code grid or a signal: code usage, entropy, a preview, envelopes.

The one place these are computed; the CLI (``qtok info``, ``qtok encode``), the lab, the
server, the editor's wire format and the plotly figures of :mod:`qtok_widgets.widgets.stats`
all call these functions and only format or draw what they return. Pure functions of numpy
arrays and :class:`~qtok_widgets.grid.CodeGrid`; nothing here imports a plotting or widget
library.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grid import CodeGrid

__all__ = [
    "code_counts",
    "code_preview",
    "codebook_utilisation",
    "envelope",
    "layer_entropy",
    "layer_usage",
]


def code_counts(grid: CodeGrid) -> np.ndarray:
    """How often each code occurs in each layer, over unmasked cells.

    Returns
    -------
    numpy.ndarray
        int64, shape ``(n_layers, codebook_size)``.
    """
    out = np.zeros((grid.n_layers, grid.codebook_size), dtype=np.int64)
    for layer in range(grid.n_layers):
        keep = ~grid.mask[layer]
        out[layer] = np.bincount(grid.codes[layer, keep], minlength=grid.codebook_size)
    return out


def _entropy_bits(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of ``counts`` ``(n_rows, n_codes)``; 0 for empty rows."""
    counts = counts.astype(np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    p = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=1)


def layer_entropy(grid: CodeGrid) -> np.ndarray:
    """Entropy in bits of each layer's code distribution (unmasked cells).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_layers,)``; at most ``log2(codebook_size)`` (11 bits for 2048
        codes), 0 for a layer whose cells are all masked.
    """
    return _entropy_bits(code_counts(grid))


def codebook_utilisation(grid: CodeGrid) -> np.ndarray:
    """Fraction of each layer's codebook that occurs at least once (unmasked cells).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_layers,)``, in 0..1.
    """
    return (code_counts(grid) > 0).sum(axis=1) / grid.codebook_size


def layer_usage(grid: CodeGrid) -> list[dict[str, Any]]:
    """Per-layer code statistics over unmasked cells, as rows for a table or JSON.

    Returns
    -------
    list of dict
        One per layer: ``layer``, ``distinct`` (distinct codes used), ``entropy_bits``
        (:func:`layer_entropy`) and ``masked`` (number of masked cells).
    """
    counts = code_counts(grid)
    entropy = _entropy_bits(counts)
    masked = grid.mask.sum(axis=1)
    return [
        {
            "layer": layer,
            "distinct": int(np.count_nonzero(counts[layer])),
            "entropy_bits": float(entropy[layer]),
            "masked": int(masked[layer]),
        }
        for layer in range(grid.n_layers)
    ]


def code_preview(grid: CodeGrid, n: int = 5) -> dict[str, list[list[int]]]:
    """The first and last ``n`` codes of every layer.

    Returns
    -------
    dict
        ``{"first": [[...n codes...] per layer], "last": [...]}``; fewer than ``n`` codes per
        layer when the grid is shorter (none for an empty grid).
    """
    codes = grid.codes
    return {
        "first": codes[:, :n].tolist(),
        "last": codes[:, max(0, grid.n_frames - n) :].tolist(),
    }


def envelope(
    samples: np.ndarray, n_bins: int = 1000, *, n_samples: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``samples`` over ``n_bins`` equal bins, for drawing a waveform.

    Bin ``i`` covers samples ``[i * n // n_bins, (i + 1) * n // n_bins)`` with ``n`` the
    covered length, so bins of a whole number of samples line up exactly (4 bins of 480
    samples per 1920-sample code frame).

    Parameters
    ----------
    samples : numpy.ndarray
        float, shape ``(n_samples,)``.
    n_bins : int
        Number of bins (at most the covered length).
    n_samples : int, optional
        Length to cover: ``samples`` are cut to it or padded with silence (zeros) first.
        Default: ``samples.shape[0]``.

    Returns
    -------
    mins, maxs : numpy.ndarray
        float32, shape ``(min(n_bins, n),)`` each; empty when ``n`` is 0.
    """
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    if n_samples is not None and n_samples != x.size:
        covered = np.zeros(max(0, int(n_samples)), dtype=np.float32)
        keep = min(covered.size, x.size)
        covered[:keep] = x[:keep]
        x = covered
    if x.size == 0:
        empty = np.zeros(0, np.float32)
        return empty, empty
    n = max(1, min(int(n_bins), x.size))
    starts = np.arange(n, dtype=np.int64) * x.size // n
    return np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts)
