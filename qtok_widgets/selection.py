"""Selections: turn the many ways of naming frames and layers into index arrays and back.

Every edit takes ``frames`` and ``layers`` in the same forms: ``None`` (all), an ``int``, a
``slice``, a ``range``, a list/tuple/array of ints, a boolean array as long as the axis, or a
string in slice notation (``"3:10"``, ``"0:16:2"``, ``"7"``). Frames may instead be chosen by
time with ``seconds=(t0, t1)``; the time span is widened to whole frames with
``floor(t0 * frame_rate) .. ceil(t1 * frame_rate)`` (the frames that overlap ``[t0, t1)``),
and the :class:`Selection` records the frames that were used. Indices are never negative and
never wrap around: anything outside ``0 .. n - 1`` raises :class:`~qtok_widgets.errors.EditError`
naming the valid range. :func:`spec_to_json` writes the canonical recipe form of a selection
(``null`` for all, ``"start:stop[:step]"`` for an evenly spaced run, else a list of ints).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import EditError
from .grid import CodeGrid

__all__ = [
    "IndexSpec",
    "Selection",
    "frames_from_seconds",
    "resolve_indices",
    "select",
    "spec_to_json",
]

#: Anything :func:`resolve_indices` accepts for ``frames`` or ``layers``.
IndexSpec = int | slice | range | str | Sequence[int] | np.ndarray | None

# a time within this many frames of a frame boundary counts as on it (float noise in t * rate)
_BOUNDARY_TOLERANCE = 1e-6


@dataclass(frozen=True, eq=False)
class Selection:
    """Frames and layers an edit applies to, resolved against one grid.

    Attributes
    ----------
    frames : numpy.ndarray
        int64, shape ``(n_selected_frames,)``: frame indices in the order given.
    layers : numpy.ndarray
        int64, shape ``(n_selected_layers,)``: layer indices in the order given.
    frame_rate : float
        Frames per second of the grid (Hz).
    seconds : tuple of float or None
        The ``(t0, t1)`` asked for, when frames were chosen by time.
    """

    frames: np.ndarray
    layers: np.ndarray
    frame_rate: float
    seconds: tuple[float, float] | None = None

    @property
    def start_s(self) -> float:
        """Start time in seconds of the first selected frame."""
        return float(self.frames.min()) / self.frame_rate

    @property
    def stop_s(self) -> float:
        """End time in seconds of the last selected frame (its start plus one frame)."""
        return float(self.frames.max() + 1) / self.frame_rate

    @property
    def rounded(self) -> bool:
        """True when ``seconds`` fell between frame boundaries and was widened to whole frames."""
        if self.seconds is None:
            return False
        return not (
            math.isclose(self.start_s, self.seconds[0], abs_tol=1e-9)
            and math.isclose(self.stop_s, self.seconds[1], abs_tol=1e-9)
        )

    @property
    def n_cells(self) -> int:
        """Number of selected cells (``n_selected_layers * n_selected_frames``)."""
        return int(self.frames.size * self.layers.size)

    def __repr__(self) -> str:
        frames = spec_to_json(self.frames, None)
        layers = spec_to_json(self.layers, None)
        extra = ""
        if self.seconds is not None:
            extra = f", seconds={self.seconds} -> {self.start_s:.3f}..{self.stop_s:.3f}s"
        return f"Selection(frames={frames!r}, layers={layers!r}{extra})"


def resolve_indices(spec: IndexSpec, n: int, what: str = "frame") -> np.ndarray:
    """Turn an index spec into an array of indices in ``0 .. n - 1``.

    Parameters
    ----------
    spec : None, int, slice, range, str, sequence of int or numpy.ndarray
        ``None`` selects everything. Slices take non-negative bounds inside ``0 .. n`` and a
        positive step; strings use slice notation (``"3:10"``, ``"3:10:2"``, ``"7"``); a
        boolean array must have length ``n``.
    n : int
        Length of the axis (``n_frames`` or ``n_layers``).
    what : str
        ``"frame"`` or ``"layer"``, used in messages.

    Returns
    -------
    numpy.ndarray
        int64, shape ``(k,)`` with ``k >= 1``, in the order given (duplicates kept).

    Raises
    ------
    EditError
        An index outside ``0 .. n - 1``, a malformed spec, or an empty selection.
    """
    valid = f"0..{n - 1}" if n > 0 else "none (the grid has no " + what + "s)"
    if spec is None:
        out = np.arange(n, dtype=np.int64)
    elif isinstance(spec, str):
        out = _resolve_slice(_parse_slice_text(spec, what), n, what)
    elif isinstance(spec, slice):
        out = _resolve_slice(spec, n, what)
    elif isinstance(spec, (bool, np.bool_)):
        msg = f"{what}s must be given as indices in {valid}, not a bool"
        raise EditError(msg)
    elif isinstance(spec, (int, np.integer)):
        if not 0 <= int(spec) < n:  # checked before numpy sees it: a 400-digit int overflows int64
            text = str(int(spec))
            text = text if len(text) <= 20 else text[:17] + "..."
            msg = f"{what} {text} is out of range: {what}s must be in {valid}"
            raise EditError(msg)
        out = np.array([int(spec)], dtype=np.int64)
    elif isinstance(spec, range):
        out = np.array(spec, dtype=np.int64)
    else:
        try:
            arr = np.asarray(spec)
        except (TypeError, ValueError):
            arr = np.asarray([], dtype=object)
        if arr.dtype == bool:
            if arr.shape != (n,):
                msg = f"a boolean {what} selection must have shape ({n},), got {arr.shape}"
                raise EditError(msg)
            out = np.flatnonzero(arr).astype(np.int64)
        elif arr.ndim == 1 and (arr.dtype.kind in "iu" or arr.size == 0):
            out = arr.astype(np.int64)
        elif arr.ndim == 1 and arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0):
            out = arr.astype(np.int64)
        else:
            msg = (
                f"cannot read {what}s from {type(spec).__name__} {_short(spec)}: use an int, slice, "
                f"range, list of ints or 'start:stop' in {valid}"
            )
            raise EditError(msg)
    if out.size == 0:
        msg = f"empty {what} selection: choose at least one {what} in {valid}"
        raise EditError(msg)
    lo, hi = int(out.min()), int(out.max())
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        msg = f"{what} {bad} is out of range: {what}s must be in {valid}"
        raise EditError(msg)
    return out


def frames_from_seconds(seconds: Any, n_frames: int, frame_rate: float) -> np.ndarray:
    """Frames overlapping the time span ``[t0, t1)``: ``floor(t0 * rate) .. ceil(t1 * rate) - 1``.

    Parameters
    ----------
    seconds : tuple of float
        ``(t0, t1)`` in seconds with ``0 <= t0 < t1 <= n_frames / frame_rate``.
    n_frames : int
        Frames in the grid.
    frame_rate : float
        Frames per second (Hz).

    Returns
    -------
    numpy.ndarray
        int64, shape ``(k,)``: consecutive frame indices.
    """
    duration = n_frames / frame_rate
    valid = f"0 <= t0 < t1 <= {duration:g} s"
    try:
        t0, t1 = (float(t) for t in seconds)
    except (TypeError, ValueError):
        msg = f"seconds must be a pair (t0, t1) with {valid}, got {_short(seconds)}"
        raise EditError(msg) from None
    if not (math.isfinite(t0) and math.isfinite(t1)) or t0 < 0 or t1 <= t0:
        msg = f"seconds=({t0:g}, {t1:g}) is not a time span: need {valid}"
        raise EditError(msg)
    if t1 * frame_rate - _BOUNDARY_TOLERANCE > n_frames:  # before rounding: 1e308 s would overflow
        msg = f"seconds=({t0:g}, {t1:g}) runs past the end of the grid: need {valid}"
        raise EditError(msg)
    start = math.floor(t0 * frame_rate + _BOUNDARY_TOLERANCE)
    stop = math.ceil(t1 * frame_rate - _BOUNDARY_TOLERANCE)
    if stop > n_frames:
        msg = f"seconds=({t0:g}, {t1:g}) runs past the end of the grid: need {valid}"
        raise EditError(msg)
    # a span that starts within float noise of the end still selects the last frame
    start = min(start, n_frames - 1)
    stop = max(stop, start + 1)
    return np.arange(start, stop, dtype=np.int64)


def select(
    grid: CodeGrid,
    frames: IndexSpec = None,
    layers: IndexSpec = None,
    *,
    seconds: tuple[float, float] | None = None,
) -> Selection:
    """Resolve ``frames``/``seconds`` and ``layers`` against ``grid``.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``.
    frames, layers : index spec, optional
        See :func:`resolve_indices`; ``None`` selects all.
    seconds : tuple of float, optional
        ``(t0, t1)`` in seconds, instead of ``frames``; rounded outwards to whole frames.

    Returns
    -------
    Selection
    """
    if seconds is not None:
        if frames is not None:
            msg = "give either frames= or seconds=, not both"
            raise EditError(msg)
        frame_idx = frames_from_seconds(seconds, grid.n_frames, grid.frame_rate)
        seconds = (float(seconds[0]), float(seconds[1]))
    else:
        frame_idx = resolve_indices(frames, grid.n_frames, "frame")
    layer_idx = resolve_indices(layers, grid.n_layers, "layer")
    return Selection(frame_idx, layer_idx, grid.frame_rate, seconds)


def spec_to_json(indices: np.ndarray | None, n: int | None) -> Any:
    """Canonical, JSON-ready form of resolved indices.

    Parameters
    ----------
    indices : numpy.ndarray or None
        Resolved indices (``None`` means "all").
    n : int or None
        Length of the axis; when given and ``indices`` is exactly ``0 .. n - 1`` the result is
        ``None`` (all).

    Returns
    -------
    None, str or list of int
        ``None`` for all, ``"start:stop"`` / ``"start:stop:step"`` for an increasing evenly
        spaced run of three or more (or two consecutive) indices, else a list of ints.
    """
    if indices is None:
        return None
    idx = np.asarray(indices, dtype=np.int64)
    if n is not None and idx.size == n and np.array_equal(idx, np.arange(n)):
        return None
    if idx.size >= 2:
        steps = np.diff(idx)
        step = int(steps[0])
        if step > 0 and np.all(steps == step) and (idx.size >= 3 or step == 1):
            start, stop = int(idx[0]), int(idx[-1]) + 1
            return f"{start}:{stop}" if step == 1 else f"{start}:{stop}:{step}"
    return [int(i) for i in idx]


def spec_to_python(spec: Any) -> str:
    """Python source for a canonical spec from :func:`spec_to_json` (``range(3, 10)``, ``[1, 4]``)."""
    if spec is None:
        return "None"
    if isinstance(spec, str):
        parts = [int(p) for p in spec.split(":")]
        if len(parts) == 1:
            return str(parts[0])
        return f"range({', '.join(str(p) for p in parts)})"
    if isinstance(spec, int):
        return str(spec)
    return repr([int(i) for i in spec])


def _parse_slice_text(text: str, what: str) -> slice:
    parts = text.strip().split(":")
    try:
        nums = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        nums = []
    if not nums or len(nums) > 3 or (len(nums) == 1 and nums[0] is None):
        msg = f"cannot read {what}s from {text!r}: use 'start:stop', 'start:stop:step' or a single index"
        raise EditError(msg)
    if len(nums) == 1 and nums[0] is not None:
        return slice(nums[0], nums[0] + 1)
    return slice(*nums)


def _resolve_slice(spec: slice, n: int, what: str) -> np.ndarray:
    start = 0 if spec.start is None else spec.start
    stop = n if spec.stop is None else spec.stop
    step = 1 if spec.step is None else spec.step
    for name, value in (("start", start), ("stop", stop), ("step", step)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            msg = f"{what} slice {name} must be an int, got {value!r}"
            raise EditError(msg)
    if step <= 0:
        msg = f"{what} slice step must be positive, got {step}; pass a list or range to reorder"
        raise EditError(msg)
    if start < 0 or stop < 0 or start > n or stop > n:
        bad = start if (start < 0 or start > n) else stop
        msg = f"{what} slice bound {bad} is out of range: slice bounds must be in 0..{n}"
        raise EditError(msg)
    return np.arange(start, stop, step, dtype=np.int64)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
