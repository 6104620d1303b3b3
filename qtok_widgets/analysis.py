"""Acoustic analysis for the editor's strips and for notebooks: spectrogram, pitch and energy.

Each function takes audio (an :class:`~qtok_widgets.audio.Audio` or anything
:func:`~qtok_widgets.audio.load_audio` reads), works on a fixed hop of 10 ms by default, and
returns plain numpy arrays with times in seconds (the centre of each analysis frame) so that a
curve can be drawn on the same time axis as the codes grid (``frame / grid.frame_rate``).
Nothing here knows about codecs or widgets: the editor, CodecLab and the notebooks call these
same functions. The spectrogram and energy are computed in blocks, so an hour of audio needs
memory for the result, not for the whole short-time Fourier transform.

Pitch comes from Praat's autocorrelation tracker (``praat-parselmouth``) by default, or from
WORLD's Harvest (``pyworld``, the built-in codec's analyser) with ``method="harvest"``;
``benchmarks/pitch_trackers.py`` measured both (docs/editor.md, "Strips") and says why.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .audio import Audio, load_audio
from .errors import QtokError

__all__ = [
    "PITCH_METHODS",
    "AnalysisError",
    "codebook_colors",
    "codebook_lab",
    "embedding_change",
    "energy",
    "hz_to_semitones",
    "mel_frequencies",
    "pitch",
    "pitch_range",
    "speaker_pitch_range",
    "spectrogram",
]

#: Pitch trackers :func:`pitch` can use.
PITCH_METHODS = ("praat", "harvest")

#: Default analysis hop in seconds (100 frames per second).
HOP_S = 0.010

#: Quietest level reported, in dB relative to full scale (silence is clipped to it).
FLOOR_DB = -100.0

# frames analysed per block (bounds the memory of the STFT of long inputs)
_BLOCK_FRAMES = 4096


class AnalysisError(QtokError):
    """An analysis setting is out of range, or the analyser it needs is missing."""


def _audio(audio: Any) -> Audio:
    return audio if isinstance(audio, Audio) else load_audio(audio)


def _positive(value: Any, name: str, lo: float, hi: float, unit: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        msg = f"{name} must be a number in {lo:g}..{hi:g} {unit}, got {value!r}"
        raise AnalysisError(msg) from None
    if not (math.isfinite(out) and lo <= out <= hi):
        msg = f"{name} must be in {lo:g}..{hi:g} {unit}, got {out:g}"
        raise AnalysisError(msg)
    return out


def _frame_times(n_frames: int, hop: int, sample_rate: int) -> np.ndarray:
    """Centres (s) of frames ``k`` that start at ``k * hop - win // 2`` (centred analysis)."""
    return (np.arange(n_frames, dtype=np.float64) * hop / sample_rate).astype(np.float64)


def _n_frames(n_samples: int, hop: int) -> int:
    return max(1, -(-n_samples // hop))


def _frames(samples: np.ndarray, start: int, stop: int, hop: int, win: int) -> np.ndarray:
    """Windows ``[start, stop)`` of ``win`` samples centred on ``k * hop`` (zero padded), shape (k, win)."""
    half = win // 2
    lo = start * hop - half
    hi = (stop - 1) * hop - half + win
    seg = np.zeros(hi - lo, dtype=np.float32)
    a, b = max(lo, 0), min(hi, samples.size)
    if b > a:
        seg[a - lo : b - lo] = samples[a:b]
    return np.lib.stride_tricks.sliding_window_view(seg, win)[::hop][: stop - start]


def mel_frequencies(n_mels: int, fmin_hz: float, fmax_hz: float) -> np.ndarray:
    """Centre frequencies in Hz of ``n_mels`` bands equally spaced on the mel scale (HTK formula).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_mels,)``, increasing, from just above ``fmin_hz`` to below ``fmax_hz``.
    """
    mels = np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(fmax_hz), n_mels + 2)
    return _mel_to_hz(mels[1:-1])


def _hz_to_mel(hz: Any) -> Any:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel: Any) -> Any:
    return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)


def _mel_filterbank(n_mels: int, n_fft: int, sample_rate: int, fmin_hz: float, fmax_hz: float) -> np.ndarray:
    """Triangular filters, shape ``(n_mels, n_fft // 2 + 1)``, each peaking at 1 on its centre frequency."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin_hz), _hz_to_mel(fmax_hz), n_mels + 2))
    bins = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    lower = (bins[None, :] - edges[:-2, None]) / np.maximum(edges[1:-1, None] - edges[:-2, None], 1e-9)
    upper = (edges[2:, None] - bins[None, :]) / np.maximum(edges[2:, None] - edges[1:-1, None], 1e-9)
    return np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)


def _sparse_rows(fb: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Each filter as (first bin, weights over its non-zero bins): a triangle spans few bins."""
    rows = []
    for row in fb:
        nz = np.flatnonzero(row)
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
        rows.append((lo, row[lo:hi].astype(np.float64)))
    return rows


def _apply_filterbank(rows: list[tuple[int, np.ndarray]], power: np.ndarray) -> np.ndarray:
    """Band powers, shape (n_mels, n_frames), of ``power`` (n_frames, n_bins).

    Sums over each filter's own bins (a few each) instead of a dense product: no BLAS call, whose
    threads can cost tens of milliseconds on a small block when the machine is busy.
    """
    out = np.empty((len(rows), power.shape[0]), dtype=np.float32)
    for b, (lo, w) in enumerate(rows):
        out[b] = (power[:, lo : lo + w.size] * w).sum(axis=1) if w.size else 0.0
    return out


def spectrogram(
    audio: Any,
    *,
    n_mels: int = 80,
    hop_s: float = HOP_S,
    win_s: float = 0.025,
    fmin_hz: float = 0.0,
    fmax_hz: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-mel spectrogram in dB.

    Parameters
    ----------
    audio : Audio or anything :func:`~qtok_widgets.load_audio` reads
        Mono audio at its own sample rate.
    n_mels : int
        Mel bands, 8..256.
    hop_s, win_s : float
        Hop and Hann window length in seconds (hop 1..100 ms, window 5..100 ms).
    fmin_hz, fmax_hz : float
        Band edges in Hz; ``fmax_hz`` defaults to the Nyquist frequency.

    Returns
    -------
    times_s : numpy.ndarray
        float64, shape ``(n_times,)``: centre of each frame in seconds, ``k * hop``;
        ``n_times = ceil(n_samples / hop_samples)``.
    freqs_hz : numpy.ndarray
        float64, shape ``(n_mels,)``: centre frequency of each mel band in Hz.
    db : numpy.ndarray
        float32, shape ``(n_mels, n_times)``: band power in dB relative to a full-scale sine
        (a full-scale sine on a band's centre reads 0 to +2 dB there: the Hann window spreads it
        over three bins), clipped below at :data:`FLOOR_DB`.
    """
    audio = _audio(audio)
    sr = audio.sample_rate
    nyquist = sr / 2
    if not isinstance(n_mels, (int, np.integer)) or isinstance(n_mels, bool) or not 8 <= n_mels <= 256:
        msg = f"n_mels must be an int in 8..256, got {n_mels!r}"
        raise AnalysisError(msg)
    hop = max(1, round(_positive(hop_s, "hop_s", 0.001, 0.1, "s") * sr))
    win = max(2, round(_positive(win_s, "win_s", 0.005, 0.1, "s") * sr))
    fmax = nyquist if fmax_hz is None else _positive(fmax_hz, "fmax_hz", 1.0, nyquist, "Hz")
    fmin = _positive(fmin_hz, "fmin_hz", 0.0, fmax - 1.0, "Hz")
    n_fft = 1 << (win - 1).bit_length()
    window = np.hanning(win + 1)[:-1].astype(np.float32)
    fb_rows = _sparse_rows(_mel_filterbank(int(n_mels), n_fft, sr, fmin, fmax))
    # a full-scale sine gives |X|^2 = (sum(w) / 2)^2 at its bin: that power reads 0 dB
    scale = 1.0 / (float(window.sum()) / 2.0) ** 2
    n_times = _n_frames(audio.n_samples, hop)
    out = np.empty((int(n_mels), n_times), dtype=np.float32)
    for start in range(0, n_times, _BLOCK_FRAMES):
        stop = min(n_times, start + _BLOCK_FRAMES)
        frames = _frames(audio.samples, start, stop, hop, win) * window
        power = np.abs(np.fft.rfft(frames, n_fft, axis=1)) ** 2
        bands = _apply_filterbank(fb_rows, power) * scale
        out[:, start:stop] = np.maximum(10.0 * np.log10(np.maximum(bands, 1e-30)), FLOOR_DB)
    return _frame_times(n_times, hop, sr), mel_frequencies(int(n_mels), fmin, fmax), out


def energy(audio: Any, *, hop_s: float = HOP_S, win_s: float = 0.025) -> tuple[np.ndarray, np.ndarray]:
    """Short-time energy (RMS level) in dB relative to full scale.

    Parameters
    ----------
    audio : Audio or anything :func:`~qtok_widgets.load_audio` reads
    hop_s, win_s : float
        Hop and (rectangular) window length in seconds.

    Returns
    -------
    times_s : numpy.ndarray
        float64, shape ``(n_times,)``: frame centres in seconds, ``k * hop``.
    db : numpy.ndarray
        float32, shape ``(n_times,)``: ``20 * log10(rms)`` (a full-scale square wave reads 0 dB,
        a full-scale sine -3 dB), clipped below at :data:`FLOOR_DB`.
    """
    audio = _audio(audio)
    sr = audio.sample_rate
    hop = max(1, round(_positive(hop_s, "hop_s", 0.001, 0.1, "s") * sr))
    win = max(2, round(_positive(win_s, "win_s", 0.005, 0.1, "s") * sr))
    n_times = _n_frames(audio.n_samples, hop)
    # running sum of squares: the mean over each centred window, without materialising frames
    padded = np.zeros(audio.n_samples + win + 1, dtype=np.float64)
    half = win // 2
    padded[half + 1 : half + 1 + audio.n_samples] = audio.samples.astype(np.float64) ** 2
    cum = np.cumsum(padded)
    starts = np.arange(n_times, dtype=np.int64) * hop
    ms = (cum[starts + win] - cum[starts]) / win
    db = np.maximum(10.0 * np.log10(np.maximum(ms, 1e-30)), FLOOR_DB)
    return _frame_times(n_times, hop, sr), db.astype(np.float32)


def pitch(
    audio: Any,
    *,
    method: str = "praat",
    f0_floor_hz: float = 60.0,
    f0_ceil_hz: float = 500.0,
    hop_s: float = HOP_S,
    two_pass: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Fundamental frequency (F0) track; unvoiced frames are NaN.

    Parameters
    ----------
    audio : Audio or anything :func:`~qtok_widgets.load_audio` reads
    method : {"praat", "harvest"}
        ``"praat"``: Praat's autocorrelation pitch (``praat-parselmouth``), what prosody work
        usually trusts, and the faster of the two; ``"harvest"``: WORLD's Harvest
        (``pyworld``), as the built-in codec analyses speech.
    f0_floor_hz, f0_ceil_hz : float
        Search range in Hz (floor 20..500, ceiling above the floor up to 2000).
    hop_s : float
        Time step in seconds (1..100 ms).
    two_pass : bool
        Track twice: the second pass searches ``0.75 * q25 .. 1.5 * q75`` of the first pass's F0
        (inside the given range), the speaker-adaptive range of De Looze and Hirst; this
        removes most octave jumps at voicing edges.

    Returns
    -------
    times_s : numpy.ndarray
        float64, shape ``(n_times,)``: frame centres in seconds, ``k * hop`` (the same grid as
        :func:`energy` and :func:`spectrogram` with the same ``hop_s``).
    f0_hz : numpy.ndarray
        float32, shape ``(n_times,)``: F0 in Hz, NaN where the frame is unvoiced.
    """
    audio = _audio(audio)
    if method not in PITCH_METHODS:
        msg = f"unknown pitch method {method!r}: use one of {', '.join(repr(m) for m in PITCH_METHODS)}"
        raise AnalysisError(msg)
    floor = _positive(f0_floor_hz, "f0_floor_hz", 20.0, 500.0, "Hz")
    ceil = _positive(f0_ceil_hz, "f0_ceil_hz", floor + 1.0, 2000.0, "Hz")
    hop_s = _positive(hop_s, "hop_s", 0.001, 0.1, "s")
    sr = audio.sample_rate
    n_times = _n_frames(audio.n_samples, max(1, round(hop_s * sr)))
    times = np.arange(n_times, dtype=np.float64) * (max(1, round(hop_s * sr)) / sr)
    if audio.n_samples == 0:
        return times, np.full(n_times, np.nan, dtype=np.float32)
    t, f0 = _track(audio, method, floor, ceil, hop_s)
    narrowed = speaker_pitch_range(f0[f0 > 0], floor, ceil) if two_pass else None
    if narrowed is not None:
        t, f0 = _track(audio, method, *narrowed, hop_s)
    f0 = np.asarray(f0, dtype=np.float64)
    f0[f0 <= 0] = np.nan
    # resample onto the shared frame grid (nearest frame; unvoiced stays NaN)
    out = np.full(n_times, np.nan, dtype=np.float32)
    if np.asarray(t).size:
        src_t = np.asarray(t, dtype=np.float64)
        pos = np.clip(np.searchsorted(src_t, times), 1, max(src_t.size - 1, 1))
        left = np.clip(pos - 1, 0, src_t.size - 1)
        right = np.clip(pos, 0, src_t.size - 1)
        nearest = np.where(np.abs(src_t[left] - times) <= np.abs(src_t[right] - times), left, right)
        close = np.abs(src_t[nearest] - times) <= hop_s
        out[close] = f0[nearest[close]]
    return times, out


def pitch_range(audio: Any, *, method: str = "praat") -> tuple[float, float]:
    """The speaker-adaptive pitch search range of a recording: ``0.75 * q25 .. 1.5 * q75`` Hz.

    The quartiles are of a first pass over 60..500 Hz (De Looze and Hirst's rule, as
    :func:`pitch` with ``two_pass=True`` uses it); ``(60.0, 500.0)`` when fewer than ten frames
    are voiced. Give it to :func:`pitch` as ``f0_floor_hz``/``f0_ceil_hz`` with
    ``two_pass=False`` to track pieces of one recording alike.

    Returns
    -------
    tuple of float
        ``(floor_hz, ceiling_hz)``.
    """
    _, f0 = pitch(audio, method=method, two_pass=False)
    return speaker_pitch_range(f0[~np.isnan(f0)], 60.0, 500.0) or (60.0, 500.0)


def speaker_pitch_range(voiced_hz: np.ndarray, floor_hz: float, ceil_hz: float) -> tuple[float, float] | None:
    """De Looze and Hirst's speaker-adaptive range from a first pass: ``0.75 * q25 .. 1.5 * q75``.

    Parameters
    ----------
    voiced_hz : numpy.ndarray
        F0 of the voiced frames of the first pass, Hz, shape ``(n_voiced,)``.
    floor_hz, ceil_hz : float
        The first pass's search range; the result stays inside it.

    Returns
    -------
    tuple of float or None
        ``(floor_hz, ceiling_hz)`` for a second pass, or None when fewer than ten frames are
        voiced or the range would span less than a factor 1.5 (keep the first pass).
    """
    if voiced_hz.size < 10:
        return None
    q25, q75 = np.percentile(voiced_hz, [25, 75])
    floor, ceil = max(floor_hz, 0.75 * float(q25)), min(ceil_hz, 1.5 * float(q75))
    return (floor, ceil) if ceil > floor * 1.5 else None


def _track(
    audio: Audio, method: str, floor: float, ceil: float, hop_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Times (s) and F0 (Hz, 0 when unvoiced) from one tracker, on its own frame grid."""
    if method == "harvest":
        from .codecs._world import world

        x = audio.samples.astype(np.float64)
        f0, t = world().harvest(
            x, audio.sample_rate, f0_floor=floor, f0_ceil=ceil, frame_period=hop_s * 1000.0
        )
        return np.asarray(t, dtype=np.float64), np.asarray(f0, dtype=np.float64)
    return _praat_pitch(audio, floor, ceil, hop_s)


def _praat_pitch(audio: Audio, floor: float, ceil: float, hop_s: float) -> tuple[np.ndarray, np.ndarray]:
    try:
        import parselmouth
    except ImportError:
        msg = "pitch(method='praat') needs praat-parselmouth: pip install praat-parselmouth (or use method='harvest')"
        raise AnalysisError(msg) from None
    sound = parselmouth.Sound(audio.samples.astype(np.float64), sampling_frequency=audio.sample_rate)
    track = sound.to_pitch_ac(time_step=hop_s, pitch_floor=floor, pitch_ceiling=ceil)
    return np.asarray(track.xs(), dtype=np.float64), np.asarray(
        track.selected_array["frequency"], dtype=np.float64
    )


def hz_to_semitones(f0_hz: np.ndarray, reference_hz: float = 100.0) -> np.ndarray:
    """F0 in semitones relative to ``reference_hz`` (NaN stays NaN).

    Returns
    -------
    numpy.ndarray
        float32, same shape as ``f0_hz``: ``12 * log2(f0 / reference_hz)``.
    """
    ref = _positive(reference_hz, "reference_hz", 1.0, 2000.0, "Hz")
    f0 = np.asarray(f0_hz, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 12.0 * np.log2(f0 / ref)
    out[~(f0 > 0)] = np.nan
    return out.astype(np.float32)


# ---------------------------------------------------------------------------- colour by meaning
def codebook_lab(vectors: np.ndarray) -> np.ndarray:
    """The CIELAB coordinates :func:`codebook_colors` gives each code (before conversion to sRGB).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(codebook_size, 3)``: L* in 35..85, a* and b* in -55..55.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or not np.all(np.isfinite(x)):
        msg = f"codebook vectors must be a finite array of shape (codebook_size, dim), got shape {x.shape}"
        raise AnalysisError(msg)
    x = x - x.mean(axis=0)
    # principal axes from the (dim x dim) covariance: cheap for any codebook size
    eigval, eigvec = np.linalg.eigh(x.T @ x)
    vt = eigvec[:, np.argsort(eigval)[::-1][:3]].T
    signs = np.sign(vt[np.arange(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
    vt = vt * np.where(signs == 0, 1.0, signs)[:, None]
    proj = np.zeros((x.shape[0], 3))
    proj[:, : vt.shape[0]] = x @ vt.T
    scale = np.percentile(np.abs(proj), 99, axis=0)
    unit = np.clip(proj / np.where(scale > 0, scale, 1.0), -1.0, 1.0)
    return np.stack([60.0 + 25.0 * unit[:, 0], 55.0 * unit[:, 1], 55.0 * unit[:, 2]], axis=1)


def codebook_colors(vectors: np.ndarray) -> np.ndarray:
    """One sRGB colour per code, so that codes with close vectors get close colours.

    The vectors are centred and projected on their first three principal components; the first
    sets lightness (CIELAB L* 35..85), the second and third the a* and b* axes (up to +-55),
    each scaled by its 99th percentile of absolute value so that a few outliers do not wash out
    the rest. CIELAB is perceptually uniform, so distance in colour follows distance in the
    projection. The result depends only on the vectors (component signs are fixed so that each
    component's largest loading is positive), so the same codebook always gets the same colours.

    Parameters
    ----------
    vectors : numpy.ndarray
        float, shape ``(codebook_size, dim)``, as :meth:`Codec.codebook
        <qtok_widgets.codecs.base.Codec.codebook>` returns.

    Returns
    -------
    numpy.ndarray
        uint8, shape ``(codebook_size, 3)``: sRGB colours.
    """
    return _lab_to_srgb8(codebook_lab(vectors))


def _lab_to_srgb8(lab: np.ndarray) -> np.ndarray:
    """CIELAB (D65) to 8-bit sRGB, out-of-gamut colours clipped."""
    fy = (lab[:, 0] + 16.0) / 116.0
    fx = fy + lab[:, 1] / 500.0
    fz = fy - lab[:, 2] / 200.0
    eps = 6.0 / 29.0

    def inv(f: np.ndarray) -> np.ndarray:
        return np.where(f > eps, f**3, 3 * eps**2 * (f - 4.0 / 29.0))

    xyz = np.stack([0.95047 * inv(fx), inv(fy), 1.08883 * inv(fz)], axis=1)
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    rgb = np.clip(xyz @ m.T, 0.0, 1.0)
    srgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)
    return np.rint(np.clip(srgb, 0, 1) * 255).astype(np.uint8)


def embedding_change(codec: Any, original: Any, edited: Any) -> np.ndarray:
    """How far each edited cell moved in codebook space from the original cell.

    Parameters
    ----------
    codec : Codec
        With :meth:`~qtok_widgets.codecs.base.Codec.codebook`.
    original, edited : CodeGrid
        Same shape ``(n_layers, n_frames)`` (compare a timing-edited grid frame by frame first).

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n_layers, n_frames)``: Euclidean distance between the two cells'
        code vectors, divided by the layer's median distance between codes (1.0 = a typical
        jump); a masked cell on one side only counts as the layer's largest distance.
    """
    if original.shape != edited.shape:
        msg = f"grids must have the same shape, got {original.shape} and {edited.shape}"
        raise AnalysisError(msg)
    out = np.zeros(edited.shape, dtype=np.float32)
    rng = np.random.default_rng(0)
    for layer in range(edited.n_layers):
        book = codec.codebook(layer).astype(np.float32)
        a = rng.integers(0, book.shape[0], 512)
        b = rng.integers(0, book.shape[0], 512)
        typical = float(np.median(np.linalg.norm(book[a] - book[b], axis=1))) or 1.0
        d = np.linalg.norm(book[original.codes[layer]] - book[edited.codes[layer]], axis=1) / typical
        masked = original.mask[layer] != edited.mask[layer]
        d[masked] = float(np.linalg.norm(book - book.mean(0), axis=1).max() * 2 / typical)
        out[layer] = d
    return out
