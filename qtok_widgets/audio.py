"""Audio in: read any speech source into one mono float32 signal.

:func:`load_audio` is the single entry point for audio. It accepts a path (WAV, FLAC,
OGG/Vorbis/Opus, MP3, M4A/AAC and anything else FFmpeg reads), raw bytes or a binary file
object, an http(s) URL, or an in-memory numpy array / torch tensor. The result is an
:class:`Audio`: mono, float32, in [-1, 1], at the file's own rate unless ``target_rate`` asks
for another (resampled with soxr). Bad input raises :class:`~qtok_widgets.errors.AudioError`
with one line naming the problem and the source; nothing is truncated or padded silently.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .errors import AudioError, AudioFileNotFoundError

__all__ = ["DEFAULT_MAX_DURATION_S", "Audio", "load_audio", "resample"]

#: Longest input accepted by default, in seconds (1 hour). Override per call with
#: ``max_duration_s=`` or for a whole process with the ``QTOK_MAX_DURATION_S`` variable.
DEFAULT_MAX_DURATION_S = 3600.0

_URL_TIMEOUT_S = 30.0
_URL_MAX_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, eq=False)
class Audio:
    """A mono speech signal.

    Parameters
    ----------
    samples : numpy.ndarray
        float32 array of shape ``(n_samples,)`` with values in [-1, 1]. Stored read-only.
    sample_rate : int
        Samples per second (Hz), > 0.
    source : str, optional
        Where the audio came from (a path, URL or description), used in messages.
    """

    samples: np.ndarray
    sample_rate: int
    source: str | None = field(default=None)

    def __post_init__(self) -> None:
        samples = np.asarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            msg = f"Audio samples must be 1-D (mono), got shape {samples.shape}"
            raise AudioError(msg)
        if not isinstance(self.sample_rate, (int, np.integer)) or self.sample_rate <= 0:
            msg = f"sample rate must be a positive integer number of Hz, got {self.sample_rate!r}"
            raise AudioError(msg)
        if not samples.flags.owndata or samples.flags.writeable:
            samples = samples.copy()
        samples.flags.writeable = False
        object.__setattr__(self, "samples", samples)
        object.__setattr__(self, "sample_rate", int(self.sample_rate))

    @property
    def n_samples(self) -> int:
        """Number of samples."""
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds (``n_samples / sample_rate``)."""
        return self.n_samples / self.sample_rate

    duration_s = duration

    def resample(self, target_rate: int) -> Audio:
        """Return this audio at ``target_rate`` Hz (soxr, high quality); self if already there."""
        if int(target_rate) == self.sample_rate:
            return self
        return Audio(
            resample(self.samples, self.sample_rate, int(target_rate)), int(target_rate), self.source
        )

    def to_wav_bytes(self, subtype: str = "PCM_16") -> bytes:
        """Encode as a WAV file in memory (16-bit PCM by default)."""
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, self.samples, self.sample_rate, format="WAV", subtype=subtype)
        return buf.getvalue()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path``; the format follows the suffix (.wav, .flac, .ogg)."""
        import soundfile as sf

        path = Path(path)
        sf.write(str(path), self.samples, self.sample_rate)
        return path

    def __repr__(self) -> str:
        src = f", source={self.source!r}" if self.source else ""
        return f"Audio(n_samples={self.n_samples}, sample_rate={self.sample_rate}, duration={self.duration:.3f}s{src})"

    def _repr_html_(self) -> str:  # pragma: no cover - exercised in notebooks
        from IPython.display import Audio as IPyAudio

        return IPyAudio(self.samples, rate=self.sample_rate, normalize=False)._repr_html_()


def resample(samples: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Resample a mono float32 signal with soxr (VHQ).

    Parameters
    ----------
    samples : numpy.ndarray
        Shape ``(n_samples,)``.
    orig_rate, target_rate : int
        Rates in Hz.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(round(n_samples * target_rate / orig_rate),)``.
    """
    if orig_rate <= 0 or target_rate <= 0:
        msg = f"sample rates must be > 0 Hz, got {orig_rate} -> {target_rate}"
        raise AudioError(msg)
    if orig_rate == target_rate:
        return np.asarray(samples, dtype=np.float32)
    import soxr

    out = soxr.resample(np.asarray(samples, dtype=np.float32), orig_rate, target_rate, quality="VHQ")
    return np.asarray(out, dtype=np.float32)


def _max_duration(max_duration_s: float | None) -> float:
    if max_duration_s is not None:
        return float(max_duration_s)
    env = os.environ.get("QTOK_MAX_DURATION_S")
    if env:
        try:
            return float(env)
        except ValueError:
            msg = f"QTOK_MAX_DURATION_S must be a number of seconds, got {env!r}"
            raise AudioError(msg) from None
    return DEFAULT_MAX_DURATION_S


def load_audio(
    source: Any,
    sample_rate: int | None = None,
    target_rate: int | None = None,
    *,
    max_duration_s: float | None = None,
) -> Audio:
    """Load speech from a file, bytes, URL or array as mono float32.

    Parameters
    ----------
    source : str, os.PathLike, bytes, binary file object, numpy.ndarray, torch.Tensor or Audio
        A path (WAV, FLAC, OGG/Vorbis/Opus, MP3, M4A/AAC, ...), an ``http(s)://`` URL, the
        encoded bytes of such a file or an open binary file object, or samples in memory.
        Arrays may be ``(n_samples,)`` or two-dimensional with the channel axis being the
        smaller one, ``(n_samples, n_channels)`` or ``(n_channels, n_samples)``. Integer
        arrays are scaled from their dtype's full range.
    sample_rate : int, optional
        Rate of ``source`` in Hz. Required for arrays and tensors, ignored for files.
    target_rate : int, optional
        If given, resample to this rate (Hz) with soxr.
    max_duration_s : float, optional
        Refuse inputs longer than this many seconds (default 3600, or ``QTOK_MAX_DURATION_S``).

    Returns
    -------
    Audio
        ``samples`` float32 of shape ``(n_samples,)`` in [-1, 1]; channels are averaged.

    Raises
    ------
    AudioError
        Missing file, unreadable or unsupported container, zero samples, NaN/Inf,
        sample rate <= 0, or longer than ``max_duration_s``. The message names the source.
    """
    limit = _max_duration(max_duration_s)
    if isinstance(source, Audio):
        samples, rate, name = np.asarray(source.samples), source.sample_rate, source.source or "audio"
    elif _is_array(source):
        if sample_rate is None:
            msg = (
                "sample_rate= is required when loading audio from an array or tensor (e.g. sample_rate=24000)"
            )
            raise AudioError(msg)
        samples, rate, name = _from_array(source), sample_rate, f"<{type(source).__name__}>"
    elif isinstance(source, (bytes, bytearray, memoryview)):
        samples, rate, name = _decode_bytes(bytes(source), "<bytes>", limit)
    elif hasattr(source, "read"):
        name = str(getattr(source, "name", "<file object>"))
        data = source.read()
        if not isinstance(data, (bytes, bytearray)):
            msg = f"{name}: file object must be opened in binary mode ('rb')"
            raise AudioError(msg)
        samples, rate, name = _decode_bytes(bytes(data), name, limit)
    elif isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(text, str) and text.startswith(("http://", "https://")):
            samples, rate, name = _decode_bytes(_fetch_url(text), text, limit)
        else:
            samples, rate, name = _read_path(Path(text), limit)
    else:
        msg = (
            f"cannot load audio from {type(source).__name__}: pass a path, URL, bytes, "
            "binary file object, numpy array or torch tensor"
        )
        raise AudioError(msg)

    if not isinstance(rate, (int, np.integer, float)) or rate <= 0 or int(rate) != rate:
        msg = f"{name}: sample rate must be a positive whole number of Hz, got {rate!r}"
        raise AudioError(msg)
    rate = int(rate)
    samples = _to_mono_float(samples, name)
    if samples.size == 0:
        msg = f"{name}: audio has zero samples"
        raise AudioError(msg)
    if not np.all(np.isfinite(samples)):
        bad = int(np.count_nonzero(~np.isfinite(samples)))
        msg = f"{name}: audio contains {bad} NaN/Inf samples; all samples must be finite"
        raise AudioError(msg)
    duration = samples.size / rate
    if duration > limit:
        msg = f"{name}: audio is {duration:.1f} s long, above the limit of {limit:.0f} s (max_duration_s=)"
        raise AudioError(msg)
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        warnings.warn(f"{name}: peak {peak:.3f} exceeds 1.0; scaled down to fit [-1, 1]", stacklevel=2)
        samples = samples / peak
    audio = Audio(samples, rate, name)
    if target_rate is not None:
        if target_rate <= 0:
            msg = f"target_rate must be > 0 Hz, got {target_rate}"
            raise AudioError(msg)
        audio = audio.resample(int(target_rate))
    return audio


def _is_array(source: Any) -> bool:
    if isinstance(source, np.ndarray):
        return True
    mod = type(source).__module__
    return mod.startswith("torch") and hasattr(source, "detach")


def _from_array(source: Any) -> np.ndarray:
    if not isinstance(source, np.ndarray):
        source = source.detach().cpu().numpy()
    return source


def _to_mono_float(samples: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(samples)
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        arr = arr.astype(np.float64)
        if info.min < 0:
            arr = arr / float(-info.min)
        else:  # unsigned PCM is offset-binary
            mid = (float(info.max) + 1.0) / 2.0
            arr = (arr - mid) / mid
    elif arr.dtype.kind == "b" or arr.dtype.kind not in "f":
        msg = f"{name}: audio samples must be numeric, got dtype {arr.dtype}"
        raise AudioError(msg)
    if arr.ndim == 2 and arr.size == 0:
        arr = arr.reshape(-1)
    elif arr.ndim == 2:
        # the channel axis is the short one
        axis = 0 if arr.shape[0] < arr.shape[1] else 1
        arr = arr.mean(axis=axis)
    elif arr.ndim != 1:
        msg = f"{name}: audio array must be 1-D or 2-D (samples x channels), got shape {arr.shape}"
        raise AudioError(msg)
    return np.ascontiguousarray(arr, dtype=np.float32)


def _read_path(path: Path, limit: float) -> tuple[np.ndarray, int, str]:
    name = str(path)
    if not path.exists():
        msg = f"{name}: no such file"
        raise AudioFileNotFoundError(msg)
    if path.is_dir():
        msg = f"{name}: is a directory, not an audio file"
        raise AudioError(msg)
    if path.stat().st_size == 0:
        msg = f"{name}: empty file (0 bytes)"
        raise AudioError(msg)
    with open(path, "rb") as fh:
        return _decode_file(fh, name, limit)


def _decode_bytes(data: bytes, name: str, limit: float) -> tuple[np.ndarray, int, str]:
    if not data:
        msg = f"{name}: empty file (0 bytes)"
        raise AudioError(msg)
    return _decode_file(io.BytesIO(data), name, limit)


def _decode_file(fh: BinaryIO, name: str, limit: float) -> tuple[np.ndarray, int, str]:
    """Decode with libsndfile, falling back to FFmpeg (PyAV) for what it cannot read (M4A/AAC)."""
    import soundfile as sf

    start = fh.tell()
    try:
        with sf.SoundFile(fh) as snd:
            if snd.samplerate > 0 and snd.frames / snd.samplerate > limit:
                msg = f"{name}: audio is {snd.frames / snd.samplerate:.1f} s long, above the limit of {limit:.0f} s (max_duration_s=)"
                raise AudioError(msg)
            data = snd.read(dtype="float32", always_2d=True)
            # (frames, channels): average the channels here, where the layout is known
            return data.mean(axis=1, dtype=np.float32), snd.samplerate, name
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        fh.seek(start)
    return _decode_with_av(fh, name, limit)


def _decode_with_av(fh: BinaryIO, name: str, limit: float) -> tuple[np.ndarray, int, str]:
    import av

    try:
        container = av.open(fh, mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        msg = f"{name}: unreadable or unsupported audio container ({_first_line(exc)}); readable: WAV, FLAC, OGG, MP3, M4A/AAC"
        raise AudioError(msg) from None
    try:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            msg = f"{name}: file has no audio stream"
            raise AudioError(msg)
        stream = streams[0]
        rate = stream.rate or stream.codec_context.sample_rate
        if container.duration is not None and container.duration / 1e6 > limit:
            msg = f"{name}: audio is {container.duration / 1e6:.1f} s long, above the limit of {limit:.0f} s (max_duration_s=)"
            raise AudioError(msg)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        total = 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                arr = out.to_ndarray().reshape(-1)
                chunks.append(arr)
                total += arr.size
            if rate and total / rate > limit:
                msg = f"{name}: audio is longer than the limit of {limit:.0f} s (max_duration_s=)"
                raise AudioError(msg)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        msg = f"{name}: could not decode audio ({_first_line(exc)})"
        raise AudioError(msg) from None
    finally:
        container.close()
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return samples.astype(np.float32), int(rate or 0), name


def _fetch_url(url: str) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=_URL_TIMEOUT_S) as resp:
            data = resp.read(_URL_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        msg = f"{url}: could not download audio ({_first_line(exc)})"
        raise AudioError(msg) from None
    if len(data) > _URL_MAX_BYTES:
        msg = f"{url}: download is larger than {_URL_MAX_BYTES // 2**20} MB"
        raise AudioError(msg)
    return data


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message; for OS/FFmpeg errors only their reason, not
    the ``[Errno N] ...: 'path'`` wrapping (the caller names the source itself)."""
    reason = getattr(exc, "strerror", None)
    if isinstance(reason, str) and reason.strip():
        return reason.strip()
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def frames_for(n_samples: int, samples_per_frame: int) -> int:
    """Number of codec frames needed to cover ``n_samples`` (``ceil(n_samples / samples_per_frame)``)."""
    return max(1, math.ceil(n_samples / samples_per_frame))
