"""Strip data for the editor: spectrogram, pitch and energy on the grid's time axis, quantised for the wire.

The editor shows acoustic strips aligned with the code grid. This module computes them in the
kernel with :mod:`qtok_widgets.analysis` and packs them small: ``cpf`` columns per code frame
(the level of detail: 8 for short clips, down to 1 for an hour, so that a strip never has more
than :data:`MAX_COLUMNS` columns), the spectrogram as uint8 dB, the pitch as uint16 tenths of a
hertz (0 = unvoiced) and the energy as uint8 dB. Column ``c`` is centred on time
``(c + 0.5) / (frame_rate * cpf)`` seconds (``cpf`` divides the samples per frame, so columns
fall on whole samples), and frame ``f`` covers columns ``f * cpf .. (f + 1) * cpf - 1`` exactly,
as the grid's column ``f`` covers ``[f, f + 1) / frame_rate``.

:func:`strip_span` recomputes only the columns of the frames an edit re-rendered (with enough
audio around them for the analysis windows), so an edit costs the analysis of its span, not
of the recording.

A recording longer than the editor's whole-waveform limit gets its strips at two levels of
detail, as its waveform does: an overview of the whole clip at ``fpc`` frames per column
(:func:`overview_frames_per_column`, at most :data:`OVERVIEW_COLUMNS` columns; :func:`pool`
makes it from one column per frame), and the visible window at up to 8 columns per frame when
the view is zoomed in. After timing edits the original's strips are laid under the edited audio
by :func:`column_map` and :func:`align`, with the mapping that moves the labels
(:func:`qtok_widgets.labels.time_map`).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import analysis
from ..audio import Audio

log = logging.getLogger(__name__)

__all__ = [
    "MAX_COLUMNS",
    "N_MELS",
    "OVERVIEW_COLUMNS",
    "StripFeed",
    "Strips",
    "align",
    "column_map",
    "columns_per_frame",
    "context_frames",
    "overview_frames_per_column",
    "pool",
    "strip_span",
    "strips",
]

#: Most columns a strip holds (the level of detail drops to keep under it).
MAX_COLUMNS = 65536
#: Most columns of a long recording's overview strips.
OVERVIEW_COLUMNS = 4096
#: Mel bands of the spectrogram strip.
N_MELS = 48
#: dB range the uint8 spectrogram and energy cover: 0 is ``DB_LOW`` or below, 255 is 0 dBFS.
DB_LOW = -90.0
# analysis context (s) taken around a recomputed span: longer than any window, and enough for
# the pitch tracker to settle
_CONTEXT_S = 0.25


@dataclass(frozen=True)
class Strips:
    """Quantised strips over columns ``[start, stop)``.

    Attributes
    ----------
    cpf : int
        Columns per code frame.
    start, stop : int
        Column range held (``start = first_frame * cpf // fpc``).
    mel : numpy.ndarray
        uint8, shape ``(N_MELS, stop - start)``: ``(dB - DB_LOW) / -DB_LOW * 255``, low band first.
    f0 : numpy.ndarray
        uint16, shape ``(stop - start,)``: F0 in tenths of Hz, 0 where unvoiced.
    energy : numpy.ndarray
        uint8, shape ``(stop - start,)``: energy in dB, scaled as ``mel``.
    fpc : int
        Code frames per column (1, or more for an overview: then ``cpf`` is 1).
    """

    cpf: int
    start: int
    stop: int
    mel: np.ndarray
    f0: np.ndarray
    energy: np.ndarray
    fpc: int = 1

    @property
    def nbytes(self) -> int:
        """Bytes of the three arrays (what crosses the wire as binary buffers)."""
        return int(self.mel.nbytes + self.f0.nbytes + self.energy.nbytes)


def columns_per_frame(n_frames: int, samples_per_frame: int) -> int:
    """Level of detail: columns per frame, 1..8, a divisor of ``samples_per_frame``, at most :data:`MAX_COLUMNS` columns."""
    limit = int(max(1, min(8, MAX_COLUMNS // max(1, n_frames))))
    return next(c for c in range(limit, 0, -1) if samples_per_frame % c == 0)


def _db8(db: np.ndarray) -> np.ndarray:
    return np.rint(np.clip((db - DB_LOW) / -DB_LOW, 0.0, 1.0) * 255).astype(np.uint8)


def strip_span(
    audio: Audio,
    samples_per_frame: int,
    cpf: int,
    first_frame: int,
    stop_frame: int,
    f0_range_hz: tuple[float, float] = (60.0, 500.0),
) -> Strips:
    """Strips of frames ``[first_frame, stop_frame)`` of ``audio`` at ``cpf`` columns per frame.

    Parameters
    ----------
    audio : Audio
        The whole recording (original or edited), mono, at the codec's sample rate.
    samples_per_frame : int
        Audio samples per code frame (``codec.samples_per_frame``).
    cpf : int
        Columns per frame, a divisor of ``samples_per_frame`` (:func:`columns_per_frame`).
    first_frame, stop_frame : int
        Frame range, ``0 <= first_frame < stop_frame``.
    f0_range_hz : (float, float)
        Pitch search range; give every span of one recording the same range
        (:func:`qtok_widgets.analysis.pitch_range` of the original) so spans agree.

    Returns
    -------
    Strips
        Columns ``first_frame * cpf .. stop_frame * cpf``. The spectrogram and energy columns
        equal those of the whole recording's strips exactly; pitch agrees except where the
        tracker's path depends on audio more than a quarter second away.
    """
    sr = audio.sample_rate
    hop = samples_per_frame // cpf
    ctx = -(-round(_CONTEXT_S * sr) // hop)  # context columns on each side
    first_col, stop_col = first_frame * cpf, stop_frame * cpf
    # analysis frame k of the piece is centred on column (first_col - ctx + k)'s centre
    a = (first_col - ctx) * hop + hop // 2
    b = a + (stop_col - first_col + 2 * ctx) * hop
    piece_samples = np.zeros(b - a, dtype=np.float32)
    lo, hi = max(a, 0), min(b, audio.n_samples)
    if hi > lo:
        piece_samples[lo - a : hi - a] = audio.samples[lo:hi]
    piece = Audio(piece_samples, sr)
    hop_s = hop / sr
    win_s = min(0.1, max(0.025, hop_s))
    cols = slice(ctx, ctx + stop_col - first_col)
    _, _, mel = analysis.spectrogram(piece, n_mels=N_MELS, hop_s=hop_s, win_s=win_s)
    _, energy = analysis.energy(piece, hop_s=hop_s, win_s=win_s)
    _, f0 = analysis.pitch(
        piece, hop_s=hop_s, f0_floor_hz=f0_range_hz[0], f0_ceil_hz=f0_range_hz[1], two_pass=False
    )
    f0 = f0[cols]
    return Strips(
        cpf=cpf,
        start=first_col,
        stop=stop_col,
        mel=_db8(mel[:, cols]),
        f0=np.where(np.isnan(f0), 0, np.rint(np.clip(np.nan_to_num(f0), 0, 6553.5) * 10)).astype(np.uint16),
        energy=_db8(energy[cols]),
    )


def strips(
    audio: Audio, samples_per_frame: int, n_frames: int, f0_range_hz: tuple[float, float] = (60.0, 500.0)
) -> Strips:
    """Strips of a whole recording of ``n_frames`` code frames, at the level of detail it allows."""
    return strip_span(
        audio, samples_per_frame, columns_per_frame(n_frames, samples_per_frame), 0, n_frames, f0_range_hz
    )


def overview_frames_per_column(n_frames: int, columns: int = OVERVIEW_COLUMNS) -> int:
    """Frames per column of a long recording's overview: at most ``columns`` columns."""
    return max(1, -(-int(n_frames) // int(columns)))


def context_frames(samples_per_frame: int, sample_rate: int) -> int:
    """Frames of audio around a span that :func:`strip_span` reads (pass at least these with a piece)."""
    return -(-round(_CONTEXT_S * sample_rate) // samples_per_frame) + 2


# power of each uint8 dB level, for averaging levels
_POWER = 10.0 ** ((DB_LOW + np.arange(256) * (-DB_LOW / 255)) / 10.0)


def _mean_db8(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Mean power of uint8 dB levels per group (along the last axis), back as uint8 dB levels."""
    power = _POWER[values].reshape(-1, values.shape[-1])
    total = np.stack([np.bincount(groups, weights=row, minlength=n) for row in power])
    mean = total / np.maximum(np.bincount(groups, minlength=n), 1)
    return _db8(10.0 * np.log10(np.maximum(mean, 1e-30))).reshape((*values.shape[:-1], n))


def pool(part: Strips, fpc: int) -> Strips:
    """Strips with one column per ``fpc`` frames, from finer ones: what an overview column shows.

    Parameters
    ----------
    part : Strips
        At ``cpf`` columns per frame (``fpc == 1``), starting on a whole overview column
        (``part.start`` a multiple of ``cpf * fpc``).
    fpc : int
        Frames per overview column, >= 1.

    Returns
    -------
    Strips
        ``cpf = 1``, ``fpc`` as given, columns ``part.start // (cpf * fpc)`` onward (a last
        partial group makes a column of its own). Spectrogram bands and energy are the mean
        power over the column, in dB; F0 the median of its voiced columns where at least a
        quarter of them are voiced, else unvoiced.
    """
    k = part.cpf * fpc
    width = part.stop - part.start
    n = -(-width // k)
    groups = np.arange(width) // k
    f0 = part.f0.astype(np.float64)
    voiced = f0 > 0
    n_voiced = np.bincount(groups, weights=voiced, minlength=n)
    sizes = np.bincount(groups, minlength=n)
    padded = np.full(n * k, np.nan)
    padded[:width] = np.where(voiced, f0, np.nan)
    rows = padded.reshape(n, k)
    med = np.zeros(n)
    some = n_voiced > 0
    med[some] = np.nanmedian(rows[some], axis=1)
    med[n_voiced * 4 < sizes] = 0
    return Strips(
        cpf=1,
        fpc=fpc,
        start=part.start // k,
        stop=part.start // k + n,
        mel=_mean_db8(part.mel, groups, n),
        f0=np.rint(med).astype(np.uint16),
        energy=_mean_db8(part.energy, groups, n),
    )


def column_map(origin: np.ndarray, n_original: int, cpf: int, fpc: int, start: int, stop: int) -> np.ndarray:
    """For columns ``[start, stop)`` of the edited strips, the original's column heard there.

    Parameters
    ----------
    origin : numpy.ndarray
        int, shape ``(n_frames,)``: :meth:`EditSession.origin_frames
        <qtok_widgets.session.EditSession.origin_frames>` (-1 for inserted frames).
    n_original : int
        Frames of the original grid.
    cpf, fpc : int
        Columns per frame and frames per column of both strips (one of them 1).
    start, stop : int
        Columns of the edited strips.

    Returns
    -------
    numpy.ndarray
        int64, shape ``(stop - start,)``: the original column whose span, moved through the
        timing edits by :func:`qtok_widgets.labels.time_map` (the labels' mapping), holds the
        edited column's centre; -1 where nothing of the original is (inserted material, a
        splice).
    """
    from ..labels import time_map

    n_cols = -(-int(n_original) * cpf // fpc)
    bounds = time_map(origin, np.arange(n_cols + 1) * fpc / cpf, n_original)
    centres = (np.arange(start, stop) + 0.5) * fpc / cpf
    k = np.searchsorted(bounds[1:], centres, side="right")  # first column ending after the centre
    ok = k < n_cols
    k = np.minimum(k, n_cols - 1)
    ok &= bounds[k] <= centres
    return np.where(ok, k, -1).astype(np.int64)


def align(part: Strips, cols: np.ndarray, start: int) -> Strips:
    """Columns ``cols`` of ``part`` (indices on its whole axis; -1 blank) as strips from column ``start``.

    Blank columns hold the lowest level and no pitch. ``part`` must hold every column asked for.
    """
    cols = np.asarray(cols, dtype=np.int64)
    have = cols >= 0
    idx = np.where(have, cols - part.start, 0)
    mel = np.where(have[None, :], part.mel[:, idx], 0).astype(np.uint8)
    f0 = np.where(have, part.f0[idx], 0).astype(np.uint16)
    energy = np.where(have, part.energy[idx], 0).astype(np.uint8)
    return Strips(
        cpf=part.cpf, fpc=part.fpc, start=start, stop=start + cols.size, mel=mel, f0=f0, energy=energy
    )


# frames of the original a long recording's pitch range is found from (the first minute at 12.5 Hz)
_RANGE_FRAMES = 750
# overview columns computed and sent at a time
_BLOCK_COLUMNS = 256

Send = Callable[[dict[str, Any], list[bytes]], None]
AudioOf = Callable[[str, int, int], Audio]


class StripFeed:
    """The strips an editor sends its views: what they hold, and what an edit makes them need.

    Parameters
    ----------
    session : EditSession
        The session whose original and edited audio the strips show.
    send : callable
        ``send(content, buffers)``: one message to the views (the widget's comm).
    audio_of : callable
        ``audio_of(version, start, stop)``: the audio of frames ``[start, stop)`` of
        ``"original"`` or ``"edited"``, at the codec's sample rate (decoded for them alone, or a
        slice of audio at hand).
    long : bool
        A long recording: an overview at ``fpc`` frames per column is computed in a background
        thread and sent block by block, the visible window at finer detail on request
        (:meth:`window`), and an edit recomputes the overview columns it touched. Otherwise the
        editor hands over whole renders (:meth:`whole_original`, :meth:`edited`).
    overview_columns : int
        Most columns of a long recording's overview (default :data:`OVERVIEW_COLUMNS`).

    Every message is ``{"type": "strips", "which", "level", "cpf", "fpc", "start", "stop",
    "total", "n_mels", "f0_range"}`` with three buffers (mel, F0, energy; see :class:`Strips`):
    ``which`` is ``"original"``, ``"edited"`` or ``"both"`` (the same columns for each);
    ``level`` is ``"whole"`` (a short clip), ``"overview"`` or ``"window"``; columns
    ``[start, stop)`` of ``total`` on the edited timeline. The original's columns are laid
    under the edited audio through the timing edits (:func:`column_map`).
    """

    def __init__(
        self,
        session: Any,
        send: Send,
        audio_of: AudioOf,
        *,
        long: bool,
        overview_columns: int = OVERVIEW_COLUMNS,
    ) -> None:
        self.session = session
        self.overview_columns = int(overview_columns)
        self._send = send
        self.audio_of = audio_of
        self.long = long
        self.spf = int(session.grid.samples_per_frame)
        self.lock = threading.RLock()
        self.version = 0  # bumped by every edit
        self.cpf = 1
        self.fpc = 1
        self.f0_range: tuple[float, float] | None = None
        self.original: Strips | None = None  # on the original's own axis (whole, or the overview)
        self.done = 0  # overview columns of the original computed
        self.original_sent = 0  # overview columns of the original sent (as they are, no timing edits)
        self.edited_next = 0  # first overview column of the edited audio the views lack
        self.pending: tuple[int, int] | None = None  # frames edited since the last flush (same length)
        self.map_sent: np.ndarray | None = None  # original columns under each edited column, as sent
        self.thread: threading.Thread | None = None
        self.closed = False
        self.error: BaseException | None = None

    # ------------------------------------------------------------------ common
    def _range(self) -> tuple[float, float]:
        if self.f0_range is None:
            n = self.session.original.n_frames
            stop = min(n, _RANGE_FRAMES) if self.long else n
            self.f0_range = analysis.pitch_range(self.audio_of("original", 0, stop))
        return self.f0_range

    def _total(self, n_frames: int) -> int:
        return -(-n_frames * self.cpf // self.fpc)

    def _emit(self, which: str, part: Strips, total: int, level: str) -> None:
        lo, hi = self._range()
        self._send(
            {
                "type": "strips",
                "which": which,
                "level": level,
                "cpf": part.cpf,
                "fpc": part.fpc,
                "start": part.start,
                "stop": part.stop,
                "total": total,
                "n_mels": int(part.mel.shape[0]),
                "f0_range": [round(lo, 1), round(hi, 1)],
            },
            [part.mel.tobytes(), part.f0.astype("<u2").tobytes(), part.energy.tobytes()],
        )

    def piece(self, version: str, first: int, stop: int, cpf: int) -> Strips:
        """Strips of frames ``[first, stop)`` of a version at ``cpf``, from the audio around them only."""
        n = (self.session.original if version == "original" else self.session.grid).n_frames
        ctx = context_frames(self.spf, self.session.grid.sample_rate)
        a, b = max(0, first - ctx), min(n, stop + ctx)
        part = strip_span(self.audio_of(version, a, b), self.spf, cpf, first - a, stop - a, self._range())
        return dataclasses.replace(part, start=first * cpf, stop=stop * cpf)

    def _column_map(self, cpf: int, fpc: int, start: int, stop: int) -> np.ndarray | None:
        """Original columns under edited columns ``[start, stop)``; None without timing edits."""
        origin = self.session.origin_frames()
        n_orig = self.session.original.n_frames
        if origin.size == n_orig and np.array_equal(origin, np.arange(n_orig)):
            return None
        return column_map(origin, n_orig, cpf, fpc, start, stop)

    def send_original(self, *, force: bool = False) -> None:
        """Send the original's columns laid under the edited audio, from the first that moved."""
        with self.lock:
            held = self.original
            if held is None or (self.long and self.original_sent < held.stop):
                return  # a long recording's original is sent block by block until it is complete
            total = self._total(self.session.grid.n_frames)
            cols = self._column_map(held.cpf, held.fpc, 0, total)
            if cols is None:
                cols = np.arange(total, dtype=np.int64)
            prev = self.map_sent
            first = 0
            if not force and prev is not None:
                if prev.size == cols.size and np.array_equal(prev, cols):
                    return
                n = min(prev.size, cols.size)
                diff = np.flatnonzero(prev[:n] != cols[:n])
                first = int(diff[0]) if diff.size else n
            self.map_sent = cols
            if first < total:
                level = "overview" if self.long else "whole"
                self._emit("original", align(held, cols[first:], first), total, level)

    # ------------------------------------------------------------------ short recordings
    def whole_original(self, audio: Audio) -> None:
        """Compute the original's strips from its whole audio and send them."""
        with self.lock:
            n_orig = self.session.original.n_frames
            self.cpf = columns_per_frame(max(n_orig, self.session.grid.n_frames), self.spf)
            if self.f0_range is None:
                self.f0_range = analysis.pitch_range(audio)
            self.original = strip_span(audio, self.spf, self.cpf, 0, n_orig, self._range())
            self.send_original(force=True)

    def edited(self, audio: Audio, n_frames: int, start: int = 0, stop: int | None = None) -> None:
        """Send the edited audio's strips of frames ``[start, stop)`` (``audio``: the whole render)."""
        with self.lock:
            if self.original is None:
                return
            stop = n_frames if stop is None else min(stop, n_frames)
            if stop > start:
                part = strip_span(audio, self.spf, self.cpf, start, stop, self._range())
                self._emit("edited", part, n_frames * self.cpf, "whole")
            self.send_original()

    # ------------------------------------------------------------------ long recordings
    def start(self) -> None:
        """A view opened: send it the whole overview (the original's is computed once)."""
        with self.lock:
            n_orig, n_cur = self.session.original.n_frames, self.session.grid.n_frames
            fpc = overview_frames_per_column(max(n_orig, n_cur), self.overview_columns)
            if self.original is None or self.original.fpc != fpc:
                cols = -(-n_orig // fpc)
                self.original = Strips(
                    cpf=1,
                    fpc=fpc,
                    start=0,
                    stop=cols,
                    mel=np.zeros((N_MELS, cols), np.uint8),
                    f0=np.zeros(cols, np.uint16),
                    energy=np.zeros(cols, np.uint8),
                )
                self.done = 0
            self.fpc, self.cpf = fpc, 1
            self.original_sent = 0
            self.edited_next = 0
            self.map_sent = None
            self.pending = None
            self._run()

    def _run(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._job, name="qtok-strips", daemon=True)
            self.thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the overview is sent (tests and benchmarks)."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)

    def _unchanged(self, first: int, stop: int) -> bool:
        """Whether frames ``[first, stop)`` of the edited grid are the original's (no timing edit)."""
        grid, orig = self.session.grid, self.session.original
        if grid.n_frames != orig.n_frames or self._column_map(1, 1, 0, 0) is not None:
            return False
        return bool(
            np.array_equal(grid.codes[:, first:stop], orig.codes[:, first:stop])
            and np.array_equal(grid.mask[:, first:stop], orig.mask[:, first:stop])
        )

    def _job(self) -> None:
        while not self.closed:
            version = self.version
            try:
                if not self._step():
                    return
            except Exception as exc:  # a thread: keep the error for whoever asks, never raise
                if self.version != version:
                    continue  # an edit changed the grid under the block: the next step redoes it
                self.error = exc
                log.exception("qtok: computing the strips overview failed")
                return

    def _step(self) -> bool:
        """Compute and send one block of the overview; False when there is nothing left."""
        fpc = self.fpc
        with self.lock:
            held = self.original
            assert held is not None
            n_cur = self.session.grid.n_frames
            total = -(-n_cur // fpc)
            version = self.version
            if self.original_sent < held.stop:
                which, c0 = "original", self.original_sent
                c1 = min(held.stop, c0 + _BLOCK_COLUMNS)
            elif self.edited_next < total:
                which, c0 = "edited", self.edited_next
                c1 = min(total, c0 + _BLOCK_COLUMNS)
            else:
                self.send_original()  # laid under the edited audio when timing edits moved it
                return False
        if which == "original":
            if c0 >= self.done:
                stop = min(self.session.original.n_frames, c1 * fpc)
                part = pool(self.piece("original", c0 * fpc, stop, 1), fpc)
                with self.lock:
                    held.mel[:, c0:c1] = part.mel
                    held.f0[c0:c1] = part.f0
                    held.energy[c0:c1] = part.energy
                    if held is self.original:
                        self.done = max(self.done, c1)
            with self.lock:
                if held is not self.original or self.original_sent != c0:
                    return True  # a view opened meanwhile and the overview started again
                part = Strips(1, c0, c1, held.mel[:, c0:c1], held.f0[c0:c1], held.energy[c0:c1], fpc)
                n_orig_cols = held.stop
                both = self.edited_next == c0 and self._unchanged(c0 * fpc, c1 * fpc)
                self._emit("both" if both else "original", part, n_orig_cols, "overview")
                self.original_sent = c1
                if both:
                    self.edited_next = c1
                if c1 == held.stop:  # the views hold the original as it is: timing edits move it next
                    self.map_sent = np.arange(c1, dtype=np.int64)
            return True
        part = pool(self.piece("edited", c0 * fpc, min(n_cur, c1 * fpc), 1), fpc)
        with self.lock:
            if version == self.version and self.edited_next == c0:
                self._emit("edited", part, total, "overview")
                self.edited_next = c1
        return True

    def note_change(self, frames: list[tuple[int, int]], n_frames_before: int) -> None:
        """An edit changed frames ``frames`` (runs of the current grid); a length change moves the rest."""
        with self.lock:
            self.version += 1
            if not self.long or self.original is None:
                return
            n = self.session.grid.n_frames
            if n != n_frames_before or not frames:
                first = min([a for a, _ in frames] + [min(n, n_frames_before)])
                self.edited_next = min(self.edited_next, first // self.fpc)
                self._run()
                return
            a, b = frames[0][0], frames[-1][1]
            old = self.pending or (a, b)
            self.pending = (min(old[0], a), max(old[1], b))

    def flush(self, affected: Callable[[int, int, int], tuple[int, int]]) -> None:
        """Recompute and send the overview columns the edits since the last flush touched.

        ``affected(start, stop, n_frames)``: the frames whose audio an edit of frames
        ``[start, stop)`` changes (the codec's decoder context).
        """
        with self.lock:
            span, self.pending = self.pending, None
            if span is None or self.original is None:
                return
            n = self.session.grid.n_frames
            a, b = affected(span[0], span[1], n)
            c0, c1 = a // self.fpc, min(-(-b // self.fpc), self.edited_next)
            if c1 <= c0:
                return  # the overview job has not sent these columns yet: it will send them edited
            part = pool(self.piece("edited", c0 * self.fpc, min(n, c1 * self.fpc), 1), self.fpc)
            self._emit("edited", part, self._total(n), "overview")

    def window(self, first: int, stop: int, px_per_frame: float) -> None:
        """Send frames ``[first, stop)`` of both versions at about ``px_per_frame`` columns per frame."""
        cpf = next(
            (c for c in range(1, 9) if self.spf % c == 0 and c >= px_per_frame),
            max(c for c in range(1, 9) if self.spf % c == 0),
        )
        grid, n_orig = self.session.grid, self.session.original.n_frames
        first, stop = max(0, first), min(stop, grid.n_frames)
        if stop <= first:
            return
        total = grid.n_frames * cpf
        edited = self.piece("edited", first, stop, cpf)
        cols = self._column_map(cpf, 1, first * cpf, stop * cpf)
        if cols is None:
            original = self.piece("original", first, min(stop, n_orig), cpf) if first < n_orig else None
        else:
            have = cols[cols >= 0]
            original = None
            if have.size:
                fa, fb = int(have.min()) // cpf, int(have.max()) // cpf + 1
                original = align(self.piece("original", fa, fb, cpf), cols, first * cpf)
        with self.lock:
            self._emit("edited", edited, total, "window")
            if original is not None:
                self._emit("original", original, total, "window")

    def close(self) -> None:
        """Stop the background work (a block under way finishes)."""
        self.closed = True
