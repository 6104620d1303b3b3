"""EditSession: one recording's edits, with unlimited undo, replayable recipes and incremental decoding.

An :class:`EditSession` holds the ``original`` grid, the current ``grid`` and a
:class:`~qtok_widgets.history.History` of operations. :meth:`EditSession.apply` is the one way
an edit is committed: it takes an :class:`~qtok_widgets.ops.Op` (or its recipe dict), plans it
against the current grid and records the operation with its delta. The methods ``mask``,
``unmask``, ``replace``, ``replace_code``, ``splice``, ``interpolate``, ``randomize``,
``delete_frames`` and ``duplicate_frames`` take the arguments of the pure function of the same
name in :mod:`qtok_widgets.edits` minus the grid, build the operation and apply it; every other
registered operation is reachable the same way as ``session.<name>(...)``. A rejected edit
raises :class:`~qtok_widgets.errors.EditError` and leaves the session exactly as it was.

``to_json()`` writes a recipe (:mod:`qtok_widgets.recipes`) that :meth:`EditSession.from_json`
replays on a source grid, ``to_python()`` writes code that does the same with the public API,
and ``render()`` decodes the edited grid, re-decoding only the codec's chunks that changed
(:mod:`qtok_widgets.render`). Widgets subscribe with ``on_change`` to see every edit, undo,
redo and reset as it happens.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops, recipes
from .audio import Audio
from .errors import EditError, GridError
from .grid import CodeGrid
from .history import Entry, History
from .journal import Journal, JournalError, JournalState
from .labels import Labels, load_labels
from .ops import InterpolateResult
from .recipes import RECIPE_FORMAT, RECIPE_VERSION
from .render import Renderer, RenderInfo
from .selection import IndexSpec, Selection, select

__all__ = ["RECIPE_FORMAT", "RECIPE_VERSION", "EditSession", "RenderInfo"]

log = logging.getLogger("qtok_widgets")

ChangeCallback = Callable[["EditSession", dict[str, Any]], Any]


class EditSession:
    """Edits of one grid, with history, undo/redo, recipes and incremental rendering.

    Parameters
    ----------
    grid : CodeGrid
        The source grid, shape ``(n_layers, n_frames)``; kept as :attr:`original`.
    codec : Codec, optional
        Needed for :meth:`render`, :meth:`render_original` and :meth:`interpolate`.
    journal : path, optional
        Journal file (:mod:`qtok_widgets.journal`): every edit, undo and redo is appended and
        flushed to disk before it counts, so a crash loses nothing acknowledged. An existing
        journal of the same source grid is replayed first (:attr:`restored` says how many
        events); one of another grid, or one open in another process, is a
        :class:`~qtok_widgets.journal.JournalError`.
    journal_max_bytes : int, optional
        Past this size the journal is rewritten as the history alone (default 64 MiB).
    labels : Labels or anything :func:`~qtok_widgets.labels.load_labels` reads, optional
        Labels timed against the original recording; :attr:`labels` carries them through
        every timing edit.

    Attributes
    ----------
    grid : CodeGrid
        The current, edited grid.
    original : CodeGrid
        The grid the session started from.
    codec : Codec or None
        The codec used to decode and to interpolate.
    last_selection : Selection or None
        Frames and layers the last applied operation used (after rounding ``seconds=``).
    restored : int
        Journal events (edits, undos, redos) replayed when the session opened its journal.
    restored_truncated : bool
        True when the journal's last line had been cut short by a crash and was left out.

    Examples
    --------
    >>> session = EditSession(grid, codec)                    # doctest: +SKIP
    >>> session.mask(frames=slice(10, 20), layers=range(8, 16))  # doctest: +SKIP
    >>> session.undo(); session.redo()                        # doctest: +SKIP
    >>> audio = session.render()                              # doctest: +SKIP
    """

    def __init__(
        self,
        grid: CodeGrid,
        codec: Any = None,
        *,
        journal: str | os.PathLike[str] | None = None,
        journal_max_bytes: int | None = None,
        labels: Any = None,
    ) -> None:
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
        self._history = History()
        self._grids: dict[str, CodeGrid] = {}
        self._callbacks: list[ChangeCallback] = []
        self._renderer = Renderer(codec, grid) if codec is not None else None
        self.last_selection: Selection | None = None
        self._journal: Journal | None = None
        self._journaled_grids: set[str] = set()
        self.restored = 0
        self.restored_truncated = False
        if journal is not None:
            self.open_journal(journal, max_bytes=journal_max_bytes)
        self._labels: Labels | None = None
        self._labels_now: Labels | None = None
        if labels is not None:
            self.original_labels = labels

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
        return [e.op.to_json() for e in self._history.done]

    @property
    def redo_history(self) -> list[dict[str, Any]]:
        """Undone ops that :meth:`redo` would re-apply, next first."""
        return [e.op.to_json() for e in self._history.undone]

    @property
    def operations(self) -> list[ops.Op]:
        """Applied operations, oldest first (immutable objects; grid fields hold names)."""
        return [e.op for e in self._history.done]

    @property
    def can_undo(self) -> bool:
        """True when there is an op to undo."""
        return self._history.can_undo

    @property
    def can_redo(self) -> bool:
        """True when there is an undone op to redo."""
        return self._history.can_redo

    @property
    def history_nbytes(self) -> int:
        """Memory held by the undo and redo history's deltas, in bytes."""
        return self._history.nbytes

    @property
    def last_render(self) -> RenderInfo | None:
        """What the last :meth:`render` decoded, or None before the first."""
        return self._renderer.last if self._renderer is not None else None

    @property
    def render_stats(self) -> dict[str, object] | None:
        """Figures of the last :meth:`render`, or None before the first.

        Keys: ``frames_decoded`` (frames run through the decoder, a chunk's left context
        included), ``n_frames``, ``seconds`` (wall clock), ``checkpoints_used`` (decoder states
        restored), ``checkpoints_held`` and ``checkpoint_bytes`` (what the renderer keeps),
        ``cached`` (nothing had changed), ``decoded`` (the frame runs) and ``converged`` (frames
        where a re-decode stopped because its output matched the previous render's).
        """
        info = self.last_render
        return info.stats() if info is not None else None

    def __repr__(self) -> str:
        return (
            f"EditSession({self._grid!r}, ops={len(self._history.done)}, undone={len(self._history.undone)}, "
            f"codec={getattr(self._codec, 'name', None)!r})"
        )

    def select(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        *,
        seconds: tuple[float, float] | None = None,
        label: str | None = None,
        tier: str | None = None,
        occurrence: int = 0,
    ) -> Selection:
        """Resolve a selection against the current grid without editing (shows how seconds round).

        ``label="word"`` (with optional ``tier`` and ``occurrence``, 0 = first) selects the
        frames of that label in :attr:`labels`, exactly as ``seconds=(start_s, end_s)`` of the
        label would.
        """
        if label is not None:
            if frames is not None or seconds is not None:
                msg = "give one of frames=, seconds= or label="
                raise EditError(msg)
            if self.labels is None:
                msg = "this session has no labels: pass labels= when creating it"
                raise EditError(msg)
            start_s, end_s, _ = self.labels.find(label, tier, occurrence)
            seconds = (start_s, end_s)
        return select(self._grid, frames, layers, seconds=seconds)

    # ------------------------------------------------------------------ committing
    def apply(self, op: ops.Op | dict[str, Any]) -> Any:
        """Apply one operation: the one way an edit is committed.

        Parameters
        ----------
        op : Op or dict
            An :class:`~qtok_widgets.ops.Op`, or an op dict as found in :attr:`history` or a
            recipe's ``"ops"``. Grid fields (``source``, ``target``) hold a CodeGrid or name a
            grid known to the session (``"original"``, or one embedded by :meth:`from_json`).

        Returns
        -------
        CodeGrid or InterpolateResult
            What the operation returns: the new grid (interpolate: with its snapping error).

        Raises
        ------
        EditError
            The operation is malformed or does not fit the grid; nothing changed.
        """
        if not isinstance(op, ops.Op):
            op = ops.from_json(op)
        context = ops.OpContext(sources=self._grids, codec=self._codec, original=self._original)
        delta = op.plan(self._grid, context)
        self._history.check_room(delta)
        named = op.with_refs(self._ref)
        self._journal_event("apply", named)
        grid = delta.apply(self._grid)
        self.last_selection = delta.selection
        dropped = self._history.push(Entry(named, delta))
        change = self._set_grid(grid, delta)
        if dropped:
            self._forget_grids_of(dropped)
        self._compact_journal()
        self._notify("reset" if isinstance(op, ops.Reset) else "apply", named, change)
        return op.result(grid, delta)

    def __getattr__(self, name: str) -> Any:
        """``session.<op>(...)`` for every registered operation without a method of its own."""
        cls = ops.OPS.get(name) if not name.startswith("_") else None
        if cls is None:
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)

        def run(*args: Any, seconds: tuple[float, float] | None = None, **kwargs: Any) -> Any:
            return self.apply(cls.create(self._grid, *args, seconds=seconds, **kwargs))

        run.__name__ = name
        run.__doc__ = cls.__doc__
        return run

    # ------------------------------------------------------------------ operations
    def mask(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Mask cells (see :func:`qtok_widgets.edits.mask`); returns the new grid."""
        return self.apply(ops.Mask.create(self._grid, frames, layers, seconds=seconds))

    def unmask(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Unmask cells (see :func:`qtok_widgets.edits.unmask`); returns the new grid."""
        return self.apply(ops.Unmask.create(self._grid, frames, layers, seconds=seconds))

    def replace(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        code: int | None = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Set cells to one code (see :func:`qtok_widgets.edits.replace`); returns the new grid."""
        return self.apply(ops.Replace.create(self._grid, frames, layers, code, seconds=seconds))

    def replace_code(self, old: int, new: int, layers: IndexSpec = None) -> CodeGrid:
        """Replace every ``old`` code by ``new`` (see :func:`qtok_widgets.edits.replace_code`)."""
        return self.apply(ops.ReplaceCode.create(self._grid, old, new, layers))

    def splice(
        self,
        source: CodeGrid | str,
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
        source = self._known(source, "source")
        op = ops.Splice.create(self._grid, source, src_frames, dst_start, layers, mode, seconds=seconds)
        return self.apply(op)

    def interpolate(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        target: CodeGrid | str | None = None,
        alpha: float = 0.5,
        *,
        seconds: tuple[float, float] | None = None,
        target_start: int | None = None,
    ) -> InterpolateResult:
        """Move cells toward a target in embedding space (see :func:`qtok_widgets.edits.interpolate`).

        Returns
        -------
        InterpolateResult
            The new grid, the frames and layers used and the per-frame snapping error.
        """
        target = None if target is None else self._known(target, "target")
        op = ops.Interpolate.create(self._grid, frames, layers, target, alpha, target_start, seconds=seconds)
        return self.apply(op)

    def randomize(
        self,
        frames: IndexSpec = None,
        layers: IndexSpec = None,
        seed: int | None = None,
        *,
        seconds: tuple[float, float] | None = None,
    ) -> CodeGrid:
        """Draw new codes from each layer's own distribution (see :func:`qtok_widgets.edits.randomize`)."""
        return self.apply(ops.Randomize.create(self._grid, frames, layers, seed, seconds=seconds))

    def delete_frames(
        self, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None
    ) -> CodeGrid:
        """Remove frames (see :func:`qtok_widgets.edits.delete_frames`); returns the new grid."""
        return self.apply(ops.DeleteFrames.create(self._grid, frames, seconds=seconds))

    def duplicate_frames(
        self, frames: IndexSpec = None, *, seconds: tuple[float, float] | None = None, times: int = 1
    ) -> CodeGrid:
        """Repeat frames in place (see :func:`qtok_widgets.edits.duplicate_frames`)."""
        return self.apply(ops.DuplicateFrames.create(self._grid, frames, times, seconds=seconds))

    def reset(self) -> CodeGrid:
        """Go back to the original grid, as one undoable op; returns the grid."""
        return self.apply(ops.Reset())

    # ------------------------------------------------------------------ undo / redo
    def undo(self) -> CodeGrid:
        """Undo the last op; returns the grid. Raises EditError when there is nothing to undo."""
        if not self._history.can_undo:
            msg = "nothing to undo: the history is empty"
            raise EditError(msg)
        self._journal_event("undo")
        entry, grid = self._history.undo(self._grid)
        change = self._set_grid(grid, entry.delta)
        self._compact_journal()
        self._notify("undo", entry.op, change)
        return grid

    def redo(self) -> CodeGrid:
        """Re-apply the last undone op; returns the grid. Raises EditError when there is none."""
        if not self._history.can_redo:
            msg = "nothing to redo: no op has been undone since the last edit"
            raise EditError(msg)
        self._journal_event("redo")
        entry, grid = self._history.redo(self._grid)
        change = self._set_grid(grid, entry.delta)
        self._compact_journal()
        self._notify("redo", entry.op, change)
        return grid

    # ------------------------------------------------------------------ comparison
    @property
    def original_labels(self) -> Labels | None:
        """Labels timed against the original recording, or None (settable; see :attr:`labels`)."""
        return self._labels

    @original_labels.setter
    def original_labels(self, labels: Any) -> None:
        self._labels = None if labels is None else load_labels(labels)
        self._labels_now = None

    @property
    def labels(self) -> Labels | None:
        """The labels moved and stretched by the timing edits so far, or None without labels.

        Worked out from :meth:`origin_frames` (the deltas of the applied operations), so they
        stay in step with every apply, undo, redo and reset (see :meth:`Labels.remap
        <qtok_widgets.labels.Labels.remap>`); times are clipped to the current duration.
        """
        if self._labels is None:
            return None
        if self._labels_now is None:
            grid = self._grid
            duration = grid.n_samples / grid.sample_rate
            self._labels_now = self._labels.remap(self.origin_frames(), grid.frame_rate, duration)
        return self._labels_now

    def origin_frames(self) -> np.ndarray:
        """For each current frame, the original frame it came from, or -1 for an inserted frame.

        Returns
        -------
        numpy.ndarray
            int64, shape ``(grid.n_frames,)``.
        """
        return self._history.origin_frames(self._original.n_frames)

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

    # ------------------------------------------------------------------ journal
    @property
    def journal(self) -> Journal | None:
        """The open journal, or None (see :meth:`open_journal`)."""
        return self._journal if self._journal is not None and not self._journal.closed else None

    def open_journal(self, path: str | os.PathLike[str], *, max_bytes: int | None = None) -> int:
        """Start journaling to ``path``, first replaying the events it already holds.

        Parameters
        ----------
        path : path
            The journal file; created when missing.
        max_bytes : int, optional
            Size bound before the journal is compacted (default 64 MiB).

        Returns
        -------
        int
            Events replayed from the journal (also in :attr:`restored`).

        Raises
        ------
        JournalError
            Another process holds the journal, it belongs to another grid, or an event in it
            does not apply (the session is then left as it was).
        """
        if self._journal is not None and not self._journal.closed:
            msg = f"this session already journals to {self._journal.path}"
            raise JournalError(msg)
        kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
        journal = Journal(path, self._original, **kwargs)
        try:
            if journal.state.events:
                if self._history.done or self._history.undone:
                    msg = f"{journal.path}: open a journal with events before editing, on a fresh session"
                    raise JournalError(msg)
                self.replay(journal.state)
        except BaseException:
            journal.close()
            raise
        self._journal = journal
        self._journaled_grids = {name for name in self._grids}
        self.restored = journal.state.n_edits
        self.restored_truncated = journal.state.truncated
        return self.restored

    def replay(self, state: JournalState) -> None:
        """Apply a journal's events (edits, undos, redos) to this session, in order.

        Raises
        ------
        JournalError
            An event does not apply; the session is then back where it started.
        """
        start = len(self._history.done)
        position, kind = 0, None
        try:
            for name, grid in recipes.recipe_grids({"grids": state.grids}).items():
                if name in self._grids and self._grids[name] != grid:
                    msg = f"the journal's grid {name!r} differs from the session's grid of that name"
                    raise EditError(msg)
                self._grids[name] = grid
            for event in state.events:
                position, kind = position + 1, event.get("kind")
                if kind == "apply":
                    self.apply(event.get("op") or {})
                elif kind == "undo":
                    self.undo()
                else:
                    self.redo()
        except EditError as exc:
            while len(self._history.done) > start and self.can_undo:
                self.undo()
            msg = f"journal event {position} ({kind}) does not apply: {exc}"
            raise JournalError(msg) from None

    def close(self) -> None:
        """Close the journal (the file stays; a new session with it restores these edits)."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _journal_event(self, kind: str, op: ops.Op | None = None) -> None:
        """Write an event to the journal (flushed) before the session changes; no-op without one."""
        journal = self.journal
        if journal is None:
            return
        grids = self._grids_to_embed(op, set(self._journaled_grids)) if op is not None else {}
        journal.append(kind, op.to_json() if op is not None else None, grids)
        self._journaled_grids.update(grids)  # only once they are on disk

    def _grids_to_embed(self, op: ops.Op, embedded: set[str]) -> dict[str, Any]:
        """The grids ``op`` names that are not in ``embedded`` yet, as dicts; adds their names to it."""
        out = {}
        for name in op.refs().values():
            if isinstance(name, str) and name != "original" and name not in embedded:
                out[name] = self._grids[name].to_dict()
                embedded.add(name)
        return out

    def _compact_journal(self) -> None:
        """Past its size bound, rewrite the journal as the history: done edits, then undone ones applied and undone."""
        journal = self.journal
        if journal is None or journal.size() <= journal.compact_at:
            return
        done = [e.op for e in self._history.done]
        undone = [e.op for e in self._history.undone]
        events: list[dict[str, Any]] = []
        embedded: set[str] = set()

        def event(op: ops.Op) -> dict[str, Any]:
            grids = self._grids_to_embed(op, embedded)
            out: dict[str, Any] = {"kind": "apply", "op": op.to_json()}
            if grids:
                out["grids"] = grids
            return out

        events = [event(op) for op in [*done, *undone]]
        events += [{"kind": "undo"} for _ in undone]
        journal.compact(events)
        self._journaled_grids = embedded

    # ------------------------------------------------------------------ change notification
    def on_change(self, callback: ChangeCallback) -> None:
        """Call ``callback(session, event)`` after every apply, undo, redo and reset.

        ``event`` is ``{"kind": "apply" | "undo" | "redo" | "reset", "op": {...}, "frames":
        [(start, stop), ...], "n_frames_before": int}`` (for undo, the op that was undone;
        ``frames``, the runs of the current grid that changed). Every callback runs even if an
        earlier one raises; the first exception is then re-raised (the session has already
        changed).
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

    def _set_grid(self, grid: CodeGrid, delta: Any) -> tuple[list[tuple[int, int]], int]:
        """Make ``grid`` current; returns the frame runs ``delta`` changed in it and the frames before."""
        before = self._grid.n_frames
        if delta.changes_length or grid.n_samples != self._grid.n_samples:
            self._labels_now = None
        self._grid = grid
        frames = delta.changed_frames(grid.n_frames)
        if self._renderer is not None:
            self._renderer.mark(grid, frames)
        return frames, before

    def _notify(self, kind: str, op: ops.Op, change: tuple[list[tuple[int, int]], int]) -> None:
        frames, before = change
        first: BaseException | None = None
        for callback in list(self._callbacks):
            event = {"kind": kind, "op": op.to_json(), "frames": list(frames), "n_frames_before": before}
            try:
                callback(self, event)
            except Exception as exc:  # every listener must hear about the change
                log.exception("qtok: on_change callback %r failed", callback)
                if first is None:
                    first = exc
        if first is not None:
            raise first

    # ------------------------------------------------------------------ grid names
    def _known(self, ref: Any, what: str) -> CodeGrid:
        """The grid ``ref`` names, or ``ref`` itself when it is a CodeGrid."""
        if isinstance(ref, CodeGrid):
            return ref
        return ops.OpContext(sources=self._grids, original=self._original).grid(ref, what)

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

    def _forget_grids_of(self, dropped: list[Entry]) -> None:
        """Drop embedded grids that only the discarded redo entries referred to."""

        def refs(entries: list[Entry]) -> set[str]:
            return {v for e in entries for v in e.op.refs().values() if isinstance(v, str)}

        for name in refs(dropped) - refs(self._history.done):
            self._grids.pop(name, None)

    # ------------------------------------------------------------------ recipes
    def to_dict(self) -> dict[str, Any]:
        """The recipe as a JSON-ready dict (see :meth:`to_json`)."""
        return recipes.make_recipe(self._original, self.operations, self._grids)

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
        data = recipes.read_recipe(recipe)
        session = cls(grid, codec)
        recipes.check_source(data, grid)
        session._grids.update(recipes.recipe_grids(data))
        for i, op in enumerate(recipes.recipe_ops(data)):
            try:
                session.apply(op)
            except EditError as exc:
                msg = f"recipe op {i} ({op.name}): {exc}"
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
        return recipes.to_python(self.to_dict(), grid, codec)

    # ------------------------------------------------------------------ rendering
    def _need_renderer(self) -> Renderer:
        if self._renderer is None:
            msg = "this session has no codec: create it with EditSession(grid, codec) to render audio"
            raise EditError(msg)
        return self._renderer

    def render_original(self) -> Audio:
        """Decoded audio of the original grid (decoded once, then cached)."""
        return self._need_renderer().render_original()

    def render(self) -> Audio:
        """Decoded audio of the current grid, re-decoding only what changed since the last render.

        The first render starts from the original's decode when :meth:`render_original` ran.
        On a codec with decoder-state checkpoints (Qwen) the decode restarts from the
        checkpoint before the first changed frame and stops where the output matches the
        previous render's within 1e-4; otherwise the codec's :meth:`~Codec.decode_chunks` that
        an edit touches (per :meth:`~Codec.affected_frames`) are re-decoded with
        :meth:`~Codec.decode_range`. After a length-changing edit everything from the first
        changed frame on is decoded again. The result equals ``codec.decode(session.grid)``
        within 1e-4 at every sample (bit for bit on chunked backends without checkpoints).
        :attr:`last_render` and :attr:`render_stats` say what was decoded. Renders run one at
        a time, so a widget may call this from a background thread.

        Returns
        -------
        Audio
            float32 samples, shape ``(grid.n_samples,)``, at the codec's sample rate.
        """
        return self._need_renderer().render()
