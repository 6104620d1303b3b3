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
import stat
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .errors import AudioError, AudioFileNotFoundError

__all__ = [
    "DEFAULT_MAX_DURATION_S",
    "DEFAULT_URL_TIMEOUT_S",
    "Audio",
    "check_regular_file",
    "duration_limit",
    "load_audio",
    "open_regular_file",
    "resample",
    "url_timeout",
]

#: Longest input accepted by default, in seconds (1 hour). Override per call with
#: ``max_duration_s=`` or for a whole process with the ``QTOK_MAX_DURATION_S`` variable.
#: Codes files are held to the same limit (:func:`qtok_widgets.grid_io.max_frames`).
DEFAULT_MAX_DURATION_S = 3600.0

#: Overall deadline of a URL download, in seconds: connecting, waiting and reading all count.
#: Override per call with ``url_timeout_s=`` or with the ``QTOK_URL_TIMEOUT_S`` variable.
DEFAULT_URL_TIMEOUT_S = 30.0

_URL_MAX_BYTES = 512 * 1024 * 1024
# compressed formats whose length libsndfile takes from a header that may be wrong (an MP3's
# first frame, a FLAC STREAMINFO, the first of chained Ogg streams): their packets are counted
_HEADER_LENGTH_FORMATS = frozenset({"MP3", "MPEG", "FLAC", "OGG"})


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
        target_rate = _rate(target_rate, "target_rate")
        if target_rate == self.sample_rate:
            return self
        return Audio(resample(self.samples, self.sample_rate, target_rate), target_rate, self.source)

    def to_wav_bytes(self, subtype: str = "PCM_16") -> bytes:
        """Encode as a WAV file in memory (16-bit PCM by default)."""
        import soundfile as sf

        buf = io.BytesIO()
        sf.write(buf, self.samples, self.sample_rate, format="WAV", subtype=subtype)
        return buf.getvalue()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to ``path``; the format follows the suffix (.wav, .flac, .ogg).

        Any file name the system accepts works, including names that are not valid UTF-8.

        Raises
        ------
        AudioError
            An unknown suffix, or the file cannot be written (missing folder, no permission).
        """
        import soundfile as sf

        path = Path(path)
        fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG"}.get(path.suffix.lower())
        if fmt is None:
            msg = f"{path}: cannot write {path.suffix or 'a name without suffix'}; use .wav, .flac or .ogg"
            raise AudioError(msg)
        try:
            # Python opens the file, so the name never passes through libsndfile's UTF-8 path
            with open(path, "wb") as fh:
                sf.write(fh, self.samples, self.sample_rate, format=fmt)
        except OSError as exc:
            msg = f"{path}: cannot write audio ({exc.strerror or exc})"
            raise AudioError(msg) from None
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
    if _whole_hz(orig_rate) is None or _whole_hz(target_rate) is None:
        msg = (
            f"sample rates must be > 0 Hz, whole numbers such as 24000, got {orig_rate!r} -> {target_rate!r}"
        )
        raise AudioError(msg)
    orig_rate, target_rate = int(orig_rate), int(target_rate)
    if orig_rate == target_rate:
        return np.asarray(samples, dtype=np.float32)
    import soxr

    out = soxr.resample(np.asarray(samples, dtype=np.float32), orig_rate, target_rate, quality="VHQ")
    return np.asarray(out, dtype=np.float32)


def _positive_seconds(value: Any, name: str) -> float:
    """``value`` as a finite number of seconds > 0, or an :class:`AudioError` naming ``name``."""
    given = value
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            msg = f"{name} must be a number of seconds, got {value!r}"
            raise AudioError(msg) from None
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        msg = f"{name} must be a number of seconds, got {type(value).__name__} {value!r}"
        raise AudioError(msg)
    seconds = float(value)
    if not (math.isfinite(seconds) and seconds > 0):
        msg = f"{name} must be a finite number of seconds > 0, got {given!r}"
        raise AudioError(msg)
    return seconds


def _seconds_setting(value: Any, name: str, env: str, default: float) -> float:
    if value is not None:
        return _positive_seconds(value, name)
    text = os.environ.get(env)
    if text:
        return _positive_seconds(text.strip(), env)
    return default


def duration_limit(max_duration_s: float | None = None) -> float:
    """The longest input accepted, in seconds: ``max_duration_s``, else ``QTOK_MAX_DURATION_S``,
    else :data:`DEFAULT_MAX_DURATION_S` (3600).

    Raises
    ------
    AudioError
        The value is not a finite number of seconds > 0 (NaN, inf, a string, a list, ...);
        the message names ``max_duration_s`` or ``QTOK_MAX_DURATION_S``.
    """
    return _seconds_setting(max_duration_s, "max_duration_s", "QTOK_MAX_DURATION_S", DEFAULT_MAX_DURATION_S)


def url_timeout(url_timeout_s: float | None = None) -> float:
    """The overall deadline of a URL download, in seconds: ``url_timeout_s``, else
    ``QTOK_URL_TIMEOUT_S``, else :data:`DEFAULT_URL_TIMEOUT_S` (30).

    Raises
    ------
    AudioError
        The value is not a finite number of seconds > 0.
    """
    return _seconds_setting(url_timeout_s, "url_timeout_s", "QTOK_URL_TIMEOUT_S", DEFAULT_URL_TIMEOUT_S)


def _whole_hz(value: Any) -> int | None:
    """``value`` as a whole number of Hz > 0, or None when it is not one (a string, NaN, 0.5, True)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if value > 0 else None
    if isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer():
        return int(value) if value > 0 else None
    return None


def _rate(value: Any, name: str) -> int:
    """``value`` as a whole number of Hz > 0, or an :class:`AudioError` naming ``name``."""
    rate = _whole_hz(value)
    if rate is None:
        msg = f"{name} must be > 0 Hz, a whole number such as 24000, got {value!r}"
        raise AudioError(msg)
    return rate


_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((label for test, label in _FILE_KINDS if test(mode)), "not a regular file")


def _refuse_kind(name: str, mode: int, what: str, error: type[Exception]) -> Exception:
    kind = _kind(mode)
    if kind == "a directory":
        return error(f"{name}: is a directory, not {what}")
    return error(f"{name}: is {kind}, not a regular file; only regular files are read as {what}")


def check_regular_file(
    path: str | os.PathLike[str], *, what: str = "an audio file", error: type[Exception] = AudioError
) -> os.stat_result:
    """Refuse at once anything but an existing regular file, without opening it.

    A FIFO would block a reader forever and a device such as ``/dev/zero`` never ends, so both
    (and symlinks to them, sockets and directories) are refused from their ``stat``.

    Parameters
    ----------
    path : str or os.PathLike
        The file; symlinks are followed.
    what : str
        What the file should be, for the message (``"an audio file"``, ``"a codes file"``).
    error : type
        The :class:`~qtok_widgets.errors.QtokError` subclass to raise.

    Returns
    -------
    os.stat_result
        The file's ``stat`` (``st_size`` in bytes).

    Raises
    ------
    AudioFileNotFoundError
        The path does not exist.
    error
        It is a directory, FIFO, device or socket, or cannot be examined.
    """
    name = os.fsdecode(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        msg = f"{name}: no such file"
        raise AudioFileNotFoundError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"{name}: cannot read ({_first_line(exc)})"
        raise error(msg) from None
    if not stat.S_ISREG(st.st_mode):
        raise _refuse_kind(name, st.st_mode, what, error)
    return st


def open_regular_file(
    path: str | os.PathLike[str], *, what: str = "an audio file", error: type[Exception] = AudioError
) -> BinaryIO:
    """Open a regular file for binary reading, refusing anything else before reading a byte.

    Like :func:`check_regular_file`, but race-free: the file is opened without blocking (a FIFO
    does not wait for a writer) and the *opened* file's ``fstat`` decides.

    Returns
    -------
    BinaryIO
        An open ``rb`` file object; the caller closes it.
    """
    name = os.fsdecode(path)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    )
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        msg = f"{name}: no such file"
        raise AudioFileNotFoundError(msg) from None
    except IsADirectoryError:
        msg = f"{name}: is a directory, not {what}"
        raise error(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"{name}: cannot open ({_first_line(exc)})"
        raise error(msg) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse_kind(name, st.st_mode, what, error)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def load_audio(
    source: Any,
    sample_rate: int | None = None,
    target_rate: int | None = None,
    *,
    max_duration_s: float | None = None,
    url_timeout_s: float | None = None,
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
        Compressed files are decoded to their end with a running sample count, so a file whose
        header claims less than it holds is measured by what it holds.
    url_timeout_s : float, optional
        Overall deadline of a URL download in seconds (default 30, or ``QTOK_URL_TIMEOUT_S``).

    Returns
    -------
    Audio
        ``samples`` float32 of shape ``(n_samples,)`` in [-1, 1]; channels are averaged.

    Raises
    ------
    AudioError
        Missing file, not a regular file (FIFO, device), unreadable or unsupported container,
        zero samples, NaN/Inf, sample rate <= 0, longer than ``max_duration_s``, a download
        past its deadline, or an argument of the wrong type or range (named in the message).
    """
    limit = duration_limit(max_duration_s)
    if target_rate is not None:
        target_rate = _rate(target_rate, "target_rate")
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
            samples, rate, name = _decode_bytes(_fetch_url(text, url_timeout(url_timeout_s)), text, limit)
        else:
            samples, rate, name = _read_path(Path(text), limit)
    else:
        msg = (
            f"cannot load audio from {type(source).__name__}: pass a path, URL, bytes, "
            "binary file object, numpy array or torch tensor"
        )
        raise AudioError(msg)

    if _whole_hz(rate) is None:
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
        audio = audio.resample(target_rate)
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
    with open_regular_file(path, what="an audio file") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            msg = f"{name}: empty file (0 bytes)"
            raise AudioError(msg)
        return _decode_file(fh, name, limit)


def _decode_bytes(data: bytes, name: str, limit: float) -> tuple[np.ndarray, int, str]:
    if not data:
        msg = f"{name}: empty file (0 bytes)"
        raise AudioError(msg)
    return _decode_file(io.BytesIO(data), name, limit)


def _too_long(name: str, duration_s: float | None, limit: float) -> AudioError:
    if duration_s is None:
        return AudioError(f"{name}: audio is longer than the limit of {limit:.0f} s (max_duration_s=)")
    return AudioError(
        f"{name}: audio is {duration_s:.1f} s long, above the limit of {limit:.0f} s (max_duration_s=)"
    )


def _decode_file(fh: BinaryIO, name: str, limit: float) -> tuple[np.ndarray, int, str]:
    """Decode with libsndfile, falling back to FFmpeg (PyAV) for what it cannot read (M4A/AAC).

    libsndfile reads a compressed file (MP3, FLAC, Ogg) only as far as its header says; the
    packets are counted to the end of the file, and when they hold more than the header
    claimed, the whole file is decoded with FFmpeg instead (never truncated silently).
    """
    import soundfile as sf

    start = fh.tell()
    try:
        with sf.SoundFile(fh) as snd:
            rate = snd.samplerate
            if rate > 0 and snd.frames / rate > limit:
                raise _too_long(name, snd.frames / rate, limit)
            data = snd.read(dtype="float32", always_2d=True)
            header_length = snd.format in _HEADER_LENGTH_FORMATS
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        fh.seek(start)
        return _decode_with_av(fh, name, limit)
    if header_length and rate > 0:
        fh.seek(start)
        held_s = _packet_duration_s(fh, name, limit)
        read_s = data.shape[0] / rate
        if held_s is not None and held_s > read_s + 0.25 + 0.01 * read_s:
            fh.seek(start)
            return _decode_with_av(fh, name, limit)
    # (frames, channels): average the channels here, where the layout is known
    return data.mean(axis=1, dtype=np.float32), rate, name


def _packet_duration_s(fh: BinaryIO, name: str, limit: float) -> float | None:
    """Seconds of audio in the packets of the first audio stream, counted to the end of the
    file without decoding (None when FFmpeg cannot demux it); past ``limit`` it is refused."""
    import av

    try:
        container = av.open(fh, mode="r")
    except (av.error.FFmpegError, ValueError, OSError):
        return None
    total, time_base = 0, 0.0
    try:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams or streams[0].time_base is None:
            return None
        stream = streams[0]
        time_base = float(stream.time_base)  # type: ignore[arg-type]  # checked for None above
        for packet in container.demux(stream):
            total += packet.duration or 0
            if total * time_base > limit:
                raise _too_long(name, None, limit)
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError, OSError):
        pass  # a damaged tail: what was counted stands
    finally:
        container.close()
    return total * time_base


def _decode_with_av(fh: BinaryIO, name: str, limit: float) -> tuple[np.ndarray, int, str]:
    """Decode every packet of the first audio stream to the end of the file, counting samples
    as they come and refusing past ``limit``; packets FFmpeg finds invalid (a tag or a damaged
    frame in the middle) are skipped, as the ffmpeg tool does."""
    import av

    try:
        container = av.open(fh, mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        msg = f"{name}: unreadable or unsupported audio container ({_first_line(exc)}); readable: WAV, FLAC, OGG, MP3, M4A/AAC"
        raise AudioError(msg) from None
    chunks: list[np.ndarray] = []
    first_error: BaseException | None = None
    try:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            msg = f"{name}: file has no audio stream"
            raise AudioError(msg)
        stream: Any = streams[0]  # an audio stream (PyAV's stubs type it as any stream)
        rate = stream.rate or stream.codec_context.sample_rate
        if container.duration is not None and container.duration / 1e6 > limit:
            raise _too_long(name, container.duration / 1e6, limit)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        total = 0
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as exc:
                first_error = first_error or exc
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(-1)
                    chunks.append(arr)
                    total += arr.size
            if rate and total / rate > limit:
                raise _too_long(name, None, limit)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except AudioError:
        raise
    except (av.error.FFmpegError, ValueError) as exc:
        msg = f"{name}: could not decode audio ({_first_line(exc)})"
        raise AudioError(msg) from None
    finally:
        container.close()
    if not chunks and first_error is not None:
        msg = f"{name}: could not decode audio ({_first_line(first_error)})"
        raise AudioError(msg)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return samples.astype(np.float32), int(rate or 0), name


def _fetch_url(url: str, timeout_s: float) -> bytes:
    """Download ``url`` whole, within ``timeout_s`` seconds overall (a server that trickles
    bytes is cut off at the deadline, not only one that falls silent) and ``_URL_MAX_BYTES``."""
    import http.client
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    late = f"{url}: download did not finish within {timeout_s:g} s (url_timeout_s= or QTOK_URL_TIMEOUT_S)"
    chunks: list[bytes] = []
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            # the socket's own timeout bounds one wait; the deadline bounds them all
            sock = getattr(getattr(resp.fp, "raw", None), "_sock", None)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AudioError(late)
                if sock is not None:
                    sock.settimeout(remaining)
                chunk = resp.read1(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                if size > _URL_MAX_BYTES:
                    msg = f"{url}: download is larger than {_URL_MAX_BYTES // 2**20} MB"
                    raise AudioError(msg)
                chunks.append(chunk)
    except AudioError:
        raise
    except TimeoutError:
        raise AudioError(late) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise AudioError(late) from None
        msg = f"{url}: could not download audio ({_first_line(exc)})"
        raise AudioError(msg) from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        msg = f"{url}: could not download audio ({_first_line(exc)})"
        raise AudioError(msg) from None
    return b"".join(chunks)


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message; for OS/FFmpeg errors only their reason, not
    the ``[Errno N] ...: 'path'`` wrapping (the caller names the source itself)."""
    reason = getattr(exc, "strerror", None)
    if isinstance(reason, str) and reason.strip():
        return reason.strip()
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def frames_for(n_samples: int, samples_per_frame: int) -> int:
    """Number of codec frames needed to cover ``n_samples`` (``ceil(n_samples / samples_per_frame)``).

    Raises
    ------
    AudioError
        ``n_samples`` is not a whole number >= 0 or ``samples_per_frame`` not one > 0.
    """
    for name, value, low in (("n_samples", n_samples, 0), ("samples_per_frame", samples_per_frame, 1)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < low:
            msg = f"{name} must be a whole number >= {low}, got {value!r}"
            raise AudioError(msg)
    return max(1, -(-int(n_samples) // int(samples_per_frame)))
