"""EditSession: one recording's edits, with unlimited undo, replayable recipes and incremental decoding.

An :class:`EditSession` holds the ``original`` grid, the current ``grid`` and a history of
operations. Each method (``mask``, ``unmask``, ``replace``, ``replace_code``, ``splice``,
``interpolate``, ``delete_frames``, ``duplicate_frames``) takes the arguments of the pure
function of the same name in :mod:`qtok_widgets.edits` minus the grid, validates them, applies
the edit and records it as a JSON-ready op dict; a rejected edit raises
:class:`~qtok_widgets.errors.EditError` and leaves the session exactly as it was. The history
keeps per-op deltas (the changed cells and the removed or inserted frames), never copies of the
grid, so a long clip with thousands of edits stays small. ``to_json()`` writes a recipe that
:meth:`EditSession.from_json` replays on a source grid (the grids that splice and interpolate
take are embedded in it), ``to_python()`` writes code that does the same with the public API,
and ``render()`` decodes the edited grid, re-decoding only the codec's decode chunks that
changed since the previous render. Widgets subscribe with ``on_change`` to see every edit,
undo, redo and reset as it happens.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import edits
from .audio import Audio
from .errors import EditError, GridError
from .grid import CodeGrid
from .selection import IndexSpec, Selection, select, spec_to_json, spec_to_python

__all__ = ["RECIPE_FORMAT", "RECIPE_VERSION", "EditSession", "RenderInfo"]

log = logging.getLogger("qtok_widgets")

RECIPE_FORMAT = "qtok-recipe"
RECIPE_VERSION = 1

#: op name -> (required keys, optional keys with defaults)
_OP_SCHEMA: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "mask": ((), {"frames": None, "layers": None}),
    "unmask": ((), {"frames": None, "layers": None}),
    "replace": (("code",), {"frames": None, "layers": None}),
    "replace_code": (("old", "new"), {"layers": None}),
    "splice": (("source", "dst_start"), {"src_frames": None, "layers": None, "mode": "replace"}),
    "interpolate": ((), {"frames": None, "layers": None, "target": None, "alpha": 0.5, "target_start": None}),
    "delete_frames": (("frames",), {}),
    "duplicate_frames": (("frames",), {"times": 1}),
    "reset": ((), {}),
}
OP_NAMES = tuple(_OP_SCHEMA)

ChangeCallback = Callable[["EditSession", dict[str, Any]], Any]


@dataclass(frozen=True)
class RenderInfo:
    """What the last :meth:`EditSession.render` did.

    Attributes
    ----------
    decoded : list of tuple of int
        Frame ranges ``[(start, stop), ...]`` that were decoded (runs of whole decode chunks).
    n_frames : int
        Frames in the rendered grid.
    cached : bool
        True when nothing had changed and the previous audio was returned.
    """

    decoded: list[tuple[int, int]]
    n_frames: int
    cached: bool = False

    @property
    def decoded_frames(self) -> int:
        """Number of frames decoded."""
        return sum(b - a for a, b in self.decoded)

    @property
    def reused_frames(self) -> int:
        """Number of frames whose audio was reused from the previous render."""
        return self.n_frames - self.decoded_frames


@dataclass
class _Entry:
    op: dict[str, Any]
    delta: edits.Delta


class EditSession:
    """Edits of one grid, with history, undo/redo, recipes and incremental rendering.

    Parameters
    ----------
    grid : CodeGrid
        The source grid, shape ``(n_layers, n_frames)``; kept as :attr:`original`.
    codec : Codec, optional
        Needed for :meth:`render`, :meth:`render_original` and :meth:`interpolate`.

    Attributes
    ----------
    grid : CodeGrid
        The current, edited grid.
    original : CodeGrid
        The grid the session started from.
    codec : Codec or None
        The codec used to decode and to interpolate.

    Examples
    --------
    >>> session = EditSession(grid, codec)                    # doctest: +SKIP
    >>> session.mask(frames=slice(10, 20), layers=range(8, 16))  # doctest: +SKIP
    >>> session.undo(); session.redo()                        # doctest: +SKIP
    >>> audio = session.render()                              # doctest: +SKIP
    """

    def __init__(self, grid: CodeGrid, codec: Any = None) -> None:
        if not isinstance(grid, CodeGrid):
            msg = f"EditSession needs a CodeGrid, got {type(grid).__name__}"
            raise EditError(msg)
        if codec is not None:
            try:
                codec.check_grid(grid)
            except (GridError, ValueError) as exc:
                raise EditError(str(exc)) from None
        self._original = grid
        self._grid = grid
        self._codec = codec
        self._undo: list[_Entry] = []
        self._redo: list[_Entry] = []
        self._grids: dict[str, CodeGrid] = {}
        self._callbacks: list[ChangeCallback] = []
        # incremental rendering: the last rendered grid and its untrimmed, clipped samples
        self._render_grid: CodeGrid | None = None
        self._render_buf: np.ndarray | None = None
        self._render_audio: Audio | None = None
        self._original_buf: np.ndarray | None = None
        self._original_audio: Audio | None = None
        # one render at a time: the cached samples are patched in place
        self._render_lock = threading.Lock()
        self.last_render: RenderInfo | None = None
        #: Frames and layers the last applied op used (after rounding ``seconds=``); None after reset.
        self.last_selection: Selection | None = None

    # ------------------------------------------------------------------ state
    @property
    def grid(self) -> CodeGrid:
        """The current grid."""
        return self._grid

    @property
    def original(self) -> CodeGrid:
        """The grid the session started from."""
        return self._original

    @property
    def codec(self) -> Any:
        """The codec, or None."""
        return self._codec

    @property
    def history(self) -> list[dict[str, Any]]:
        """Applied ops, oldest first, as JSON-ready dicts (copies)."""
        return [copy.deepcopy(e.op) for e in self._undo]

    @property
    def redo_history(self) -> list[dict[str, Any]]:
        """Undone ops that :meth:`redo` would re-apply, next first."""
        return [copy.deepcopy(e.op) for e in reversed(self._redo)]

    @property
    def can_undo(self) -> bool:
        """True when there is an op to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is an undone op to redo."""
        return bool(self._redo)

    @property
    def history_nbytes(self) -> int:
        """Memory held by the undo and redo history's deltas, in bytes."""
        return sum(e.delta.nbytes for e in (*self._undo, *self._redo))

    def __repr__(self) -> str:
        return (
            f"EditSession({self._grid!r}, ops={len(self._undo)}, undone={len(self._redo)}, "
            f"codec={getattr(self._codec, 'name', None)!r})"
        )

    def select(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> Selection:
        """Resolve a selection against the current grid without editing (shows how seconds round)."""
        return select(self._grid, frames, layers, seconds=seconds)

    # ------------------------------------------------------------------ operations
    def mask(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Mask cells (see :func:`qtok_widgets.edits.mask`); returns the new grid."""
        delta, sel = edits.plan_mask(self._grid, frames, layers, seconds=seconds, value=True)
        op = {"op": "mask", **self._sel_json(sel)}
        return self._commit(op, delta, sel)

    def unmask(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Unmask cells (see :func:`qtok_widgets.edits.unmask`); returns the new grid."""
        delta, sel = edits.plan_mask(self._grid, frames, layers, seconds=seconds, value=False)
        op = {"op": "unmask", **self._sel_json(sel)}
        return self._commit(op, delta, sel)

    def replace(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        code: int | None = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Set cells to one code (see :func:`qtok_widgets.edits.replace`); returns the new grid."""
        if code is None:
            msg = f"replace needs code=, an int in 0..{self._grid.codebook_size - 1}"
            raise EditError(msg)
        delta, sel = edits.plan_replace(self._grid, frames, layers, code, seconds=seconds)
        op = {"op": "replace", **self._sel_json(sel), "code": int(code)}
        return self._commit(op, delta, sel)

    def replace_code(self, old: int, new: int, layers: IndexSpec = None) -> CodeGrid:
        """Replace every ``old`` code by ``new`` (see :func:`qtok_widgets.edits.replace_code`)."""
        delta, sel = edits.plan_replace_code(self._grid, old, new, layers)
        op = {
            "op": "replace_code",
            "old": int(old),
            "new": int(new),
            "layers": spec_to_json(sel.layers, self._grid.n_layers),
        }
        return self._commit(op, delta, sel)

    def splice(
        self,
        source: CodeGrid,
        src_frames: IndexSpec = None,
        dst_start: int | None = None,
        layers: IndexSpec = None,
        mode: str = "replace",
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Copy frames of chosen layers from ``source`` (see :func:`qtok_widgets.edits.splice`).

        ``source`` is embedded in :meth:`to_json` recipes (once per distinct grid), or referred
        to as ``"original"`` when it equals the session's original grid.
        """
        if dst_start is None:
            msg = f"splice needs dst_start=, a frame in 0..{self._grid.n_frames}"
            raise EditError(msg)
        delta, sel = edits.plan_splice(
            self._grid, source, src_frames, dst_start, layers, mode, seconds=seconds
        )
        op = {
            "op": "splice",
            "source": self._ref(source),
            "src_frames": spec_to_json(sel.frames, source.n_frames),
            "dst_start": int(dst_start),
            "layers": spec_to_json(sel.layers, self._grid.n_layers),
            "mode": mode,
        }
        return self._commit(op, delta, sel)

    def interpolate(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        target: CodeGrid | None = None,
        alpha: float = 0.5,
        *,
        seconds: tuple[float, float] | None = None,
        target_start: int | None = None,
    ) -> edits.InterpolateResult:
        """Move cells toward a target in embedding space (see :func:`qtok_widgets.edits.interpolate`).

        Returns
        -------
        InterpolateResult
            The new grid, the frames and layers used and the per-frame snapping error.
        """
        delta, result = edits.plan_interpolate(
            self._grid,
            frames,
            layers,
            self._codec,
            target,
            alpha,
            seconds=seconds,
            target_start=target_start,
        )
        op = {
            "op": "interpolate",
            **self._sel_json(result.selection),
            "target": None if target is None else self._ref(target),
            "alpha": float(alpha),
            "target_start": None if target_start is None else int(target_start),
        }
        self._commit(op, delta, result.selection)
        return edits.InterpolateResult(self._grid, result.selection, result.error, result.relative_error)

    def delete_frames(
        self, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None
    ) -> CodeGrid:
        """Remove frames (see :func:`qtok_widgets.edits.delete_frames`); returns the new grid."""
        delta, sel = edits.plan_delete_frames(self._grid, frames, seconds=seconds)
        op = {"op": "delete_frames", "frames": spec_to_json(sel.frames, None)}
        return self._commit(op, delta, sel)

    def duplicate_frames(
        self, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None, times: int = 1
    ) -> CodeGrid:
        """Repeat frames in place (see :func:`qtok_widgets.edits.duplicate_frames`)."""
        delta, sel = edits.plan_duplicate_frames(self._grid, frames, seconds=seconds, times=times)
        op = {"op": "duplicate_frames", "frames": spec_to_json(sel.frames, None), "times": int(times)}
        return self._commit(op, delta, sel)

    def reset(self) -> CodeGrid:
        """Go back to the original grid, as one undoable op; returns the grid."""
        cur, orig = self._grid, self._original
        if cur.shape == orig.shape:
            layers, frames = np.nonzero((cur.codes != orig.codes) | (cur.mask != orig.mask))
            delta = edits.plan_cells(
                cur, layers, frames, orig.codes[layers, frames], orig.mask[layers, frames]
            )
            delta = dataclasses.replace(delta, old_n_samples=cur.n_samples, new_n_samples=orig.n_samples)
        else:
            delta = edits.Delta(
                removed=np.arange(cur.n_frames, dtype=np.int64),
                removed_codes=np.array(cur.codes),
                removed_mask=np.array(cur.mask),
                inserted=np.arange(orig.n_frames, dtype=np.int64),
                inserted_codes=np.array(orig.codes),
                inserted_mask=np.array(orig.mask),
                old_n_samples=cur.n_samples,
                new_n_samples=orig.n_samples,
            )
        return self._commit({"op": "reset"}, delta, None, kind="reset")

    def apply(self, op: dict[str, Any]) -> CodeGrid | edits.InterpolateResult:
        """Apply one op dict as found in :attr:`history` or a recipe's ``"ops"``.

        ``source``/``target`` name a grid already known to the session (``"original"`` or one
        embedded by :meth:`from_json`).
        """
        if not isinstance(op, dict):
            msg = f"an op must be a dict like {{'op': 'mask', 'frames': '0:10'}}, got {type(op).__name__}"
            raise EditError(msg)
        name = op.get("op")
        if name not in _OP_SCHEMA:
            msg = f"unknown op {name!r}: use one of {', '.join(OP_NAMES)}"
            raise EditError(msg)
        required, optional = _OP_SCHEMA[name]
        extra = sorted(set(op) - {"op", *required, *optional})
        if extra:
            msg = f"op {name!r} has unknown keys {extra}; allowed: {sorted({*required, *optional})}"
            raise EditError(msg)
        missing = [k for k in required if k not in op]
        if missing:
            msg = f"op {name!r} is missing {', '.join(missing)}"
            raise EditError(msg)
        args = {**optional, **{k: op[k] for k in (*required, *optional) if k in op}}
        for key in ("frames", "layers", "src_frames"):
            if key in args:
                args[key] = _json_spec(args[key], key)
        if name == "reset":
            return self.reset()
        if name == "splice":
            args["source"] = self._lookup(args["source"], "source")
        if name == "interpolate" and args["target"] is not None:
            args["target"] = self._lookup(args["target"], "target")
        return getattr(self, name)(**args)

    # ------------------------------------------------------------------ undo / redo
    def undo(self) -> CodeGrid:
        """Undo the last op; returns the grid. Raises EditError when there is nothing to undo."""
        if not self._undo:
            msg = "nothing to undo: the history is empty"
            raise EditError(msg)
        entry = self._undo[-1]
        grid = entry.delta.revert(self._grid)
        self._undo.pop()
        self._redo.append(entry)
        self._grid = grid
        self._notify("undo", entry.op)
        return grid

    def redo(self) -> CodeGrid:
        """Re-apply the last undone op; returns the grid. Raises EditError when there is none."""
        if not self._redo:
            msg = "nothing to redo: no op has been undone since the last edit"
            raise EditError(msg)
        entry = self._redo[-1]
        grid = entry.delta.apply(self._grid)
        self._redo.pop()
        self._undo.append(entry)
        self._grid = grid
        self._notify("redo", entry.op)
        return grid

    # ------------------------------------------------------------------ comparison
    def origin_frames(self) -> np.ndarray:
        """For each current frame, the original frame it came from, or -1 for an inserted frame.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(grid.n_frames,)``.
        """
        origin = np.arange(self._original.n_frames, dtype=np.int64)
        for entry in self._undo:
            if entry.op["op"] == "reset":
                origin = np.arange(self._original.n_frames, dtype=np.int64)
            elif entry.delta.changes_length:
                origin = entry.delta.frame_map(origin)
        return origin

    def diff(self) -> np.ndarray:
        """Cells of the current grid that differ from the original, codes or mask.

        Frames are matched through :meth:`origin_frames`: a frame that came from original frame
        ``j`` is compared with column ``j``; an inserted frame (duplicate, splice insert) counts
        as changed in every layer. Without timing edits this is the plain cell-by-cell
        comparison; after deleting frames, the frames that remain are compared with where they
        came from, so a deletion alone shows no changed cell (the shorter length says it).

        Returns
        -------
        numpy.ndarray
            bool, shape ``(n_layers, grid.n_frames)`` of the current grid.
        """
        cur, orig = self._grid, self._original
        origin = self.origin_frames()
        if origin.size == orig.n_frames and np.array_equal(origin, np.arange(orig.n_frames)):
            return (cur.codes != orig.codes) | (cur.mask != orig.mask)
        out = np.ones(cur.shape, dtype=bool)
        kept = origin >= 0
        src = origin[kept]
        out[:, kept] = (cur.codes[:, kept] != orig.codes[:, src]) | (cur.mask[:, kept] != orig.mask[:, src])
        return out

    # ------------------------------------------------------------------ change notification
    def on_change(self, callback: ChangeCallback) -> None:
        """Call ``callback(session, event)`` after every apply, undo, redo and reset.

        ``event`` is ``{"kind": "apply" | "undo" | "redo" | "reset", "op": {...}}`` (for undo,
        the op that was undone). Every callback runs even if an earlier one raises; the first
        exception is then re-raised (the session has already changed).
        """
        if not callable(callback):
            msg = f"on_change needs a callable, got {type(callback).__name__}"
            raise EditError(msg)
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def off_change(self, callback: ChangeCallback) -> None:
        """Stop calling ``callback``; a callback that was never registered is ignored."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def _notify(self, kind: str, op: dict[str, Any]) -> None:
        first: BaseException | None = None
        for callback in list(self._callbacks):
            try:
                callback(self, {"kind": kind, "op": copy.deepcopy(op)})
            except Exception as exc:  # every listener must hear about the change
                log.exception("qtok: on_change callback %r failed", callback)
                if first is None:
                    first = exc
        if first is not None:
            raise first

    # ------------------------------------------------------------------ internals
    def _commit(
        self, op: dict[str, Any], delta: edits.Delta, sel: Selection | None = None, kind: str = "apply"
    ) -> CodeGrid:
        grid = delta.apply(self._grid)
        self.last_selection = sel
        self._undo.append(_Entry(op, delta))
        dropped, self._redo = self._redo, []
        self._grid = grid
        if dropped:
            self._forget_grids_of(dropped)
        self._notify(kind, op)
        return grid

    def _sel_json(self, sel: Selection) -> dict[str, Any]:
        return {
            "frames": spec_to_json(sel.frames, self._grid.n_frames),
            "layers": spec_to_json(sel.layers, self._grid.n_layers),
        }

    def _ref(self, grid: CodeGrid) -> str:
        """Name under which ``grid`` is stored for recipes: ``"original"`` or ``"grid<k>"``."""
        if grid is self._original or grid == self._original:
            return "original"
        for name, known in self._grids.items():
            if known is grid:
                return name
        for name, known in self._grids.items():
            if known.shape == grid.shape and known == grid:
                return name
        k = 1
        while f"grid{k}" in self._grids:
            k += 1
        name = f"grid{k}"
        self._grids[name] = grid
        return name

    def _lookup(self, ref: Any, what: str) -> CodeGrid:
        if isinstance(ref, CodeGrid):
            return ref
        if ref == "original":
            return self._original
        if isinstance(ref, str) and ref in self._grids:
            return self._grids[ref]
        known = ["original", *self._grids]
        msg = f"{what} {ref!r} is not a known grid; use one of {', '.join(repr(k) for k in known)}"
        raise EditError(msg)

    def _forget_grids_of(self, dropped: list[_Entry]) -> None:
        """Drop embedded grids that only the discarded redo entries referred to."""

        def refs(entries: list[_Entry]) -> set[str]:
            return {e.op[k] for e in entries for k in ("source", "target") if isinstance(e.op.get(k), str)}

        for name in refs(dropped) - refs(self._undo):
            self._grids.pop(name, None)

    # ------------------------------------------------------------------ recipes
    def to_dict(self) -> dict[str, Any]:
        """The recipe as a JSON-ready dict (see :meth:`to_json`)."""
        ops = self.history
        used = []
        for op in ops:
            for key in ("source", "target"):
                ref = op.get(key)
                if isinstance(ref, str) and ref != "original" and ref not in used:
                    used.append(ref)
        g = self._original
        return {
            "format": RECIPE_FORMAT,
            "version": RECIPE_VERSION,
            "grid": {**g.metadata(), "n_layers": g.n_layers, "n_frames": g.n_frames},
            "grids": {name: self._grids[name].to_dict() for name in used},
            "ops": ops,
        }

    def to_json(self, indent: int | None = None) -> str:
        """The edits as a recipe: JSON text that :meth:`from_json` replays on a source grid.

        The recipe holds ``format`` (``"qtok-recipe"``), ``version`` (1), ``grid`` (the
        original's codec metadata and shape, for checking), ``grids`` (every splice source and
        interpolation target other than the original, embedded as
        :meth:`CodeGrid.to_dict`) and ``ops`` (the :attr:`history`).
        """
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(
        cls, recipe: str | bytes | dict[str, Any] | os.PathLike[str], grid: CodeGrid, codec: Any = None
    ) -> EditSession:
        """Replay a recipe from :meth:`to_json` on ``grid``; returns the new session.

        Parameters
        ----------
        recipe : str, bytes, dict or os.PathLike
            Recipe JSON text, its parsed dict, or the path of a recipe file.
        grid : CodeGrid
            Source grid; it must come from the recipe's codec (name, layers, rates). Its
            length may differ from the recipe's: ops are replayed as written, and one that
            does not fit is rejected naming its position.
        codec : Codec, optional
            Needed for ``interpolate`` ops and for rendering.

        Raises
        ------
        EditError
            Malformed recipe, a grid from another codec, or an op that does not apply.
        """
        data = _read_recipe(recipe)
        session = cls(grid, codec)
        meta = data.get("grid")
        if isinstance(meta, dict):
            mismatches = [
                f"{key} {meta[key]!r} (grid has {value!r})"
                for key, value in (
                    ("codec", grid.codec),
                    ("n_layers", grid.n_layers),
                    ("frame_rate", grid.frame_rate),
                    ("sample_rate", grid.sample_rate),
                    ("codebook_size", grid.codebook_size),
                )
                if key in meta and meta[key] != value
            ]
            if mismatches:
                msg = "recipe was made for another codec: " + ", ".join(mismatches)
                raise EditError(msg)
        grids = data.get("grids", {}) or {}
        if not isinstance(grids, dict):
            msg = "recipe 'grids' must map names to embedded grids"
            raise EditError(msg)
        for name, body in grids.items():
            if name == "original":
                msg = "recipe 'grids' may not redefine 'original'"
                raise EditError(msg)
            try:
                session._grids[name] = CodeGrid.from_dict(body, source=f"recipe grid {name!r}")
            except GridError as exc:
                raise EditError(str(exc)) from None
        ops = data.get("ops")
        if not isinstance(ops, list):
            msg = "recipe 'ops' must be a list of op dicts"
            raise EditError(msg)
        for i, op in enumerate(ops):
            try:
                session.apply(op)
            except EditError as exc:
                name = op.get("op") if isinstance(op, dict) else None
                msg = f"recipe op {i} ({name}): {exc}"
                raise EditError(msg) from None
        return session

    def to_python(self, grid: str = "grid", codec: str = "codec") -> str:
        """Python code that reproduces the edits with the public API.

        Parameters
        ----------
        grid, codec : str
            Names of the variables that hold the source grid and the codec where the code runs.

        Returns
        -------
        str
            Source code; running it leaves the edited grid in ``session.grid``.
        """
        data = self.to_dict()
        lines = [
            f"# Edits recorded by qtok_widgets.EditSession; expects `{grid}` (the source CodeGrid) and `{codec}`.",
            "from qtok_widgets import CodeGrid, EditSession",
            "",
        ]
        names = {"original": "session.original"}
        for name, body in data["grids"].items():
            var = f"source_{name}"
            names[name] = var
            lines.append(f"{var} = CodeGrid.from_dict({body!r})")
        lines.append(f"session = EditSession({grid}, {codec})")
        for op in data["ops"]:
            lines.append("session." + _op_to_python(op, names))
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ rendering
    def _need_codec(self) -> Any:
        if self._codec is None:
            msg = "this session has no codec: create it with EditSession(grid, codec) to render audio"
            raise EditError(msg)
        return self._codec

    def render_original(self) -> Audio:
        """Decoded audio of the original grid (decoded once, then cached)."""
        self._need_codec()
        with self._render_lock:
            if self._original_audio is None:
                buf = self._decode_all(self._original)
                self._original_buf = buf
                self._original_audio = self._to_audio(self._original, buf, "original")
            return self._original_audio

    def render(self) -> Audio:
        """Decoded audio of the current grid, re-decoding only what changed since the last render.

        The first render starts from the original's decode when :meth:`render_original` ran.
        The codec's :meth:`~Codec.decode_chunks` that an edit touches (per
        :meth:`~Codec.affected_frames`) are re-decoded with :meth:`~Codec.decode_range`; after
        a length-changing edit everything from the first changed frame's chunk to the end is.
        The result equals ``codec.decode(session.grid)`` (bit for bit on backends whose
        chunks are independent). :attr:`last_render` says what was decoded. Renders run one
        at a time, so a widget may call this from a background thread.

        Returns
        -------
        Audio
            float32 samples, shape ``(grid.n_samples,)``, at the codec's sample rate.
        """
        codec = self._need_codec()
        with self._render_lock:
            return self._render_locked(codec)

    def _render_locked(self, codec: Any) -> Audio:
        grid = self._grid
        if self._render_grid is grid and self._render_audio is not None:
            self.last_render = RenderInfo([], grid.n_frames, cached=True)
            return self._render_audio
        base, buf = self._render_grid, self._render_buf
        if base is None and self._original_buf is not None:
            base, buf = self._original, self._original_buf.copy()
        try:
            if base is None or buf is None or grid.n_frames == 0:
                buf = self._decode_all(grid)
                decoded = [(0, grid.n_frames)] if grid.n_frames else []
            else:
                buf, decoded = self._decode_changes(codec, base, buf, grid)
        except BaseException:
            # the cached samples may be half patched: forget them rather than reuse them
            self._render_grid = self._render_buf = self._render_audio = None
            raise
        self._render_grid, self._render_buf = grid, buf
        self._render_audio = self._to_audio(grid, buf, "edited")
        self.last_render = RenderInfo(decoded, grid.n_frames, cached=False)
        return self._render_audio

    def _decode_all(self, grid: CodeGrid) -> np.ndarray:
        codec = self._need_codec()
        if grid.n_frames == 0:
            return np.zeros(0, np.float32)
        buf = np.array(codec.decode_range(grid, 0, grid.n_frames), dtype=np.float32)
        return np.clip(buf, -1.0, 1.0, out=buf)  # stored clipped, as decode() returns it

    def _decode_changes(
        self, codec: Any, old: CodeGrid, buf: np.ndarray, new: CodeGrid
    ) -> tuple[np.ndarray, list[tuple[int, int]]]:
        n = new.n_frames
        spf = new.samples_per_frame
        chunks = [(int(a), int(b)) for a, b in codec.decode_chunks(n)]
        if old.n_frames == n:
            cols = np.flatnonzero(np.any((old.codes != new.codes) | (old.mask != new.mask), axis=0))
            spans = [codec.affected_frames(a, b, n) for a, b in edits._runs(cols)]
            reusable = set(chunks)
            out = buf  # same length: patch the previous samples in place
        else:
            m = min(old.n_frames, n)
            differs = np.flatnonzero(
                np.any((old.codes[:, :m] != new.codes[:, :m]) | (old.mask[:, :m] != new.mask[:, :m]), axis=0)
            )
            first = int(differs[0]) if differs.size else m
            if first >= n:  # pure truncation: the new last frame lost its right neighbour
                first = n - 1
            spans = [codec.affected_frames(first, n, n)] if n else []
            reusable = {(int(a), int(b)) for a, b in codec.decode_chunks(old.n_frames)}
            out = np.empty(n * spf, dtype=np.float32)
        todo = [
            c
            for c in chunks
            if c not in reusable or any(c[0] < hi and c[1] > lo for lo, hi in spans if hi > lo)
        ]
        if out is not buf:
            todo_set = set(todo)
            for a, b in chunks:
                if (a, b) not in todo_set:
                    out[a * spf : b * spf] = buf[a * spf : b * spf]
        decoded: list[tuple[int, int]] = []
        for a, b in todo:  # merge consecutive chunks into one decode_range call
            if decoded and decoded[-1][1] == a:
                decoded[-1] = (decoded[-1][0], b)
            else:
                decoded.append((a, b))
        for a, b in decoded:
            out[a * spf : b * spf] = np.clip(codec.decode_range(new, a, b), -1.0, 1.0)
        return out, decoded

    def _to_audio(self, grid: CodeGrid, buf: np.ndarray, what: str) -> Audio:
        samples = buf[: grid.n_samples].copy()  # the cache is patched in place later
        samples.flags.writeable = False
        name = getattr(self._codec, "name", "codec")
        return Audio(samples, grid.sample_rate, f"{what} {name}")


# ---------------------------------------------------------------------------- helpers
def _read_recipe(recipe: Any) -> dict[str, Any]:
    if isinstance(recipe, os.PathLike):
        path = Path(recipe)
        if not path.is_file():
            msg = f"{path}: no such recipe file"
            raise EditError(msg)
        recipe = path.read_text(encoding="utf-8", errors="replace")
    if isinstance(recipe, (bytes, bytearray)):
        recipe = bytes(recipe).decode("utf-8", errors="replace")
    if isinstance(recipe, str):
        try:
            recipe = json.loads(recipe)
        except json.JSONDecodeError as exc:
            msg = f"recipe is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            raise EditError(msg) from None
    if not isinstance(recipe, dict):
        msg = f"a recipe must be a JSON object with 'format' and 'ops', got {type(recipe).__name__}"
        raise EditError(msg)
    if recipe.get("format") != RECIPE_FORMAT:
        msg = f"not an edit recipe: 'format' must be {RECIPE_FORMAT!r}, got {recipe.get('format')!r}"
        raise EditError(msg)
    if recipe.get("version") != RECIPE_VERSION:
        msg = f"unsupported recipe version {recipe.get('version')!r}; this qtok_widgets reads version {RECIPE_VERSION}"
        raise EditError(msg)
    return recipe


def _json_spec(value: Any, key: str) -> Any:
    """Check that a recipe index spec is JSON-shaped: null, int, 'a:b' string or list of ints."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value
    msg = f"'{key}' must be null, an int, a 'start:stop' string or a list of ints, got {value!r}"
    raise EditError(msg)


def _op_to_python(op: dict[str, Any], names: dict[str, str]) -> str:
    name = op["op"]
    if name == "reset":
        return "reset()"
    if name == "replace_code":
        return f"replace_code({op['old']}, {op['new']}, layers={spec_to_python(op['layers'])})"
    parts = []
    if name == "splice":
        parts.append(names[op["source"]])
    for key, value in op.items():
        if key in ("op", "source"):
            continue
        if key in ("frames", "layers", "src_frames"):
            parts.append(f"{key}={spec_to_python(value)}")
        elif key == "target":
            parts.append(f"target={'None' if value is None else names[value]}")
        else:
            parts.append(f"{key}={value!r}")
    return f"{name}({', '.join(parts)})"
