"""The edit engine: pure functions that take a CodeGrid and return a new, edited one.

Each operation (:func:`mask`, :func:`unmask`, :func:`replace`, :func:`replace_code`,
:func:`splice`, :func:`interpolate`, :func:`delete_frames`, :func:`duplicate_frames`) validates
its arguments, never mutates its input and raises :class:`~qtok_widgets.errors.EditError` (a
``ValueError``) with one line naming the problem and the valid range. Internally every
operation is planned as a :class:`Delta` (the cells it changes and the frames it removes or
inserts, with old and new values), which :class:`~qtok_widgets.session.EditSession` keeps as
its undo history: memory per step grows with the size of the edit, not of the grid.

The mask is a mute flag kept beside the codes: :func:`mask` and :func:`unmask` change only the
mask, the code operations (replace, replace_code, interpolate) change only codes, and splice
and the timing edits move both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import CodecError, EditError
from .grid import CODE_DTYPE, CodeGrid
from .selection import IndexSpec, Selection, resolve_indices, select

__all__ = [
    "SPLICE_MODES",
    "Delta",
    "InterpolateResult",
    "delete_frames",
    "duplicate_frames",
    "interpolate",
    "mask",
    "plan_cells",
    "plan_delete_frames",
    "plan_duplicate_frames",
    "plan_interpolate",
    "plan_mask",
    "plan_replace",
    "plan_replace_code",
    "plan_splice",
    "replace",
    "replace_code",
    "select",
    "splice",
    "unmask",
]

SPLICE_MODES = ("replace", "insert")
_MAX_DUPLICATE_TIMES = 64


def _empty(dtype: type) -> np.ndarray:
    arr = np.zeros(0, dtype=dtype)
    arr.flags.writeable = False
    return arr


# shared by every delta that has no such part (a delta holds thousands of them otherwise)
_EMPTY_I = _empty(np.int64)
_EMPTY_I32 = _empty(np.int32)
_EMPTY_CODES = _empty(CODE_DTYPE)
_EMPTY_MASK = _empty(bool)


# ---------------------------------------------------------------------------- deltas
@dataclass(frozen=True, eq=False)
class Delta:
    """What one edit changes, with enough to apply it forwards and backwards.

    A delta is applied in three steps: set the changed cells (coordinates in the grid before
    the edit), remove frames, then insert frames (positions in the grid after the edit).
    Reverting runs the steps backwards with the old values.

    Attributes
    ----------
    cell_layers, cell_frames : numpy.ndarray
        int32, shape ``(k,)``: the changed cells.
    old_codes, new_codes : numpy.ndarray
        int32, shape ``(k,)``: codes of those cells before and after.
    old_mask, new_mask : numpy.ndarray
        bool, shape ``(k,)``: mask of those cells before and after.
    removed : numpy.ndarray
        int64, shape ``(r,)``, increasing: frames removed (indices in the grid before).
    removed_codes, removed_mask : numpy.ndarray
        Shape ``(n_layers, r)``: the removed columns.
    inserted : numpy.ndarray
        int64, shape ``(i,)``, increasing: frames inserted (indices in the grid after).
    inserted_codes, inserted_mask : numpy.ndarray
        Shape ``(n_layers, i)``: the inserted columns.
    old_n_samples, new_n_samples : int
        Audio length in samples before and after.
    """

    cell_layers: np.ndarray = field(default_factory=lambda: _EMPTY_I32)
    cell_frames: np.ndarray = field(default_factory=lambda: _EMPTY_I32)
    old_codes: np.ndarray = field(default_factory=lambda: _EMPTY_CODES)
    new_codes: np.ndarray = field(default_factory=lambda: _EMPTY_CODES)
    old_mask: np.ndarray = field(default_factory=lambda: _EMPTY_MASK)
    new_mask: np.ndarray = field(default_factory=lambda: _EMPTY_MASK)
    removed: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    removed_codes: np.ndarray | None = None
    removed_mask: np.ndarray | None = None
    inserted: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    inserted_codes: np.ndarray | None = None
    inserted_mask: np.ndarray | None = None
    old_n_samples: int = 0
    new_n_samples: int = 0

    @property
    def changes_length(self) -> bool:
        """True when frames are removed or inserted."""
        return bool(self.removed.size or self.inserted.size)

    @property
    def n_cells(self) -> int:
        """Number of changed cells (not counting removed or inserted frames)."""
        return int(self.cell_layers.size)

    @property
    def nbytes(self) -> int:
        """Memory held by the delta's arrays, in bytes."""
        arrays = [
            self.cell_layers,
            self.cell_frames,
            self.old_codes,
            self.new_codes,
            self.old_mask,
            self.new_mask,
            self.removed,
            self.removed_codes,
            self.removed_mask,
            self.inserted,
            self.inserted_codes,
            self.inserted_mask,
        ]
        return int(sum(a.nbytes for a in arrays if a is not None))

    def apply(self, grid: CodeGrid) -> CodeGrid:
        """Return ``grid`` with this edit applied (``grid`` is the grid the delta was planned on)."""
        codes = np.array(grid.codes)
        mask = np.array(grid.mask)
        if self.cell_layers.size:
            codes[self.cell_layers, self.cell_frames] = self.new_codes
            mask[self.cell_layers, self.cell_frames] = self.new_mask
        if self.removed.size:
            codes = np.delete(codes, self.removed, axis=1)
            mask = np.delete(mask, self.removed, axis=1)
        if self.inserted.size:
            codes = _insert_columns(codes, self.inserted, self.inserted_codes)
            mask = _insert_columns(mask, self.inserted, self.inserted_mask)
        return grid.with_codes(codes, mask, self.new_n_samples)

    def revert(self, grid: CodeGrid) -> CodeGrid:
        """Return the grid before this edit, given the grid after it."""
        codes = np.array(grid.codes)
        mask = np.array(grid.mask)
        if self.inserted.size:
            codes = np.delete(codes, self.inserted, axis=1)
            mask = np.delete(mask, self.inserted, axis=1)
        if self.removed.size:
            codes = _insert_columns(codes, self.removed, self.removed_codes)
            mask = _insert_columns(mask, self.removed, self.removed_mask)
        if self.cell_layers.size:
            codes[self.cell_layers, self.cell_frames] = self.old_codes
            mask[self.cell_layers, self.cell_frames] = self.old_mask
        return grid.with_codes(codes, mask, self.old_n_samples)

    def frame_map(self, origin: np.ndarray) -> np.ndarray:
        """Carry a per-frame array through the removals and insertions (inserted frames get -1)."""
        out = np.delete(origin, self.removed) if self.removed.size else origin
        if self.inserted.size:
            out = _insert_columns(out[None, :], self.inserted, np.full((1, self.inserted.size), -1))[0]
        return out


def _insert_columns(arr: np.ndarray, positions: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Columns of the result at ``positions`` (increasing, in result coordinates) are ``columns``."""
    n_out = arr.shape[1] + positions.size
    out = np.empty((arr.shape[0], n_out), dtype=arr.dtype)
    is_new = np.zeros(n_out, dtype=bool)
    is_new[positions] = True
    out[:, is_new] = columns
    out[:, ~is_new] = arr
    return out


def plan_cells(
    grid: CodeGrid, layers: np.ndarray, frames: np.ndarray, codes: np.ndarray, mask: np.ndarray
) -> Delta:
    """Delta that sets cells ``(layers[i], frames[i])`` to ``codes[i]``/``mask[i]`` (unchanged cells dropped).

    When a cell is listed twice the last value wins, as with numpy fancy assignment.
    """
    layers = np.asarray(layers, dtype=np.int64).ravel()
    frames = np.asarray(frames, dtype=np.int64).ravel()
    codes = np.asarray(codes, dtype=CODE_DTYPE).ravel()
    mask = np.asarray(mask, dtype=bool).ravel()
    flat = layers * grid.n_frames + frames
    # keep the last occurrence of each cell
    _, rev_first = np.unique(flat[::-1], return_index=True)
    keep = flat.size - 1 - rev_first
    layers, frames, codes, mask = layers[keep], frames[keep], codes[keep], mask[keep]
    old_codes = grid.codes[layers, frames]
    old_mask = grid.mask[layers, frames]
    changed = (old_codes != codes) | (old_mask != mask)
    return Delta(
        cell_layers=layers[changed].astype(np.int32),
        cell_frames=frames[changed].astype(np.int32),
        old_codes=old_codes[changed].astype(CODE_DTYPE),
        new_codes=codes[changed],
        old_mask=old_mask[changed],
        new_mask=mask[changed],
        old_n_samples=grid.n_samples,
        new_n_samples=grid.n_samples,
    )


def _cells(sel: Selection) -> tuple[np.ndarray, np.ndarray]:
    """Every (layer, frame) pair of a selection, as two flat arrays."""
    layers = np.repeat(sel.layers, sel.frames.size)
    frames = np.tile(sel.frames, sel.layers.size)
    return layers, frames


def _check_grid(grid: Any, name: str = "grid") -> None:
    if not isinstance(grid, CodeGrid):
        msg = f"{name} must be a CodeGrid, got {type(grid).__name__}"
        raise EditError(msg)


def _check_same_codec(grid: CodeGrid, other: Any, name: str) -> None:
    _check_grid(other, name)
    if not grid.same_codec(other):
        msg = (
            f"{name} comes from codec {other.codec!r} ({other.n_layers} layers, {other.frame_rate:g} Hz, "
            f"codebook {other.codebook_size}); it must match the grid's {grid.codec!r} "
            f"({grid.n_layers} layers, {grid.frame_rate:g} Hz, codebook {grid.codebook_size})"
        )
        raise EditError(msg)


def _check_code(grid: CodeGrid, code: Any, name: str = "code") -> int:
    if isinstance(code, (bool, np.bool_)) or not isinstance(code, (int, np.integer)):
        msg = f"{name} must be an int in 0..{grid.codebook_size - 1}, got {code!r}"
        raise EditError(msg)
    if not 0 <= int(code) < grid.codebook_size:
        msg = f"{name} {int(code)} is out of range: codes must be in 0..{grid.codebook_size - 1}"
        raise EditError(msg)
    return int(code)


def _n_samples_after(grid: CodeGrid, n_frames_new: int, last_frame_kept_last: bool) -> int:
    """Sample count after a timing edit: the trimmed tail stays with the last frame if it is still last."""
    spf = grid.samples_per_frame
    deficit = grid.n_frames * spf - grid.n_samples
    if not last_frame_kept_last or n_frames_new == 0:
        deficit = 0
    return max(0, n_frames_new * spf - deficit)


# ---------------------------------------------------------------------------- planners
def plan_mask(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
    value: bool = True,
) -> tuple[Delta, Selection]:
    """Plan :func:`mask` (``value=True``) or :func:`unmask` (``value=False``)."""
    _check_grid(grid)
    sel = select(grid, frames, layers, seconds=seconds)
    cl, cf = _cells(sel)
    delta = plan_cells(grid, cl, cf, grid.codes[cl, cf], np.full(cl.size, bool(value)))
    return delta, sel


def plan_replace(
    grid: CodeGrid,
    frames: IndexSpec,
    layers: IndexSpec,
    code: int,
    *,
    seconds: tuple[float, float] | None = None,
) -> tuple[Delta, Selection]:
    """Plan :func:`replace`."""
    _check_grid(grid)
    code = _check_code(grid, code)
    sel = select(grid, frames, layers, seconds=seconds)
    cl, cf = _cells(sel)
    delta = plan_cells(grid, cl, cf, np.full(cl.size, code), grid.mask[cl, cf])
    return delta, sel


def plan_replace_code(
    grid: CodeGrid, old: int, new: int, layers: IndexSpec = None
) -> tuple[Delta, Selection]:
    """Plan :func:`replace_code`; the selection's frames are those where ``old`` was found."""
    _check_grid(grid)
    old = _check_code(grid, old, "old code")
    new = _check_code(grid, new, "new code")
    layer_idx = np.unique(resolve_indices(layers, grid.n_layers, "layer"))
    sub = grid.codes[layer_idx]
    li, fi = np.nonzero(sub == old)
    cl = layer_idx[li]
    delta = plan_cells(grid, cl, fi, np.full(cl.size, new), grid.mask[cl, fi])
    return delta, Selection(np.unique(fi).astype(np.int64), layer_idx, grid.frame_rate)


def plan_splice(
    grid: CodeGrid,
    source: CodeGrid,
    src_frames: IndexSpec,
    dst_start: int,
    layers: IndexSpec = None,
    mode: str = "replace",
    *,
    seconds: tuple[float, float] | None = None,
) -> tuple[Delta, Selection]:
    """Plan :func:`splice`; the selection holds the source frames and the layers."""
    _check_grid(grid)
    _check_same_codec(grid, source, "splice source")
    if mode not in SPLICE_MODES:
        msg = f"splice mode must be one of {', '.join(repr(m) for m in SPLICE_MODES)}, got {mode!r}"
        raise EditError(msg)
    sel = select(source, src_frames, layers, seconds=seconds)
    k = sel.frames.size
    if isinstance(dst_start, (bool, np.bool_)) or not isinstance(dst_start, (int, np.integer)):
        msg = f"dst_start must be an int frame index, got {dst_start!r}"
        raise EditError(msg)
    dst_start = int(dst_start)
    n = grid.n_frames
    if mode == "replace":
        if dst_start < 0 or dst_start + k > n:
            msg = (
                f"splice of {k} frames at dst_start {dst_start} does not fit: dst_start must be in "
                f"0..{n - k} for a grid of {n} frames (or use mode='insert')"
            )
            raise EditError(msg)
        dst = np.arange(dst_start, dst_start + k)
        cl = np.repeat(sel.layers, k)
        cf_src = np.tile(sel.frames, sel.layers.size)
        cf_dst = np.tile(dst, sel.layers.size)
        delta = plan_cells(grid, cl, cf_dst, source.codes[cl, cf_src], source.mask[cl, cf_src])
        return delta, sel
    if dst_start < 0 or dst_start > n:
        msg = f"insert position dst_start {dst_start} is out of range: must be in 0..{n}"
        raise EditError(msg)
    ins_codes = np.array(source.codes[:, sel.frames])
    ins_mask = np.array(source.mask[:, sel.frames])
    unselected = np.setdiff1d(np.arange(grid.n_layers), sel.layers)
    ins_mask[unselected, :] = True
    delta = Delta(
        inserted=np.arange(dst_start, dst_start + k, dtype=np.int64),
        inserted_codes=ins_codes,
        inserted_mask=ins_mask,
        old_n_samples=grid.n_samples,
        new_n_samples=_n_samples_after(grid, n + k, dst_start < n),
    )
    return delta, sel


def plan_delete_frames(
    grid: CodeGrid, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None
) -> tuple[Delta, Selection]:
    """Plan :func:`delete_frames`."""
    _check_grid(grid)
    sel = select(grid, frames, None, seconds=seconds)
    removed = np.unique(sel.frames)
    n = grid.n_frames
    if removed.size >= n:
        msg = f"cannot delete all {n} frames: at least one frame must remain (delete at most {n - 1})"
        raise EditError(msg)
    delta = Delta(
        removed=removed,
        removed_codes=np.array(grid.codes[:, removed]),
        removed_mask=np.array(grid.mask[:, removed]),
        old_n_samples=grid.n_samples,
        new_n_samples=_n_samples_after(grid, n - removed.size, removed[-1] != n - 1),
    )
    return delta, Selection(removed, sel.layers, grid.frame_rate, sel.seconds)


def plan_duplicate_frames(
    grid: CodeGrid,
    frames: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
    times: int = 1,
) -> tuple[Delta, Selection]:
    """Plan :func:`duplicate_frames`."""
    _check_grid(grid)
    if (
        isinstance(times, (bool, np.bool_))
        or not isinstance(times, (int, np.integer))
        or not 1 <= times <= _MAX_DUPLICATE_TIMES
    ):
        msg = f"times must be an int in 1..{_MAX_DUPLICATE_TIMES}, got {times!r}"
        raise EditError(msg)
    times = int(times)
    sel = select(grid, frames, None, seconds=seconds)
    picked = np.unique(sel.frames)
    n = grid.n_frames
    # frame f keeps its copy first; its `times` repeats follow it. Shift of frame f in the
    # result = times * (number of picked frames before f).
    first_copy = picked + times * np.arange(picked.size) + 1
    inserted = (first_copy[:, None] + np.arange(times)[None, :]).ravel()
    cols = np.repeat(picked, times)
    delta = Delta(
        inserted=inserted.astype(np.int64),
        inserted_codes=np.array(grid.codes[:, cols]),
        inserted_mask=np.array(grid.mask[:, cols]),
        old_n_samples=grid.n_samples,
        new_n_samples=_n_samples_after(grid, n + inserted.size, picked[-1] != n - 1),
    )
    return delta, Selection(picked, sel.layers, grid.frame_rate, sel.seconds)


# ---------------------------------------------------------------------------- interpolation
@dataclass(frozen=True, eq=False)
class InterpolateResult:
    """Outcome of :func:`interpolate`.

    Attributes
    ----------
    grid : CodeGrid
        The edited grid.
    selection : Selection
        Frames and layers that were interpolated.
    error : numpy.ndarray
        float32, shape ``(n_selected_frames,)``: distance in embedding space between the ideal
        interpolated latent and the codes it was snapped to (L2, summed over layer groups in
        quadrature).
    relative_error : numpy.ndarray
        float32, shape ``(n_selected_frames,)``: ``error`` divided by the norm of the ideal
        latent (0 where that norm is 0).
    """

    grid: CodeGrid
    selection: Selection
    error: np.ndarray
    relative_error: np.ndarray

    @property
    def mean_error(self) -> float:
        """Mean of :attr:`error` over the selected frames."""
        return float(self.error.mean()) if self.error.size else 0.0

    def __repr__(self) -> str:
        return (
            f"InterpolateResult({self.selection!r}, mean_error={self.mean_error:.4g}, "
            f"mean_relative_error={float(self.relative_error.mean()):.3g})"
        )


def _latent(
    tables: dict[int, np.ndarray], codes: np.ndarray, layers: list[int], frames: np.ndarray
) -> np.ndarray:
    """Sum of the embeddings of ``codes[layers, frames]``: shape ``(len(frames), dim)``."""
    out = None
    for layer in layers:
        vec = tables[layer][codes[layer, frames]]
        out = vec.astype(np.float32) if out is None else out + vec
    return out


def _runs(frames: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive runs ``[(start, stop), ...]`` of a sorted unique index array."""
    if frames.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) != 1) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [frames.size]])
    return [(int(frames[a]), int(frames[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]


def plan_interpolate(
    grid: CodeGrid,
    frames: IndexSpec,
    layers: IndexSpec,
    codec: Any,
    target: CodeGrid | None = None,
    alpha: float = 0.5,
    *,
    seconds: tuple[float, float] | None = None,
    target_start: int | None = None,
) -> tuple[Delta, InterpolateResult]:
    """Plan :func:`interpolate`; returns the delta and the result (whose grid is the edited one)."""
    _check_grid(grid)
    if codec is None or not getattr(codec, "has_embeddings", False):
        name = "no codec" if codec is None else f"codec {getattr(codec, 'name', codec)!r}"
        msg = f"interpolate needs a codec with code embeddings, got {name}"
        raise EditError(msg)
    try:
        codec.check_grid(grid)
    except CodecError as exc:
        raise EditError(str(exc)) from None
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)):
        msg = f"alpha must be a number in 0..1, got {alpha!r}"
        raise EditError(msg)
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        msg = f"alpha {alpha:g} is out of range: alpha must be in 0..1"
        raise EditError(msg)
    sel = select(grid, frames, layers, seconds=seconds)
    sel_frames = np.unique(sel.frames)
    sel_layers = {int(v) for v in sel.layers}
    sel = Selection(sel_frames, np.array(sorted(sel_layers), dtype=np.int64), grid.frame_rate, sel.seconds)
    n = grid.n_frames

    if target is not None:
        _check_same_codec(grid, target, "interpolation target")
        if target_start is None:
            target_start = int(sel_frames[0])
        if isinstance(target_start, (bool, np.bool_)) or not isinstance(target_start, (int, np.integer)):
            msg = f"target_start must be an int frame index, got {target_start!r}"
            raise EditError(msg)
        tgt_frames = sel_frames - sel_frames[0] + int(target_start)
        if tgt_frames[0] < 0 or tgt_frames[-1] >= target.n_frames:
            span = int(sel_frames[-1] - sel_frames[0])
            msg = (
                f"target_start {target_start} is out of range: the selection spans {span + 1} frames, so "
                f"target_start must be in 0..{target.n_frames - span - 1} for a target of {target.n_frames} frames"
            )
            raise EditError(msg)
    elif target_start is not None:
        msg = "target_start needs a target grid (without one the frames bordering the selection are used)"
        raise EditError(msg)
    else:
        for a, b in _runs(sel_frames):
            if a == 0 and b == n:
                msg = f"interpolating all {n} frames needs a target grid: no frame borders the selection"
                raise EditError(msg)

    new_codes = np.array(grid.codes)
    err2 = np.zeros(sel_frames.size, dtype=np.float64)
    norm2 = np.zeros(sel_frames.size, dtype=np.float64)
    try:
        groups = [[int(v) for v in g] for g in codec.layer_groups()]
        for group in groups:
            chain = [layer for layer in group if layer in sel_layers]
            if not chain:
                continue
            tables = {layer: np.asarray(codec.embeddings(layer), dtype=np.float32) for layer in chain}
            current = _latent(tables, grid.codes, chain, sel_frames)
            if target is not None:
                goal = _latent(tables, target.codes, chain, tgt_frames)
            else:
                goal = np.empty_like(current)
                pos = 0
                for a, b in _runs(sel_frames):
                    length = b - a
                    left = _latent(tables, grid.codes, chain, np.array([a - 1]))[0] if a > 0 else None
                    right = _latent(tables, grid.codes, chain, np.array([b]))[0] if b < n else None
                    if left is None:
                        left = right
                    if right is None:
                        right = left
                    w = (np.arange(1, length + 1, dtype=np.float32) / (length + 1))[:, None]
                    goal[pos : pos + length] = (1.0 - w) * left[None, :] + w * right[None, :]
                    pos += length
            ideal = (1.0 - alpha) * current + alpha * goal
            codes, err = codec.quantize(ideal, chain)
            codes = np.asarray(codes)
            for i, layer in enumerate(chain):
                new_codes[layer, sel_frames] = codes[i]
            err2 += np.asarray(err, dtype=np.float64) ** 2
            norm2 += np.einsum("fd,fd->f", ideal, ideal, dtype=np.float64)
    except CodecError as exc:
        raise EditError(str(exc)) from None

    layers_sorted = sel.layers
    cl = np.repeat(layers_sorted, sel_frames.size)
    cf = np.tile(sel_frames, layers_sorted.size)
    delta = plan_cells(grid, cl, cf, new_codes[cl, cf], grid.mask[cl, cf])
    error = np.sqrt(err2).astype(np.float32)
    norm = np.sqrt(norm2)
    relative = np.divide(error, norm, out=np.zeros_like(norm), where=norm > 0).astype(np.float32)
    result = InterpolateResult(delta.apply(grid), sel, error, relative)
    return delta, result


# ---------------------------------------------------------------------------- public pure functions
def mask(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Mask cells: they contribute nothing at decode time (their codes are kept).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec, optional
        Cells to mask (see :mod:`qtok_widgets.selection`); ``None`` = all.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``; widened to whole frames.

    Returns
    -------
    CodeGrid
        Same shape and codes; ``mask`` True on the selected cells.
    """
    delta, _ = plan_mask(grid, frames, layers, seconds=seconds, value=True)
    return delta.apply(grid)


def unmask(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Unmask cells, so that their kept codes are decoded again. Arguments as :func:`mask`."""
    delta, _ = plan_mask(grid, frames, layers, seconds=seconds, value=False)
    return delta.apply(grid)


def replace(
    grid: CodeGrid,
    frames: IndexSpec,
    layers: IndexSpec,
    code: int,
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Set the selected cells to one code (masks unchanged).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec
        Cells to overwrite; ``None`` = all.
    code : int
        New code, in ``0 .. codebook_size - 1``.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.

    Returns
    -------
    CodeGrid
    """
    delta, _ = plan_replace(grid, frames, layers, code, seconds=seconds)
    return delta.apply(grid)


def replace_code(grid: CodeGrid, old: int, new: int, layers: IndexSpec = None) -> CodeGrid:
    """Search and replace: every ``old`` code in the chosen layers becomes ``new`` (masks unchanged).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    old, new : int
        Codes in ``0 .. codebook_size - 1``.
    layers : index spec, optional
        Layers to search; ``None`` = all.

    Returns
    -------
    CodeGrid
    """
    delta, _ = plan_replace_code(grid, old, new, layers)
    return delta.apply(grid)


def splice(
    grid: CodeGrid,
    source: CodeGrid,
    src_frames: IndexSpec,
    dst_start: int,
    layers: IndexSpec = None,
    mode: str = "replace",
    *,
    seconds: tuple[float, float] | None = None,
) -> CodeGrid:
    """Copy frames of chosen layers from ``source`` (codes and mask) into ``grid``.

    Parameters
    ----------
    grid : CodeGrid
        Destination, shape ``(n_layers, n_frames)``.
    source : CodeGrid
        Where the frames come from: another take, another speaker or the same clip. Must come
        from the same codec (name, layers, rates, codebook size).
    src_frames : index spec
        Source frames, in the order they are copied (``None`` = all; ``seconds=`` instead).
    dst_start : int
        First destination frame.
    layers : index spec, optional
        Layers to copy; ``None`` = all.
    mode : {"replace", "insert"}
        ``"replace"`` overwrites frames ``dst_start .. dst_start + k - 1`` of the chosen layers
        (``k`` source frames; they must fit). ``"insert"`` inserts ``k`` new frames before
        ``dst_start`` (``0 .. n_frames``): the chosen layers get the source's cells, the other
        layers get the source's codes masked, so the new frames carry only the chosen layers.
    seconds : tuple of float, optional
        ``(t0, t1)`` in the source instead of ``src_frames``.

    Returns
    -------
    CodeGrid
        Shape ``(n_layers, n_frames)`` (replace) or ``(n_layers, n_frames + k)`` (insert).
    """
    delta, _ = plan_splice(grid, source, src_frames, dst_start, layers, mode, seconds=seconds)
    return delta.apply(grid)


def interpolate(
    grid: CodeGrid,
    frames: IndexSpec,
    layers: IndexSpec,
    codec: Any,
    target: CodeGrid | None = None,
    alpha: float = 0.5,
    *,
    seconds: tuple[float, float] | None = None,
    target_start: int | None = None,
) -> InterpolateResult:
    """Move cells toward a target in the codec's embedding space, then snap back to codes.

    For each of the codec's layer groups (residual chains, :meth:`Codec.layer_groups`) that
    holds selected layers, the latent of the selected layers ``z = sum_l E_l[code_l]`` is
    blended with the target's, ``(1 - alpha) * z + alpha * z_target``, and quantised residually
    over the selected layers in chain order (:meth:`Codec.quantize`). Masks are unchanged.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec
        Cells to move; ``None`` = all.
    codec : Codec
        Codec with ``has_embeddings``, matching the grid.
    target : CodeGrid, optional
        Grid whose frames ``target_start ..`` (default: the same indices as the selection)
        give the target latent. Without it, each run of selected frames moves toward the
        straight line between the frames bordering it (or the one that exists at an edge).
    alpha : float
        0 keeps the codes (up to snapping), 1 reaches the target; in ``0 .. 1``.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.
    target_start : int, optional
        Target frame aligned with the first selected frame.

    Returns
    -------
    InterpolateResult
        The edited grid, the selection and the per-frame snapping error.
    """
    _, result = plan_interpolate(
        grid, frames, layers, codec, target, alpha, seconds=seconds, target_start=target_start
    )
    return result


def delete_frames(
    grid: CodeGrid, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None
) -> CodeGrid:
    """Remove frames (all layers), shortening the audio by one frame each.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames : index spec
        Frames to remove; at least one frame must remain.
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.

    Returns
    -------
    CodeGrid
        Shape ``(n_layers, n_frames - k)``. ``n_samples`` drops by ``k * samples_per_frame``,
        except that a partial last frame stays partial only while it is still last.
    """
    delta, _ = plan_delete_frames(grid, frames, seconds=seconds)
    return delta.apply(grid)


def duplicate_frames(
    grid: CodeGrid,
    frames: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
    times: int = 1,
) -> CodeGrid:
    """Repeat each selected frame ``times`` more times in place (stretch a sound).

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames : index spec
        Frames to repeat (duplicates in the spec count once).
    seconds : tuple of float, optional
        ``(t0, t1)`` instead of ``frames``.
    times : int
        Extra copies per frame, in ``1 .. 64``.

    Returns
    -------
    CodeGrid
        Shape ``(n_layers, n_frames + times * k)``; frame ``f`` is followed by its copies.
    """
    delta, _ = plan_duplicate_frames(grid, frames, seconds=seconds, times=times)
    return delta.apply(grid)
