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
    """Lag ``k`` in ``[-max_lag, max_lag]`` maximising ``sum_n ref[n] * est[n + k]``."""
    if max_lag <= 0:
        return 0
    n = ref.size + est.size - 1
    n_fft = 1 << (n - 1).bit_length()
    xcorr = np.fft.irfft(np.fft.rfft(est, n_fft) * np.conj(np.fft.rfft(ref, n_fft)), n_fft)
    lags = np.arange(-max_lag, max_lag + 1)
    return int(lags[int(np.argmax(xcorr[lags % n_fft]))])


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


def _frames_power(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """Power spectrogram, shape ``(n_frames, n_fft // 2 + 1)``: Hann window of ~32 ms, hop 1/4."""
    n_fft = 1 << math.ceil(math.log2(max(16, 0.032 * sample_rate)))
    hop = n_fft // 4
    if x.size < n_fft:
        x = np.pad(x, (0, n_fft - x.size))
    n_frames = 1 + (x.size - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    spec = np.fft.rfft(x[idx] * np.hanning(n_fft)[None, :], axis=1)
    return spec.real**2 + spec.imag**2


def _floored_db(p_ref: np.ndarray, p_est: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    floor = max(float(p_ref.max()), 1e-20) * 10.0 ** (_FLOOR_DB / 10.0)
    return 10.0 * np.log10(np.maximum(p_ref, floor)), 10.0 * np.log10(np.maximum(p_est, floor))


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
    return _lsd(_frames_power(ref, sample_rate), _frames_power(est, sample_rate))


def _lsd(p_ref: np.ndarray, p_est: np.ndarray) -> float:
    l_ref, l_est = _floored_db(p_ref, p_est)
    return float(np.mean(np.sqrt(np.mean((l_ref - l_est) ** 2, axis=1))))


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
    return _mcd(_frames_power(ref, sample_rate), _frames_power(est, sample_rate), sample_rate)


def _mcd(p_ref: np.ndarray, p_est: np.ndarray, sample_rate: int) -> float:
    n_fft = 2 * (p_ref.shape[1] - 1)
    bank = _mel_filterbank(sample_rate, n_fft, _MCD_N_MELS)
    m_ref, m_est = p_ref @ bank.T, p_est @ bank.T
    floor = max(float(m_ref.max()), 1e-20) * 10.0 ** (_FLOOR_DB / 10.0)
    log_ref = 0.5 * np.log(np.maximum(m_ref, floor))
    log_est = 0.5 * np.log(np.maximum(m_est, floor))
    n = np.arange(1, _MCD_ORDER + 1)[:, None]
    m = np.arange(_MCD_N_MELS)[None, :]
    dct = np.cos(np.pi * n * (m + 0.5) / _MCD_N_MELS) / _MCD_N_MELS  # (order, n_mels)
    diff = (log_ref - log_est) @ dct.T
    energy = p_ref.sum(axis=1)
    active = energy >= energy.max() * 10.0 ** (_MCD_ACTIVE_DB / 10.0)
    if not np.any(active):  # silent reference: use every frame
        active[:] = True
    per_frame = (10.0 / math.log(10.0)) * np.sqrt(2.0 * np.sum(diff[active] ** 2, axis=1))
    return float(np.mean(per_frame))


def stoi(reference: Any, estimate: Any, sample_rate: int) -> float | None:
    """Short-time objective intelligibility (pystoi, classic STOI), 0..1, higher is better.

    pystoi resamples to 10 kHz itself and drops silent frames of the reference.

    Returns
    -------
    float or None
        STOI, or None when the ``pystoi`` package is not installed.
    """
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        return None
    ref, est = _pair(reference, estimate)
    import warnings

    with warnings.catch_warnings():
        # pystoi warns (and returns a tiny value) when fewer than 30 speech frames remain
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(_stoi(ref, est, int(sample_rate), extended=False))


def pesq_wb(reference: Any, estimate: Any, sample_rate: int) -> float | None:
    """Wide-band PESQ (ITU-T P.862.2) MOS-LQO, about 1.0..4.64, higher is better.

    PESQ-WB is defined at 16 kHz, so both signals are resampled to 16 kHz (soxr) first.

    Returns
    -------
    float or None
        MOS-LQO, or None when the ``pesq`` package is not installed or PESQ finds no
        utterance in the reference (silence, or shorter than about 0.25 s).
    """
    try:
        import pesq as _pesq
    except ImportError:
        return None
    from .audio import resample

    ref, est = _pair(reference, estimate)
    if not np.any(ref):
        return None  # silent reference: nothing to score
    ref16 = resample(ref.astype(np.float32), int(sample_rate), 16000)
    est16 = resample(est.astype(np.float32), int(sample_rate), 16000)
    try:
        return float(_pesq.pesq(16000, ref16, est16, "wb"))
    except _pesq.PesqError:
        return None


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
        ±5 ms), ``lsd_db``, ``mcd_db``, ``stoi`` (None without pystoi), ``pesq_wb`` (None
        without pesq). SNRs may be ``inf`` for identical signals.
    """
    for name, value in (("reference", reference), ("estimate", estimate)):
        if not isinstance(value, Audio):
            msg = f"{name} must be an Audio (see load_audio), got {type(value).__name__}"
            raise AudioError(msg)
    rate = min(reference.sample_rate, estimate.sample_rate)
    ref, est = _pair(reference.resample(rate), estimate.resample(rate))
    aligned, lag = aligned_snr_db(ref, est, rate)
    p_ref, p_est = _frames_power(ref, rate), _frames_power(est, rate)
    return {
        "sample_rate": rate,
        "duration_s": ref.size / rate,
        "snr_db": _snr(ref, est),
        "snr_aligned_db": aligned,
        "lag_ms": 1000.0 * lag / rate,
        "lsd_db": _lsd(p_ref, p_est),
        "mcd_db": _mcd(p_ref, p_est, rate),
        "stoi": stoi(ref, est, rate),
        "pesq_wb": pesq_wb(ref, est, rate) if with_pesq else None,
    }
