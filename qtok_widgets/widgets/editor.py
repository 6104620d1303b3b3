"""TokenEditor: the editable layer × frame heatmap of a recording's codes, with A/B playback.

:class:`TokenEditor` is an anywidget front end over one :class:`~qtok_widgets.session.EditSession`.
Every button and key in the browser calls a method of this class (``mask``, ``replace``,
``interpolate``, ``paste``, ``delete_frames``, ``undo``, ...), which calls the session; so undo,
the recipe (``session.to_python()``) and the history cover edits made with the mouse, and edits
made on ``editor.session`` from Python show up in the browser at once. Codes reach the browser
as binary buffers (at most 2 bytes per cell; 1.5 for codebooks of up to 2,048 codes, see
:mod:`qtok_widgets.widgets._wire`) in custom messages: the whole grid once, then only the
frames an edit changed. Audio follows the same
road: a small waveform envelope always, 16-bit PCM when the user presses play, both from the
session's incremental ``render()``. Errors from an action are shown on the widget's message line.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import logging
import os
import pathlib
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from .. import ops
from ..audio import Audio, load_audio
from ..errors import QtokError
from ..grid import CodeGrid
from ..journal import Journal, JournalState, default_journal_path, remove_old_journals
from ..selection import frames_from_seconds, resolve_indices
from . import _wire

__all__ = ["PCM_SLICE_S", "PCM_WHOLE_MAX_S", "WAVEFORM_AUTO_MAX_S", "WAVEFORM_WINDOW_MAX_S", "TokenEditor"]

log = logging.getLogger("qtok_widgets")

_HERE = pathlib.Path(__file__).parent

#: Longest clip (seconds) whose whole waveform strip is decoded when a view opens; longer
#: clips get the strip of the visible window, decoded on demand.
WAVEFORM_AUTO_MAX_S = 600.0

#: Widest view (seconds) of a long clip whose waveform strip is decoded on demand.
WAVEFORM_WINDOW_MAX_S = 60.0

#: Shortest input (seconds) whose encode shows a progress bar in the notebook while it runs.
ENCODE_PROGRESS_MIN_S = 30.0

#: Longest clip (seconds) whose playback audio is sent whole; longer ones go in slices.
PCM_WHOLE_MAX_S = 60.0

#: Seconds of audio in one playback slice of a long clip (decoded on demand from the playhead).
PCM_SLICE_S = 20.0

#: Widget actions the browser may ask for besides the edit operations of :data:`qtok_widgets.ops.OPS`.
_WIDGET_ACTIONS = ("copy", "paste", "paste_source", "undo", "redo", "reset", "restore", "discard_saved")

#: Trait arguments an action message may set before it runs (older front ends send these).
_ACTION_TRAITS = frozenset(
    {"selection", "playhead", "paste_mode", "replace_code", "alpha", "interpolate_target", "duplicate_times"}
)

#: Traits that mirror one toolbar input of one operation: trait -> (operation, field).
_PARAM_TRAITS = {
    "replace_code": ("replace", "code"),
    "alpha": ("interpolate", "alpha"),
    "interpolate_target": ("interpolate", "target"),
    "duplicate_times": ("duplicate_frames", "times"),
}


def _source_name(source: Any) -> str | None:
    """A readable name for a source's journal: the file's stem, when there is a file."""
    if isinstance(source, (str, os.PathLike)) and not str(source).startswith(("http://", "https://")):
        return pathlib.Path(source).stem
    if isinstance(source, Audio) and source.source:
        return pathlib.Path(str(source.source)).stem
    return None


def _layer_list(layers: list[int]) -> str:
    """Layers as short text: "0..3", "0, 2, 5"."""
    if layers == list(range(layers[0], layers[-1] + 1)) and len(layers) > 2:
        return f"{layers[0]}..{layers[-1]}"
    return ", ".join(map(str, layers))


def _encode_progress(duration_s: float) -> tuple[Callable[[int, int], None], Callable[[], None]] | None:
    """A progress bar shown in the notebook while a long input is encoded (only in a kernel).

    Returns ``(report, close)``: ``report(done, total)`` for :meth:`Codec.encode`'s ``progress``,
    ``close()`` to take the bar down; None outside a kernel, where nothing can be shown.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with anywidget
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    import ipywidgets as w
    from IPython.display import display

    bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, description="encoding")
    label = w.HTML(f"{duration_s / 60:.1f} min of audio")
    box = w.HBox([bar, label])
    display(box)
    t0 = time.monotonic()
    shown = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if total <= 0 or (now - shown[0] < 0.25 and done < total):
            return
        shown[0] = now
        bar.value = min(1.0, done / total)
        label.value = f"{bar.value:.0%} of {duration_s / 60:.1f} min of audio, {now - t0:.0f} s"

    return report, box.close


def _toolbar_ops() -> list[type[ops.Op]]:
    """The registered operations the toolbar shows (those that act on a selection)."""
    return [cls for cls in ops.OPS.values() if cls.selection is not None]


def _span(value: Any, n: int, what: str) -> list[int]:
    """A half-open ``[start, stop)`` inside ``0 .. n`` from a pair, slice, range or int.

    Indices are resolved by :func:`~qtok_widgets.selection.resolve_indices`, the resolver the
    session uses; the editor's selection must be contiguous.
    """
    if isinstance(value, (list, tuple)) and len(value) == 2:
        start, stop = value
        if not all(
            v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) for v in value
        ):
            msg = f"{what} bounds must be integers, got {start!r:.20}, {stop!r:.20}"
            raise t.TraitError(msg)
        value = slice(start, stop)
    elif not isinstance(value, (slice, range, int, np.integer)) or isinstance(value, bool):
        msg = f"{what}s must be [start, stop], a slice, a range or an int, got {value!r:.60}"
        raise t.TraitError(msg)
    try:
        idx = resolve_indices(value, n, what)
    except QtokError as exc:
        msg = f"{what} selection: {exc}"
        raise t.TraitError(msg) from None
    start, stop = int(idx[0]), int(idx[-1]) + 1
    if idx.size != stop - start or (idx.size > 1 and np.any(np.diff(idx) != 1)):
        msg = f"a {what} selection must be contiguous (step 1), got {value!r:.60}"
        raise t.TraitError(msg)
    return [start, stop]


class TokenEditor(anywidget.AnyWidget):
    """Editable heatmap of a :class:`CodeGrid` (layers × frames) with playback in the notebook.

    Parameters
    ----------
    source : CodeGrid, Audio, or anything :func:`~qtok_widgets.load_audio` reads
        The codes to edit, or audio to encode with ``codec`` first.
    codec : Codec or str, optional
        The codec that decodes (and, for audio, encodes). Default: for a grid, the codec named by
        its ``codec`` field (an error when that codec is not available); for audio,
        :func:`~qtok_widgets.load_codec`'s default.
    session : EditSession, optional
        Edit an existing session instead (``source`` and ``codec`` are then ignored; pass
        ``source=None``).
    show_waveform : bool, optional
        Draw the waveform strip (default True). Clips up to :data:`WAVEFORM_AUTO_MAX_S`
        seconds get the whole recording's waveform when shown; longer ones get it for the
        visible window only, decoded when the view is zoomed in to at most
        :data:`WAVEFORM_WINDOW_MAX_S` seconds (decoding an hour takes a while).
    journal : bool or path, optional
        Where every edit is written (and flushed to disk) before it counts, so a kernel crash
        loses nothing (:mod:`qtok_widgets.journal`). Default (True): a file named after the
        source in ``.qtok/journals/`` beside the notebook; False: no journal; a path: that file.
        Ignored with ``session=`` (give the session its own journal).
    restore : bool, optional
        What to do with edits an earlier editor of the same source left in its journal:
        True brings them back at once, False discards them, None (default) offers them
        (:attr:`restore_offer`, the Restore button, :meth:`restore`).

    Attributes
    ----------
    session : EditSession
        Holds the grid, the history and the renders; every UI action is one of its operations.

    Examples
    --------
    >>> editor = TokenEditor("speech.wav", codec="builtin")  # doctest: +SKIP
    >>> editor.select(frames=slice(10, 20), layers=slice(8, 16))  # doctest: +SKIP
    >>> editor.mask()  # doctest: +SKIP
    >>> editor.session.to_python()  # doctest: +SKIP
    """

    _esm = _HERE / "editor.js"
    _css = _HERE / "editor.css"

    # ---- grid description (Python -> JS) -------------------------------------------
    n_layers = t.Int(0, help="Number of quantizer layers (rows) of the current grid.").tag(sync=True)
    n_frames = t.Int(0, help="Number of frames (columns) of the current grid.").tag(sync=True)
    frame_rate = t.Float(12.5, help="Frames per second (Hz).").tag(sync=True)
    sample_rate = t.Int(24000, help="Audio samples per second (Hz) of the codec.").tag(sync=True)
    codebook_size = t.Int(2048, help="Number of distinct codes per layer.").tag(sync=True)
    codec_name = t.Unicode("", help="Name of the codec that decodes the grid.").tag(sync=True)
    layer_names = t.List(
        t.Unicode(), help="Row labels, e.g. 'L0 sem' for a semantic layer, 'L1' for a residual one."
    ).tag(sync=True)

    # ---- user state (both ways) -----------------------------------------------------
    selection = t.Dict(
        help=(
            "Selected cells as {'frames': [start, stop], 'layers': [start, stop]} (half-open), "
            "or {} for none. Set from Python with a dict, or use select()."
        )
    ).tag(sync=True)
    playhead = t.Float(0.0, help="Playhead position in seconds; paste inserts here.").tag(sync=True)
    color_mode = t.Enum(
        ["code", "frequency", "embedding", "change"],
        "code",
        help=(
            "Colour cells by code value, by per-layer code frequency, by the code's codebook vector "
            "(embedding: codes that sound alike look alike) or by how far each cell moved from the "
            "original in codebook space (change); the last two need a codec with codebook vectors."
        ),
    ).tag(sync=True)
    replace_code = t.Int(0, help="Code written by the Replace action.").tag(sync=True)
    alpha = t.Float(0.5, help="Interpolation weight toward the target, 0..1.").tag(sync=True)
    interpolate_target = t.Enum(
        ["neighbours", "source"],
        "neighbours",
        help="Interpolate toward the frames' neighbours or toward the loaded second clip.",
    ).tag(sync=True)
    paste_mode = t.Enum(
        ["replace", "insert"], "replace", help="Paste overwrites frames at the playhead or inserts them."
    ).tag(sync=True)
    duplicate_times = t.Int(1, help="How many copies Duplicate inserts after the selection.").tag(sync=True)
    op_params = t.Dict(
        help=(
            "Values of the toolbar inputs, by operation and field: {'replace': {'code': 0}, "
            "'interpolate': {'alpha': 0.5, 'target': 'neighbours'}, 'randomize': {'seed': None}, ...}. "
            "replace_code, alpha, interpolate_target and duplicate_times mirror their entries."
        )
    ).tag(sync=True)
    ab = t.Enum(
        ["edited", "original"], "edited", help="Which version the play button plays (A/B toggle)."
    ).tag(sync=True)
    loop = t.Bool(False, help="Loop the selection while playing.").tag(sync=True)
    listen_layers = t.Any(
        None,
        allow_none=True,
        help=(
            "Layers the play button lets through (a listening view, not an edit: the session is "
            "unchanged): a list, range or int, or None for all. editor.listen_layers = range(4) "
            "plays what the first four layers carry."
        ),
    ).tag(sync=True)

    # ---- feedback (Python -> JS) ----------------------------------------------------
    message = t.Unicode("", help="Message line: the result of the last action, or its error.").tag(sync=True)
    message_kind = t.Enum(["info", "error"], "info", help="Whether the message line is an error.").tag(
        sync=True
    )
    history_labels = t.List(t.Unicode(), help="One short label per applied edit, oldest first.").tag(
        sync=True
    )
    can_undo = t.Bool(False, help="Whether there is an edit to undo.").tag(sync=True)
    can_redo = t.Bool(False, help="Whether there is an undone edit to redo.").tag(sync=True)
    clipboard_info = t.Unicode("", help="Description of the copied cells, empty when none.").tag(sync=True)
    source_info = t.Unicode("", help="Description of the second clip for paste/interpolate.").tag(sync=True)
    source_selection = t.List(
        t.Int(),
        help=(
            "Frames [start, stop) of the second clip that Paste 2nd pastes and interpolation "
            "toward the 2nd clip starts from; [] for all (paste) or the selection's own frames."
        ),
    ).tag(sync=True)
    restore_offer = t.Unicode(
        "", help="Saved edits of this clip that Restore would bring back ('37 edits from 14:02'), or ''."
    ).tag(sync=True)
    picture_id = t.Unicode(
        "", help="Token marking this editor's static picture in the notebook, which a live view hides."
    ).tag(sync=True)
    show_waveform = t.Bool(True, help="Decode and draw the waveform strip under the grid.").tag(sync=True)
    waveform_window_s = t.Float(
        0.0,
        help=(
            "0: the waveform strip shows the whole recording; else the clip is long and the strip "
            "is decoded for the visible window when the view spans at most this many seconds."
        ),
    ).tag(sync=True)
    show_strips = t.Bool(
        False,
        help=(
            "Draw the acoustic strips under the waveform: log-mel spectrogram, pitch of the original and the "
            "edited audio, energy; computed in the kernel. A short clip needs the waveform strip on; a long "
            "one gets an overview of the whole clip and the visible window in detail when zoomed in."
        ),
    ).tag(sync=True)
    spectrogram_view = t.Enum(
        ["edited", "original", "both", "difference"],
        "edited",
        help=(
            "What the spectrogram strip shows: the edited audio, the original (laid under the edited "
            "audio through timing edits), both stacked, or the difference edited minus original in dB."
        ),
    ).tag(sync=True)
    pitch_units = t.Enum(
        ["Hz", "semitones"],
        "semitones",
        help="Axis of the pitch strip: hertz on a linear scale, or semitones relative to 100 Hz.",
    ).tag(sync=True)
    label_tiers = t.Dict(
        help="Labels as the timing edits moved them: tier name -> [[start_s, end_s, text], ...] (read-only)."
    ).tag(sync=True)
    height_px = t.Int(16 * 18, help="Height of the code heatmap in CSS pixels.").tag(sync=True)

    def __init__(
        self,
        source: Any = None,
        codec: Any = None,
        *,
        session: Any = None,
        show_waveform: bool | None = None,
        journal: bool | str | os.PathLike[str] = True,
        restore: bool | None = None,
        labels: Any = None,
        **kwargs: Any,
    ) -> None:
        from ..session import EditSession

        saved: tuple[pathlib.Path, JournalState] | None = None
        if session is None:
            if source is None:
                msg = "TokenEditor needs a source (CodeGrid, Audio, path, ...) or session="
                raise QtokError(msg)
            grid, codec_obj, audio = self._prepare(source, codec)
            session = EditSession(grid, codec_obj, labels=labels)
            saved = self._open_journal(session, journal, restore, _source_name(source))
        else:
            audio = None
        if show_waveform is None:
            show_waveform = True
        defaults = {cls.name: cls.param_defaults() for cls in _toolbar_ops()}
        defaults = {name: values for name, values in defaults.items() if values}
        window = WAVEFORM_WINDOW_MAX_S if session.grid.duration > WAVEFORM_AUTO_MAX_S else 0.0
        super().__init__(
            show_waveform=bool(show_waveform), waveform_window_s=window, op_params=defaults, **kwargs
        )
        self._session = session
        self._input_audio: Audio | None = audio
        self._sent_frames: int | None = None  # frames of the grid last sent to the browser (None: not shown)
        self._orig_packed: np.ndarray | None = None
        self._origin_sent = False
        self._in_action = False
        self._audio_stale = False
        self._audio_span: tuple[int, int] | None = None  # frames edited since the edited audio was last sent
        self._edited_audio: Audio | None = None
        self._original_audio: Audio | None = None
        self._pcm_sent: set[str] = set()  # versions whose whole PCM a view holds (patched after edits)
        self._slices_sent: set[str] = set()  # versions a view holds a slice of (dropped after edits)
        self._listen_cache: tuple[CodeGrid, tuple[int, ...], Audio] | None = None
        self._clipboard: tuple[CodeGrid, list[int], list[int]] | None = None
        self._source_grid: CodeGrid | None = None
        self._palette: tuple[bytes, bytes] | None = None  # embedding colours: RGB uint8, CIELAB int8
        self._strip_feed: Any = None  # the strips sent to the views (_strips.StripFeed), once shown
        self._saved = saved
        self._picture: Any = None  # the DisplayHandle of the static picture, once displayed
        self._picture_sent = 0.0
        self._picture_timer: threading.Timer | None = None
        self.picture_id = secrets.token_hex(8)
        if saved is not None:
            self.restore_offer = f"{saved[1].describe()} were saved for this clip"
            self._say(f"{self.restore_offer}: press Restore to bring them back (editor.restore())")
            log.info("qtok: %s (%s); editor.restore() brings them back", self.restore_offer, saved[0])
        elif session.restored:
            self._say(f"restored {session.restored} journaled edits")
        if labels is not None and session.original_labels is None:
            session.original_labels = labels
        self._describe_grid()
        self._sync_history()
        self._sync_labels()
        self._listener: Callable[[Any, dict[str, Any]], None] = self._on_session_change
        session.on_change(self._listener)
        self.on_msg(self._on_front_end_msg)

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _open_journal(
        session: Any, journal: Any, restore: bool | None, name: str | None
    ) -> tuple[pathlib.Path, JournalState] | None:
        """Open the editor's journal; returns the saved edits to offer, if any."""
        if journal is False or journal is None:
            return None
        if journal is True:
            path = default_journal_path(session.original, name)
            remove_old_journals(path.parent)
        elif isinstance(journal, (str, os.PathLike)):
            path = pathlib.Path(journal)
        else:
            msg = f"journal must be True, False or a file path, got {type(journal).__name__}"
            raise QtokError(msg)
        if restore is not True and path.exists() and path.stat().st_size:
            # take the journal (this also checks no other kernel holds it), then set its edits aside
            probe = Journal(path, session.original)
            state = probe.state
            probe.close()
            if state.events and restore is None:
                kept = path.with_name(path.stem + ".saved.jsonl")
                os.replace(path, kept)
                session.open_journal(path)
                return kept, state
            path.unlink()
        session.open_journal(path)
        return None

    @property
    def journal(self) -> Journal | None:
        """The session's open journal, or None."""
        return self._session.journal

    def restore(self) -> int:
        """Bring back the edits an earlier editor of this source left (see :attr:`restore_offer`).

        They are replayed onto the clip as loaded, as new, undoable edits. Returns how many
        journal events were replayed.

        Raises
        ------
        QtokError
            Nothing to restore, or the grid has been edited since (reset first).
        """
        if self._saved is None:
            msg = "nothing to restore: no earlier edits of this clip were found"
            raise QtokError(msg)
        session = self._session
        if session.grid != session.original:
            msg = "restore replays the saved edits onto the clip as loaded: press Reset first (it can be undone)"
            raise QtokError(msg)
        path, state = self._saved
        session.replay(state)
        self._saved = None
        self.restore_offer = ""
        path.unlink(missing_ok=True)
        self._say(f"restored {state.describe()}")
        return state.n_edits

    def discard_saved(self) -> None:
        """Delete the edits an earlier editor of this source left, without restoring them."""
        if self._saved is not None:
            self._saved[0].unlink(missing_ok=True)
        self._saved = None
        self.restore_offer = ""
        self._say("saved edits discarded")

    @staticmethod
    def _prepare(
        source: Any, codec: Any, progress: Callable[[int, int], None] | None = None
    ) -> tuple[CodeGrid, Any, Audio | None]:
        """The grid, codec and input audio for a source; audio is encoded here.

        An input of :data:`ENCODE_PROGRESS_MIN_S` seconds or more shows a progress bar in the
        notebook while it is encoded (an hour takes minutes); ``progress(done, total)`` is
        called as well, when given.
        """
        from ..codecs import Codec, load_codec

        if isinstance(source, CodeGrid):
            if codec is None:
                # the codec that made the codes; decoding them with another would be noise
                codec = load_codec(source.codec)
            elif not isinstance(codec, Codec):
                codec = load_codec(codec)
            return source, codec, None
        codec = codec if isinstance(codec, Codec) else load_codec(codec)
        audio = source if isinstance(source, Audio) else load_audio(source)
        audio = audio.resample(codec.sample_rate)
        shown = _encode_progress(audio.duration) if audio.duration >= ENCODE_PROGRESS_MIN_S else None

        def report(done: int, total: int) -> None:
            if shown is not None:
                shown[0](done, total)
            if progress is not None:
                progress(done, total)

        try:
            grid = codec.encode(audio, progress=report)
        finally:
            if shown is not None:
                shown[1]()
        return grid, codec, audio

    def _describe_grid(self) -> None:
        grid = self._session.grid
        codec = self._session.codec
        labels = codec.layer_labels() if codec is not None else []
        if len(labels) != grid.n_layers:
            labels = [""] * grid.n_layers
        short = {"semantic": "sem"}
        with self.hold_sync():
            self.n_layers = grid.n_layers
            self.n_frames = grid.n_frames
            self.frame_rate = grid.frame_rate
            self.sample_rate = grid.sample_rate
            self.codebook_size = grid.codebook_size
            self.codec_name = getattr(codec, "name", grid.codec)
            self.layer_names = [f"L{i} {short.get(lab, lab)}".rstrip() for i, lab in enumerate(labels)]

    # ------------------------------------------------------------------ public properties
    @property
    def session(self) -> Any:
        """The :class:`~qtok_widgets.session.EditSession` behind the editor."""
        return self._session

    @property
    def grid(self) -> CodeGrid:
        """The current (edited) grid."""
        return self._session.grid

    @property
    def original(self) -> CodeGrid:
        """The grid the session started from."""
        return self._session.original

    @property
    def audio(self) -> Audio:
        """The edited audio: the session's ``render()`` of the current grid."""
        return self._session.render()

    @property
    def original_audio(self) -> Audio:
        """The input audio when the editor was built from audio, else the decoded original grid."""
        if self._input_audio is not None:
            return self._input_audio
        return self._session.render_original()

    @property
    def source_grid(self) -> CodeGrid | None:
        """The second clip loaded with :meth:`load_source`, or None."""
        return self._source_grid

    # ------------------------------------------------------------------ validation
    @t.observe("color_mode")
    def _color_mode_changed(self, change: dict[str, Any]) -> None:
        if change["new"] not in ("embedding", "change") or not hasattr(self, "_session"):
            return  # (during construction: the first view's hello sends the colours)
        try:
            self._palette_bytes()
        except QtokError as exc:
            self._say(f"colour by {change['new']}: {exc}", error=True)
            self.color_mode = change["old"] if change["old"] not in ("embedding", "change") else "code"
            return
        self._send_palette()

    def _palette_bytes(self) -> tuple[bytes, bytes]:
        """RGB and CIELAB (int8) of every code of every layer (:func:`qtok_widgets.analysis.codebook_lab`), computed once."""
        if getattr(self, "_palette", None) is None:
            from ..analysis import _lab_to_srgb8, codebook_lab
            from ..errors import CodecError

            codec = self._session.codec
            if codec is None or not getattr(codec, "has_embeddings", False):
                name = "no codec" if codec is None else f"codec {codec.name!r}"
                msg = f"{name} has no codebook vectors; use colour by code or frequency"
                raise CodecError(msg)
            size = self._session.grid.codebook_size
            rgb = np.zeros((self._session.grid.n_layers, size, 3), dtype=np.uint8)
            lab = np.zeros((self._session.grid.n_layers, size, 3), dtype=np.int8)
            for layer in range(rgb.shape[0]):
                coords = codebook_lab(codec.codebook(layer))[:size]
                rgb[layer] = _lab_to_srgb8(coords)
                lab[layer] = np.rint(coords)
            self._palette = (rgb.tobytes(), lab.tobytes())
        assert self._palette is not None
        return self._palette

    def _send_palette(self) -> None:
        """Send the embedding colours (message ``palette``) to the views."""
        if getattr(self, "_sent_frames", None) is None:
            return
        grid = self._session.grid
        self.send(
            {"type": "palette", "n_layers": grid.n_layers, "codebook_size": grid.codebook_size},
            list(self._palette_bytes()),
        )

    @t.validate("selection")
    def _validate_selection(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = proposal["value"]
        if not value:
            return {}
        if not isinstance(value, dict) or set(value) - {"frames", "layers"}:
            msg = f"selection must be {{'frames': [start, stop], 'layers': [start, stop]}} or {{}}, got {value!r}"
            raise t.TraitError(msg)
        n_frames, n_layers = self._session_shape()
        return {
            "frames": _span(value.get("frames"), n_frames, "frame"),
            "layers": _span(value.get("layers"), n_layers, "layer"),
        }

    @t.validate("alpha")
    def _validate_alpha(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])  # the Float trait checked the type
        if not 0.0 <= value <= 1.0:
            msg = f"alpha must be in 0..1, got {value}"
            raise t.TraitError(msg)
        return value

    @t.validate("replace_code")
    def _validate_replace_code(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        size = self.codebook_size
        if not 0 <= value < size:
            msg = f"replace_code must be in 0..{size - 1}, got {value}"
            raise t.TraitError(msg)
        return value

    @t.validate("playhead")
    def _validate_playhead(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not np.isfinite(value):
            msg = f"playhead must be a finite number of seconds, got {value}"
            raise t.TraitError(msg)
        duration = self.n_frames / self.frame_rate if self.frame_rate else 0.0
        return min(max(value, 0.0), duration)

    @t.validate("source_selection")
    def _validate_source_selection(self, proposal: dict[str, Any]) -> list[int]:
        value = list(proposal["value"])
        if not value:
            return []
        source = getattr(self, "_source_grid", None)
        if source is None:
            msg = "no second clip loaded: call editor.load_source(other) first"
            raise t.TraitError(msg)
        if len(value) != 2:
            msg = f"source_selection must be [start, stop] frames of the second clip, got {value!r:.60}"
            raise t.TraitError(msg)
        return _span(value, source.n_frames, "second-clip frame")

    @t.validate("listen_layers")
    def _validate_listen_layers(self, proposal: dict[str, Any]) -> list[int] | None:
        value = proposal["value"]
        if value is None:
            return None
        n_layers = self._session_shape()[1]
        try:
            idx = resolve_indices(value, n_layers, "layer")
        except QtokError as exc:
            msg = f"listen_layers: {exc}"
            raise t.TraitError(msg) from None
        if idx.size == 0:
            msg = f"listen_layers needs at least one layer of 0..{n_layers - 1}, or None for all"
            raise t.TraitError(msg)
        layers = sorted({int(i) for i in idx})
        return None if len(layers) == n_layers else layers

    @t.observe("listen_layers")
    def _listen_layers_changed(self, change: dict[str, Any]) -> None:
        self._drop_pcm("edited")
        layers = change["new"]
        if layers is None:
            self._say("playing all layers")
        else:
            self._say(f"playing layers {_layer_list(layers)} only (a listening view: the grid is unchanged)")

    @t.validate("duplicate_times")
    def _validate_duplicate_times(self, proposal: dict[str, Any]) -> int:
        value = int(proposal["value"])
        if value < 1:
            msg = f"duplicate_times must be >= 1, got {value}"
            raise t.TraitError(msg)
        return value

    @t.observe("replace_code", "alpha", "interpolate_target", "duplicate_times")
    def _mirror_trait(self, change: dict[str, Any]) -> None:
        op_name, field = _PARAM_TRAITS[change["name"]]
        current = self.op_params.get(op_name, {})
        if current.get(field) != change["new"]:
            self.op_params = {**self.op_params, op_name: {**current, field: change["new"]}}

    @t.validate("op_params")
    def _validate_op_params(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = proposal["value"]
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in value.items()
        ):
            msg = "op_params must map operation names to dicts of input values"
            raise t.TraitError(msg)
        return value

    @t.observe("op_params")
    def _mirror_params(self, change: dict[str, Any]) -> None:
        for trait, (op_name, field) in _PARAM_TRAITS.items():
            value = change["new"].get(op_name, {}).get(field)
            if value is not None and value != getattr(self, trait):
                try:
                    setattr(self, trait, value)
                except t.TraitError:
                    pass  # an out-of-range value typed in the browser is refused when the action runs

    def _session_shape(self) -> tuple[int, int]:
        session = getattr(self, "_session", None)
        if session is None:
            return self.n_frames, self.n_layers
        return session.grid.n_frames, session.grid.n_layers

    # ------------------------------------------------------------------ selection helpers
    @property
    def labels(self) -> Any:
        """The session's labels as the timing edits have moved them (:attr:`EditSession.labels`), or None."""
        return self._session.labels

    def _sync_labels(self) -> None:
        """Send the current labels to the front end (:attr:`label_tiers`)."""
        labels = self._session.labels
        tiers = {} if labels is None else labels.to_json()["tiers"]
        if tiers != self.label_tiers:
            self.label_tiers = tiers

    def select(
        self,
        frames: Any = None,
        layers: Any = None,
        *,
        seconds: tuple[float, float] | None = None,
        label: str | None = None,
        tier: str | None = None,
        occurrence: int = 0,
    ) -> dict[str, Any]:
        """Select a rectangle of cells (what the mouse does).

        Parameters
        ----------
        frames : slice, range, int, [start, stop] or None
            Frames to select; None means all.
        layers : slice, range, int, [start, stop] or None
            Layers to select; None means all.
        seconds : (float, float), optional
            Select frames by time instead: the frames overlapping ``[t0, t1)``.
        label, tier, occurrence : optional
            Select the frames of a label instead (``label="fox"``: the first "fox" in any tier;
            ``occurrence=1`` the second), as :meth:`EditSession.select` resolves it.

        Returns
        -------
        dict
            The new :attr:`selection`.
        """
        if label is not None:
            if frames is not None or seconds is not None:
                msg = "give one of frames=, seconds= or label="
                raise QtokError(msg)
            picked = self._session.select(label=label, tier=tier, occurrence=occurrence).frames
            frames = [int(picked[0]), int(picked[-1]) + 1]
        elif seconds is not None:
            if frames is not None:
                msg = "give either frames= or seconds=, not both"
                raise QtokError(msg)
            picked = frames_from_seconds(seconds, self._session.grid.n_frames, self._session.grid.frame_rate)
            frames = [int(picked[0]), int(picked[-1]) + 1]
        self.selection = {
            "frames": [None, None] if frames is None else frames,
            "layers": [None, None] if layers is None else layers,
        }
        return self.selection

    def clear_selection(self) -> None:
        """Select nothing."""
        self.selection = {}

    def _selected_rect(self) -> tuple[range, range]:
        """The selection's frames and layers; an error when nothing is selected."""
        frames, layers = self._selected()
        assert frames is not None and layers is not None  # _selected() raised otherwise
        return frames, layers

    def _selected(self, *, need: bool = True) -> tuple[range | None, range | None]:
        sel = self.selection
        if not sel:
            if need:
                msg = "select cells first: drag over the grid, or click a layer label or the time axis"
                raise QtokError(msg)
            return None, None
        return range(*sel["frames"]), range(*sel["layers"])

    @property
    def playhead_frame(self) -> int:
        """The frame starting at or before the playhead (``n_frames`` when it is at the end)."""
        return min(int(np.floor(self.playhead * self.frame_rate + 1e-9)), self.n_frames)

    # ------------------------------------------------------------------ actions
    def apply_op(self, name: str, **params: Any) -> Any:
        """Apply a registered operation to the selection, as its toolbar button does.

        Parameters
        ----------
        name : str
            An operation of :data:`qtok_widgets.ops.OPS` that acts on a selection (``mask``,
            ``replace``, ``randomize``, ``delete_frames``, ...).
        **params
            Toolbar inputs (the operation's fields, e.g. ``code=5``, ``seed=1``); missing ones
            come from :attr:`op_params`.

        Returns
        -------
        CodeGrid or InterpolateResult
            What the session returns for the operation.
        """
        cls = ops.OPS.get(name)
        if cls is None or cls.selection is None:
            known = ", ".join(c.name for c in _toolbar_ops())
            msg = f"unknown toolbar operation {name!r:.40}; known: {known}"
            raise QtokError(msg)
        frames, layers = self._selected()
        values = {**self.op_params.get(name, {}), **params}
        op = cls.from_ui(frames, layers, values, {"source": self._source_grid})
        if isinstance(op, ops.Interpolate) and op.target is not None and self.source_selection:
            op = dataclasses.replace(op, target_start=self.source_selection[0])  # frames picked on the track
        return self._session.apply(op)

    def mask(self) -> None:
        """Mask the selected cells (they decode as absent)."""
        self.apply_op("mask")

    def unmask(self) -> None:
        """Unmask the selected cells."""
        self.apply_op("unmask")

    def replace(self, code: int | None = None) -> None:
        """Write one code into every selected cell (default :attr:`replace_code`)."""
        if code is not None:
            self.replace_code = code
        self.apply_op("replace")

    def randomize(self, seed: int | None = None) -> None:
        """Replace the selected cells with codes drawn from each layer's distribution in this clip."""
        self.apply_op("randomize", seed=seed)

    def interpolate(self, alpha: float | None = None, target: str | CodeGrid | None = None) -> None:
        """Move the selected cells toward a target by ``alpha`` (default :attr:`alpha`).

        Parameters
        ----------
        alpha : float, optional
            0 keeps the codes, 1 takes the target's.
        target : {"neighbours", "source"} or CodeGrid, optional
            Default :attr:`interpolate_target`: the frames' neighbours, or the second clip
            from :meth:`load_source`.
        """
        if alpha is not None:
            self.alpha = alpha
        if isinstance(target, CodeGrid):
            frames, layers = self._selected()
            self._session.interpolate(frames, layers, target=target, alpha=self.alpha)
            return
        if target is not None:
            self.interpolate_target = target
        self.apply_op("interpolate")

    def copy(self) -> None:
        """Copy the selected cells; :meth:`paste` puts them at the playhead."""
        frames, layers = self._selected_rect()
        self._clipboard = (self._session.grid, [frames.start, frames.stop], [layers.start, layers.stop])
        self.clipboard_info = (
            f"copied frames {frames.start}..{frames.stop - 1} × layers {layers.start}..{layers.stop - 1}"
        )
        self._say(self.clipboard_info)

    def paste(self, mode: str | None = None) -> None:
        """Paste the copied cells at the playhead (``mode`` "replace" or "insert", default :attr:`paste_mode`)."""
        if self._clipboard is None:
            msg = "nothing copied: select cells and press Copy (Ctrl+C) first"
            raise QtokError(msg)
        if mode is not None:
            self.paste_mode = mode
        grid, frames, layers = self._clipboard
        self._session.splice(
            grid, range(*frames), self.playhead_frame, layers=range(*layers), mode=self.paste_mode
        )

    def load_source(self, other: Any) -> CodeGrid:
        """Load a second clip (CodeGrid, Audio or a path) to paste from or interpolate toward.

        Audio is encoded with this editor's codec. Returns the second clip's grid.
        """
        if isinstance(other, TokenEditor):
            other = other.grid
        if isinstance(other, CodeGrid):
            grid = other
        else:
            audio = other if isinstance(other, Audio) else load_audio(other)
            grid = self._session.codec.encode(audio.resample(self._session.codec.sample_rate))
        if grid.n_layers != self.n_layers:
            msg = f"second clip has {grid.n_layers} layers, this grid has {self.n_layers}"
            raise QtokError(msg)
        self._source_grid = grid
        self.source_selection = []
        self.source_info = f"second clip: {grid.n_frames} frames ({grid.duration:.2f} s)"
        self._send_source()
        self._say(f"loaded {self.source_info}")
        return grid

    def paste_source(self, frames: Any = None, mode: str | None = None) -> None:
        """Paste frames of the second clip at the playhead, on the selected layers (default all).

        Parameters
        ----------
        frames : slice, range, [start, stop] or None
            Frames of the second clip; default :attr:`source_selection`, or all of it. In
            overwrite mode ("replace") frames that would run past the end of this clip are
            left out.
        mode : {"replace", "insert"}, optional
            Overwrite frames from the playhead or insert before it; default :attr:`paste_mode`.
        """
        source = self._source_grid
        if source is None:
            msg = "no second clip loaded: call editor.load_source(other) first"
            raise QtokError(msg)
        if mode is not None:
            self.paste_mode = mode
        _, layers = self._selected(need=False)
        if frames is None:
            frames = self.source_selection or [0, source.n_frames]
        start, stop = _span(frames, source.n_frames, "second-clip frame")
        dst = self.playhead_frame
        if self.paste_mode == "replace":
            room = self.n_frames - dst
            if room <= 0:
                msg = "the playhead is at the end: nothing to overwrite there; move it back or paste in insert mode"
                raise QtokError(msg)
            stop = min(stop, start + room)
        self._session.splice(source, range(start, stop), dst, layers=layers, mode=self.paste_mode)

    def delete_frames(self) -> None:
        """Delete the selected frames (all layers)."""
        self.apply_op("delete_frames")

    def duplicate_frames(self, times: int | None = None) -> None:
        """Insert ``times`` copies (default :attr:`duplicate_times`) of the selected frames after them."""
        if times is not None:
            self.duplicate_times = times
        self.apply_op("duplicate_frames")

    def undo(self) -> None:
        """Undo the last edit."""
        self._session.undo()

    def redo(self) -> None:
        """Redo the last undone edit."""
        self._session.redo()

    def reset(self) -> None:
        """Back to the original grid (itself undoable)."""
        self._session.reset()

    def run_action(self, name: Any, args: Any = None) -> bool:
        """Run a toolbar action by name, as the browser does; errors go to :attr:`message`.

        Parameters
        ----------
        name : str
            A toolbar operation of :data:`qtok_widgets.ops.OPS` (``mask``, ``unmask``,
            ``replace``, ``interpolate``, ``randomize``, ``delete_frames``,
            ``duplicate_frames``, ...) or a widget action (``copy``, ``paste``,
            ``paste_source``, ``undo``, ``redo``, ``reset``).
        args : dict, optional
            ``params``: the operation's toolbar inputs (``{"code": 5}``); and trait values to
            set first (``selection``, ``playhead``, ``paste_mode``, and the older
            ``replace_code``, ``alpha``, ``interpolate_target``, ``duplicate_times``).

        Returns
        -------
        bool
            True when the action succeeded; False when it was rejected (see :attr:`message`).
        """
        label = str(name)[:40]
        try:
            cls = ops.OPS.get(name) if isinstance(name, str) else None
            if (cls is None or cls.selection is None) and name not in _WIDGET_ACTIONS:
                known = [c.name for c in _toolbar_ops()] + list(_WIDGET_ACTIONS)
                msg = f"unknown action {label!r}; known: {', '.join(known)}"
                raise QtokError(msg)
            if args is None:
                args = {}
            if not isinstance(args, dict):
                msg = f"action arguments must be an object of names to values, got {type(args).__name__}"
                raise QtokError(msg)
            params = args.get("params") or {}
            if not isinstance(params, dict):
                msg = f"action params must be an object of input names to values, got {type(params).__name__}"
                raise QtokError(msg)
            with self.hold_trait_notifications():
                for key, value in args.items():
                    if key == "params":
                        continue
                    if key not in _ACTION_TRAITS:
                        msg = f"unknown argument {str(key)[:40]!r} for {label}"
                        raise QtokError(msg)
                    setattr(self, key, value)
            if cls is not None and cls.selection is not None:
                if params:
                    self.op_params = {
                        **self.op_params,
                        cls.name: {**self.op_params.get(cls.name, {}), **params},
                    }
                self.apply_op(cls.name)
            else:
                getattr(self, name)()
        except (QtokError, t.TraitError) as exc:
            self._say(f"{label}: {exc}", error=True)
            return False
        if name not in ("copy", "restore", "discard_saved"):  # these say what they did
            self._say(self._describe_last(name))
        return True

    # ------------------------------------------------------------------ session events
    def _describe_last(self, name: str) -> str:
        n = len(self.history_labels)
        if name in ("undo", "redo"):
            return f"{name} done ({n} edit{'s' if n != 1 else ''} applied)"
        if self.history_labels:
            return "applied " + self.history_labels[-1]
        return f"{name} done"

    def _on_session_change(self, session: Any, event: dict[str, Any]) -> None:
        self._describe_grid()
        self._sync_history(event)
        if event.get("n_frames_before", self.n_frames) != self._session.grid.n_frames:
            self._sync_labels()  # only timing edits move labels
        sel = self.selection
        if sel and (sel["frames"][1] > self.n_frames):
            start = min(sel["frames"][0], self.n_frames - 1)
            self.selection = (
                {"frames": [start, self.n_frames], "layers": sel["layers"]} if self.n_frames else {}
            )
        if self.playhead > self.n_frames / self.frame_rate:
            self.playhead = self.n_frames / self.frame_rate
        frames = event.get("frames", [])
        before = event.get("n_frames_before", self.n_frames)
        self._send_patch(frames, before)
        if self._strip_feed is not None:
            self._strip_feed.note_change(frames, before)
        if before != self.n_frames:
            self._audio_span = (0, self.n_frames)
        elif frames:
            old = self._audio_span or (frames[0][0], frames[-1][1])
            self._audio_span = (min(old[0], frames[0][0]), max(old[1], frames[-1][1]))
        self._audio_stale = True
        if "edited" in self._slices_sent:  # a slice is not patched: the view asks for it again
            self._slices_sent.discard("edited")
            self.send({"type": "pcm_drop", "which": "edited"})
        self._refresh_picture()
        if not self._in_action:  # an action renders after its acknowledgement
            self._flush_audio()

    def _flush_audio(self) -> None:
        """Re-render and send the edited audio when an edit made it stale and a view shows it."""
        if not self._audio_stale:
            return
        self._audio_stale = False
        if self.waveform_window_s and self._strip_feed is not None and self._session.codec is not None:
            self._strip_feed.flush(self._session.codec.affected_frames)  # a long clip's overview
        whole_strip = self.show_waveform and not self.waveform_window_s
        shown = whole_strip or "edited" in self._pcm_sent  # PCM held by a view is patched too
        if shown and self._sent_frames is not None and self._session.codec is not None:
            self._send_edited_audio()

    def _sync_history(self, event: dict[str, Any] | None = None) -> None:
        """Update the history labels: from the event when there is one (no copy of the history)."""
        labels = list(self.history_labels)
        kind = event.get("kind") if event else None
        if kind == "undo" and labels:
            labels.pop()
        elif kind in ("apply", "redo", "reset") and event is not None:
            labels.append(ops.from_json(event["op"]).label())
        else:
            labels = [op.label() for op in self._session.operations]
        with self.hold_sync():
            self.history_labels = labels
            self.can_undo = bool(self._session.can_undo)
            self.can_redo = bool(self._session.can_redo)

    def _say(self, text: str, *, error: bool = False) -> None:
        with self.hold_sync():
            self.message = text
            self.message_kind = "error" if error else "info"

    # ------------------------------------------------------------------ wire
    def _packed(self, grid: CodeGrid) -> np.ndarray:
        return _wire.pack_codes(grid.codes, grid.mask, grid.codebook_size)

    def _origin(self) -> np.ndarray | None:
        """Original frame of each current frame (int32, -1 = inserted), or None when unchanged."""
        origin = self._session.origin_frames()
        n_orig = self._session.original.n_frames
        if origin.size == n_orig and np.array_equal(origin, np.arange(n_orig)):
            return None
        return origin.astype("<i4")

    def _send_full(self) -> None:
        if self._orig_packed is None:
            self._orig_packed = self._packed(self._session.original)
        cur = self._packed(self._session.grid)
        same = cur.shape == self._orig_packed.shape and np.array_equal(cur, self._orig_packed)
        bits = _wire.cell_bits(self._session.grid.codebook_size)
        buffers = [_wire.encode_cells(self._orig_packed, bits)]
        if not same:
            buffers.append(_wire.encode_cells(cur, bits))
        origin = self._origin()
        if origin is not None:
            buffers.append(origin.tobytes())
        self.send(
            {
                "type": "grid",
                "n_layers": int(cur.shape[0]),
                "n_frames": int(cur.shape[1]),
                "orig_frames": int(self._orig_packed.shape[1]),
                "bits": bits,
                "same": bool(same),
                "origin": origin is not None,
            },
            buffers,
        )
        self._sent_frames = int(cur.shape[1])
        self._origin_sent = origin is not None
        self.send({"type": "ops", "ops": [cls.toolbar_spec(self._session.grid) for cls in _toolbar_ops()]})

    def _send_source(self) -> None:
        """Send the second clip's cells, drawn as a small track under the grid."""
        grid = self._source_grid
        if grid is None or self._sent_frames is None:
            return
        bits = _wire.cell_bits(grid.codebook_size)
        cells = _wire.encode_cells(self._packed(grid), bits)
        self.send(
            {"type": "source", "n_layers": grid.n_layers, "n_frames": grid.n_frames, "bits": bits}, [cells]
        )

    def _send_patch(self, frames: list[tuple[int, int]], n_frames_before: int) -> None:
        """Send the frames an edit changed (runs of the current grid, as the session's event says)."""
        if self._sent_frames is None:  # not displayed yet: the first view asks for everything
            return
        grid = self._session.grid
        prev_frames = self._sent_frames
        self._sent_frames = grid.n_frames
        if not frames and grid.n_frames == n_frames_before:
            return
        start = min(
            [a for a, _ in frames]
            + ([min(n_frames_before, grid.n_frames)] if grid.n_frames != n_frames_before else [])
        )
        stop = grid.n_frames if grid.n_frames != n_frames_before else max(b for _, b in frames)
        start = min(start, stop)
        chunk = _wire.pack_codes(grid.codes[:, start:stop], grid.mask[:, start:stop], grid.codebook_size)
        bits = _wire.cell_bits(self._session.grid.codebook_size)
        buffers = [_wire.encode_cells(chunk, bits)]
        origin = self._origin() if self._origin_sent or grid.n_frames != prev_frames else None
        if origin is not None:
            buffers.append(origin.tobytes())
        self._origin_sent = origin is not None
        self.send(
            {
                "type": "patch",
                "start": start,
                "stop": stop,
                "n_layers": grid.n_layers,
                "n_frames": grid.n_frames,
                "bits": bits,
                # frames of a length change are matched to the original through this map
                "origin": origin is not None,
            },
            buffers,
        )

    def _send_envelope(
        self, which: str, audio: Audio, n_frames: int, start: int = 0, stop: int | None = None
    ) -> None:
        """Send the waveform envelope of frames ``[start, stop)`` (default all) of ``audio``."""
        spf = self._session.grid.samples_per_frame
        stop = n_frames if stop is None else stop
        env = _wire.envelope(audio.samples[start * spf : stop * spf], spf, stop - start)
        self.send(
            {
                "type": "envelope",
                "which": which,
                "n_frames": n_frames,
                "start": start,
                "bins": _wire.ENVELOPE_BINS_PER_FRAME,
            },
            [env.tobytes()],
        )

    def _send_pcm(self, which: str, audio: Audio, start: int = 0, stop: int | None = None) -> None:
        """Send samples ``[start, stop)`` (default all) of ``audio`` as int16 PCM."""
        stop = audio.n_samples if stop is None else stop
        pcm = _wire.pcm16(audio.samples[start:stop])
        self.send(
            {
                "type": "pcm",
                "which": which,
                "sample_rate": audio.sample_rate,
                "n_samples": audio.n_samples,
                "start": start,
            },
            [pcm.tobytes()],
        )
        self._pcm_sent.add(which)

    def _original_for_playback(self) -> Audio:
        if self._original_audio is None:
            audio = self.original_audio
            self._original_audio = audio.resample(self.sample_rate)
        return self._original_audio

    def audition_audio(self, frame: int | None = None, context_s: float = 1.0) -> Audio:
        """One frame in context, as a listener compares it: the original, a short pause, then the edited.

        Parameters
        ----------
        frame : int, optional
            Frame of the current grid (default: the selection's first frame).
        context_s : float
            Seconds of audio before and after the frame (0.1..5).

        Returns
        -------
        Audio
            The original around the frame it came from (for an inserted frame, the kept frame
            before it), 0.25 s of silence, then the edited audio around the frame.
        """
        grid = self._session.grid
        if frame is None:
            frames, _ = self._selected()
            assert frames is not None
            frame = frames[0]
        if (
            isinstance(frame, bool)
            or not isinstance(frame, (int, np.integer))
            or not 0 <= frame < grid.n_frames
        ):
            msg = f"frame {frame!r} is out of range: frames must be in 0..{grid.n_frames - 1}"
            raise QtokError(msg)
        context = float(context_s)
        if not 0.1 <= context <= 5.0:
            msg = f"context_s must be in 0.1..5 s, got {context_s!r}"
            raise QtokError(msg)
        origin = self._session.origin_frames()[: int(frame) + 1]
        kept = origin[origin >= 0]
        orig_frame = int(kept[-1]) if kept.size else 0
        rate, spf = grid.sample_rate, grid.samples_per_frame

        def around(audio: Audio, f: int) -> np.ndarray:
            a = max(0, f * spf - round(context * rate))
            b = min(audio.n_samples, (f + 1) * spf + round(context * rate))
            return audio.samples[a:b]

        pause = np.zeros(round(0.25 * rate), dtype=np.float32)
        edited = self._session.render()
        clip = np.concatenate(
            [around(self._original_for_playback(), orig_frame), pause, around(edited, int(frame))]
        )
        return Audio(clip.astype(np.float32), rate, f"frame {frame} in context: original, then edited")

    def code_audio(self, layer: int | None = None, code: int | None = None, seconds: float = 0.6) -> Audio:
        """What one code carries by itself: ``code`` of ``layer`` repeated, every other layer masked.

        Parameters
        ----------
        layer, code : int, optional
            Default: the layer and the code of the selection's first cell.
        seconds : float
            Length of the sound (0.1..5 s).

        Returns
        -------
        Audio
            The decode of a grid of ``round(seconds * frame_rate)`` frames whose only unmasked
            row is ``layer``, holding ``code`` throughout.
        """
        grid = self._session.grid
        codec = self._session.codec
        if codec is None:
            msg = "hearing a code needs a codec: create the editor with one"
            raise QtokError(msg)
        if layer is None or code is None:
            frames, layers = self._selected()
            assert frames is not None and layers is not None
            layer = layers[0] if layer is None else layer
            code = int(grid.codes[layer, frames[0]]) if code is None else code
        if (
            isinstance(layer, bool)
            or not isinstance(layer, (int, np.integer))
            or not 0 <= layer < grid.n_layers
        ):
            msg = f"layer {layer!r} is out of range: layers must be in 0..{grid.n_layers - 1}"
            raise QtokError(msg)
        if (
            isinstance(code, bool)
            or not isinstance(code, (int, np.integer))
            or not 0 <= code < grid.codebook_size
        ):
            msg = f"code {code!r} is out of range: codes must be in 0..{grid.codebook_size - 1}"
            raise QtokError(msg)
        if not 0.1 <= float(seconds) <= 5.0:
            msg = f"seconds must be in 0.1..5, got {seconds!r}"
            raise QtokError(msg)
        n = max(1, round(float(seconds) * grid.frame_rate))
        codes = np.zeros((grid.n_layers, n), dtype=grid.codes.dtype)
        codes[layer] = code
        mask = np.ones((grid.n_layers, n), dtype=bool)
        mask[layer] = False
        alone = CodeGrid(
            codes,
            codec=grid.codec,
            frame_rate=grid.frame_rate,
            sample_rate=grid.sample_rate,
            codebook_size=grid.codebook_size,
            mask=mask,
        )
        audio = codec.decode(alone)
        return Audio(audio.samples, audio.sample_rate, f"code {code} of layer {layer} alone")

    def playback_audio(self) -> Audio:
        """What the play button plays for B: the edited audio, or with :attr:`listen_layers`
        set, the edited grid decoded with the other layers masked (cached; the session is
        not changed).

        Returns
        -------
        Audio
            float32 samples, shape ``(grid.n_samples,)``, at the codec's sample rate.
        """
        layers = self.listen_layers
        if layers is None:
            return self._session.render()
        grid = self._session.grid
        key = tuple(layers)
        cached = self._listen_cache
        if cached is not None and cached[0] is grid and cached[1] == key:
            return cached[2]
        mask = grid.mask.copy()
        silent = np.ones(grid.n_layers, bool)
        silent[list(key)] = False
        mask[silent] = True
        audio = self._session.codec.decode(grid.replace(mask=mask))
        self._listen_cache = (grid, key, audio)
        return audio

    def _drop_pcm(self, which: str) -> None:
        """Tell the views that the PCM they hold for ``which`` is stale (they ask again on Play)."""
        if which in self._pcm_sent or which in self._slices_sent:
            self._pcm_sent.discard(which)
            self._slices_sent.discard(which)
            if self._sent_frames is not None:
                self.send({"type": "pcm_drop", "which": which})

    def _send_pcm_slice(self, which: str, at_s: float) -> None:
        """Send :data:`PCM_SLICE_S` seconds of playback audio from ``at_s``, decoded for them alone.

        A long recording's audio is never sent (nor decoded) whole for playback: the view asks
        for the slice under the playhead and for the next one before this one runs out.
        """
        if which == "original":
            grid = self._session.original
        else:
            grid = self._session.grid
            if self.listen_layers is not None:
                mask = grid.mask.copy()
                silent = np.ones(grid.n_layers, bool)
                silent[self.listen_layers] = False
                mask[silent] = True
                grid = grid.replace(mask=mask)
        spf = grid.samples_per_frame
        n = grid.n_frames
        fa = min(max(0, int(np.floor(at_s * grid.frame_rate))), max(0, n - 1))
        fb = min(n, fa + int(np.ceil(PCM_SLICE_S * grid.frame_rate)))
        if which == "original" and self._input_audio is not None:
            samples = self._original_for_playback().samples[fa * spf : fb * spf]
        else:
            samples = self._decode_frames(grid, fa, fb)
        n_samples = grid.n_samples
        samples = samples[: max(0, n_samples - fa * spf)]
        self.send(
            {
                "type": "pcm",
                "which": which,
                "sample_rate": grid.sample_rate,
                "n_samples": n_samples,
                "start": fa * spf,
                "slice": True,
            },
            [_wire.pcm16(samples).tobytes()],
        )
        self._slices_sent.add(which)

    def _send_edited_audio(self, *, whole: bool = False) -> None:
        """Render the edited audio and send the part that changed since the last time.

        The envelope and, to views that hold the edited PCM, the samples of the frames the edits
        since the last send changed (and what they reach in the decoder); everything when the
        length changed. ``whole``: the whole envelope in any case (a view that was just opened
        holds none to patch; it asks for its PCM when it plays).
        """
        try:
            audio = self._session.render()
        except Exception as exc:  # runs inside the session's change callback: report, never raise
            log.exception("qtok: rendering the edited audio for the editor failed")
            self._say(f"render: {type(exc).__name__}: {exc}", error=True)
            return
        previous, self._edited_audio = self._edited_audio, audio
        n_frames = self.n_frames
        spf = self._session.grid.samples_per_frame
        span, self._audio_span = self._audio_span, None
        changed: tuple[int, int] | None = (0, n_frames)
        if previous is not None and previous.n_samples == audio.n_samples:
            changed = (
                None if span is None else self._session.codec.affected_frames(span[0], span[1], n_frames)
            )
        if not self.show_waveform or self.waveform_window_s:
            pass  # a long clip's strip is sent per window, when a view asks
        elif whole:
            self._send_envelope("edited", audio, n_frames)
            self._send_strips("edited", audio, n_frames)
        elif changed is not None:
            self._send_envelope("edited", audio, n_frames, *changed)
            self._send_strips("edited", audio, n_frames, *changed)
        if changed is not None and "edited" in self._pcm_sent:
            if self.listen_layers is not None:  # the listening render is stale: views ask again
                self._drop_pcm("edited")
            else:
                start, stop = changed
                self._send_pcm("edited", audio, start * spf, min(stop * spf, audio.n_samples))

    def _on_front_end_msg(self, widget: Any, content: dict[str, Any], buffers: list[Any]) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "hello":
            self._send_full()
            self._send_source()
            if self.color_mode in ("embedding", "change"):
                self._color_mode_changed({"new": self.color_mode, "old": "code"})
            if self.show_waveform and not self.waveform_window_s and self._session.codec is not None:
                self._send_waveforms()
            elif self.show_strips and self.waveform_window_s and self._session.codec is not None:
                self._strips_feed().start()
        elif kind == "strips_window":
            start, stop, px = content.get("start"), content.get("stop"), content.get("px_per_frame")
            if (
                self.show_strips
                and self._strip_feed is not None
                and isinstance(start, int)
                and isinstance(stop, int)
            ):
                span = int(np.ceil(self.waveform_window_s * self.frame_rate)) + 1
                px = float(px) if isinstance(px, (int, float)) and not isinstance(px, bool) else 1.0
                try:
                    self._strip_feed.window(start, min(stop, start + span), px)
                except QtokError as exc:
                    self._say(f"strips: {exc}", error=True)
        elif kind == "audition":
            what = content.get("what")
            try:
                audio = self.code_audio() if what == "code" else self.audition_audio()
            except QtokError as exc:
                self._say(f"hear: {exc}", error=True)
                return
            self.send(
                {
                    "type": "audition",
                    "what": "code" if what == "code" else "context",
                    "sample_rate": audio.sample_rate,
                },
                [_wire.pcm16(audio.samples).tobytes()],
            )
            self._say(audio.source or "")
        elif kind == "action":
            self._in_action = True
            try:
                with self.hold_sync():  # one state message for all the traits the action touched
                    ok = self.run_action(content.get("name"), content.get("args"))
            finally:
                self._in_action = False
            action_id = content.get("id")
            action_id = (
                action_id if isinstance(action_id, (int, str)) and not isinstance(action_id, bool) else None
            )
            self.send({"type": "ack", "id": action_id, "ok": ok, "message": self.message})
            # the grid is repainted and acknowledged; now the slower audio render
            self._flush_audio()
        elif kind == "audio":
            which = content.get("which")
            at = content.get("at")
            grid = self._session.original if which == "original" else self._session.grid
            at_s = float(at) if isinstance(at, (int, float)) and not isinstance(at, bool) else float("nan")
            if np.isfinite(at_s) and grid.duration > PCM_WHOLE_MAX_S:
                try:
                    self._send_pcm_slice("original" if which == "original" else "edited", at_s)
                except QtokError as exc:
                    self._say(f"play: {exc}", error=True)
                return
            try:
                audio = self._original_for_playback() if which == "original" else self.playback_audio()
            except QtokError as exc:
                self._say(f"play: {exc}", error=True)
                return
            if which != "original" and self.listen_layers is None:
                self._edited_audio = audio
            self._send_pcm("original" if which == "original" else "edited", audio)
        elif kind == "waveform":
            start, stop = content.get("start"), content.get("stop")
            if self.waveform_window_s and isinstance(start, int) and isinstance(stop, int):
                try:
                    self._send_waveform_window(start, stop, content.get("which"))
                except QtokError as exc:
                    self._say(f"waveform: {exc}", error=True)
            elif not self.waveform_window_s:
                self._send_waveforms()

    def _decode_frames(self, grid: CodeGrid, start: int, stop: int) -> np.ndarray:
        """Samples of frames ``[start, stop)`` of ``grid``, decoded for them alone (chunk-aligned)."""
        codec = self._session.codec
        if codec is None:
            msg = "the waveform needs a codec to decode the codes"
            raise QtokError(msg)
        chunks = codec.decode_chunks(grid.n_frames)
        a = max((c0 for c0, _ in chunks if c0 <= start), default=0)
        b = min((c1 for _, c1 in chunks if c1 >= stop), default=grid.n_frames)
        spf = grid.samples_per_frame
        return codec.decode_range(grid, a, b)[(start - a) * spf : (stop - a) * spf]

    def _send_waveform_window(self, start: int, stop: int, which: Any = None) -> None:
        """Send the envelopes of frames ``[start, stop)`` of a long clip (marked ``window``).

        The view asks for the frames it shows once it is zoomed in to at most
        :attr:`waveform_window_s` seconds, and again for the edited version after an edit.
        """
        versions = [which] if which in ("original", "edited") else ["original", "edited"]
        for version in versions:
            grid = self._session.original if version == "original" else self._session.grid
            n = grid.n_frames
            fa = min(max(0, start), n)
            fb = min(max(fa, stop), n, fa + int(np.ceil(self.waveform_window_s * grid.frame_rate)) + 1)
            if fb <= fa:
                continue
            samples = self._frames_audio(version, fa, fb).samples
            env = _wire.envelope(samples, grid.samples_per_frame, fb - fa)
            self.send(
                {
                    "type": "envelope",
                    "which": version,
                    "n_frames": n,
                    "start": fa,
                    "bins": _wire.ENVELOPE_BINS_PER_FRAME,
                    "window": True,
                },
                [env.tobytes()],
            )

    def _send_waveforms(self) -> None:
        try:
            original = self._original_for_playback()
            self._send_envelope("original", original, self._session.original.n_frames)
            self._send_strips("original", original, self._session.original.n_frames)
        except QtokError as exc:
            self._say(f"waveform: {exc}", error=True)
            return
        self._send_edited_audio(whole=True)

    @t.observe("show_strips")
    def _show_strips_changed(self, change: dict[str, Any]) -> None:
        if change["new"] and hasattr(self, "_session") and self._sent_frames is not None:
            if self.waveform_window_s:
                if self._session.codec is not None:
                    self._strips_feed().start()
            else:
                self._send_waveforms()

    def _strips_feed(self) -> Any:
        if self._strip_feed is None:
            from ._strips import StripFeed

            self._strip_feed = StripFeed(
                self._session, self.send, self._frames_audio, long=bool(self.waveform_window_s)
            )
        return self._strip_feed

    def _frames_audio(self, version: str, start: int, stop: int) -> Audio:
        """Audio of frames ``[start, stop)`` of ``"original"`` or ``"edited"``: the input's samples
        for the original when there is an input, else decoded for those frames alone."""
        grid = self._session.original if version == "original" else self._session.grid
        spf = grid.samples_per_frame
        if version == "original" and self._input_audio is not None:
            samples = self._original_for_playback().samples[start * spf : stop * spf]
        else:
            samples = self._decode_frames(grid, start, stop)
        return Audio(samples, grid.sample_rate)

    def _send_strips(
        self, which: str, audio: Audio, n_frames: int, start: int = 0, stop: int | None = None
    ) -> None:
        """Send the acoustic strips of frames ``[start, stop)`` (message ``strips``) when they are shown."""
        if not self.show_strips or self._session.codec is None or self._sent_frames is None:
            return
        feed = self._strips_feed()
        if which == "original":
            feed.whole_original(audio)
        else:
            feed.edited(audio, n_frames, start, stop)

    # ------------------------------------------------------------------ statistics
    def figures(self) -> dict[str, Any]:
        """Read-only plotly figures of the current state (see :mod:`qtok_widgets.widgets.stats`).

        Returns
        -------
        dict of str to plotly.graph_objects.Figure
            ``histogram`` (codes per layer), ``entropy`` (entropy and codebook utilisation per
            layer), ``waveform`` and ``spectrogram`` (original against edited).
        """
        from . import stats

        original = self._original_for_playback()
        edited = self._session.render()
        return {
            "histogram": stats.code_histogram(self.grid),
            "entropy": stats.entropy_figure(self.grid, self.original),
            "waveform": stats.waveform_figure(original, edited),
            "spectrogram": stats.spectrogram_figure(original, edited),
        }

    def close(self) -> None:
        """Stop listening to the session and close the widget."""
        session = getattr(self, "_session", None)
        if session is not None:
            session.off_change(self._listener)
        if getattr(self, "_strip_feed", None) is not None:
            self._strip_feed.close()
        super().close()

    # ------------------------------------------------------------------ static picture
    def _ipython_display_(self, **kwargs: Any) -> None:
        """Show the live widget, and beside it a static picture that saved notebooks keep.

        A notebook opened without a kernel (GitHub, nbviewer, a printed handout) cannot show
        the widget; the picture (:func:`qtok_widgets.picture.grid_png`) stands in for it and
        follows every edit. A live view hides it.
        """
        from IPython.display import display

        bundle = self._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)
        self._picture = display(self.picture_bundle(), raw=True, display_id=True)
        self._picture_sent = time.monotonic()

    def picture_bundle(self) -> dict[str, Any]:
        """The static picture as a display bundle: ``text/html`` (an image and a caption),
        ``image/png`` and ``text/plain``."""
        from ..picture import grid_png

        session = self._session
        grid = session.grid
        audio = self._edited_audio
        samples = audio.samples if audio is not None and audio.n_samples == grid.n_samples else None
        png = grid_png(grid, session.diff().any(axis=0), samples)
        data = base64.b64encode(png).decode("ascii")
        n_edits = len(session.history)
        caption = (
            f"TokenEditor: {getattr(session.codec, 'name', grid.codec)}, {grid.n_layers} layers × "
            f"{grid.n_frames} frames ({grid.duration:.2f} s), {grid.n_masked} masked cells, "
            f"{n_edits} edit{'s' if n_edits != 1 else ''}"
        )
        caption = html.escape(caption)  # the codec name comes from the codes file
        markup = (
            f'<figure class="qtok-picture" data-qtok-picture="{self.picture_id}" style="margin:0">'
            f'<img src="data:image/png;base64,{data}" alt="{caption}" style="max-width:100%;'
            f'image-rendering:pixelated"/><figcaption style="font-size:smaller">{caption}</figcaption></figure>'
        )
        return {"text/html": markup, "image/png": data, "text/plain": html.unescape(caption)}

    def _refresh_picture(self) -> None:
        """Update the static picture after an edit: at once, or at most every half second."""
        if self._picture is None:
            return
        wait = 0.5 - (time.monotonic() - self._picture_sent)
        if wait <= 0:
            self._send_picture()
        elif self._picture_timer is None:
            self._picture_timer = threading.Timer(wait, self._send_picture)
            self._picture_timer.daemon = True
            self._picture_timer.start()

    def _send_picture(self) -> None:
        self._picture_timer = None
        self._picture_sent = time.monotonic()
        try:
            self._picture.update(self.picture_bundle(), raw=True)
        except Exception:  # a picture must never break editing
            log.exception("qtok: updating the editor's static picture failed")

    def close_journal(self) -> None:
        """Stop journaling (the journal file stays; an editor of the same source offers its edits)."""
        self._session.close()

    def __repr__(self) -> str:
        return f"TokenEditor({self.grid!r}, edits={len(self._session.history)})"
