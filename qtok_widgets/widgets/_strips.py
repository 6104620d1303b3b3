"""Strip data for the editor: spectrogram, pitch and energy on the grid's time axis, quantised for the wire.

The editor shows acoustic strips aligned with the code grid. This module computes them in the
kernel with :mod:`qtok_widgets.analysis` and packs them small: ``cpf`` columns per code frame
(the level of detail: 8 for short clips, down to 1 for an hour, so that a strip never has more
than :data:`MAX_COLUMNS` columns), the spectrogram as uint8 dB, the pitch as uint16 tenths of a
hertz (0 = unvoiced) and the energy as uint8 dB. Column ``c`` is centred on time
``(c + 0.5) / (frame_rate * cpf)`` seconds (``cpf`` divides the samples per frame, so columns
fall on whole samples), and frame ``f`` covers columns ``f * cpf .. (f + 1) * cpf - 1`` exactly,
as the grid's column ``f`` covers ``[f, f + 1) / frame_rate``.

:func:`strip_span` recomputes only the columns of the frames an edit re-rendered (with enough
audio around them for the analysis windows), so an edit costs the analysis of its span, not
of the recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import analysis
from ..audio import Audio

__all__ = ["MAX_COLUMNS", "N_MELS", "Strips", "columns_per_frame", "strip_span", "strips"]

#: Most columns a strip holds (the level of detail drops to keep under it).
MAX_COLUMNS = 65536
#: Mel bands of the spectrogram strip.
N_MELS = 48
#: dB range the uint8 spectrogram and energy cover: 0 is ``DB_LOW`` or below, 255 is 0 dBFS.
DB_LOW = -90.0
# analysis context (s) taken around a recomputed span: longer than any window, and enough for
# the pitch tracker to settle
_CONTEXT_S = 0.25


@dataclass(frozen=True)
class Strips:
    """Quantised strips over columns ``[start, stop)``.

    Attributes
    ----------
    cpf : int
        Columns per code frame.
    start, stop : int
        Column range held (``start = first_frame * cpf``).
    mel : numpy.ndarray
        uint8, shape ``(N_MELS, stop - start)``: ``(dB - DB_LOW) / -DB_LOW * 255``, low band first.
    f0 : numpy.ndarray
        uint16, shape ``(stop - start,)``: F0 in tenths of Hz, 0 where unvoiced.
    energy : numpy.ndarray
        uint8, shape ``(stop - start,)``: energy in dB, scaled as ``mel``.
    """

    cpf: int
    start: int
    stop: int
    mel: np.ndarray
    f0: np.ndarray
    energy: np.ndarray

    @property
    def nbytes(self) -> int:
        """Bytes of the three arrays (what crosses the wire as binary buffers)."""
        return int(self.mel.nbytes + self.f0.nbytes + self.energy.nbytes)


def columns_per_frame(n_frames: int, samples_per_frame: int) -> int:
    """Level of detail: columns per frame, 1..8, a divisor of ``samples_per_frame``, at most :data:`MAX_COLUMNS` columns."""
    limit = int(max(1, min(8, MAX_COLUMNS // max(1, n_frames))))
    return next(c for c in range(limit, 0, -1) if samples_per_frame % c == 0)


def _db8(db: np.ndarray) -> np.ndarray:
    return np.rint(np.clip((db - DB_LOW) / -DB_LOW, 0.0, 1.0) * 255).astype(np.uint8)


def strip_span(
    audio: Audio,
    samples_per_frame: int,
    cpf: int,
    first_frame: int,
    stop_frame: int,
    f0_range_hz: tuple[float, float] = (60.0, 500.0),
) -> Strips:
    """Strips of frames ``[first_frame, stop_frame)`` of ``audio`` at ``cpf`` columns per frame.

    Parameters
    ----------
    audio : Audio
        The whole recording (original or edited), mono, at the codec's sample rate.
    samples_per_frame : int
        Audio samples per code frame (``codec.samples_per_frame``).
    cpf : int
        Columns per frame, a divisor of ``samples_per_frame`` (:func:`columns_per_frame`).
    first_frame, stop_frame : int
        Frame range, ``0 <= first_frame < stop_frame``.
    f0_range_hz : (float, float)
        Pitch search range; give every span of one recording the same range
        (:func:`qtok_widgets.analysis.pitch_range` of the original) so spans agree.

    Returns
    -------
    Strips
        Columns ``first_frame * cpf .. stop_frame * cpf``. The spectrogram and energy columns
        equal those of the whole recording's strips exactly; pitch agrees except where the
        tracker's path depends on audio more than a quarter second away.
    """
    sr = audio.sample_rate
    hop = samples_per_frame // cpf
    ctx = -(-round(_CONTEXT_S * sr) // hop)  # context columns on each side
    first_col, stop_col = first_frame * cpf, stop_frame * cpf
    # analysis frame k of the piece is centred on column (first_col - ctx + k)'s centre
    a = (first_col - ctx) * hop + hop // 2
    b = a + (stop_col - first_col + 2 * ctx) * hop
    piece_samples = np.zeros(b - a, dtype=np.float32)
    lo, hi = max(a, 0), min(b, audio.n_samples)
    if hi > lo:
        piece_samples[lo - a : hi - a] = audio.samples[lo:hi]
    piece = Audio(piece_samples, sr)
    hop_s = hop / sr
    win_s = min(0.1, max(0.025, hop_s))
    cols = slice(ctx, ctx + stop_col - first_col)
    _, _, mel = analysis.spectrogram(piece, n_mels=N_MELS, hop_s=hop_s, win_s=win_s)
    _, energy = analysis.energy(piece, hop_s=hop_s, win_s=win_s)
    _, f0 = analysis.pitch(
        piece, hop_s=hop_s, f0_floor_hz=f0_range_hz[0], f0_ceil_hz=f0_range_hz[1], two_pass=False
    )
    f0 = f0[cols]
    return Strips(
        cpf=cpf,
        start=first_col,
        stop=stop_col,
        mel=_db8(mel[:, cols]),
        f0=np.where(np.isnan(f0), 0, np.rint(np.clip(np.nan_to_num(f0), 0, 6553.5) * 10)).astype(np.uint16),
        energy=_db8(energy[cols]),
    )


def strips(
    audio: Audio, samples_per_frame: int, n_frames: int, f0_range_hz: tuple[float, float] = (60.0, 500.0)
) -> Strips:
    """Strips of a whole recording of ``n_frames`` code frames, at the level of detail it allows."""
    return strip_span(
        audio, samples_per_frame, columns_per_frame(n_frames, samples_per_frame), 0, n_frames, f0_range_hz
    )
