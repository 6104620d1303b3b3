"""Objective measures of how close a decoded signal is to the original.

A codec that resynthesises speech (the built-in WORLD-based codec, any vocoder) does not keep
the waveform's phase, so waveform SNR says little about it: such a codec scores around 0 dB
or below while being perfectly intelligible. Every place that shows SNR therefore also shows
measures that ignore phase: log-spectral distance (:func:`log_spectral_distance`), mel-cepstral
distortion (:func:`mel_cepstral_distortion`), STOI (:func:`stoi`) and PESQ-WB (:func:`pesq_wb`)
when their packages are installed. :func:`compare` computes them all for two :class:`Audio`.

All functions take mono float arrays of shape ``(n_samples,)``; when the two lengths differ
the longer one is cut to the shorter (from the end) before measuring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .audio import Audio
from .errors import AudioError

__all__ = [
    "STOI_MIN_S",
    "aligned_snr_db",
    "compare",
    "log_spectral_distance",
    "mel_cepstral_distortion",
    "pesq_wb",
    "snr_db",
    "stoi",
]

#: Default search range of :func:`aligned_snr_db`, in milliseconds either side of zero lag.
DEFAULT_MAX_LAG_MS = 5.0
# spectral floor, relative to the loudest STFT bin of the reference: -80 dB
_FLOOR_DB = -80.0
# frames quieter than this (relative to the loudest reference frame) are left out of MCD
_MCD_ACTIVE_DB = -40.0
_MCD_N_MELS = 64
_MCD_ORDER = 24


def _pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both signals as float64 1-D arrays cut to the shorter length."""
    ref = np.asarray(reference.samples if isinstance(reference, Audio) else reference, dtype=np.float64)
    est = np.asarray(estimate.samples if isinstance(estimate, Audio) else estimate, dtype=np.float64)
    for name, arr in (("reference", ref), ("estimate", est)):
        if arr.ndim != 1:
            msg = f"{name} must be a mono signal of shape (n_samples,), got shape {arr.shape}"
            raise AudioError(msg)
        if arr.size == 0:
            msg = f"{name} has zero samples"
            raise AudioError(msg)
        if not np.all(np.isfinite(arr)):
            msg = f"{name} contains NaN/Inf samples; all samples must be finite"
            raise AudioError(msg)
    n = min(ref.size, est.size)
    return ref[:n], est[:n]


def _snr(ref: np.ndarray, est: np.ndarray) -> float:
    signal = float(np.dot(ref, ref))
    error = float(np.dot(ref - est, ref - est))
    if error == 0.0:
        return math.inf if signal > 0.0 else math.nan
    if signal == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal / error)


def snr_db(reference: Any, estimate: Any) -> float:
    """Plain waveform signal-to-noise ratio in dB, with no shift and no gain.

    ``10 * log10(sum(reference**2) / sum((reference - estimate)**2))``.

    Parameters
    ----------
    reference, estimate : numpy.ndarray or Audio
        Mono signals, shape ``(n_samples,)``, at the same rate.

    Returns
    -------
    float
        dB; ``inf`` for identical signals, ``-inf`` for a silent reference, ``nan`` when both
        are silent.
    """
    ref, est = _pair(reference, estimate)
    return _snr(ref, est)


def _best_lag(ref: np.ndarray, est: np.ndarray, max_lag: int) -> int:
    """Lag ``k`` in ``[-max_lag, max_lag]`` maximising ``sum_n ref[n] * est[n + k]``.

    Computed block by block with FFTs of about ``2**16`` samples, so memory stays constant
    however long the signals are (``est`` counts as zero outside its range).
    """
    if max_lag <= 0:
        return 0
    span = 2 * max_lag
    block = max(1 << 16, 4 * span)
    n_fft = 1 << (block + span - 1).bit_length()
    total = np.zeros(span + 1)
    for start in range(0, ref.size, block):
        r = ref[start : start + block]
        # est[start - max_lag : start + len(r) + max_lag], zero outside est
        lo, hi = start - max_lag, start + r.size + max_lag
        seg = np.zeros(hi - lo)
        seg[max(0, -lo) : seg.size - max(0, hi - est.size)] = est[max(0, lo) : min(hi, est.size)]
        corr = np.fft.irfft(np.fft.rfft(seg, n_fft) * np.conj(np.fft.rfft(r, n_fft)), n_fft)
        total += corr[: span + 1]  # corr[m] = sum_i r[i] * seg[i + m], lag m - max_lag
    return int(np.argmax(total)) - max_lag


def _shift(est: np.ndarray, lag: int) -> np.ndarray:
    """``out[n] = est[n + lag]``, zero where that index falls outside ``est``."""
    out = np.zeros_like(est)
    if lag >= 0:
        out[: est.size - lag] = est[lag:]
    else:
        out[-lag:] = est[: est.size + lag]
    return out


def aligned_snr_db(
    reference: Any, estimate: Any, sample_rate: int, max_lag_ms: float = DEFAULT_MAX_LAG_MS
) -> tuple[float, int]:
    """Waveform SNR in dB after shifting ``estimate`` by the best whole-sample lag.

    The lag ``k`` is the one, within ``±max_lag_ms``, that maximises the cross-correlation
    ``sum_n reference[n] * estimate[n + k]`` (computed with an FFT). ``estimate`` is then shifted
    by ``k`` samples (zeros fill the samples shifted in) and compared with ``reference`` over
    the reference's full length. No gain is fitted: a codec that changes the level is charged
    for it. With a lag of 0 this equals :func:`snr_db`.

    Parameters
    ----------
    reference, estimate : numpy.ndarray or Audio
        Mono signals, shape ``(n_samples,)``, at ``sample_rate``.
    sample_rate : int
        Hz; converts ``max_lag_ms`` to samples.
    max_lag_ms : float
        Largest shift searched, in ms either way (default 5 ms, 120 samples at 24 kHz).

    Returns
    -------
    snr_db : float
        SNR in dB at the best lag.
    lag : int
        Samples by which ``estimate`` lags ``reference`` (positive: the estimate is late).
    """
    if sample_rate <= 0:
        msg = f"sample_rate must be > 0 Hz, got {sample_rate}"
        raise AudioError(msg)
    if not (max_lag_ms >= 0):
        msg = f"max_lag_ms must be >= 0, got {max_lag_ms}"
        raise AudioError(msg)
    ref, est = _pair(reference, estimate)
    max_lag = min(round(max_lag_ms * sample_rate / 1000.0), ref.size - 1)
    lag = _best_lag(ref, est, max_lag)
    return _snr(ref, _shift(est, lag)), lag


_BLOCK_FRAMES = 2048


def _stft_size(sample_rate: int) -> tuple[int, int]:
    """``(n_fft, hop)``: a Hann window of ``2**ceil(log2(0.032 * sample_rate))`` and a quarter hop."""
    n_fft = 1 << math.ceil(math.log2(max(16, 0.032 * sample_rate)))
    return n_fft, n_fft // 4


def _power_blocks(x: np.ndarray, sample_rate: int):
    """Power spectrogram in blocks of up to 2048 frames, each ``(frames, n_fft // 2 + 1)``."""
    n_fft, hop = _stft_size(sample_rate)
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    window = np.hanning(n_fft)
    for start in range(0, frames.shape[0], _BLOCK_FRAMES):
        spec = np.fft.rfft(frames[start : start + _BLOCK_FRAMES] * window, axis=1)
        yield spec.real**2 + spec.imag**2


def _spectral_distances(ref: np.ndarray, est: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """``(lsd_db, mcd_db)`` in two streaming passes (the floors need the reference's maxima)."""
    n_fft, _ = _stft_size(sample_rate)
    bank = _mel_filterbank(sample_rate, n_fft, _MCD_N_MELS)
    peak_bin, peak_band, energy = 0.0, 0.0, []
    for p_ref in _power_blocks(ref, sample_rate):
        peak_bin = max(peak_bin, float(p_ref.max()))
        peak_band = max(peak_band, float((p_ref @ bank.T).max()))
        energy.append(p_ref.sum(axis=1))
    frame_energy = np.concatenate(energy)
    active = frame_energy >= frame_energy.max() * 10.0 ** (_MCD_ACTIVE_DB / 10.0)
    if not np.any(active):  # silent reference: use every frame
        active[:] = True
    floor_bin = max(peak_bin, 1e-20) * 10.0 ** (_FLOOR_DB / 10.0)
    floor_band = max(peak_band, 1e-20) * 10.0 ** (_FLOOR_DB / 10.0)
    n = np.arange(1, _MCD_ORDER + 1)[:, None]
    m = np.arange(_MCD_N_MELS)[None, :]
    dct = np.cos(np.pi * n * (m + 0.5) / _MCD_N_MELS) / _MCD_N_MELS  # (order, n_mels)
    lsd_sum, mcd_sum, start = 0.0, 0.0, 0
    for p_ref, p_est in zip(_power_blocks(ref, sample_rate), _power_blocks(est, sample_rate), strict=True):
        l_ref = 10.0 * np.log10(np.maximum(p_ref, floor_bin))
        l_est = 10.0 * np.log10(np.maximum(p_est, floor_bin))
        lsd_sum += float(np.sum(np.sqrt(np.mean((l_ref - l_est) ** 2, axis=1))))
        keep = active[start : start + p_ref.shape[0]]
        start += p_ref.shape[0]
        if np.any(keep):
            a_ref = 0.5 * np.log(np.maximum(p_ref[keep] @ bank.T, floor_band))
            a_est = 0.5 * np.log(np.maximum(p_est[keep] @ bank.T, floor_band))
            diff = (a_ref - a_est) @ dct.T
            mcd_sum += float(np.sum(np.sqrt(2.0 * np.sum(diff**2, axis=1))))
    lsd = lsd_sum / frame_energy.size
    mcd = (10.0 / math.log(10.0)) * mcd_sum / int(active.sum())
    return lsd, mcd


def log_spectral_distance(reference: Any, estimate: Any, sample_rate: int) -> float:
    """Log-spectral distance in dB (0 for identical magnitude spectra; phase is ignored).

    Both signals are cut into Hann-windowed frames of ``2**ceil(log2(0.032 * sample_rate))``
    samples (512 at 16 kHz, 1024 at 24 kHz) with a hop of a quarter frame. Power spectra are
    floored at 80 dB below the loudest bin of the reference (so digital silence does not
    dominate) and converted to dB. Per frame,
    ``LSD_t = sqrt(mean_f (L_ref[t, f] - L_est[t, f])**2)``; the result is the mean over frames.

    Parameters
    ----------
    reference, estimate : numpy.ndarray or Audio
        Mono signals, shape ``(n_samples,)``, at ``sample_rate``.
    sample_rate : int
        Hz.

    Returns
    -------
    float
        Mean log-spectral distance in dB.
    """
    ref, est = _pair(reference, estimate)
    return _spectral_distances(ref, est, sample_rate)[0]


def _mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular HTK-mel filters from 0 Hz to Nyquist, shape ``(n_mels, n_fft // 2 + 1)``."""

    def mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(0.0, mel(np.array(sample_rate / 2.0)), n_mels + 2))
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lo) / np.maximum(mid - lo, 1e-9)
    down = (hi - freqs[None, :]) / np.maximum(hi - mid, 1e-9)
    return np.maximum(0.0, np.minimum(up, down))


def mel_cepstral_distortion(reference: Any, estimate: Any, sample_rate: int) -> float:
    """Mel-cepstral distortion in dB, from an STFT mel cepstrum (phase is ignored).

    Frames as in :func:`log_spectral_distance`; each power spectrum goes through 64 triangular
    HTK-mel filters (0 Hz to Nyquist), is floored at 80 dB below the reference's loudest band,
    and becomes a cepstrum ``c_n = (1/M) * sum_m ln(A_m) * cos(pi * n * (m + 0.5) / M)`` of the
    log mel *amplitudes* ``A_m`` (M = 64 bands). Then, over coefficients 1..24 (energy ``c_0``
    left out) and over the reference's active frames (within 40 dB of its loudest frame),
    ``MCD = mean_t (10 / ln 10) * sqrt(2 * sum_n (c_ref[t, n] - c_est[t, n])**2)``.
    This is the usual MCD formula on an STFT mel cepstrum, not on SPTK/WORLD mel-generalised
    cepstra, so compare its values with each other rather than with published figures.

    Parameters
    ----------
    reference, estimate : numpy.ndarray or Audio
        Mono signals, shape ``(n_samples,)``, at ``sample_rate``.
    sample_rate : int
        Hz.

    Returns
    -------
    float
        Mean mel-cepstral distortion in dB (0 for identical spectra).
    """
    ref, est = _pair(reference, estimate)
    return _spectral_distances(ref, est, sample_rate)[1]


#: Shortest signal STOI can score: pystoi needs 30 frames of 25.6 ms at a 12.8 ms hop (0.4 s)
#: of speech left after it drops the silent frames (shorter clips made it raise or return 1e-5).
STOI_MIN_S = 0.4


def _stoi(ref: np.ndarray, est: np.ndarray, sample_rate: int) -> tuple[float | None, str | None]:
    """STOI of two prepared signals and, when it is None for a reason the user should know, why."""
    try:
        from pystoi import stoi as _pystoi
    except ImportError:
        return None, None
    duration_s = ref.size / sample_rate
    if duration_s <= STOI_MIN_S:
        return None, f"STOI needs more than {STOI_MIN_S:g} s of speech; the clip is {duration_s:.3f} s"
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        # pystoi warns and returns 1e-5 when fewer than 30 speech frames remain
        warnings.simplefilter("always", RuntimeWarning)
        value = float(_pystoi(ref, est, int(sample_rate), extended=False))
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return (
            None,
            f"STOI needs more than {STOI_MIN_S:g} s of speech; the clip has less once silence is left out",
        )
    return value, None


def stoi(reference: Any, estimate: Any, sample_rate: int) -> float | None:
    """Short-time objective intelligibility (pystoi, classic STOI), 0..1, higher is better.

    pystoi resamples to 10 kHz itself and drops silent frames of the reference.

    Returns
    -------
    float or None
        STOI; None when the ``pystoi`` package is not installed or the reference holds too
        little speech to score (:data:`STOI_MIN_S`, counted after silence is left out).
    """
    ref, est = _pair(reference, estimate)
    return _stoi(ref, est, int(sample_rate))[0]


def _pesq_wb(ref: np.ndarray, est: np.ndarray, sample_rate: int) -> tuple[float | None, str | None]:
    """PESQ-WB of two prepared signals and, when it is None for a reason the user should know, why."""
    try:
        import pesq as _pesq
    except ImportError:
        return None, None
    from .audio import resample

    no_utterance = "PESQ-WB found no utterance in the reference (silence, or shorter than about 0.25 s)"
    if not np.any(ref):
        return None, no_utterance  # silent reference: nothing to score
    ref16 = resample(ref.astype(np.float32), int(sample_rate), 16000)
    est16 = resample(est.astype(np.float32), int(sample_rate), 16000)
    try:
        return float(_pesq.pesq(16000, ref16, est16, "wb")), None
    except _pesq.PesqError:
        return None, no_utterance


def pesq_wb(reference: Any, estimate: Any, sample_rate: int) -> float | None:
    """Wide-band PESQ (ITU-T P.862.2) MOS-LQO, about 1.0..4.64, higher is better.

    PESQ-WB is defined at 16 kHz, so both signals are resampled to 16 kHz (soxr) first.

    Returns
    -------
    float or None
        MOS-LQO, or None when the ``pesq`` package is not installed or PESQ finds no
        utterance in the reference (silence, or shorter than about 0.25 s).
    """
    ref, est = _pair(reference, estimate)
    return _pesq_wb(ref, est, int(sample_rate))[0]


def compare(reference: Audio, estimate: Audio, *, with_pesq: bool = True) -> dict[str, Any]:
    """Every measure of this module for one reference/estimate pair.

    Both signals are resampled (soxr) to the lower of their two rates (content above that
    Nyquist frequency exists in only one of them) and the longer is cut to the shorter.

    Parameters
    ----------
    reference, estimate : Audio
        The original and the decoded signal.
    with_pesq : bool
        Compute PESQ-WB (about 0.1 s per second of audio); ``pesq_wb`` is None when False.

    Returns
    -------
    dict
        ``sample_rate`` (Hz the measures ran at), ``duration_s`` (compared length),
        ``snr_db`` (plain), ``snr_aligned_db`` and ``lag_ms`` (:func:`aligned_snr_db`,
        ±5 ms), ``lsd_db``, ``mcd_db``, ``stoi`` (None without pystoi or for too little
        speech), ``pesq_wb`` (None without pesq, when skipped, or when PESQ finds no
        utterance) and ``notes`` (list of str: one line per measure the clip was too short or
        too silent to give). SNRs may be ``inf`` for identical signals.
    """
    for name, value in (("reference", reference), ("estimate", estimate)):
        if not isinstance(value, Audio):
            msg = f"{name} must be an Audio (see load_audio), got {type(value).__name__}"
            raise AudioError(msg)
    rate = min(reference.sample_rate, estimate.sample_rate)
    ref, est = _pair(reference.resample(rate), estimate.resample(rate))
    aligned, lag = aligned_snr_db(ref, est, rate)
    lsd, mcd = _spectral_distances(ref, est, rate)
    stoi_value, stoi_note = _stoi(ref, est, rate)
    pesq_value, pesq_note = _pesq_wb(ref, est, rate) if with_pesq else (None, None)
    return {
        "sample_rate": rate,
        "duration_s": ref.size / rate,
        "snr_db": _snr(ref, est),
        "snr_aligned_db": aligned,
        "lag_ms": 1000.0 * lag / rate,
        "lsd_db": lsd,
        "mcd_db": mcd,
        "stoi": stoi_value,
        "pesq_wb": pesq_value,
        "notes": [note for note in (stoi_note, pesq_note) if note],
    }
