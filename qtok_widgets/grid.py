"""CodeGrid: the integer codes of one recording, layer by frame, plus an explicit mask.

A :class:`CodeGrid` is what a codec's ``encode`` returns and ``decode`` takes: ``codes`` of
shape ``(n_layers, n_frames)`` (layer-major, as the Qwen tokenizer's tools print ``[16, N]``),
a boolean ``mask`` of the same shape (True = the cell contributes nothing at decode time; its
code is kept so that unmasking is lossless) and the metadata needed to decode and trim:
codec name, frame rate, sample rate, codebook size and the original sample count.

Grids are immutable: the arrays are read-only and every edit returns a new grid
(:mod:`qtok_widgets.edits`). They save to and load from ``.pt`` (the dict layout that
``qwen_tts.Qwen3TTSTokenizer.decode`` accepts: ``{"audio_codes": LongTensor[n_frames, n_layers]}``),
``.npz`` and ``.json``. Loading never executes code: ``torch.load(weights_only=True)``,
``np.load(allow_pickle=False)``, and a file with anything but the expected keys and types is
refused with a :class:`~qtok_widgets.errors.GridError`.
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AudioFileNotFoundError, GridError

__all__ = ["CODE_DTYPE", "CodeGrid"]

#: dtype of ``CodeGrid.codes``.
CODE_DTYPE = np.int32

_FORMATS = (".pt", ".npz", ".json")
_META_KEYS = ("codec", "frame_rate", "sample_rate", "codebook_size", "n_samples")
# defaults for files that carry codes only (e.g. saved by the Qwen tokenizer's own tools)
_QWEN_DEFAULTS = {"codec": "qwen3-12hz", "frame_rate": 12.5, "sample_rate": 24000, "codebook_size": 2048}


@dataclass(frozen=True, eq=False)
class CodeGrid:
    """Codes of one recording: ``n_layers`` quantizer layers × ``n_frames`` frames.

    Parameters
    ----------
    codes : array_like of int
        Shape ``(n_layers, n_frames)``, values in ``0 .. codebook_size - 1``. Stored as a
        read-only int32 array.
    codec : str
        Name of the codec that produced the codes (``"builtin"``, ``"qwen3-12hz"``, ...).
    frame_rate : float
        Frames per second (Hz), e.g. 12.5.
    sample_rate : int
        Audio samples per second (Hz) that the codec decodes to, e.g. 24000.
    codebook_size : int
        Number of distinct codes per layer, e.g. 2048.
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
    n_samples: int | None = None
    mask: np.ndarray | None = field(default=None)

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
        if codes.shape[0] < 1:
            msg = "codes must have at least one layer"
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
            n = int(self.n_samples)
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
            n_samples=n_samples,
            mask=mask,
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
        return {key: getattr(self, key) for key in _META_KEYS}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: metadata, ``codes`` as nested lists ``[n_layers][n_frames]`` and masked cells."""
        out: dict[str, Any] = {"format": "qtok-codes", "version": 1, **self.metadata()}
        out["shape"] = [self.n_layers, self.n_frames]
        out["codes"] = self.codes.tolist()
        out["masked"] = np.argwhere(self.mask).tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "codes") -> CodeGrid:
        """Build a grid from :meth:`to_dict` output (as read from JSON)."""
        if not isinstance(data, dict):
            msg = f"{source}: expected a JSON object with 'codes', got {type(data).__name__}"
            raise GridError(msg)
        if "codes" not in data:
            msg = f"{source}: missing 'codes' (expected keys: codes, codec, frame_rate, sample_rate, codebook_size)"
            raise GridError(msg)
        codes = data["codes"]
        if not isinstance(codes, list) or not all(isinstance(row, list) for row in codes):
            msg = f"{source}: 'codes' must be a list of layers, each a list of integer codes"
            raise GridError(msg)
        if any(not isinstance(v, int) or isinstance(v, bool) for row in codes for v in row):
            msg = f"{source}: 'codes' must contain only integers"
            raise GridError(msg)
        lengths = {len(row) for row in codes}
        if len(lengths) > 1:
            msg = f"{source}: every layer must have the same number of frames, got lengths {sorted(lengths)}"
            raise GridError(msg)
        arr = np.array(codes, dtype=np.int64).reshape(len(codes), lengths.pop() if lengths else 0)
        mask = np.zeros(arr.shape, dtype=bool)
        for cell in data.get("masked", []) or []:
            if (
                not isinstance(cell, list)
                or len(cell) != 2
                or not all(isinstance(v, int) for v in cell)
                or not (0 <= cell[0] < arr.shape[0] and 0 <= cell[1] < arr.shape[1])
            ):
                msg = f"{source}: 'masked' must list [layer, frame] pairs inside the grid, got {cell!r}"
                raise GridError(msg)
            mask[cell[0], cell[1]] = True
        meta = _check_meta({k: data[k] for k in _META_KEYS if k in data and data[k] is not None}, source)
        return cls(arr, mask=mask, **meta)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the grid to ``path``; the suffix picks the format (``.pt``, ``.npz``, ``.json``).

        ``.pt`` holds ``{"audio_codes": LongTensor[n_frames, n_layers], "mask": BoolTensor[n_layers,
        n_frames], "codec": str, "frame_rate": float, "sample_rate": int, "codebook_size": int,
        "n_samples": int}``: ``qwen_tts.Qwen3TTSTokenizer.decode(torch.load(path))`` accepts it
        (it reads ``audio_codes`` only, so masked cells are decoded with their kept codes there).
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in _FORMATS:
            msg = f"{path}: unsupported codes format {suffix or '(none)'!r}; use one of {', '.join(_FORMATS)}"
            raise GridError(msg)
        path.write_bytes(self.to_bytes(suffix))
        return path

    def to_bytes(self, fmt: str = ".pt") -> bytes:
        """Serialise to the bytes of a ``.pt``, ``.npz`` or ``.json`` file."""
        fmt = fmt if fmt.startswith(".") else "." + fmt
        if fmt == ".json":
            return json.dumps(self.to_dict(), separators=(",", ":")).encode() + b"\n"
        if fmt == ".npz":
            buf = io.BytesIO()
            np.savez_compressed(
                buf,
                codes=self.codes,
                mask=self.mask,
                codec=np.array(self.codec),
                frame_rate=np.array(self.frame_rate),
                sample_rate=np.array(self.sample_rate),
                codebook_size=np.array(self.codebook_size),
                n_samples=np.array(self.n_samples),
            )
            return buf.getvalue()
        if fmt == ".pt":
            import torch

            payload = {
                "audio_codes": torch.from_numpy(self.codes.T.astype(np.int64).copy()),
                "mask": torch.from_numpy(self.mask.copy()),
                **self.metadata(),
            }
            buf = io.BytesIO()
            torch.save(payload, buf)
            return buf.getvalue()
        msg = f"unsupported codes format {fmt!r}; use one of {', '.join(_FORMATS)}"
        raise GridError(msg)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CodeGrid:
        """Read a grid saved by :meth:`save` (or codes saved by the Qwen tokenizer's tools).

        Accepted ``.pt`` contents: a dict with ``audio_codes`` (``[n_frames, n_layers]``,
        ``[1, n_frames, n_layers]`` or a one-element list of those), optionally with our
        metadata keys, or a bare codes tensor in those layouts (``[n_layers, n_frames]`` is
        recognised when only one axis has 16 entries). Nothing in the file is executed.

        Raises
        ------
        GridError
            Unknown suffix, unreadable file, unexpected contents, wrong shape or dtype,
            code out of range.
        """
        path = Path(path)
        if not path.exists():
            msg = f"{path}: no such file"
            raise AudioFileNotFoundError(msg)
        suffix = path.suffix.lower()
        if suffix not in _FORMATS:
            msg = f"{path}: unsupported codes format {suffix or '(none)'!r}; use one of {', '.join(_FORMATS)}"
            raise GridError(msg)
        return cls.from_bytes(path.read_bytes(), suffix, source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, fmt: str | None = None, *, source: str = "codes") -> CodeGrid:
        """Parse the bytes of a ``.pt``, ``.npz`` or ``.json`` codes file.

        With ``fmt=None`` the format is sniffed from the content (zip: ``.pt`` or ``.npz``;
        ``{``: JSON).
        """
        if not data:
            msg = f"{source}: empty file (0 bytes)"
            raise GridError(msg)
        if fmt is None:
            fmt = _sniff(data, source)
        fmt = fmt if fmt.startswith(".") else "." + fmt
        if fmt == ".json":
            try:
                obj = json.loads(data.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                msg = f"{source}: not valid JSON codes ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
                raise GridError(msg) from None
            return cls.from_dict(obj, source=source)
        if fmt == ".npz":
            return _load_npz(data, source)
        if fmt == ".pt":
            return _load_pt(data, source)
        msg = f"{source}: unsupported codes format {fmt!r}; use one of {', '.join(_FORMATS)}"
        raise GridError(msg)


def _sniff(data: bytes, source: str) -> str:
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return ".json"
    if data[:4] == b"PK\x03\x04":
        import zipfile

        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.endswith(".npy") for n in names):
            return ".npz"
        return ".pt"
    msg = f"{source}: not a codes file (expected a .pt, .npz or .json file of codes)"
    raise GridError(msg)


def _check_meta(meta: dict[str, Any], source: str) -> dict[str, Any]:
    out = dict(_QWEN_DEFAULTS)
    out.update(meta)
    types = {
        "codec": str,
        "frame_rate": (int, float),
        "sample_rate": int,
        "codebook_size": int,
        "n_samples": int,
    }
    for key, value in out.items():
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()
        if not isinstance(value, types[key]) or isinstance(value, bool):
            msg = f"{source}: '{key}' must be {getattr(types[key], '__name__', 'a number')}, got {type(value).__name__}"
            raise GridError(msg)
        out[key] = value
    return out


def _orient(arr: np.ndarray, source: str, *, time_major_default: bool) -> np.ndarray:
    """Return ``(n_layers, n_frames)`` from a 2-D/3-D codes array in the Qwen or our layout."""
    if arr.ndim == 3:
        if arr.shape[0] != 1:
            msg = f"{source}: batched codes of shape {tuple(arr.shape)} hold {arr.shape[0]} items; save one item per file"
            raise GridError(msg)
        arr = arr[0]
    if arr.ndim != 2:
        msg = f"{source}: codes must be 2-D [n_frames, n_layers] (or [1, n_frames, n_layers]), got shape {tuple(arr.shape)}"
        raise GridError(msg)
    if time_major_default:
        # Qwen layout is [T, Q]; accept [Q, T] when only the first axis looks like 16 layers.
        if arr.shape[0] == 16 and arr.shape[1] != 16:
            return arr
        return arr.T
    return arr


def _load_pt(data: bytes, source: str) -> CodeGrid:
    import pickle

    import torch

    if data[:4] != b"PK\x03\x04" and data[:1] != b"\x80":
        msg = f"{source}: not a readable .pt file (neither a torch zip archive nor a pickle)"
        raise GridError(msg)
    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()
        hint = next(
            (line for line in first if "Unsupported" in line or "global" in line.lower()),
            first[0] if first else "",
        )
        msg = f"{source}: refused: the .pt file holds objects other than tensors, numbers and strings ({hint.strip()[:160]})"
        raise GridError(msg) from None
    except (RuntimeError, EOFError, ValueError, OSError, AttributeError) as exc:
        msg = f"{source}: not a readable .pt file ({_first_line(exc)})"
        raise GridError(msg) from None
    mask = None
    meta: dict[str, Any] = {}
    if isinstance(obj, dict):
        allowed = {"audio_codes", "mask", *_META_KEYS}
        extra = sorted(set(map(str, obj)) - allowed)
        if extra:
            msg = f"{source}: unexpected keys {extra} in .pt file; allowed: {sorted(allowed)}"
            raise GridError(msg)
        if "audio_codes" not in obj:
            msg = f"{source}: .pt dict has no 'audio_codes' tensor"
            raise GridError(msg)
        codes = obj["audio_codes"]
        mask = obj.get("mask")
        meta = {k: obj[k] for k in _META_KEYS if k in obj and obj[k] is not None}
    else:
        codes = obj
    if isinstance(codes, (list, tuple)):
        if len(codes) != 1:
            msg = f"{source}: 'audio_codes' list holds {len(codes)} items; save one item per file"
            raise GridError(msg)
        codes = codes[0]
    if not isinstance(codes, torch.Tensor):
        msg = f"{source}: 'audio_codes' must be an integer tensor, got {type(codes).__name__}"
        raise GridError(msg)
    if codes.dtype.is_floating_point or codes.dtype == torch.bool or codes.is_complex():
        msg = f"{source}: codes must be an integer tensor, got dtype {codes.dtype}"
        raise GridError(msg)
    arr = _orient(codes.numpy(), source, time_major_default=True)
    if mask is not None:
        if not isinstance(mask, torch.Tensor):
            msg = f"{source}: 'mask' must be a bool tensor, got {type(mask).__name__}"
            raise GridError(msg)
        mask = mask.numpy()
    meta = _check_meta(meta, source)
    try:
        return CodeGrid(arr, mask=mask, **meta)
    except GridError as exc:
        msg = f"{source}: {exc}"
        raise GridError(msg) from None


def _load_npz(data: bytes, source: str) -> CodeGrid:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            files = {name: npz[name] for name in npz.files}
    except ValueError as exc:
        msg = f"{source}: refused: the .npz file holds pickled objects ({_first_line(exc)})"
        raise GridError(msg) from None
    except (OSError, EOFError) as exc:
        msg = f"{source}: not a readable .npz file ({_first_line(exc)})"
        raise GridError(msg) from None
    allowed = {"codes", "mask", *_META_KEYS}
    extra = sorted(set(files) - allowed)
    if extra:
        msg = f"{source}: unexpected arrays {extra} in .npz file; allowed: {sorted(allowed)}"
        raise GridError(msg)
    if "codes" not in files:
        msg = f"{source}: .npz file has no 'codes' array"
        raise GridError(msg)
    codes = files["codes"]
    if codes.dtype.kind not in "iu":
        msg = f"{source}: codes must be integers, got dtype {codes.dtype}"
        raise GridError(msg)
    meta = {k: files[k] for k in _META_KEYS if k in files}
    if "codec" in meta:
        meta["codec"] = str(meta["codec"])
    meta = _check_meta(meta, source)
    try:
        return CodeGrid(codes, mask=files.get("mask"), **meta)
    except GridError as exc:
        msg = f"{source}: {exc}"
        raise GridError(msg) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
