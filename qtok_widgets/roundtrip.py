"""The one-click round trip: encode, decode, time both steps and compare with the original.

:func:`roundtrip` is what the one-click mode of :class:`~qtok_widgets.CodecLab`, the server
page (``POST /qtok/api/roundtrip``) and ``qtok roundtrip`` all run: encode with a codec, decode
the codes, time both steps and compare the result with the original through
:func:`qtok_widgets.metrics.compare`. The summaries its views show (waveform envelopes, the
code preview) live in :mod:`qtok_widgets.stats`; ``envelope`` and ``code_preview`` are
importable from here too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .audio import Audio, load_audio
from .codecs.base import Codec, ProgressCallback
from .grid import CodeGrid
from .stats import code_preview, envelope

__all__ = ["RoundTrip", "code_preview", "envelope", "roundtrip"]


@dataclass(frozen=True)
class RoundTrip:
    """Result of :func:`roundtrip`.

    Attributes
    ----------
    original : Audio
        The input as loaded, at its own rate.
    grid : CodeGrid
        Codes, shape ``(n_layers, n_frames)``.
    reconstructed : Audio
        ``codec.decode(grid)`` at the codec's rate, ``grid.n_samples`` long.
    encode_s, decode_s : float
        Wall-clock seconds of the two steps.
    metrics : dict
        :func:`qtok_widgets.metrics.compare` of original and reconstruction (``snr_db``,
        ``lsd_db``, ``mcd_db``, ...); empty when ``compare=False``.
    """

    original: Audio
    grid: CodeGrid
    reconstructed: Audio
    encode_s: float
    decode_s: float
    metrics: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers: codec, shape, durations, timings and metrics (no arrays)."""
        return {
            "codec": self.grid.codec,
            "shape": [self.grid.n_layers, self.grid.n_frames],
            "duration_s": self.original.duration,
            "reconstructed_duration_s": self.reconstructed.duration,
            "sample_rate": self.reconstructed.sample_rate,
            "encode_s": self.encode_s,
            "decode_s": self.decode_s,
            "metrics": {k: _finite_or_none(v) for k, v in self.metrics.items()},
        }


def roundtrip(
    codec: Codec,
    source: Any,
    *,
    progress: ProgressCallback | None = None,
    compare: bool = True,
    with_pesq: bool = False,
) -> RoundTrip:
    """Encode ``source`` with ``codec``, decode the codes and compare the result with the input.

    Parameters
    ----------
    codec : Codec
        The codec to run.
    source : Audio or anything :func:`~qtok_widgets.load_audio` reads
        The input speech.
    progress : callable, optional
        ``progress(done, total)``: encoding reports its own steps (when the codec does) as the
        first half of ``total``, decoding completes the second half.
    compare : bool
        Compute :func:`qtok_widgets.metrics.compare` (SNR plus phase-blind measures).
    with_pesq : bool
        Include PESQ-WB in the metrics (slower; None when the package is missing).

    Returns
    -------
    RoundTrip
    """
    original = source if isinstance(source, Audio) else load_audio(source)

    def encode_progress(done: int, total: int) -> None:
        if progress is not None and total > 0:
            progress(done, 2 * total)

    t0 = time.perf_counter()
    grid = codec.encode(original, progress=encode_progress if progress is not None else None)
    t1 = time.perf_counter()
    if progress is not None:
        progress(1, 2)
    reconstructed = codec.decode(grid)
    t2 = time.perf_counter()
    if progress is not None:
        progress(2, 2)
    metrics: dict[str, Any] = {}
    if compare:
        from .metrics import compare as compare_audio

        metrics = compare_audio(original, reconstructed, with_pesq=with_pesq)
    return RoundTrip(original, grid, reconstructed, t1 - t0, t2 - t1, metrics)


def _finite_or_none(value: Any) -> Any:
    """JSON has no inf/NaN: turn them into None, keep everything else."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
