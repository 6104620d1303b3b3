"""Time-aligned labels (words, phones, notes): read them, find one, and carry them through timing edits.

:func:`load_labels` reads a Praat TextGrid (with ``praatio``; UTF-8, UTF-16 with a byte order
mark, or Latin-1), a WebVTT or SRT subtitle file, a CTM file, a JSON list or object, or Python
data, and returns :class:`Labels`: tiers by name, each a tuple of ``(start_s, end_s, text)``
intervals in seconds. The format is found once, from the suffix or else from the content
(:func:`label_format`). Loading never runs code, and a file that does not read is one
:class:`LabelsError` line naming the file and what is wrong.

Timing edits (deleting and duplicating frames, inserting a splice) change where things happen.
:meth:`Labels.remap` moves and stretches labels through an edit given, for every frame after
it, the frame before it that it came from (``-1`` for an inserted frame); inserted frames
belong to the frame before them, so duplicating a frame inside a word stretches the word and
deleting frames shrinks it (a label whose frames are all deleted is dropped); deleted frames that
inserted ones replace (a time stretch) map proportionally onto them. :func:`time_map` is that
mapping, which the editor also uses to lay the original's strips under the edited audio.
:meth:`Labels.follow` does this for one :class:`~qtok_widgets.delta.Delta`, and
:attr:`EditSession.labels <qtok_widgets.session.EditSession.labels>` for the whole history.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import QtokError

__all__ = ["LABEL_FORMATS", "Interval", "Labels", "LabelsError", "label_format", "load_labels", "time_map"]

#: A labelled span: ``(start_s, end_s, text)``, seconds, ``0 <= start_s <= end_s``.
Interval = tuple[float, float, str]

#: Label formats by name, with the suffixes that name them.
LABEL_FORMATS: dict[str, tuple[str, ...]] = {
    "textgrid": (".textgrid",),
    "webvtt": (".vtt",),
    "srt": (".srt",),
    "ctm": (".ctm",),
    "json": (".json",),
}

#: Largest label file read, in bytes.
MAX_LABEL_BYTES = 64 << 20

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})")
_CUE = re.compile(rf"^\s*({_TIME.pattern})\s*-->\s*({_TIME.pattern})")


class LabelsError(QtokError):
    """Labels could not be read, or a label asked for does not exist."""


@dataclass(frozen=True)
class Labels:
    """Tiers of time-aligned labels.

    Attributes
    ----------
    tiers : dict of str to tuple of Interval
        Tier name -> intervals ``(start_s, end_s, text)`` sorted by start, in file order of
        tiers. Empty-text intervals (the gaps a TextGrid fills) are left out.
    """

    tiers: dict[str, tuple[Interval, ...]]

    def __post_init__(self) -> None:
        clean: dict[str, tuple[Interval, ...]] = {}
        for name, intervals in self.tiers.items():
            clean[str(name)] = tuple(sorted((float(s), float(e), str(t)) for s, e, t in intervals))
        object.__setattr__(self, "tiers", clean)

    @property
    def names(self) -> list[str]:
        """Tier names, in order."""
        return list(self.tiers)

    @property
    def end_s(self) -> float:
        """End of the last interval in any tier, in seconds (0 when there are none)."""
        return max((iv[1] for ivs in self.tiers.values() for iv in ivs), default=0.0)

    def __repr__(self) -> str:
        inner = ", ".join(f"{n!r}: {len(v)} intervals" for n, v in self.tiers.items())
        return f"Labels({inner})"

    def tier(self, name: str | None = None) -> tuple[Interval, ...]:
        """Intervals of tier ``name`` (default: the first tier)."""
        if not self.tiers:
            msg = "these labels have no tiers"
            raise LabelsError(msg)
        if name is None:
            return next(iter(self.tiers.values()))
        if name not in self.tiers:
            msg = f"no tier named {name!r}: tiers are {', '.join(repr(n) for n in self.tiers)}"
            raise LabelsError(msg)
        return self.tiers[name]

    def find(self, text: str, tier: str | None = None, occurrence: int = 0) -> Interval:
        """The ``occurrence``-th interval (0 = first) whose text is ``text``.

        The text is compared exactly first, then ignoring case and surrounding punctuation.
        ``tier=None`` searches the tiers in order and uses the first that has the text.

        Raises
        ------
        LabelsError
            No such label, or fewer occurrences than asked for.
        """
        if not isinstance(occurrence, int) or isinstance(occurrence, bool) or occurrence < 0:
            msg = f"occurrence must be an int >= 0, got {occurrence!r}"
            raise LabelsError(msg)
        names = [tier] if tier is not None else self.names
        for name in names:
            intervals = self.tier(name)
            for same in (lambda t: t == text, lambda t: _norm(t) == _norm(text)):
                hits = [iv for iv in intervals if same(iv[2])]
                if hits:
                    if occurrence >= len(hits):
                        msg = f"label {text!r} occurs {len(hits)} times in tier {name!r}: occurrence must be in 0..{len(hits) - 1}"
                        raise LabelsError(msg)
                    return hits[occurrence]
        where = f"tier {tier!r}" if tier is not None else "any tier"
        msg = f"no label {text!r} in {where}"
        raise LabelsError(msg)

    # ------------------------------------------------------------------ timing edits
    def remap(self, origin: np.ndarray, frame_rate: float, duration_s: float | None = None) -> Labels:
        """Labels moved through a timing edit, given where each new frame came from.

        Parameters
        ----------
        origin : numpy.ndarray
            int, shape ``(n_frames_after,)``: for each frame after the edit, the frame of the
            labels' timeline it came from, or -1 for an inserted frame (which then belongs to
            the kept frame before it). Kept frames appear in increasing order.
        frame_rate : float
            Frames per second (Hz) of the grid the frames index.
        duration_s : float, optional
            Duration after the edit; times are clipped to it (default ``n_frames_after / frame_rate``).

        Returns
        -------
        Labels
            Times move as :func:`time_map` says (a time in a kept frame moves with the frame and
            its inserted followers, one in deleted frames that inserted frames replace, as a
            stretch does, moves proportionally across them, one in other deleted frames to the
            start of the next kept frame). Intervals left empty are dropped.
        """
        origin = np.asarray(origin, dtype=np.int64)
        kept = origin[origin >= 0]
        n_before = max(int(kept.max()) + 1 if kept.size else 0, math.ceil(self.end_s * frame_rate - 1e-6))
        end = origin.size / frame_rate if duration_s is None else float(duration_s)

        def move(t: np.ndarray) -> np.ndarray:
            return np.minimum(time_map(origin, t * frame_rate, n_before) / frame_rate, end)

        tiers: dict[str, list[Interval]] = {}
        for name, intervals in self.tiers.items():
            if not intervals:
                tiers[name] = []
                continue
            arr = np.array([(s, e) for s, e, _ in intervals], dtype=np.float64)
            starts, stops = move(arr[:, 0]), move(arr[:, 1])
            tiers[name] = [
                (round(float(s), 6), round(float(e), 6), iv[2])
                for s, e, iv in zip(starts, stops, intervals, strict=True)
                if e - s > 1e-9 or iv[0] == iv[1]
            ]
        return Labels({k: tuple(v) for k, v in tiers.items()})

    def follow(
        self, delta: Any, n_frames_before: int, frame_rate: float, sample_rate: int | None = None
    ) -> Labels:
        """Labels after one :class:`~qtok_widgets.delta.Delta` (these labels timed before it).

        Parameters
        ----------
        delta : Delta
            The edit; only its removed and inserted frames matter.
        n_frames_before : int
            Frames of the grid the delta was planned on.
        frame_rate : float
            Frames per second (Hz).
        sample_rate : int, optional
            With it, times are clipped to ``delta.new_n_samples / sample_rate``.
        """
        if not delta.changes_length:
            return self
        origin = delta.frame_map(np.arange(n_frames_before, dtype=np.int64))
        duration = None if sample_rate is None else delta.new_n_samples / sample_rate
        return self.remap(origin, frame_rate, duration)

    # ------------------------------------------------------------------ writing
    def to_list(self) -> list[tuple[float, float, str, str]]:
        """Every interval as ``(start_s, end_s, text, tier)``, tier by tier."""
        return [(s, e, t, name) for name, ivs in self.tiers.items() for s, e, t in ivs]

    def to_json(self) -> dict[str, Any]:
        """``{"tiers": {name: [[start_s, end_s, text], ...]}}``, which :func:`load_labels` reads back."""
        return {"tiers": {name: [list(iv) for iv in ivs] for name, ivs in self.tiers.items()}}

    def to_textgrid(self, path: str | os.PathLike[str], duration_s: float | None = None) -> Path:
        """Write a Praat TextGrid (long text format, UTF-8) with one interval tier per tier.

        Parameters
        ----------
        path : str or os.PathLike
            The file to write.
        duration_s : float, optional
            The TextGrid's end time (default: the end of the last interval).

        Returns
        -------
        Path
            The path written.
        """
        from praatio import textgrid
        from praatio.utilities.constants import Interval as PraatInterval

        end = max(self.end_s, float(duration_s or 0.0))
        tg = textgrid.Textgrid(0.0, end)
        for name, intervals in self.tiers.items():
            entries = [PraatInterval(s, e, t) for s, e, t in _non_overlapping(intervals)]
            tg.addTier(textgrid.IntervalTier(name, entries, 0.0, end))
        out = Path(path)
        tg.save(os.fspath(out), format="long_textgrid", includeBlankSpaces=True)
        return out


def _norm(text: str) -> str:
    return text.strip().strip(".,;:!?\"'()[]").casefold()


def _non_overlapping(intervals: Iterable[Interval]) -> list[Interval]:
    """Intervals trimmed so that each starts no earlier than the previous ends (TextGrid tiers must not overlap)."""
    out: list[Interval] = []
    last = 0.0
    for s, e, t in intervals:
        s = max(s, last)
        if e > s:
            out.append((s, e, t))
            last = e
    return out


# ---------------------------------------------------------------------------- reading
def label_format(path: str | os.PathLike[str], text: str | None = None) -> str:
    """The label format of a file: from its suffix, else from its first characters.

    Returns
    -------
    str
        One of :data:`LABEL_FORMATS`.

    Raises
    ------
    LabelsError
        Neither the suffix nor the content says.
    """
    suffix = Path(path).suffix.lower()
    for name, suffixes in LABEL_FORMATS.items():
        if suffix in suffixes:
            return name
    if text is not None:
        head = text.lstrip("\ufeff \t\r\n")[:200]
        if head.startswith('File type = "ooTextFile"'):
            return "textgrid"
        if head.startswith("WEBVTT"):
            return "webvtt"
        if head[:1] in "[{":
            return "json"
        if _CUE.search("\n".join(head.splitlines()[:3])):
            return "srt"
    known = ", ".join(s for sfx in LABEL_FORMATS.values() for s in sfx)
    msg = f"{os.fsdecode(path)}: unknown label format; use a file ending in {known}"
    raise LabelsError(msg)


def load_labels(source: Any, *, format: str | None = None) -> Labels:
    """Read labels from a file or from Python data.

    Parameters
    ----------
    source : str, os.PathLike, Labels, list, tuple or dict
        A path to a ``.TextGrid``, ``.vtt``, ``.srt``, ``.ctm`` or ``.json`` file; a
        :class:`Labels` (returned as is); a list of ``(start_s, end_s, text)`` or
        ``(start_s, end_s, text, tier)`` tuples (tier default ``"words"``) or of dicts with
        ``start``, ``end``, ``text`` (and ``tier``); or a dict ``{tier: [intervals]}`` or
        ``{"tiers": {...}}`` as :meth:`Labels.to_json` writes.
    format : str, optional
        Force a file format (one of :data:`LABEL_FORMATS`) instead of guessing it.

    Returns
    -------
    Labels

    Raises
    ------
    LabelsError
        Missing, unreadable or malformed file or data; one line naming the problem.
    """
    if isinstance(source, Labels):
        return source
    if isinstance(source, (str, os.PathLike)):
        return _load_file(source, format)
    if isinstance(source, (list, tuple, dict)):
        return _from_data(source, "labels")
    msg = f"cannot read labels from {type(source).__name__}: give a file path, a list of (start_s, end_s, text) or a dict of tiers"
    raise LabelsError(msg)


def _load_file(path: str | os.PathLike[str], fmt: str | None) -> Labels:
    from .audio import AudioFileNotFoundError, open_regular_file

    name = os.fsdecode(path)
    try:
        with open_regular_file(path, what="a label file", error=LabelsError) as f:
            data = f.read(MAX_LABEL_BYTES + 1)
    except AudioFileNotFoundError:
        msg = f"{name}: no such label file"
        raise LabelsError(msg) from None
    except OSError as exc:
        msg = f"{name}: cannot read ({exc.strerror or exc})"
        raise LabelsError(msg) from None
    if len(data) > MAX_LABEL_BYTES:
        msg = f"{name}: label file larger than {MAX_LABEL_BYTES >> 20} MB"
        raise LabelsError(msg)
    text = _decode(data)
    if fmt is None:
        fmt = label_format(path, text)
    elif fmt not in LABEL_FORMATS:
        msg = f"unknown label format {fmt!r}: use one of {', '.join(repr(k) for k in LABEL_FORMATS)}"
        raise LabelsError(msg)
    try:
        if fmt == "textgrid":
            return _read_textgrid(text)
        if fmt in ("webvtt", "srt"):
            return _read_cues(text, fmt)
        if fmt == "ctm":
            return _read_ctm(text)
        try:
            data_obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise LabelsError(f"not JSON ({str(exc).splitlines()[0]})") from None
        return _from_data(data_obj, "JSON")
    except LabelsError as exc:
        msg = f"{name}: {exc}"
        raise LabelsError(msg) from None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if len(data) >= 4 and data[1:2] == b"\x00" and data[3:4] == b"\x00":  # UTF-16 LE without a mark
        return data.decode("utf-16-le", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _read_textgrid(text: str) -> Labels:
    from praatio.utilities import textgrid_io

    try:
        parsed = textgrid_io.parseTextgridStr(text, includeEmptyIntervals=False)
    except Exception as exc:  # praatio raises many kinds on malformed text (IndexError, ValueError, its own)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LabelsError(f"not a readable TextGrid ({first[:120]})") from None
    tiers: dict[str, list[Interval]] = {}
    for tier in parsed.get("tiers", []):
        name = str(tier["name"])
        base, k = name, 2
        while name in tiers:
            name, k = f"{base}_{k}", k + 1
        entries = []
        for entry in tier["entries"]:
            if len(entry) == 3:
                entries.append((float(entry[0]), float(entry[1]), str(entry[2])))
            else:  # a point tier: zero-length intervals
                entries.append((float(entry[0]), float(entry[0]), str(entry[1])))
        tiers[name] = entries
    if not tiers:
        raise LabelsError("a TextGrid without tiers")
    return _checked(tiers)


def _seconds(match: re.Match[str], offset: int) -> float:
    h, m, s, frac = (
        match.group(offset),
        match.group(offset + 1),
        match.group(offset + 2),
        match.group(offset + 3),
    )
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _read_cues(text: str, fmt: str) -> Labels:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if fmt == "webvtt" and not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise LabelsError("a WebVTT file must start with WEBVTT")
    cues: list[Interval] = []
    i = 0
    while i < len(lines):
        m = _CUE.match(lines[i])
        if m is None:
            i += 1
            continue
        start, end = _seconds(m, 2), _seconds(m, 7)
        body = []
        i += 1
        while i < len(lines) and lines[i].strip():
            body.append(re.sub(r"<[^>]*>", "", lines[i]).strip())
            i += 1
        cues.append((start, end, " ".join(body)))
    if not cues:
        raise LabelsError(f"no cues ('00:00:01.000 --> 00:00:02.000' lines) in this {fmt.upper()} file")
    return _checked({"subtitles": cues})


def _read_ctm(text: str) -> Labels:
    tiers: dict[str, list[Interval]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(";;") or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 5:
            raise LabelsError(f"line {n}: a CTM line is 'utterance channel start duration word [confidence]'")
        try:
            start, dur = float(parts[2]), float(parts[3])
        except ValueError:
            raise LabelsError(
                f"line {n}: start and duration must be numbers, got {parts[2]!r} {parts[3]!r}"
            ) from None
        tiers.setdefault("words", []).append((start, start + dur, parts[4]))
    if not tiers:
        raise LabelsError("no CTM lines")
    return _checked(tiers)


def _from_data(data: Any, what: str) -> Labels:
    if isinstance(data, dict):
        tiers_obj = data["tiers"] if "tiers" in data else data
        if not isinstance(tiers_obj, dict):
            raise LabelsError(f'{what} "tiers" must map tier names to lists of [start_s, end_s, text]')
        tiers = {str(k): _intervals(v, f"tier {k!r}") for k, v in tiers_obj.items()}
        return _checked(tiers)
    if not isinstance(data, (list, tuple)):
        raise LabelsError(f"{what} must be a list of [start_s, end_s, text] or a dict of tiers")
    tiers_l: dict[str, list[Interval]] = {}
    for i, item in enumerate(data):
        tier = "words"
        if isinstance(item, Mapping):
            tier = str(item.get("tier", tier))
            item = (item.get("start"), item.get("end"), item.get("text"))
        elif isinstance(item, (list, tuple)) and len(item) == 4:
            tier = str(item[3])
            item = item[:3]
        tiers_l.setdefault(tier, []).extend(_intervals([item], f"{what} item {i}"))
    return _checked(tiers_l)


def _intervals(items: Any, what: str) -> list[Interval]:
    if not isinstance(items, (list, tuple)):
        raise LabelsError(f"{what} must be a list of [start_s, end_s, text]")
    out = []
    for item in items:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise LabelsError(f"{what}: each label must be [start_s, end_s, text], got {str(item)[:40]}")
        s, e, t = item
        if (
            isinstance(s, bool)
            or isinstance(e, bool)
            or not isinstance(s, (int, float))
            or not isinstance(e, (int, float))
        ):
            raise LabelsError(f"{what}: times must be numbers of seconds, got {str(item)[:40]}")
        out.append((float(s), float(e), "" if t is None else str(t)))
    return out


def _checked(tiers: dict[str, list[Interval]]) -> Labels:
    for name, intervals in tiers.items():
        for s, e, t in intervals:
            if not (math.isfinite(s) and math.isfinite(e)) or s < 0 or e < s:
                raise LabelsError(
                    f"tier {name!r}: label {t!r} has times {s:g}..{e:g}; need 0 <= start_s <= end_s"
                )
    return Labels({k: tuple(v) for k, v in tiers.items()})


def time_map(origin: np.ndarray, frames: Any, n_before: int | None = None) -> np.ndarray:
    """Where positions on the timeline before timing edits are after them, in (fractional) frames.

    This one mapping moves the labels (:meth:`Labels.remap`) and lays the original recording's
    strips under the edited audio in the editor, so both follow an edit alike.

    Parameters
    ----------
    origin : numpy.ndarray
        int, shape ``(n_after,)``: for each frame after the edits, the frame before them it came
        from, or -1 for an inserted frame (:meth:`EditSession.origin_frames
        <qtok_widgets.session.EditSession.origin_frames>`). Kept frames appear in increasing order.
    frames : array_like of float
        Positions before the edits, in frames (``seconds * frame_rate``).
    n_before : int, optional
        Frames before the edits (default: one past the last kept frame); frames deleted at the
        end count only when it is given.

    Returns
    -------
    numpy.ndarray
        float64, the shape of ``frames``: positions after the edits, in frames, non-decreasing
        in ``frames``. A position ``j + u`` in kept frame ``j`` (``0 <= u < 1``) moves to where
        ``j`` is now plus ``u`` times the frame and the inserted frames that follow it. A run of
        deleted frames followed, before the next kept frame, by inserted frames (what a stretch
        or a splice of another length leaves) maps linearly onto those inserted frames, and
        the frame before the run keeps its own length. A run of deleted frames with nothing
        inserted moves to the start of the next kept frame. Positions past ``n_before`` go to
        the end (``n_after``).
    """
    origin = np.asarray(origin, dtype=np.int64)
    n_after = origin.size
    new_kept = np.flatnonzero(origin >= 0)
    old_kept = origin[new_kept]
    n_old = int(old_kept.max()) + 1 if old_kept.size else 0
    n_old = max(n_old, 0 if n_before is None else int(n_before))
    # the kept frames, with a frame before the first and one at the end as bounds
    ko = np.concatenate([[-1], old_kept, [n_old]])
    kn = np.concatenate([[-1], new_kept, [n_after]])
    deleted = ko[1:] - ko[:-1] - 1  # frames deleted after each bound
    inserted = kn[1:] - kn[:-1] - 1  # frames inserted after each bound
    replaced = (deleted > 0) & (inserted > 0)
    start = np.full(n_old + 1, float(n_after))  # where each frame before starts after the edits
    width = np.zeros(n_old + 1)  # and how many frames after it spans
    start[old_kept] = new_kept
    width[old_kept] = np.where(replaced[1:], 1, inserted[1:] + 1)
    gone = np.ones(n_old, dtype=bool)
    gone[old_kept] = False
    d = np.flatnonzero(gone)  # deleted frames, each in the gap after bound i
    i = np.searchsorted(ko, d, side="right") - 1
    step = inserted[i] / np.maximum(deleted[i], 1)
    start[d] = np.where(replaced[i], kn[i] + 1 + (d - ko[i] - 1) * step, kn[i + 1])
    width[d] = np.where(replaced[i], step, 0.0)
    x = np.asarray(frames, dtype=np.float64)
    j = np.clip(np.floor(x + 1e-6).astype(np.int64), 0, n_old)
    u = np.clip(x - j, 0.0, 1.0)
    return start[j] + u * width[j]
