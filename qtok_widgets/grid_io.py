"""File formats of :class:`~qtok_widgets.grid.CodeGrid`: ``.pt``, ``.npz`` and ``.json``.

This module is where a grid becomes bytes and bytes become a grid; the grid itself only
delegates here (``CodeGrid.load``/``save``/``to_dict``/``from_dict``/``to_bytes``/``from_bytes``).
The ``.pt`` layout is the dict that ``qwen_tts.Qwen3TTSTokenizer.decode`` accepts
(``{"audio_codes": LongTensor[n_frames, n_layers], ...}``); ``.npz`` holds one array per field;
``.json`` is :func:`grid_to_dict`'s layout. Loading never executes code
(``torch.load(weights_only=True)``, ``allow_pickle=False``) and a file with anything but the
expected keys and types is refused with a :class:`~qtok_widgets.errors.GridError`.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AudioFileNotFoundError, GridError
from .grid import META_KEYS, CodeGrid

__all__ = [
    "CODES_SUFFIXES",
    "codes_format",
    "grid_from_bytes",
    "grid_from_dict",
    "grid_to_bytes",
    "grid_to_dict",
    "load_grid",
    "save_grid",
]

#: Suffixes of codes files, in the order they are offered (the first is the default).
CODES_SUFFIXES = (".pt", ".npz", ".json")

# defaults for files that carry codes only (e.g. saved by the Qwen tokenizer's own tools)
_QWEN_DEFAULTS = {"codec": "qwen3-12hz", "frame_rate": 12.5, "sample_rate": 24000, "codebook_size": 2048}


def codes_format(path: str | os.PathLike[str]) -> str:
    """The codes format of a file name, from its suffix: ``".pt"``, ``".npz"`` or ``".json"``.

    Raises
    ------
    GridError
        The suffix is not one of :data:`CODES_SUFFIXES`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CODES_SUFFIXES:
        msg = (
            f"{path}: unsupported codes format {suffix or '(none)'!r}; use one of {', '.join(CODES_SUFFIXES)}"
        )
        raise GridError(msg)
    return suffix


def _fmt(fmt: str, source: str | None = None) -> str:
    """``"pt"`` or ``".pt"`` -> ``".pt"``; anything else is refused."""
    fmt = fmt if fmt.startswith(".") else "." + fmt
    if fmt not in CODES_SUFFIXES:
        where = f"{source}: " if source else ""
        msg = f"{where}unsupported codes format {fmt!r}; use one of {', '.join(CODES_SUFFIXES)}"
        raise GridError(msg)
    return fmt


# ---------------------------------------------------------------------------- writing


def grid_to_dict(grid: CodeGrid) -> dict[str, Any]:
    """JSON-ready dict: metadata, ``codes`` as nested lists ``[n_layers][n_frames]`` and masked cells."""
    out: dict[str, Any] = {"format": "qtok-codes", "version": 1, **grid.metadata()}
    out["shape"] = [grid.n_layers, grid.n_frames]
    out["codes"] = grid.codes.tolist()
    out["masked"] = np.argwhere(grid.mask).tolist()
    return out


def grid_to_bytes(grid: CodeGrid, fmt: str = ".pt") -> bytes:
    """Serialise ``grid`` to the bytes of a ``.pt``, ``.npz`` or ``.json`` file (see :func:`save_grid`)."""
    fmt = _fmt(fmt)
    if fmt == ".json":
        return json.dumps(grid_to_dict(grid), separators=(",", ":")).encode() + b"\n"
    if fmt == ".npz":
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            codes=grid.codes,
            mask=grid.mask,
            codec=np.array(grid.codec),
            frame_rate=np.array(grid.frame_rate),
            sample_rate=np.array(grid.sample_rate),
            codebook_size=np.array(grid.codebook_size),
            n_samples=np.array(grid.n_samples),
        )
        return buf.getvalue()
    import torch

    payload = {
        "audio_codes": torch.from_numpy(grid.codes.T.astype(np.int64).copy()),
        "mask": torch.from_numpy(grid.mask.copy()),
        **grid.metadata(),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    return buf.getvalue()


def save_grid(grid: CodeGrid, path: str | os.PathLike[str]) -> Path:
    """Write ``grid`` to ``path``; the suffix picks the format (``.pt``, ``.npz``, ``.json``).

    ``.pt`` holds ``{"audio_codes": LongTensor[n_frames, n_layers], "mask": BoolTensor[n_layers,
    n_frames], "codec": str, "frame_rate": float, "sample_rate": int, "codebook_size": int,
    "n_samples": int}``: ``qwen_tts.Qwen3TTSTokenizer.decode(torch.load(path))`` accepts it
    (it reads ``audio_codes`` only, so masked cells are decoded with their kept codes there).
    """
    path = Path(path)
    path.write_bytes(grid_to_bytes(grid, codes_format(path)))
    return path


# ---------------------------------------------------------------------------- reading


def load_grid(path: str | os.PathLike[str]) -> CodeGrid:
    """Read a grid saved by :func:`save_grid` (or codes saved by the Qwen tokenizer's tools).

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
    suffix = codes_format(path)
    return grid_from_bytes(path.read_bytes(), suffix, source=str(path))


def grid_from_bytes(data: bytes, fmt: str | None = None, *, source: str = "codes") -> CodeGrid:
    """Parse the bytes of a ``.pt``, ``.npz`` or ``.json`` codes file.

    With ``fmt=None`` the format is sniffed from the content (zip: ``.pt`` or ``.npz``;
    ``{``: JSON).
    """
    if not data:
        msg = f"{source}: empty file (0 bytes)"
        raise GridError(msg)
    fmt = _sniff(data, source) if fmt is None else _fmt(fmt, source)
    if fmt == ".json":
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            msg = f"{source}: not valid JSON codes ({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
            raise GridError(msg) from None
        return grid_from_dict(obj, source=source)
    if fmt == ".npz":
        return _load_npz(data, source)
    return _load_pt(data, source)


def grid_from_dict(data: dict[str, Any], *, source: str = "codes") -> CodeGrid:
    """Build a grid from :func:`grid_to_dict` output (as read from JSON)."""
    if not isinstance(data, dict):
        msg = f"{source}: expected a JSON object with 'codes', got {type(data).__name__}"
        raise GridError(msg)
    if "codes" not in data:
        msg = (
            f"{source}: missing 'codes' (expected keys: codes, codec, frame_rate, sample_rate, codebook_size)"
        )
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
    meta = _check_meta({k: data[k] for k in META_KEYS if k in data and data[k] is not None}, source)
    return CodeGrid(arr, mask=mask, **meta)


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
        allowed = {"audio_codes", "mask", *META_KEYS}
        extra = sorted(set(map(str, obj)) - allowed)
        if extra:
            msg = f"{source}: unexpected keys {extra} in .pt file; allowed: {sorted(allowed)}"
            raise GridError(msg)
        if "audio_codes" not in obj:
            msg = f"{source}: .pt dict has no 'audio_codes' tensor"
            raise GridError(msg)
        codes = obj["audio_codes"]
        mask = obj.get("mask")
        meta = {k: obj[k] for k in META_KEYS if k in obj and obj[k] is not None}
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
    allowed = {"codes", "mask", *META_KEYS}
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
    meta = {k: files[k] for k in META_KEYS if k in files}
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
