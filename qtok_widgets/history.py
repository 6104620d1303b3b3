"""History: the undo and redo stacks of an editing session, as operations with their deltas.

Each entry is one committed :class:`~qtok_widgets.ops.Op` and the
:class:`~qtok_widgets.delta.Delta` it made, never a copy of the grid, so thousands of edits of
a long clip stay small. :class:`History` moves entries between the stacks; it does not know
about grids beyond applying and reverting deltas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .delta import Delta
from .errors import EditError
from .grid import CodeGrid
from .ops import Op, Reset

__all__ = ["MAX_HISTORY_BYTES", "Entry", "History"]

#: Most memory the deltas of one history may hold (bytes): past it an edit is refused, so a
#: recipe of repeated timing edits on a long clip cannot exhaust memory.
MAX_HISTORY_BYTES = 1 << 30


@dataclass(frozen=True)
class Entry:
    """One committed edit: the operation (grid fields named) and what it changed."""

    op: Op
    delta: Delta


class History:
    """Undo and redo stacks of :class:`Entry`, oldest first."""

    def __init__(self, max_bytes: int = MAX_HISTORY_BYTES) -> None:
        self._undo: list[Entry] = []
        self._redo: list[Entry] = []
        self._nbytes = 0
        self.max_bytes = int(max_bytes)

    @property
    def done(self) -> list[Entry]:
        """Applied entries, oldest first (a copy of the list)."""
        return list(self._undo)

    @property
    def undone(self) -> list[Entry]:
        """Undone entries that redo would re-apply, next first."""
        return list(reversed(self._redo))

    @property
    def can_undo(self) -> bool:
        """True when there is an entry to undo."""
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        """True when there is an undone entry to redo."""
        return bool(self._redo)

    @property
    def nbytes(self) -> int:
        """Memory held by the deltas of both stacks, in bytes."""
        return self._nbytes

    def check_room(self, delta: Delta) -> None:
        """Refuse (EditError) a delta that would take the history past :attr:`max_bytes`.

        The undone entries a new edit discards are counted as freed.
        """
        freed = sum(e.delta.nbytes for e in self._redo)
        after = self._nbytes - freed + delta.nbytes
        if after > self.max_bytes:
            msg = (
                f"this edit would take the undo history to {after / 2**20:.0f} MB, past its "
                f"{self.max_bytes / 2**20:.0f} MB limit: save the edited grid and continue in a new session"
            )
            raise EditError(msg)

    def push(self, entry: Entry) -> list[Entry]:
        """Record a new edit; returns the undone entries it discards (redo is no longer possible)."""
        self._undo.append(entry)
        dropped, self._redo = self._redo, []
        self._nbytes += entry.delta.nbytes - sum(e.delta.nbytes for e in dropped)
        return dropped

    def undo(self, grid: CodeGrid) -> tuple[Entry, CodeGrid]:
        """Revert the last entry on ``grid``; returns it and the grid before it."""
        if not self._undo:
            msg = "nothing to undo: the history is empty"
            raise EditError(msg)
        entry = self._undo[-1]
        before = entry.delta.revert(grid)
        self._redo.append(self._undo.pop())
        return entry, before

    def redo(self, grid: CodeGrid) -> tuple[Entry, CodeGrid]:
        """Re-apply the last undone entry on ``grid``; returns it and the grid after it."""
        if not self._redo:
            msg = "nothing to redo: no op has been undone since the last edit"
            raise EditError(msg)
        entry = self._redo[-1]
        after = entry.delta.apply(grid)
        self._undo.append(self._redo.pop())
        return entry, after

    def origin_frames(self, n_original: int) -> np.ndarray:
        """For each frame after the applied entries, the original frame it came from (-1: inserted).

        Returns
        -------
        numpy.ndarray
            int64, shape ``(n_frames,)`` of the current grid.
        """
        origin = np.arange(n_original, dtype=np.int64)
        for entry in self._undo:
            if isinstance(entry.op, Reset):
                origin = np.arange(n_original, dtype=np.int64)
            elif entry.delta.changes_length:
                origin = entry.delta.frame_map(origin)
        return origin
