"""Journal: every committed edit of a session appended to a file and flushed to disk before it counts.

A journal is a text file of JSON lines. The first line names the source grid by a fingerprint
(SHA-256 of its codec metadata, codes and mask); every later line is one event of the session's
history, written and ``fsync``-ed before the session's change is acknowledged::

    {"format": "qtok-journal", "version": 1, "source": "<sha256>", "grid": {...}, "created": 1764655200.0}
    {"kind": "apply", "op": {"op": "mask", "frames": "3:10", "layers": "8:16"}, "t": 1764655201.5}
    {"kind": "apply", "op": {"op": "splice", "source": "grid1", ...}, "grids": {"grid1": {...}}, "t": ...}
    {"kind": "undo", "t": ...}
    {"kind": "redo", "t": ...}

:func:`read_journal` reads the events back: a last line cut short by a crash is dropped (and
said), a journal of another source grid is refused. :class:`Journal` holds the file open with an
exclusive lock, so a second kernel opening the same journal gets a clear error instead of
interleaving its writes; a second editor in the same kernel takes the journal over. A journal
that grows past its size bound is rewritten as the session's history alone (compacted).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import QtokError
from .grid import CodeGrid

__all__ = [
    "DEFAULT_MAX_BYTES",
    "JOURNAL_FORMAT",
    "Journal",
    "JournalError",
    "JournalState",
    "default_journal_path",
    "fingerprint",
    "read_journal",
    "remove_old_journals",
]

JOURNAL_FORMAT = "qtok-journal"
JOURNAL_VERSION = 1
#: A journal larger than this (bytes) is compacted to the session's history.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Folder, beside the notebook, where editors keep their journals.
JOURNAL_DIR = ".qtok/journals"
#: Journals not written for this many days are removed when an editor opens a new one.
KEEP_DAYS = 30.0
#: At most this many journals are kept in the folder (the most recently written).
KEEP_COUNT = 200

_open: dict[str, Journal] = {}  # journals this process holds open, by resolved path


class JournalError(QtokError):
    """A journal could not be opened, read or written (locked, another source, unreadable)."""


def fingerprint(grid: CodeGrid) -> str:
    """SHA-256 hex digest of a grid's codec metadata, sample count, codes and mask."""
    h = hashlib.sha256()
    h.update(json.dumps(grid.metadata(), sort_keys=True).encode())
    h.update(f"{grid.n_layers}x{grid.n_frames}:{grid.n_samples}".encode())
    h.update(grid.codes.astype("<i4").tobytes())
    h.update(grid.mask.astype(bool).tobytes())
    return h.hexdigest()


def default_journal_path(
    grid: CodeGrid, name: str | None = None, folder: str | os.PathLike[str] | None = None
) -> Path:
    """Where an editor journals edits of ``grid``: ``.qtok/journals/<name>-<fingerprint>.jsonl``.

    Parameters
    ----------
    grid : CodeGrid
        The source grid.
    name : str, optional
        A readable name (the audio file's stem); letters, digits, ``-`` and ``_`` are kept.
    folder : path, optional
        Default: ``$QTOK_JOURNAL_DIR``, else ``.qtok/journals`` under the current directory (a
        notebook's kernel runs in the notebook's folder).
    """
    if folder is None:
        folder = os.environ.get("QTOK_JOURNAL_DIR") or Path.cwd() / JOURNAL_DIR
    base = Path(folder)
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", name or "")[:40].strip("_") or "codes"
    return base / f"{stem}-{fingerprint(grid)[:16]}.jsonl"


@dataclass
class JournalState:
    """What a journal file holds.

    Attributes
    ----------
    events : list of dict
        The events after the header, oldest first (``kind``: apply, undo or redo).
    grids : dict of str to dict
        Embedded grids (as :meth:`CodeGrid.to_dict`) that the ops name.
    truncated : bool
        True when the last line was cut short (a crash mid-write) and was left out.
    created, modified : float
        Seconds since the epoch: when the journal was started, and its last event.
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    grids: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False
    created: float = 0.0
    modified: float = 0.0

    @property
    def n_edits(self) -> int:
        """Number of events (edits, undos and redos)."""
        return len(self.events)

    def describe(self) -> str:
        """E.g. ``37 edits from 14:02`` (the time of the last one, local time)."""
        when = time.strftime("%H:%M", time.localtime(self.modified or self.created))
        day = time.strftime("%Y-%m-%d", time.localtime(self.modified or self.created))
        if day != time.strftime("%Y-%m-%d"):
            when = f"{day} {when}"
        n = self.n_edits
        return f"{n} edit{'s' if n != 1 else ''} from {when}"


def read_journal(path: str | os.PathLike[str], grid: CodeGrid) -> JournalState:
    """Read a journal written for ``grid``.

    Returns
    -------
    JournalState
        Its events; a cut-short last line is left out and ``truncated`` says so.

    Raises
    ------
    JournalError
        Not a journal, a journal of another source grid, or a damaged line before the last.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read()
    except OSError as exc:
        msg = f"{path}: cannot read the journal ({exc.strerror or exc})"
        raise JournalError(msg) from None
    lines = data.split(b"\n")
    state = JournalState()
    if not lines or not lines[0].strip():
        return state
    header = _parse(lines[0], path, 1)
    if not isinstance(header, dict) or header.get("format") != JOURNAL_FORMAT:
        msg = f"{path}: not a qtok journal (its first line has no 'format': {JOURNAL_FORMAT!r})"
        raise JournalError(msg)
    if header.get("version") != JOURNAL_VERSION:
        msg = f"{path}: journal version {header.get('version')!r:.20} is not {JOURNAL_VERSION}"
        raise JournalError(msg)
    if header.get("source") != fingerprint(grid):
        msg = f"{path}: this journal was written for another source grid; it is never applied to this one"
        raise JournalError(msg)
    state.created = state.modified = float(header.get("created") or 0.0)
    body = lines[1:]
    complete = data.endswith(b"\n")
    for i, raw in enumerate(body):
        if not raw.strip():
            continue
        last = i == len(body) - 1
        try:
            event = _parse(raw, path, i + 2)
        except JournalError:
            if last and not complete:  # a crash mid-write: every complete line before it counts
                state.truncated = True
                break
            raise
        if not isinstance(event, dict) or event.get("kind") not in ("apply", "undo", "redo"):
            msg = f"{path}: line {i + 2} is not a journal event"
            raise JournalError(msg)
        if last and not complete:
            state.truncated = True  # parsed, but its newline never reached the disk: not acknowledged
            break
        grids = event.get("grids")
        if isinstance(grids, dict):
            state.grids.update(grids)
        state.events.append(event)
        if isinstance(event.get("t"), (int, float)):
            state.modified = float(event["t"])
    return state


def _parse(raw: bytes, path: Path, line: int) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        msg = f"{path}: line {line} of the journal is damaged"
        raise JournalError(msg) from None


class Journal:
    """An open journal file: exclusive lock, append-and-fsync, compaction past a size bound.

    Parameters
    ----------
    path : path
        The journal file; created (with its folder) when missing.
    grid : CodeGrid
        The session's source grid; an existing journal must have been written for it.
    max_bytes : int
        Past this size the journal is rewritten as the session's history alone.

    Raises
    ------
    JournalError
        The journal is locked by another process, belongs to another grid, or cannot be written.
    """

    def __init__(
        self, path: str | os.PathLike[str], grid: CodeGrid, *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.path = Path(path).absolute()
        self.max_bytes = int(max_bytes)
        #: Size past which the next compaction runs: the bound, or twice what the last one left
        #: when the history itself is larger (so compaction stays rare: amortised, not per edit).
        self.compact_at = self.max_bytes
        self._source = fingerprint(grid)
        self._grid_meta = {**grid.metadata(), "n_layers": grid.n_layers, "n_frames": grid.n_frames}
        key = str(self.path.resolve()) if self.path.exists() else str(self.path)
        previous = _open.pop(key, None)
        if previous is not None:  # the same kernel opened it again (a re-run cell): hand it over
            previous.close()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            msg = f"{self.path}: cannot open the journal ({exc.strerror or exc})"
            raise JournalError(msg) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            msg = (
                f"{self.path}: this journal is open in another process (another kernel edits the same "
                "clip); close that one, or pass journal=False or another journal path"
            )
            raise JournalError(msg) from None
        self._fd: int | None = fd
        self.state = read_journal(self.path, grid) if os.fstat(fd).st_size else JournalState()
        if os.fstat(fd).st_size == 0:
            self._write_header()
        _open[str(self.path.resolve())] = self

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran (or another editor in this process took the journal over)."""
        return self._fd is None

    def _write_header(self) -> None:
        now = time.time()
        self.state.created = self.state.modified = now
        header = {
            "format": JOURNAL_FORMAT,
            "version": JOURNAL_VERSION,
            "source": self._source,
            "grid": self._grid_meta,
            "created": now,
        }
        self._append_lines([header])

    def _append_lines(self, items: Iterable[dict[str, Any]]) -> None:
        if self._fd is None:
            msg = f"{self.path}: the journal is closed"
            raise JournalError(msg)
        data = b"".join(json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in items)
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as exc:
            msg = f"{self.path}: cannot write the journal ({exc.strerror or exc}); the edit was not made"
            raise JournalError(msg) from None

    def append(
        self, kind: str, op: dict[str, Any] | None = None, grids: dict[str, Any] | None = None
    ) -> None:
        """Write one event and flush it to disk (``fsync``) before returning."""
        event: dict[str, Any] = {"kind": kind, "t": time.time()}
        if op is not None:
            event["op"] = op
        if grids:
            event["grids"] = grids
        self._append_lines([event])
        self.state.modified = event["t"]

    def size(self) -> int:
        """Bytes in the journal file."""
        return os.fstat(self._fd).st_size if self._fd is not None else 0

    def compact(self, events: list[dict[str, Any]]) -> None:
        """Rewrite the journal as ``events`` (the session's history), atomically, keeping the lock."""
        if self._fd is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        now = time.time()
        header = {
            "format": JOURNAL_FORMAT,
            "version": JOURNAL_VERSION,
            "source": self._source,
            "grid": self._grid_meta,
            "created": self.state.created or now,
        }
        data = b"".join(
            json.dumps(item, separators=(",", ":")).encode() + b"\n" for item in [header, *events]
        )
        try:
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            new_fd = os.open(tmp, os.O_RDWR | os.O_APPEND)
            fcntl.flock(new_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            msg = f"{self.path}: cannot compact the journal ({exc.strerror or exc})"
            raise JournalError(msg) from None
        old, self._fd = self._fd, new_fd
        os.close(old)
        self.compact_at = max(self.max_bytes, 2 * len(data))

    def close(self) -> None:
        """Release the lock and close the file (the journal stays on disk)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        for key, journal in list(_open.items()):
            if journal is self:
                del _open[key]
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __del__(self) -> None:  # pragma: no cover - best effort at interpreter exit
        with contextlib.suppress(Exception):
            self.close()

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}, events={self.state.n_edits}, closed={self.closed})"


def remove_old_journals(
    folder: str | os.PathLike[str], *, keep_days: float = KEEP_DAYS, keep_count: int = KEEP_COUNT
) -> list[Path]:
    """Delete journals in ``folder`` not written for ``keep_days``, and all but the newest ``keep_count``.

    Journals open in this process are kept. Returns the removed paths.
    """
    base = Path(folder)
    if not base.is_dir():
        return []
    now = time.time()
    files = []
    for p in base.glob("*.jsonl"):
        with contextlib.suppress(OSError):
            files.append((p.stat().st_mtime, p))
    files.sort(reverse=True)
    in_use = set(_open)
    removed = []
    for i, (mtime, p) in enumerate(files):
        if str(p.resolve()) in in_use:
            continue
        if now - mtime > keep_days * 86400 or i >= keep_count:
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed
