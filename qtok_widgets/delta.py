"""Delta: what one edit changes, with enough to apply it forwards and backwards.

Every operation in :mod:`qtok_widgets.ops` is planned as a :class:`Delta`: the cells it changes
(old and new code and mask), the frames it removes and the frames it inserts. The session keeps
deltas as its undo history (memory grows with the size of an edit, not of the grid), and the
renderer and the editor's wire read :meth:`Delta.changed_frames` to know which frames to
re-decode and re-send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .grid import CODE_DTYPE, CodeGrid

__all__ = ["Delta", "plan_cells", "runs"]


def _empty(dtype: type) -> np.ndarray:
    arr: np.ndarray = np.zeros(0, dtype=dtype)
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
    selection : Selection or None
        The frames and layers the operation was asked for (after rounding ``seconds=``); not
        part of what the delta changes.
    detail : object
        Anything else the operation reports (interpolation's snapping error); None for most.
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
    selection: Any = None
    detail: Any = None

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

    def changed_frames(self, n_frames_after: int) -> list[tuple[int, int]]:
        """Frames whose codes or mask differ after applying (or reverting) this delta.

        The same runs describe both directions: a delta that keeps the length changes the
        same cells either way, and one that removes or inserts frames shifts everything
        from its first touched frame to the end.

        Parameters
        ----------
        n_frames_after : int
            Frames in the grid the delta leads to (after :meth:`apply`, or after
            :meth:`revert`).

        Returns
        -------
        list of tuple of int
            Increasing, disjoint ``[(start, stop), ...]`` frame runs of that grid; ``[]`` when
            nothing changed. After a length change, one run from the first touched frame to
            ``n_frames_after`` (empty when only frames past the end were removed).
        """
        if not self.changes_length:
            return runs(np.unique(self.cell_frames))
        firsts = [int(a.min()) for a in (self.cell_frames, self.removed, self.inserted) if a.size]
        first = min(firsts)
        return [(first, n_frames_after)] if first < n_frames_after else []

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


def _insert_columns(arr: np.ndarray, positions: np.ndarray, columns: np.ndarray | None) -> np.ndarray:
    """Columns of the result at ``positions`` (increasing, in result coordinates) are ``columns``."""
    assert columns is not None  # a delta that inserts or removes frames holds their columns
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


def runs(frames: np.ndarray) -> list[tuple[int, int]]:
    """Consecutive runs ``[(start, stop), ...]`` of a sorted array of unique indices."""
    frames = np.asarray(frames)
    if frames.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(frames) != 1) + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [frames.size]])
    return [(int(frames[a]), int(frames[b - 1]) + 1) for a, b in zip(starts, stops, strict=True)]
