"""File formats of :class:`~qtok_widgets.grid.CodeGrid`: ``.pt``, ``.npz`` and ``.json``.

This module is where a grid becomes bytes and bytes become a grid; the grid itself only
delegates here (``CodeGrid.load``/``save``/``to_dict``/``from_dict``/``to_bytes``/``from_bytes``).
The ``.pt`` layout is the dict that ``qwen_tts.Qwen3TTSTokenizer.decode`` accepts
(``{"audio_codes": LongTensor[n_frames, n_layers], ...}``); ``.npz`` holds one array per field;
``.json`` is :func:`grid_to_dict`'s layout.

Loading never executes code (``torch.load(weights_only=True)``, ``.npy`` headers read without
pickle) and checks every size a file declares *before* allocating for it: only regular files
(a FIFO or ``/dev/zero`` is refused at once), the file size, a zip archive's entries and the
sizes they expand to, a ``.npy`` header's shape and dtype, JSON nesting, the count of JSON
lists and the digits of its numbers; then frames (the same duration limit as audio, see
:func:`max_frames`), layers, cells and codebook size. Whatever zip, zlib, torch, numpy or
json make of a damaged file, the caller gets one :class:`~qtok_widgets.errors.GridError`
line that names the file and the problem.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .audio import duration_limit, open_regular_file
from .errors import GridError, QtokError
from .grid import MAX_CODEBOOK_SIZE, MAX_LAYERS, MAX_SAMPLE_RATE, META_KEYS, CodeGrid

__all__ = [
    "CODES_SUFFIXES",
    "MAX_CELLS",
    "MAX_CODEBOOK_SIZE",
    "MAX_CODES_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_JSON_BYTES",
    "MAX_JSON_CONTAINERS",
    "MAX_JSON_DEPTH",
    "MAX_LAYERS",
    "MAX_SAMPLE_RATE",
    "codes_format",
    "grid_from_bytes",
    "grid_from_dict",
    "grid_to_bytes",
    "grid_to_dict",
    "load_grid",
    "max_frames",
    "save_grid",
]

#: Suffixes of codes files, in the order they are offered (the first is the default).
CODES_SUFFIXES = (".pt", ".npz", ".json")

#: Most cells (``n_layers * n_frames``) a codes file may hold, whatever its frame rate: 2**23,
#: 11x a 16-layer hour at 12.5 Hz; 64 MiB as int64.
MAX_CELLS = 2**23
#: Largest codes file read, and the most its zip entries may expand to, in bytes (80 MiB:
#: MAX_CELLS int64 codes, their mask and room for the rest).
MAX_CODES_FILE_BYTES = 10 * MAX_CELLS
#: Largest ``.json`` codes file, in bytes (16 MiB; an hour of 16 x 45,000 codes with every cell
#: masked is 12 MB). Parsed JSON takes up to 20x its size in memory; use .npz beyond this.
MAX_JSON_BYTES = 16 * 2**20
#: Most JSON lists and objects in one codes file (one per layer and one per masked cell).
MAX_JSON_CONTAINERS = 2**20
#: Deepest JSON nesting accepted (the layout needs 3: object, codes, layer).
MAX_JSON_DEPTH = 8
#: Most digits in one JSON number (int64 has 19).
MAX_INT_DIGITS = 19
# longest codec name
_MAX_NAME_CHARS = 200
# most entries in a .pt or .npz archive (ours have 8 at most)
_MAX_ZIP_ENTRIES = 64
# the pickle of a .pt file holds a dict of a few keys: a few kB
_MAX_PICKLE_BYTES = 2**20
# deflate cannot expand data by more than 1032:1; an entry claiming more lies in its header
_MAX_DEFLATE_RATIO = 1032

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
    if not isinstance(fmt, str):
        where = f"{source}: " if source else ""
        msg = f"{where}codes format must be a string, one of {', '.join(CODES_SUFFIXES)}; got {fmt!r}"
        raise GridError(msg)
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


# ---------------------------------------------------------------------------- limits


def max_frames(frame_rate: float, max_duration_s: float | None = None) -> int:
    """Most frames a codes file may hold at ``frame_rate``: the audio duration limit in frames.

    Parameters
    ----------
    frame_rate : float
        Frames per second (Hz), > 0.
    max_duration_s : float, optional
        Seconds; default ``QTOK_MAX_DURATION_S`` or 3600, as for audio
        (:func:`qtok_widgets.audio.duration_limit`).

    Returns
    -------
    int
        ``ceil(max_duration_s * frame_rate)``, e.g. 45,000 for one hour at 12.5 Hz.
    """
    limit = duration_limit(max_duration_s)
    if not (isinstance(frame_rate, (int, float, np.number)) and math.isfinite(frame_rate) and frame_rate > 0):
        msg = f"frame_rate must be a positive number of Hz, got {frame_rate!r}"
        raise GridError(msg)
    return math.ceil(min(limit * float(frame_rate), 2.0**62))


def _check_size(
    n_layers: int, n_frames: int, frame_rate: float, source: str, max_duration_s: float | None
) -> None:
    """Refuse a grid shape beyond the limits before anything of that size is allocated."""
    if n_layers > MAX_LAYERS:
        msg = f"{source}: codes have {n_layers} layers, above the limit: n_layers must be in 1..{MAX_LAYERS}"
        raise GridError(msg)
    if n_layers * n_frames > MAX_CELLS:
        msg = (
            f"{source}: codes have {n_layers} x {n_frames} cells, above the limit of {MAX_CELLS} cells "
            "(n_layers x n_frames)"
        )
        raise GridError(msg)
    allowed = max_frames(frame_rate, max_duration_s)
    if n_frames > allowed:
        limit = duration_limit(max_duration_s)
        msg = (
            f"{source}: codes have {n_frames} frames ({n_frames / frame_rate:.1f} s at {frame_rate:g} Hz), "
            f"above the limit of {allowed} frames ({limit:.0f} s; max_duration_s= or QTOK_MAX_DURATION_S)"
        )
        raise GridError(msg)


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f} MB"


# errors that the zip, zlib, numpy, torch, pickle and json readers raise on damaged input
_READ_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    pickle.UnpicklingError,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    RuntimeError,  # includes RecursionError and torch's errors
    OverflowError,
    NotImplementedError,
    UnicodeError,
)


def _unreadable(source: str, kind: str, exc: BaseException) -> GridError:
    name = type(exc).__name__
    if name == "error":  # zlib.error, struct.error
        name = f"{type(exc).__module__}.error"
    return GridError(f"{source}: not a readable {kind} file ({name}: {_first_line(exc)})")


# ---------------------------------------------------------------------------- reading


def load_grid(path: str | os.PathLike[str], *, max_duration_s: float | None = None) -> CodeGrid:
    """Read a grid saved by :func:`save_grid` (or codes saved by the Qwen tokenizer's tools).

    Accepted ``.pt`` contents: a dict with ``audio_codes`` (``[n_frames, n_layers]``,
    ``[1, n_frames, n_layers]`` or a one-element list of those), optionally with our
    metadata keys, or a bare codes tensor in those layouts (``[n_layers, n_frames]`` is
    recognised when only one axis has 16 entries). Nothing in the file is executed, and
    nothing is allocated for a size the file declares before that size is checked.

    Parameters
    ----------
    path : str or os.PathLike
        A regular file ending in ``.pt``, ``.npz`` or ``.json`` (symlinks are followed; a FIFO
        or device is refused without reading).
    max_duration_s : float, optional
        Longest recording accepted, in seconds (default ``QTOK_MAX_DURATION_S`` or 3600):
        at most :func:`max_frames` frames.

    Raises
    ------
    AudioFileNotFoundError
        No such file.
    GridError
        Not a regular file, unknown suffix, larger than :data:`MAX_CODES_FILE_BYTES`
        (:data:`MAX_JSON_BYTES` for JSON), unreadable or damaged, unexpected contents, wrong
        shape or dtype, code out of range, or beyond a limit (frames, layers, cells, codebook
        size, JSON nesting or digits). One line naming the file.
    """
    path = Path(path)
    name = str(path)
    with open_regular_file(path, what="a codes file", error=GridError) as fh:
        suffix = codes_format(path)
        cap = MAX_JSON_BYTES if suffix == ".json" else MAX_CODES_FILE_BYTES
        size = os.fstat(fh.fileno()).st_size
        if size > cap:
            msg = f"{name}: codes file is {_mb(size)}, above the limit of {_mb(cap)} for {suffix} files"
            raise GridError(msg)
        try:
            data = fh.read(size + 1)  # one byte more than it said: a file still growing shows
        except OSError as exc:
            raise _unreadable(name, suffix, exc) from None
    return grid_from_bytes(data, suffix, source=name, max_duration_s=max_duration_s)


def grid_from_bytes(
    data: bytes, fmt: str | None = None, *, source: str = "codes", max_duration_s: float | None = None
) -> CodeGrid:
    """Parse the bytes of a ``.pt``, ``.npz`` or ``.json`` codes file, within the limits of
    :func:`load_grid`.

    With ``fmt=None`` the format is sniffed from the content (zip: ``.pt`` or ``.npz``;
    ``{``: JSON).

    Raises
    ------
    GridError
        As :func:`load_grid`; ``source`` names the data in the message.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        msg = f"{source}: codes must be given as bytes, got {type(data).__name__}"
        raise GridError(msg)
    data = bytes(data)
    if not data:
        msg = f"{source}: empty file (0 bytes)"
        raise GridError(msg)
    fmt = _sniff(data, source) if fmt is None else _fmt(fmt, source)
    cap = MAX_JSON_BYTES if fmt == ".json" else MAX_CODES_FILE_BYTES
    if len(data) > cap:
        msg = f"{source}: codes file is {_mb(len(data))}, above the limit of {_mb(cap)} for {fmt} files"
        raise GridError(msg)
    try:
        if fmt == ".json":
            return grid_from_dict(_parse_json(data, source), source=source, max_duration_s=max_duration_s)
        if fmt == ".npz":
            return _load_npz(data, source, max_duration_s)
        return _load_pt(data, source, max_duration_s)
    except QtokError:
        raise
    except _READ_ERRORS as exc:
        raise _unreadable(source, fmt, exc) from None


def grid_from_dict(
    data: dict[str, Any], *, source: str = "codes", max_duration_s: float | None = None
) -> CodeGrid:
    """Build a grid from :func:`grid_to_dict` output (as read from JSON), within the limits of
    :func:`load_grid`."""
    if not isinstance(data, dict):
        msg = f"{source}: expected a JSON object with 'codes', got {type(data).__name__}"
        raise GridError(msg)
    if "codes" not in data:
        msg = (
            f"{source}: missing 'codes' (expected keys: codes, codec, frame_rate, sample_rate, codebook_size)"
        )
        raise GridError(msg)
    meta = _check_meta({k: data[k] for k in META_KEYS if k in data and data[k] is not None}, source)
    codes = data["codes"]
    if not isinstance(codes, list) or not all(isinstance(row, list) for row in codes):
        msg = f"{source}: 'codes' must be a list of layers, each a list of integer codes"
        raise GridError(msg)
    lengths = {len(row) for row in codes}
    if len(lengths) > 1:
        msg = f"{source}: every layer must have the same number of frames, got lengths {sorted(lengths)[:8]}"
        raise GridError(msg)
    n_frames = lengths.pop() if lengths else 0
    _check_size(len(codes), n_frames, meta["frame_rate"], source, max_duration_s)
    if any(not isinstance(v, int) or isinstance(v, bool) for row in codes for v in row):
        msg = f"{source}: 'codes' must contain only integers"
        raise GridError(msg)
    top = meta["codebook_size"] - 1
    if any(v < 0 or v > top for row in codes for v in row):
        # found again (with its place) by CodeGrid; here only to keep huge ints out of int64
        bad = next(v for row in codes for v in row if v < 0 or v > top)
        layer, frame = next((i, row.index(bad)) for i, row in enumerate(codes) if bad in row)
        shown = bad if abs(bad) < 10**30 else f"of {len(str(abs(bad)))} digits"
        msg = f"{source}: code {shown} at layer {layer}, frame {frame} is out of range: codes must be in 0..{top}"
        raise GridError(msg)
    arr = np.array(codes, dtype=np.int64).reshape(len(codes), n_frames)
    masked = data.get("masked")
    mask = np.zeros(arr.shape, dtype=bool)
    if masked is not None:
        if not isinstance(masked, list):
            msg = f"{source}: 'masked' must be a list of [layer, frame] pairs, got {type(masked).__name__}"
            raise GridError(msg)
        for cell in masked:
            if (
                not isinstance(cell, list)
                or len(cell) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in cell)
                or not (0 <= cell[0] < arr.shape[0] and 0 <= cell[1] < arr.shape[1])
            ):
                shown = repr(cell) if len(repr(cell)) < 80 else repr(cell)[:77] + "..."
                msg = f"{source}: 'masked' must list [layer, frame] pairs inside the grid, got {shown}"
                raise GridError(msg)
            mask[cell[0], cell[1]] = True
    return _grid(arr, mask, meta, source)


def _grid(codes: Any, mask: Any, meta: dict[str, Any], source: str) -> CodeGrid:
    try:
        return CodeGrid(codes, mask=mask, **meta)
    except GridError as exc:
        msg = f"{source}: {exc}"
        raise GridError(msg) from None


def _parse_json(data: bytes, source: str) -> Any:
    """JSON text -> Python objects, refusing what would take unbounded memory or recursion."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"{source}: not valid JSON codes (not UTF-8 text: {_first_line(exc)})"
        raise GridError(msg) from None
    # the sizes below are read with strings blanked out, so a codec name cannot trip them
    bare = _JSON_STRING.sub(b'""', data)
    n_containers = bare.count(b"[") + bare.count(b"{")
    if n_containers > MAX_JSON_CONTAINERS:
        msg = (
            f"{source}: JSON codes hold {n_containers} lists and objects, above the limit of "
            f"{MAX_JSON_CONTAINERS} (one per layer and masked cell); save large grids as .npz"
        )
        raise GridError(msg)
    steps = _BRACKET_STEP[np.frombuffer(bare, np.uint8)]
    steps = steps[steps != 0]
    depth = int(np.cumsum(steps, dtype=np.int32).max()) if steps.size else 0
    if depth > MAX_JSON_DEPTH:
        msg = f"{source}: JSON codes are nested {depth} deep, above the limit of {MAX_JSON_DEPTH}"
        raise GridError(msg)
    long_number = re.search(rb"[0-9]{%d,}" % (MAX_INT_DIGITS + 1), bare)
    if long_number:
        digits = len(long_number.group())
        msg = f"{source}: JSON codes hold a number of {digits} digits, above the limit of {MAX_INT_DIGITS}"
        raise GridError(msg)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        msg = f"{source}: not valid JSON codes ({exc.__class__.__name__}: {_first_line(exc)})"
        raise GridError(msg) from None
    except (RecursionError, ValueError) as exc:
        msg = f"{source}: not valid JSON codes ({_first_line(exc)})"
        raise GridError(msg) from None


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET_STEP = np.zeros(256, np.int8)
_BRACKET_STEP[[ord("["), ord("{")]] = 1
_BRACKET_STEP[[ord("]"), ord("}")]] = -1


def _refuse_constant(name: str) -> Any:
    msg = f"JSON number {name} is not allowed in codes; numbers must be finite"
    raise ValueError(msg)


def _sniff(data: bytes, source: str) -> str:
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return ".json"
    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except _READ_ERRORS:
            names = []
        if any(n.endswith(".npy") for n in names):
            return ".npz"
        return ".pt"
    msg = f"{source}: not a codes file (expected a .pt, .npz or .json file of codes)"
    raise GridError(msg)


def _check_meta(meta: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = dict(_QWEN_DEFAULTS)
    out.update(meta)
    types: dict[str, type | tuple[type, ...]] = {
        "codec": str,
        "frame_rate": (int, float),
        "sample_rate": int,
        "codebook_size": int,
        "n_samples": int,
    }
    for key, value in out.items():
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            try:
                value = value.item()
            except (ValueError, RuntimeError, TypeError):
                shape = tuple(getattr(value, "shape", ()))
                msg = f"{source}: '{key}' must be a single value, got an array of shape {shape}"
                raise GridError(msg) from None
        if not isinstance(value, types[key]) or isinstance(value, bool):
            msg = f"{source}: '{key}' must be {getattr(types[key], '__name__', 'a number')}, got {type(value).__name__}"
            raise GridError(msg)
        out[key] = value
    if len(out["codec"]) > _MAX_NAME_CHARS:
        msg = f"{source}: 'codec' is a name of {len(out['codec'])} characters, above the limit of {_MAX_NAME_CHARS}"
        raise GridError(msg)
    if not (math.isfinite(out["frame_rate"]) and out["frame_rate"] > 0):
        msg = f"{source}: frame_rate must be a positive number of Hz, got {out['frame_rate']!r}"
        raise GridError(msg)
    for key, top in (("codebook_size", MAX_CODEBOOK_SIZE), ("sample_rate", MAX_SAMPLE_RATE)):
        if not 0 < out[key] <= top:
            shown = out[key] if abs(out[key]) < 10**30 else f"of {len(str(abs(out[key])))} digits"
            msg = f"{source}: {key} {shown} is out of range: it must be in 1..{top}"
            raise GridError(msg)
    return out


def _orient(shape: tuple[int, ...], source: str, *, time_major_default: bool) -> tuple[int, bool]:
    """From a 2-D/3-D codes shape in the Qwen or our layout: ``(batch items to drop, transpose)``."""
    batched = len(shape) == 3
    if batched:
        if shape[0] != 1:
            msg = f"{source}: batched codes of shape {tuple(shape)} hold {shape[0]} items; save one item per file"
            raise GridError(msg)
        shape = shape[1:]
    if len(shape) != 2:
        msg = f"{source}: codes must be 2-D [n_frames, n_layers] (or [1, n_frames, n_layers]), got shape {tuple(shape)}"
        raise GridError(msg)
    # Qwen layout is [T, Q]; accept [Q, T] when only the first axis looks like 16 layers.
    transpose = time_major_default and not (shape[0] == 16 and shape[1] != 16)
    return int(batched), transpose


def _open_zip(data: bytes, source: str, kind: str) -> zipfile.ZipFile:
    """Open a zip archive and refuse it unless its declared sizes are within the limits.

    Every entry must be stored or deflated (no bzip2/lzma, no encryption), claim no more
    than deflate can expand to, and all of them together at most :data:`MAX_CODES_FILE_BYTES`;
    the zip readers then stop at the declared sizes.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except _READ_ERRORS as exc:
        raise _unreadable(source, kind, exc) from None
    if len(infos) > _MAX_ZIP_ENTRIES:
        msg = (
            f"{source}: the {kind} archive holds {len(infos)} entries, above the limit of {_MAX_ZIP_ENTRIES}"
        )
        raise GridError(msg)
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        msg = f"{source}: the {kind} archive names an entry twice"
        raise GridError(msg)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            msg = f"{source}: entry {info.filename!r} of the {kind} archive is encrypted"
            raise GridError(msg)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            msg = (
                f"{source}: entry {info.filename!r} of the {kind} archive uses compression method "
                f"{info.compress_type}; only stored and deflated entries are read"
            )
            raise GridError(msg)
        most = (
            info.compress_size
            if info.compress_type == zipfile.ZIP_STORED
            else info.compress_size * _MAX_DEFLATE_RATIO
        )
        if info.file_size > most + 1024:
            msg = (
                f"{source}: entry {info.filename!r} of the {kind} archive claims {info.file_size} bytes "
                f"from {info.compress_size} compressed bytes, more than its compression allows"
            )
            raise GridError(msg)
        total += info.file_size
    if total > MAX_CODES_FILE_BYTES:
        msg = (
            f"{source}: the {kind} archive expands to {_mb(total)}, above the limit of "
            f"{_mb(MAX_CODES_FILE_BYTES)} for codes files"
        )
        raise GridError(msg)
    return zf


def _check_crcs(zf: zipfile.ZipFile, source: str, kind: str) -> None:
    """Read every entry to its end in small pieces, so that zipfile checks its CRC-32."""
    try:
        for info in zf.infolist():
            with zf.open(info) as fh:
                while fh.read(1 << 20):
                    pass
    except _READ_ERRORS as exc:
        raise _unreadable(source, kind, exc) from None


def _load_pt(data: bytes, source: str, max_duration_s: float | None) -> CodeGrid:
    import torch

    if data[:4] != b"PK\x03\x04":
        why = "not a torch zip archive"
        if data[:1] == b"\x80":
            why += " (a pickle: the pre-1.6 torch format, whose sizes cannot be checked before loading)"
        msg = f"{source}: not a readable .pt file: {why}"
        raise GridError(msg)
    zf = _open_zip(data, source, ".pt")
    pickles = [info for info in zf.infolist() if info.filename.endswith(".pkl")]
    if any(info.file_size > _MAX_PICKLE_BYTES for info in pickles):
        msg = f"{source}: the .pt file's pickle is larger than {_mb(_MAX_PICKLE_BYTES)}; a codes file needs a few kB"
        raise GridError(msg)
    _check_crcs(zf, source, ".pt")  # torch's reader does not, and a flipped byte must not pass
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
    except _READ_ERRORS as exc:
        raise _unreadable(source, ".pt", exc) from None
    mask = None
    meta: dict[str, Any] = {}
    if isinstance(obj, dict):
        allowed = {"audio_codes", "mask", *META_KEYS}
        extra = sorted(set(map(str, obj)) - allowed)
        if extra:
            msg = f"{source}: unexpected keys {extra[:8]} in .pt file; allowed: {sorted(allowed)}"
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
    meta = _check_meta(meta, source)
    drop, transpose = _orient(tuple(codes.shape), source, time_major_default=True)
    if drop:
        codes = codes[0]
    if transpose:
        codes = codes.T
    _check_size(int(codes.shape[0]), int(codes.shape[1]), meta["frame_rate"], source, max_duration_s)
    if mask is not None:
        if not isinstance(mask, torch.Tensor):
            msg = f"{source}: 'mask' must be a bool tensor, got {type(mask).__name__}"
            raise GridError(msg)
        if tuple(mask.shape) != tuple(codes.shape):
            msg = f"{source}: mask shape {tuple(mask.shape)} does not match codes shape {tuple(codes.shape)}"
            raise GridError(msg)
        mask = mask.numpy()
    return _grid(codes.numpy(), mask, meta, source)


def _load_npz(data: bytes, source: str, max_duration_s: float | None) -> CodeGrid:
    zf = _open_zip(data, source, ".npz")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        members[key] = info
    allowed = {"codes", "mask", *META_KEYS}
    extra = sorted(set(members) - allowed)
    if extra:
        msg = f"{source}: unexpected arrays {extra[:8]} in .npz file; allowed: {sorted(allowed)}"
        raise GridError(msg)
    if "codes" not in members:
        msg = f"{source}: .npz file has no 'codes' array"
        raise GridError(msg)
    headers = {key: _npy_header(zf, info, source) for key, info in members.items()}
    meta: dict[str, Any] = {}
    for key in META_KEYS:
        if key in headers:
            shape, dtype, _, _ = headers[key]
            kinds = "US" if key == "codec" else "iuf"
            if shape != () or dtype.kind not in kinds:
                what = "string" if key == "codec" else "number"
                msg = f"{source}: '{key}' must be a single {what}, got shape {shape} of dtype {dtype}"
                raise GridError(msg)
            value = _npy_read(zf, members[key], headers[key]).item()
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            meta[key] = value
    meta = _check_meta(meta, source)
    shape, dtype, _, _ = headers["codes"]
    if dtype.kind not in "iu":
        msg = f"{source}: codes must be integers, got dtype {dtype}"
        raise GridError(msg)
    if len(shape) != 2:
        msg = f"{source}: codes must have shape (n_layers, n_frames), got {len(shape)}-D shape {shape}"
        raise GridError(msg)
    _check_size(shape[0], shape[1], meta["frame_rate"], source, max_duration_s)
    mask = None
    if "mask" in headers:
        mask_shape, mask_dtype, _, _ = headers["mask"]
        if mask_shape != shape:
            msg = f"{source}: mask shape {mask_shape} does not match codes shape {shape}"
            raise GridError(msg)
        if mask_dtype.kind not in "biu":
            msg = f"{source}: mask must be boolean, got dtype {mask_dtype}"
            raise GridError(msg)
        mask = _npy_read(zf, members["mask"], headers["mask"])
    codes = _npy_read(zf, members["codes"], headers["codes"])
    return _grid(codes, mask, meta, source)


_NpyHeader = tuple[tuple[int, ...], np.dtype, bool, int]


def _npy_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> _NpyHeader:
    """``(shape, dtype, fortran_order, data offset)`` of a ``.npy`` member, read from its first
    bytes only; refused unless the member's declared size is exactly header + data."""
    from numpy.lib import format as npy

    name = info.filename
    with zf.open(info) as fh:
        try:
            version = npy.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = npy.read_array_header_1_0(fh, max_header_size=10_000)
            elif version == (2, 0):
                shape, fortran, dtype = npy.read_array_header_2_0(fh, max_header_size=10_000)
            else:
                msg = f"{source}: array {name!r} uses .npy format version {version}; versions 1.0 and 2.0 are read"
                raise GridError(msg)
        except ValueError as exc:
            if isinstance(exc, QtokError):
                raise
            msg = f"{source}: array {name!r} has no readable .npy header ({_first_line(exc)})"
            raise GridError(msg) from None
        offset = fh.tell()
    if dtype.hasobject:
        msg = f"{source}: refused: the .npz file holds pickled objects (array {name!r} has dtype {dtype})"
        raise GridError(msg)
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "biufUS":
        msg = f"{source}: array {name!r} has dtype {dtype}; codes files hold plain numbers and strings"
        raise GridError(msg)
    n_bytes = math.prod(shape) * dtype.itemsize
    if offset + n_bytes != info.file_size:
        msg = (
            f"{source}: array {name!r} declares shape {shape} of {dtype} ({n_bytes} bytes) but its entry "
            f"holds {info.file_size - offset} bytes"
        )
        raise GridError(msg)
    return shape, dtype, fortran, offset


def _npy_read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, header: _NpyHeader) -> np.ndarray:
    """The data of a ``.npy`` member whose header :func:`_npy_header` checked."""
    shape, dtype, fortran, offset = header
    n_bytes = math.prod(shape) * dtype.itemsize
    with zf.open(info) as fh:
        fh.read(offset)
        raw = fh.read(n_bytes)
        if len(raw) != n_bytes:
            raise EOFError(f"array {info.filename!r} ends after {len(raw)} of {n_bytes} bytes")
        fh.read(1)  # reach the end, where zipfile checks the CRC
    arr = np.frombuffer(raw, dtype=dtype)
    if fortran:
        return arr.reshape(shape[::-1]).T
    return arr.reshape(shape)


def _first_line(exc: BaseException) -> str:
    """The first sentence of an exception's first line, at most 160 characters."""
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    cut = line.find(". ", 20)
    line = line[: cut + 1] if cut > 0 else line
    return line if len(line) <= 160 else line[:157] + "..."
