"""Incremental rendering: decode an edited grid, re-decoding only what edits reached.

A :class:`Renderer` keeps the samples of the last grid it decoded and a list of the frames that
changed since (told by :meth:`Renderer.mark` with each delta's
:meth:`~qtok_widgets.delta.Delta.changed_frames`). :meth:`Renderer.render` then does one of two
things, depending on what the codec offers:

- A codec with ``decode_checkpointed`` and ``redecode`` (the Qwen backend) keeps decoder-state
  checkpoints next to the samples; the renderer hands it the changed frames and it re-decodes
  from the checkpoint before the first one until its output matches the previous output
  within the renderer's ``tolerance`` (checked by the codec), and splices. The checkpoints'
  memory is bounded by ``checkpoint_budget_bytes`` (the codec spaces them out to fit).
- Otherwise the codec's :meth:`~qtok_widgets.codecs.Codec.decode_chunks` that the frames can
  reach (per :meth:`~qtok_widgets.codecs.Codec.affected_frames`) are re-decoded and the rest is
  reused, bit for bit on backends whose chunks are independent.

Either way the result equals ``codec.decode(grid)`` within ``tolerance`` at every sample.
:attr:`Renderer.last` says what the last render did (frames decoded, seconds, checkpoints).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .audio import Audio
from .delta import runs as _runs_of
from .grid import CodeGrid

__all__ = ["RenderInfo", "Renderer"]


@dataclass(frozen=True)
class RenderInfo:
    """What the last render did.

    Attributes
    ----------
    decoded : list of tuple of int
        Frame ranges ``[(start, stop), ...]`` that were decoded (runs of whole decode chunks).
    n_frames : int
        Frames in the rendered grid.
    cached : bool
        True when nothing had changed and the previous audio was returned.
    seconds : float
        Wall-clock time of the render, in seconds.
    checkpoints_used : int
        Decoder-state checkpoints restored (0 on codecs without checkpoints).
    checkpoints_held : int
        Checkpoints held after the render.
    checkpoint_bytes : int
        Memory those checkpoints hold, in bytes.
    converged : list of int
        Frames where a re-decode stopped because its output matched the previous one
        within the tolerance.
    """

    decoded: list[tuple[int, int]]
    n_frames: int
    cached: bool = False
    seconds: float = 0.0
    checkpoints_used: int = 0
    checkpoints_held: int = 0
    checkpoint_bytes: int = 0
    converged: list[int] = field(default_factory=list)

    @property
    def decoded_frames(self) -> int:
        """Number of frames decoded."""
        return sum(b - a for a, b in self.decoded)

    @property
    def reused_frames(self) -> int:
        """Number of frames whose audio was not decoded again (reused from the previous render)."""
        return max(0, self.n_frames - self.decoded_frames)

    def stats(self) -> dict[str, object]:
        """Plain dict for users and benchmarks: frames decoded, seconds, checkpoints."""
        return {
            "frames_decoded": self.decoded_frames,
            "n_frames": self.n_frames,
            "seconds": self.seconds,
            "checkpoints_used": self.checkpoints_used,
            "checkpoints_held": self.checkpoints_held,
            "checkpoint_bytes": self.checkpoint_bytes,
            "cached": self.cached,
            "decoded": list(self.decoded),
            "converged": list(self.converged),
        }


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint union of half-open frame runs."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


class Renderer:
    """Decoded audio of one session's grids, patched chunk by chunk as edits arrive.

    Parameters
    ----------
    codec : Codec
        Decodes the grids (``decode_range``, ``decode_chunks``, ``affected_frames``).
    original : CodeGrid
        The session's source grid; changes are marked relative to it from the start.
    tolerance : float
        Largest difference from ``codec.decode`` allowed per sample (checkpointing codecs).
    checkpoint_budget_bytes : int
        Most memory the checkpoints of one grid may hold (checkpointing codecs); default 1 GiB.

    Attributes
    ----------
    last : RenderInfo or None
        What the last :meth:`render` did.
    """

    def __init__(
        self,
        codec: Any,
        original: CodeGrid,
        *,
        tolerance: float = 1e-4,
        checkpoint_budget_bytes: int = 1 << 30,
    ) -> None:
        self._codec = codec
        self.tolerance = float(tolerance)
        self.checkpoint_budget_bytes = int(checkpoint_budget_bytes)
        self._checkpointed = callable(getattr(codec, "decode_checkpointed", None)) and callable(
            getattr(codec, "redecode", None)
        )
        self._store: Any = None  # the codec's checkpoints for the buffer's grid
        self._original_store: Any = None
        self._original = original
        self._grid = original  # the grid to render: the session's current one
        self._buf: np.ndarray | None = None  # untrimmed, clipped samples of the base grid
        self._base = original  # the grid the buffer (or, before the first render, the original's) holds
        self._dirty: list[tuple[int, int]] = []  # frames of the current grid that differ from the base
        self._length_changed = False
        self._audio: Audio | None = None
        self._original_buf: np.ndarray | None = None
        self._original_audio: Audio | None = None
        self._lock = threading.Lock()  # one render at a time: the cached samples are patched in place
        self.last: RenderInfo | None = None

    def mark(self, grid: CodeGrid, spans: list[tuple[int, int]]) -> None:
        """The session's grid is now ``grid``; frames ``spans`` of it changed.

        Call it for every applied, undone or redone delta, with
        :meth:`Delta.changed_frames(grid.n_frames) <qtok_widgets.delta.Delta.changed_frames>`.
        A render running meanwhile finishes with the grid it started from.
        """
        with self._lock:
            n_frames_before, n_frames_after = self._grid.n_frames, grid.n_frames
            self._grid = grid
            spans = list(spans)
            if n_frames_before != n_frames_after:
                self._length_changed = True
                # everything from the first touched frame moved; a pure truncation changes the
                # new last frame's right neighbour
                first = min([a for a, _ in spans] + [n_frames_after - 1, n_frames_before])
                first = max(first, 0)
                kept = [(a, min(b, first)) for a, b in self._dirty if a < first]
                self._dirty = _merge([*kept, (first, n_frames_after)])
            else:
                self._dirty = _merge([*self._dirty, *spans])
            self._audio = None if (spans or n_frames_before != n_frames_after) else self._audio

    def render_original(self) -> Audio:
        """Decoded audio of the original grid (decoded once, then cached)."""
        with self._lock:
            if self._original_audio is None:
                buf, store = self._decode_all(self._original)
                self._original_buf, self._original_store = buf, store
                self._original_audio = self._to_audio(self._original, buf, "original")
            return self._original_audio

    def render(self) -> Audio:
        """Decoded audio of the grid last given to :meth:`mark` (at first, the original).

        Returns
        -------
        Audio
            float32 samples, shape ``(grid.n_samples,)``, at the codec's sample rate.
        """
        with self._lock:
            return self._render_locked(self._grid)

    def _render_locked(self, grid: CodeGrid) -> Audio:
        if self._audio is not None and not self._dirty and not self._length_changed:
            self.last = RenderInfo([], grid.n_frames, cached=True)
            return self._audio
        started = time.perf_counter()
        buf, store = self._buf, self._store
        if buf is None and self._original_buf is not None:
            buf = self._original_buf.copy()
            store = self._original_store.copy() if self._original_store is not None else None
        used, converged = 0, []
        try:
            if buf is None or grid.n_frames == 0 or (self._checkpointed and store is None):
                buf, store = self._decode_all(grid)
                decoded = [(0, grid.n_frames)] if grid.n_frames else []
            elif self._checkpointed:
                buf, report = self._codec.redecode(
                    grid, self._base, buf, store, self._real_changes(grid), self.tolerance
                )
                decoded, used, converged = (
                    list(report.decoded),
                    report.checkpoints_used,
                    list(report.converged),
                )
            else:
                buf, decoded = self._decode_changes(buf, grid)
        except BaseException:
            # the cached samples may be half patched: forget them rather than reuse them
            self._buf = self._audio = self._store = None
            self._dirty = [(0, grid.n_frames)]
            raise
        self._buf, self._store, self._base = buf, store, grid
        self._dirty, self._length_changed = [], False
        self._audio = self._to_audio(grid, buf, "edited")
        self.last = RenderInfo(
            decoded,
            grid.n_frames,
            cached=False,
            seconds=time.perf_counter() - started,
            checkpoints_used=used,
            checkpoints_held=int(getattr(store, "count", 0)),
            checkpoint_bytes=int(getattr(store, "nbytes", 0)),
            converged=converged,
        )
        return self._audio

    def _decode_all(self, grid: CodeGrid) -> tuple[np.ndarray, Any]:
        """Samples of ``grid`` (clipped, untrimmed) and, on checkpointing codecs, its checkpoints."""
        if grid.n_frames == 0:
            return np.zeros(0, np.float32), None
        if self._checkpointed:
            buf, store = self._codec.decode_checkpointed(grid, budget_bytes=self.checkpoint_budget_bytes)
            return np.clip(np.asarray(buf, dtype=np.float32), -1.0, 1.0), store
        buf = np.array(self._codec.decode_range(grid, 0, grid.n_frames), dtype=np.float32)
        return np.clip(buf, -1.0, 1.0, out=buf), None  # stored clipped, as decode() returns it

    def _real_changes(self, grid: CodeGrid) -> list[tuple[int, int]]:
        """The marked runs, less frames whose codes and mask equal the base's again (an edit
        undone before this render needs nothing)."""
        n = grid.n_frames
        base = self._base
        dirty = [(a, min(b, n)) for a, b in self._dirty if a < n]
        if base.n_frames != n:
            return dirty
        return [
            run
            for a, b in dirty
            for run in _runs_of(
                np.flatnonzero(
                    (
                        (base.codes[:, a:b] != grid.codes[:, a:b]) | (base.mask[:, a:b] != grid.mask[:, a:b])
                    ).any(axis=0)
                )
                + a
            )
        ]

    def _decode_changes(self, buf: np.ndarray, grid: CodeGrid) -> tuple[np.ndarray, list[tuple[int, int]]]:
        codec = self._codec
        n = grid.n_frames
        spf = grid.samples_per_frame
        chunks = [(int(a), int(b)) for a, b in codec.decode_chunks(n)]
        base = self._base
        dirty = self._real_changes(grid)
        spans = [codec.affected_frames(a, b, n) for a, b in dirty]
        if base.n_frames == n:
            reusable = set(chunks)
            out = buf  # same length: patch the previous samples in place
        else:
            reusable = {(int(a), int(b)) for a, b in codec.decode_chunks(base.n_frames)}
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
            out[a * spf : b * spf] = np.clip(codec.decode_range(grid, a, b), -1.0, 1.0)
        return out, decoded

    def _to_audio(self, grid: CodeGrid, buf: np.ndarray, what: str) -> Audio:
        samples = buf[: grid.n_samples].copy()  # the cache is patched in place later
        samples.flags.writeable = False
        name = getattr(self._codec, "name", "codec")
        return Audio(samples, grid.sample_rate, f"{what} {name}")
