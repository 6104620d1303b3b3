"""CodeGrid: the integer codes of one recording, layer by frame, plus an explicit mask.

A :class:`CodeGrid` is what a codec's ``encode`` returns and ``decode`` takes: ``codes`` of
shape ``(n_layers, n_frames)`` (layer-major, as the Qwen tokenizer's tools print ``[16, N]``),
a boolean ``mask`` of the same shape (True = the cell contributes nothing at decode time; its
code is kept so that unmasking is lossless) and the metadata needed to decode and trim:
codec name, frame rate, sample rate, codebook size and the original sample count.

Grids are immutable: the arrays are read-only and every edit returns a new grid
(:mod:`qtok_widgets.edits`). They save to and load from ``.pt`` (the dict layout that
``qwen_tts.Qwen3TTSTokenizer.decode`` accepts: ``{"audio_codes": LongTensor[n_frames, n_layers]}``),
``.npz`` and ``.json``; those formats live in :mod:`qtok_widgets.grid_io`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GridError

__all__ = ["CODE_DTYPE", "MAX_CODEBOOK_SIZE", "MAX_LAYERS", "MAX_SAMPLE_RATE", "CodeGrid"]

#: dtype of ``CodeGrid.codes``.
CODE_DTYPE = np.int32

#: Most quantizer layers a grid may have (Qwen has 16, EnCodec at most 32).
MAX_LAYERS = 64
#: Largest codebook a grid may name (2**20 codes per layer; Qwen has 2048). Tables sized by the
#: codebook (code usage, entropy) stay a few MB.
MAX_CODEBOOK_SIZE = 2**20
#: Highest audio rate a grid may decode to, in Hz.
MAX_SAMPLE_RATE = 768_000

#: Metadata fields of a grid, stored beside the codes in every file format.
META_KEYS = ("codec", "frame_rate", "sample_rate", "codebook_size", "n_samples")


@dataclass(frozen=True, eq=False)
class CodeGrid:
    """Codes of one recording: ``n_layers`` quantizer layers × ``n_frames`` frames.

    Parameters
    ----------
    codes : array_like of int
        Shape ``(n_layers, n_frames)``, values in ``0 .. codebook_size - 1``, with
        ``1 <= n_layers <=`` :data:`MAX_LAYERS`. Stored as a read-only int32 array.
    codec : str
        Name of the codec that produced the codes (``"builtin"``, ``"qwen3-12hz"``, ...).
    frame_rate : float
        Frames per second (Hz), e.g. 12.5.
    sample_rate : int
        Audio samples per second (Hz) that the codec decodes to, e.g. 24000; at most
        :data:`MAX_SAMPLE_RATE`.
    codebook_size : int
        Number of distinct codes per layer, e.g. 2048; at most :data:`MAX_CODEBOOK_SIZE`.
    n_samples : int, optional
        Length of the encoded audio in samples at ``sample_rate``; ``decode`` trims its output
        to this. Defaults to ``n_frames * samples_per_frame``.
    mask : array_like of bool, optional
        Shape ``(n_layers, n_frames)``; True marks a masked cell (decoded as absent).
    """

    codes: np.ndarray
    codec: str
    frame_rate: float
    sample_rate: int
    codebook_size: int
    # None asks for the default; __post_init__ always stores an int and a bool array
    n_samples: int = None  # type: ignore[assignment]
    mask: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        codes = np.asarray(self.codes)
        if codes.ndim != 2:
            msg = f"codes must have shape (n_layers, n_frames), got {codes.ndim}-D shape {codes.shape}"
            raise GridError(msg)
        if codes.dtype.kind not in "iu":
            if codes.dtype.kind == "f" and codes.size and np.all(np.mod(codes, 1) == 0):
                pass
            elif codes.size:
                msg = f"codes must be integers, got dtype {codes.dtype}"
                raise GridError(msg)
        if not isinstance(self.codebook_size, (int, np.integer)) or self.codebook_size < 1:
            msg = f"codebook_size must be a positive integer, got {self.codebook_size!r}"
            raise GridError(msg)
        if self.codebook_size > MAX_CODEBOOK_SIZE:
            msg = (
                f"codebook_size {self.codebook_size} is above the limit: it must be in 1..{MAX_CODEBOOK_SIZE}"
            )
            raise GridError(msg)
        if codes.shape[0] < 1:
            msg = "codes must have at least one layer"
            raise GridError(msg)
        if codes.shape[0] > MAX_LAYERS:
            msg = f"codes have {codes.shape[0]} layers, above the limit: n_layers must be in 1..{MAX_LAYERS}"
            raise GridError(msg)
        if codes.size:
            lo, hi = int(codes.min()), int(codes.max())
            if lo < 0 or hi >= self.codebook_size:
                bad = lo if lo < 0 else hi
                layer, frame = np.argwhere(codes == bad)[0]
                msg = (
                    f"code {bad} at layer {layer}, frame {frame} is out of range: "
                    f"codes must be in 0..{self.codebook_size - 1}"
                )
                raise GridError(msg)
        if not (
            isinstance(self.frame_rate, (int, float, np.number))
            and math.isfinite(self.frame_rate)
            and self.frame_rate > 0
        ):
            msg = f"frame_rate must be a positive number of Hz, got {self.frame_rate!r}"
            raise GridError(msg)
        if not isinstance(self.sample_rate, (int, np.integer)) or self.sample_rate <= 0:
            msg = f"sample_rate must be a positive integer number of Hz, got {self.sample_rate!r}"
            raise GridError(msg)
        if self.sample_rate > MAX_SAMPLE_RATE:
            msg = (
                f"sample_rate {self.sample_rate} Hz is above the limit: it must be in 1..{MAX_SAMPLE_RATE} Hz"
            )
            raise GridError(msg)
        if self.frame_rate > self.sample_rate:
            msg = (
                f"frame_rate {self.frame_rate:g} Hz is above sample_rate {self.sample_rate} Hz: "
                "a frame must span at least one sample"
            )
            raise GridError(msg)
        codes = np.array(codes, dtype=CODE_DTYPE, copy=True)
        codes.flags.writeable = False
        object.__setattr__(self, "codes", codes)
        if self.mask is None:
            mask = np.zeros(codes.shape, dtype=bool)
        else:
            mask = np.asarray(self.mask)
            if mask.shape != codes.shape:
                msg = f"mask shape {mask.shape} does not match codes shape {codes.shape}"
                raise GridError(msg)
            if mask.dtype != bool:
                if mask.dtype.kind not in "iub" or (mask.size and not np.isin(mask, (0, 1)).all()):
                    msg = f"mask must be boolean, got dtype {mask.dtype}"
                    raise GridError(msg)
            mask = np.array(mask, dtype=bool, copy=True)
        mask.flags.writeable = False
        object.__setattr__(self, "mask", mask)
        object.__setattr__(self, "frame_rate", float(self.frame_rate))
        object.__setattr__(self, "sample_rate", int(self.sample_rate))
        object.__setattr__(self, "codebook_size", int(self.codebook_size))
        object.__setattr__(self, "codec", str(self.codec))
        full = codes.shape[1] * self.samples_per_frame
        if self.n_samples is None:
            object.__setattr__(self, "n_samples", full)
        else:
            n = self.n_samples
            whole = isinstance(n, (int, np.integer)) or (
                isinstance(n, (float, np.floating)) and math.isfinite(n) and float(n).is_integer()
            )
            if not whole or isinstance(n, (bool, np.bool_)):
                msg = f"n_samples must be a whole number of samples in 0..{full}, got {n!r}"
                raise GridError(msg)
            n = int(n)
            if n < 0 or n > full:
                msg = f"n_samples {n} must be in 0..{full} (n_frames × samples_per_frame)"
                raise GridError(msg)
            object.__setattr__(self, "n_samples", n)

    # ------------------------------------------------------------------ properties
    @property
    def n_layers(self) -> int:
        """Number of quantizer layers (rows)."""
        return int(self.codes.shape[0])

    @property
    def n_frames(self) -> int:
        """Number of frames (columns)."""
        return int(self.codes.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_layers, n_frames)``."""
        return (self.n_layers, self.n_frames)

    @property
    def samples_per_frame(self) -> int:
        """Audio samples per frame (``sample_rate / frame_rate``, e.g. 1920)."""
        return round(self.sample_rate / self.frame_rate)

    @property
    def duration(self) -> float:
        """Duration of the encoded audio in seconds (``n_samples / sample_rate``)."""
        return self.n_samples / self.sample_rate

    duration_s = duration

    @property
    def bitrate(self) -> float:
        """Bits per second: ``n_layers × log2(codebook_size) × frame_rate`` (2200 for Qwen 12 Hz)."""
        return self.n_layers * math.log2(self.codebook_size) * self.frame_rate

    @property
    def n_masked(self) -> int:
        """Number of masked cells."""
        return int(self.mask.sum())

    def frame_times(self) -> np.ndarray:
        """Start time of every frame in seconds, shape ``(n_frames,)``."""
        return np.arange(self.n_frames) / self.frame_rate

    # ------------------------------------------------------------------ copies
    def replace(self, **changes: Any) -> CodeGrid:
        """Return a copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def with_codes(
        self, codes: np.ndarray, mask: np.ndarray | None = None, n_samples: int | None = None
    ) -> CodeGrid:
        """Return a grid with new codes (and mask) and the same codec metadata.

        If the frame count changes and ``n_samples`` is not given, the sample count is set to
        cover the new frames exactly.
        """
        codes = np.asarray(codes)
        if n_samples is None:
            if codes.ndim == 2 and codes.shape[1] == self.n_frames:
                n_samples = self.n_samples
            elif codes.ndim == 2:
                n_samples = codes.shape[1] * self.samples_per_frame
        return CodeGrid(
            codes,
            codec=self.codec,
            frame_rate=self.frame_rate,
            sample_rate=self.sample_rate,
            codebook_size=self.codebook_size,
            n_samples=n_samples,  # type: ignore[arg-type]  # None asks for the default
            mask=mask,  # type: ignore[arg-type]
        )

    def unmasked(self) -> CodeGrid:
        """The same codes with no cell masked."""
        return self.replace(mask=None)

    def same_codec(self, other: CodeGrid) -> bool:
        """True when ``other`` comes from the same codec at the same rates and sizes."""
        return (
            self.codec == other.codec
            and self.frame_rate == other.frame_rate
            and self.sample_rate == other.sample_rate
            and self.codebook_size == other.codebook_size
            and self.n_layers == other.n_layers
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CodeGrid):
            return NotImplemented
        return (
            self.same_codec(other)
            and self.n_samples == other.n_samples
            and np.array_equal(self.codes, other.codes)
            and np.array_equal(self.mask, other.mask)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        masked = f", masked={self.n_masked}" if self.n_masked else ""
        return (
            f"CodeGrid(codec={self.codec!r}, shape=[{self.n_layers}, {self.n_frames}], "
            f"duration={self.duration:.3f}s, frame_rate={self.frame_rate:g}Hz{masked})"
        )

    # ------------------------------------------------------------------ serialisation
    def metadata(self) -> dict[str, Any]:
        """Codec name, rates, codebook size and sample count as a plain dict."""
        return {key: getattr(self, key) for key in META_KEYS}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: metadata, ``codes`` as nested lists ``[n_layers][n_frames]`` and masked cells."""
        from .grid_io import grid_to_dict

        return grid_to_dict(self)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, source: str = "codes", max_duration_s: float | None = None
    ) -> CodeGrid:
        """Build a grid from :meth:`to_dict` output (as read from JSON), within the limits of
        :meth:`load`."""
        from .grid_io import grid_from_dict

        return grid_from_dict(data, source=source, max_duration_s=max_duration_s)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the grid to ``path``; the suffix picks the format (``.pt``, ``.npz``, ``.json``).

        ``.pt`` holds ``{"audio_codes": LongTensor[n_frames, n_layers], "mask": BoolTensor[n_layers,
        n_frames], "codec": str, "frame_rate": float, "sample_rate": int, "codebook_size": int,
        "n_samples": int}``: ``qwen_tts.Qwen3TTSTokenizer.decode(torch.load(path))`` accepts it
        (it reads ``audio_codes`` only, so masked cells are decoded with their kept codes there).
        See :mod:`qtok_widgets.grid_io`.
        """
        from .grid_io import save_grid

        return save_grid(self, path)

    def to_bytes(self, fmt: str = ".pt") -> bytes:
        """Serialise to the bytes of a ``.pt``, ``.npz`` or ``.json`` file."""
        from .grid_io import grid_to_bytes

        return grid_to_bytes(self, fmt)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, max_duration_s: float | None = None) -> CodeGrid:
        """Read a grid saved by :meth:`save` (or codes saved by the Qwen tokenizer's tools).

        Accepted ``.pt`` contents: a dict with ``audio_codes`` (``[n_frames, n_layers]``,
        ``[1, n_frames, n_layers]`` or a one-element list of those), optionally with our
        metadata keys, or a bare codes tensor in those layouts (``[n_layers, n_frames]`` is
        recognised when only one axis has 16 entries). Nothing in the file is executed, and every
        size it declares is checked before anything of that size is allocated; see
        :func:`qtok_widgets.grid_io.load_grid` for the limits.

        Parameters
        ----------
        path : str or os.PathLike
            A regular ``.pt``, ``.npz`` or ``.json`` file.
        max_duration_s : float, optional
            Longest recording accepted, in seconds (default ``QTOK_MAX_DURATION_S`` or 3600,
            the audio limit); the file may hold at most that many seconds of frames.

        Raises
        ------
        GridError
            Not a regular file, unknown suffix, unreadable or damaged file, unexpected contents,
            wrong shape or dtype, code out of range, or beyond a size limit. One line.
        """
        from .grid_io import load_grid

        return load_grid(path, max_duration_s=max_duration_s)

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        fmt: str | None = None,
        *,
        source: str = "codes",
        max_duration_s: float | None = None,
    ) -> CodeGrid:
        """Parse the bytes of a ``.pt``, ``.npz`` or ``.json`` codes file, within the limits of
        :meth:`load`.

        With ``fmt=None`` the format is sniffed from the content (zip: ``.pt`` or ``.npz``;
        ``{``: JSON).
        """
        from .grid_io import grid_from_bytes

        return grid_from_bytes(data, fmt, source=source, max_duration_s=max_duration_s)
