"""Access to the WORLD vocoder (``pyworld``) without its import-time ``pkg_resources`` lookup.

pyworld 0.3.5's package ``__init__`` asks ``pkg_resources`` (removed from recent setuptools)
for its own version number before exposing the compiled module. :func:`world` loads the
compiled extension straight from the installed package (the plain import is the fallback).
The rest of the module turns speech into the codec's vocoder features on a fixed 10 ms grid
and back. Nothing is imported until first use.

Long inputs are analysed in segments by one process pool per Python process (:func:`_pool`):
started on first need with the ``forkserver`` method (``spawn`` where that is missing), never
``fork``, because the hosts that encode (a Jupyter server's request threads, CodecLab's worker
thread) run threads whose locks a forked child would inherit held. The pool is reused by every
later long input, from any thread, and shut down when the interpreter exits.
"""

from __future__ import annotations

import atexit
import functools
import importlib.machinery
import importlib.util
import logging
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import ModuleType

import numpy as np

from ..audio import resample
from ..errors import CodecError

__all__ = [
    "analyze",
    "analyze_raw",
    "fill_high_band",
    "pack",
    "pool_processes",
    "synthesize",
    "unpack",
    "world",
]

log = logging.getLogger("qtok_widgets")


@functools.cache
def world() -> ModuleType:
    """Return the compiled WORLD module (``harvest``, ``cheaptrick``, ``d4c``, ``synthesize``...).

    Raises
    ------
    CodecError
        pyworld is not installed.
    """
    spec = importlib.util.find_spec("pyworld")
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        finder = importlib.machinery.FileFinder(
            folder, (importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES)
        )
        ext_spec = finder.find_spec("pyworld.pyworld")
        if ext_spec is not None and ext_spec.loader is not None:
            module = importlib.util.module_from_spec(ext_spec)
            ext_spec.loader.exec_module(module)
            return module
    try:
        import pyworld
    except ImportError:
        msg = "the built-in codec needs the pyworld package: pip install 'pyworld>=0.3.4'"
        raise CodecError(msg) from None
    return pyworld


# ---------------------------------------------------------------------------------------------
# Vocoder features on a fixed 10 ms grid (8 sub-frames per 80 ms code frame at 24 kHz).

SAMPLE_RATE = 24000
SAMPLES_PER_FRAME = 1920
SUBFRAMES = 8
HOP = SAMPLES_PER_FRAME // SUBFRAMES  # 240 samples = 10 ms
FRAME_PERIOD_MS = 1000.0 * HOP / SAMPLE_RATE
FFT_SIZE = 1024
F0_RATE = 4000  # F0 is estimated on a 4 kHz copy: Harvest's cost falls with the rate
F0_FLOOR_HZ = 60.0
F0_CEIL_HZ = 500.0
SP_FLOOR = 1e-12  # power floor of the spectral envelope (about -120 dB), also for digital silence


def analyze(
    samples: np.ndarray,
    n_frames: int,
    n_sp: int,
    workers: int | None = None,
    f0_method: str | None = None,
    band_hz: float = 0.0,
) -> np.ndarray:
    """WORLD features of ``samples`` on the codec's sub-frame grid.

    Inputs longer than :data:`SEGMENT_FRAMES` frames are analysed in segments of that many
    frames, each with :data:`SEGMENT_CONTEXT_FRAMES` frames of signal on either side, in
    parallel worker processes when ``workers > 1``. The segmentation depends only on the
    length, so the result is the same whatever the number of workers.

    Parameters
    ----------
    samples : numpy.ndarray
        float32, shape ``(n_samples,)`` at 24 kHz, ``n_samples <= n_frames * 1920``.
    n_frames : int
        Code frames to describe; the signal is zero-padded to cover them.
    n_sp : int
        Dimensions of the coded spectral envelope.
    workers : int, optional
        Processes for long inputs (default ``$QTOK_BUILTIN_WORKERS``, else up to 2 CPUs).
    f0_method : str, optional
        Pitch tracker, one of :data:`F0_METHODS` (default :data:`F0_METHOD`).
    band_hz : float
        Above this frequency the envelope is extrapolated (:func:`fill_high_band`); 0: coded as is.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_frames * 8, 2 + n_sp + 3)``: per 10 ms sub-frame the natural log of
        F0 (interpolated through unvoiced stretches), the voicing flag (0 or 1), the coded
        spectral envelope (``n_sp`` values) and the coded aperiodicity (3 bands, dB).
    """
    if n_frames <= SEGMENT_FRAMES + 2 * SEGMENT_CONTEXT_FRAMES:
        return pack(*analyze_raw(samples, n_frames, f0_method), n_sp, band_hz)
    jobs = []
    for start in range(0, n_frames, SEGMENT_FRAMES):
        stop = min(n_frames, start + SEGMENT_FRAMES)
        first = max(0, start - SEGMENT_CONTEXT_FRAMES)
        last = min(n_frames, stop + SEGMENT_CONTEXT_FRAMES)
        block = samples[first * SAMPLES_PER_FRAME : last * SAMPLES_PER_FRAME]
        keep = ((start - first) * SUBFRAMES, (stop - first) * SUBFRAMES)
        jobs.append((np.ascontiguousarray(block), last - first, n_sp, keep, f0_method, band_hz))
    workers = min(_n_workers(workers), len(jobs))
    pool = _pool(workers) if workers > 1 else None
    if pool is None:
        return np.concatenate([_analyze_block(job) for job in jobs], axis=0)
    try:
        parts = list(pool.map(_analyze_block, jobs))
    except BrokenProcessPool:
        # a worker died (killed, out of memory, or a script that cannot be imported safely by
        # a child process): analyse here, the same result, and stop using processes
        _give_up_pool(pool)
        parts = [_analyze_block(job) for job in jobs]
    return np.concatenate(parts, axis=0)


_POOL_LOCK = threading.Lock()
_POOL: ProcessPoolExecutor | None = None
_POOL_WORKERS = 0
_POOL_DISABLED = False
_HOOKS_REGISTERED = False


def _start_method() -> str:
    """``forkserver`` where available (Linux, macOS), else ``spawn``; never ``fork``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _pool(workers: int) -> ProcessPoolExecutor | None:
    """The process's one analysis pool with ``workers`` processes, started on first use.

    A later call asking for another number of workers replaces it (work already given to the
    old pool still finishes). None once processes have failed in this interpreter.
    """
    global _POOL, _POOL_WORKERS, _HOOKS_REGISTERED
    with _POOL_LOCK:
        if _POOL_DISABLED:
            return None
        if _POOL is not None and _POOL_WORKERS == workers:
            return _POOL
        if _POOL is not None:
            _POOL.shutdown(wait=False)
        context = multiprocessing.get_context(_start_method())
        _POOL, _POOL_WORKERS = ProcessPoolExecutor(workers, mp_context=context), workers
        if not _HOOKS_REGISTERED:
            atexit.register(_shutdown_pool)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=_forget_pool)
            _HOOKS_REGISTERED = True
        return _POOL


def _give_up_pool(pool: ProcessPoolExecutor) -> None:
    """After a broken pool: shut it down and analyse in-process from now on (logged once)."""
    global _POOL, _POOL_DISABLED
    with _POOL_LOCK:
        if _POOL is pool:
            _POOL = None
        if not _POOL_DISABLED:
            log.warning("qtok: built-in codec analysis workers failed; analysing in this process from now on")
        _POOL_DISABLED = True
    pool.shutdown(wait=False, cancel_futures=True)


def _shutdown_pool() -> None:
    """Stop the pool's processes (registered with :mod:`atexit` when the pool starts)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _forget_pool() -> None:
    """In a child made by ``os.fork``: the parent's pool is not ours to use or stop."""
    global _POOL, _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _POOL = None


def pool_processes() -> tuple[int, ...]:
    """Process ids of the analysis pool's running workers, sorted (empty before first use)."""
    with _POOL_LOCK:
        processes = dict(getattr(_POOL, "_processes", None) or {})
    return tuple(sorted(p.pid for p in processes.values() if p.pid is not None and p.is_alive()))


#: Frames per analysis segment of long inputs (10.24 s) and context frames on each side.
SEGMENT_FRAMES = 128
SEGMENT_CONTEXT_FRAMES = 8


def _analyze_block(job: tuple[np.ndarray, int, int, tuple[int, int], str | None, float]) -> np.ndarray:
    block, n_frames, n_sp, (keep_start, keep_stop), f0_method, band_hz = job
    return pack(*analyze_raw(block, n_frames, f0_method), n_sp, band_hz)[keep_start:keep_stop]


def _n_workers(workers: int | None) -> int:
    if workers is not None:
        return max(1, int(workers))
    env = os.environ.get("QTOK_BUILTIN_WORKERS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            msg = f"QTOK_BUILTIN_WORKERS must be a whole number of processes, got {env!r}"
            raise CodecError(msg) from None
    return max(1, min(2, os.cpu_count() or 1))


def analyze_raw(
    samples: np.ndarray, n_frames: int, f0_method: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WORLD parameters on the sub-frame grid: F0 ``(n_sub,)`` Hz (0 = unvoiced), power envelope
    ``(n_sub, 513)`` and aperiodicity ``(n_sub, 513)``, with ``n_sub = n_frames * 8``.

    ``f0_method`` (default :data:`F0_METHOD`) is one of :data:`F0_METHODS`."""
    pw = world()
    n_sub = n_frames * SUBFRAMES
    # one extra frame of padding so the last sub-frames see signal on both sides
    padded = np.zeros((n_frames + 1) * SAMPLES_PER_FRAME, dtype=np.float64)
    padded[: samples.shape[0]] = samples
    f0 = _fit(f0_track(padded, f0_method or F0_METHOD), n_sub)
    times = np.arange(n_sub, dtype=np.float64) * (HOP / SAMPLE_RATE)
    sp = pw.cheaptrick(padded, f0, times, SAMPLE_RATE, fft_size=FFT_SIZE)
    ap = pw.d4c(padded, f0, times, SAMPLE_RATE, fft_size=FFT_SIZE)
    return f0, sp, ap


#: Pitch trackers :func:`analyze_raw` can use: WORLD's Harvest or DIO + StoneMask on a 4 kHz copy,
#: or Praat's autocorrelation tracker (``praat-parselmouth``) on an 8 kHz copy, in one pass
#: over 60-500 Hz (``praat``) or with a second pass in the speaker's range (``praat2``).
F0_METHODS = ("harvest", "dio", "praat", "praat2")
#: The pitch tracker of models that do not name theirs (``builtin_v1.npz``).
F0_METHOD = "harvest"
#: Praat's voicing and silence thresholds for ``"praat"``. Praat's defaults (0.45, 0.03) call
#: weak voiced stretches unvoiced, which WORLD then synthesises as noise: on the validation
#: speakers the analysis-synthesis with its defaults scores a median PESQ-WB of 1.94, with
#: 0.05 and 0 (voice whatever has a pitch candidate, as Harvest does) 2.36 (Harvest: 2.33).
PRAAT_VOICING_THRESHOLD = 0.05
PRAAT_SILENCE_THRESHOLD = 0.0


def f0_track(padded: np.ndarray, method: str) -> np.ndarray:
    """F0 in Hz (0 = unvoiced) every 10 ms of 24 kHz samples ``(n,)``, sub-frame ``k`` at ``k * 10 ms``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(about n / 240,)`` (callers cut or pad it to their grid).
    """
    pw = world()
    if method not in F0_METHODS:
        msg = f"unknown F0 method {method!r}: use one of {', '.join(F0_METHODS)}"
        raise CodecError(msg)
    if method in ("praat", "praat2"):
        rate = 8000
        low = resample(padded.astype(np.float32), SAMPLE_RATE, rate).astype(np.float64)
        n_out = padded.shape[0] // HOP + 1
        out = _praat_track(low, rate, F0_FLOOR_HZ, F0_CEIL_HZ, n_out)
        if method == "praat2":
            from ..analysis import speaker_pitch_range

            # second pass in the speaker's own range (De Looze and Hirst): fewer octave errors
            narrowed = speaker_pitch_range(out[out > 0], F0_FLOOR_HZ, F0_CEIL_HZ)
            if narrowed is not None:
                out = _praat_track(low, rate, *narrowed, n_out)
        return out
    low = resample(padded.astype(np.float32), SAMPLE_RATE, F0_RATE).astype(np.float64)
    if method == "dio":
        f0, t = pw.dio(low, F0_RATE, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=FRAME_PERIOD_MS)
        return np.asarray(pw.stonemask(low, f0, t, F0_RATE))
    f0, _ = pw.harvest(low, F0_RATE, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ, frame_period=FRAME_PERIOD_MS)
    return np.asarray(f0)


def fill_high_band(sp: np.ndarray, band_hz: float) -> np.ndarray:
    """Power envelopes ``(n_sub, 513)`` with everything above ``band_hz`` replaced by a fixed
    extrapolation: the mean log level of the octave below ``band_hz``, falling by
    :data:`HIGH_BAND_DB_PER_OCTAVE` per octave above it.

    Recordings made at 16 kHz (most real training speech) have nothing above 8 kHz, full-band
    ones do; coded as they are, the two look unrelated to a model trained on one of them. With
    the band above ``band_hz`` made the same function of the band below, both code alike, and
    the decoder gives every voice a plausible top octave.
    """
    freqs = np.arange(sp.shape[1]) * (SAMPLE_RATE / FFT_SIZE)
    below = (freqs >= band_hz / 2) & (freqs < band_hz)
    above = freqs >= band_hz
    level = np.mean(np.log(np.maximum(sp[:, below], SP_FLOOR)), axis=1, keepdims=True)
    fall = HIGH_BAND_DB_PER_OCTAVE / (10 * np.log10(np.e)) * np.log2(freqs[above] / band_hz)
    out = sp.copy()
    out[:, above] = np.exp(level - fall[None, :])
    return out


#: Fall of :func:`fill_high_band`'s extrapolated top band, dB per octave.
HIGH_BAND_DB_PER_OCTAVE = 12.0


def _praat_track(low: np.ndarray, rate: int, floor: float, ceil: float, n_out: int) -> np.ndarray:
    """Praat's autocorrelation F0 (Hz, 0 = unvoiced) of ``low`` (at ``rate``) at ``k * 10 ms``, ``(n_out,)``."""
    import parselmouth

    sound = parselmouth.Sound(low, sampling_frequency=rate)
    track = sound.to_pitch_ac(
        time_step=FRAME_PERIOD_MS / 1000.0,
        pitch_floor=floor,
        pitch_ceiling=ceil,
        voicing_threshold=PRAAT_VOICING_THRESHOLD,
        silence_threshold=PRAAT_SILENCE_THRESHOLD,
    )
    xs = np.asarray(track.xs(), dtype=np.float64)
    freq = np.asarray(track.selected_array["frequency"], dtype=np.float64)
    times = np.arange(n_out) * (FRAME_PERIOD_MS / 1000.0)
    # Praat's frames are 10 ms apart but offset: take the nearest one (unvoiced beyond its ends)
    idx = np.clip(np.round((times - xs[0]) / (FRAME_PERIOD_MS / 1000.0)).astype(int), 0, xs.size - 1)
    out = freq[idx]
    out[np.abs(xs[idx] - times) > FRAME_PERIOD_MS / 1000.0] = 0.0
    return out


def pack(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, n_sp: int, band_hz: float = 0.0) -> np.ndarray:
    """Code WORLD parameters ``(n_sub,)``, ``(n_sub, 513)``, ``(n_sub, 513)`` into sub-frame features.

    With ``band_hz > 0`` the envelope above ``band_hz`` is first replaced by
    :func:`fill_high_band`'s extrapolation.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_sub, 2 + n_sp + 3)`` (see :func:`analyze`).
    """
    pw = world()
    voiced = f0 > 0
    lf0 = np.full(f0.shape, np.log(120.0))
    if voiced.any():
        idx = np.flatnonzero(voiced)
        lf0 = np.interp(np.arange(f0.shape[0]), idx, np.log(f0[idx]))
    sp = np.maximum(sp, SP_FLOOR)
    if band_hz > 0:
        sp = fill_high_band(sp, band_hz)
    csp = pw.code_spectral_envelope(np.ascontiguousarray(sp), SAMPLE_RATE, n_sp)
    cap = pw.code_aperiodicity(np.ascontiguousarray(np.clip(ap, 1e-6, 1.0)), SAMPLE_RATE)
    return np.concatenate([lf0[:, None], voiced[:, None].astype(np.float64), csp, cap], axis=1)


def unpack(features: np.ndarray, n_sp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`pack`: sub-frame features ``(n_sub, 2 + n_sp + 3)`` to WORLD ``f0, sp, ap``."""
    pw = world()
    features = np.ascontiguousarray(features, dtype=np.float64)
    voiced = features[:, 1] > 0.5
    f0 = np.where(voiced, np.exp(np.clip(features[:, 0], np.log(F0_FLOOR_HZ), np.log(F0_CEIL_HZ * 1.5))), 0.0)
    sp = pw.decode_spectral_envelope(np.ascontiguousarray(features[:, 2 : 2 + n_sp]), SAMPLE_RATE, FFT_SIZE)
    cap = np.minimum(np.ascontiguousarray(features[:, 2 + n_sp :]), -1e-3)
    ap = pw.decode_aperiodicity(cap, SAMPLE_RATE, FFT_SIZE)
    return f0, np.ascontiguousarray(sp), np.ascontiguousarray(np.clip(ap, 0.0, 1.0))


def synthesize(features: np.ndarray, n_sp: int) -> np.ndarray:
    """Speech for sub-frame features ``(n_sub, 2 + n_sp + 3)``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n_sub * 240,)``: sub-frame ``k`` is centred on sample ``240 * k``.
    """
    pw = world()
    n_sub = features.shape[0]
    # repeat the last sub-frame so the output reaches the end of the final sub-frame
    f0, sp, ap = unpack(np.concatenate([features, features[-1:]], axis=0), n_sp)
    out = pw.synthesize(f0, sp, ap, SAMPLE_RATE, FRAME_PERIOD_MS)
    need = n_sub * HOP
    if out.shape[0] < need:
        out = np.concatenate([out, np.zeros(need - out.shape[0])])
    return out[:need]


def _fit(values: np.ndarray, n: int) -> np.ndarray:
    if values.shape[0] >= n:
        return np.ascontiguousarray(values[:n])
    return np.concatenate([values, np.zeros(n - values.shape[0], dtype=values.dtype)])
