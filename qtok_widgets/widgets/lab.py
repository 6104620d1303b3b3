"""CodecLab: the tokenizer's three web modes as one notebook widget.

:class:`CodecLab` has three tabs. *One-click* encodes and decodes an input and shows the original
and reconstructed players, their waveforms (original, reconstructed, overlay; plotly), the codes
shape ``[16, N]``, both durations, the SNR next to phase-blind measures
(:func:`qtok_widgets.metrics.compare`) and the encode/decode times. *Step-by-step encode* shows the
shape, the device and the first and last five codes of every layer, and saves the codes as ``.pt``
(downloaded in the browser, or written to a path in the kernel). *Step-by-step decode* takes an
uploaded ``.pt``/``.npz``/``.json`` codes file and gives a player, the duration and ``output.wav``.
Input comes from an upload, a path or an http(s) URL (anything :func:`~qtok_widgets.load_audio`
reads). Work runs on a background thread with a progress bar, so the widget stays usable; errors
appear in place. "Open in editor" hands the codes to :class:`~qtok_widgets.TokenEditor`. The
codec is any :class:`~qtok_widgets.Codec`, a name for :func:`~qtok_widgets.load_codec` (``"server"``
shares the Jupyter server's copy) or None for the default, loaded on first use.
"""

from __future__ import annotations

import html
import logging
import pathlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import anywidget
import ipywidgets as w
import numpy as np
import traitlets as t

from ..audio import Audio, load_audio
from ..errors import QtokError
from ..grid import CodeGrid
from ..grid_io import CODES_SUFFIXES

__all__ = ["CodecLab"]

log = logging.getLogger("qtok_widgets")

_HERE = pathlib.Path(__file__).parent
_AUDIO_ACCEPT = "audio/*,.wav,.flac,.ogg,.opus,.mp3,.m4a,.aac"
_WAVE_POINTS = 1500
_TICK_S = 0.25


class _Download(anywidget.AnyWidget):
    """Saves bytes sent from Python as a file in the browser (no visible output)."""

    _esm = _HERE / "lab.js"
    downloads = t.Int(0, help="How many files the browser has saved so far.").tag(sync=True)

    def save(self, data: bytes, name: str, mime: str = "application/octet-stream") -> None:
        """Ask every view of this widget to save ``data`` as ``name``."""
        self.send({"type": "download", "name": name, "mime": mime}, buffers=[data])


class CodecLab(w.VBox):
    """Encode, decode and compare speech with a codec: one-click, step-by-step encode and decode.

    Parameters
    ----------
    codec : Codec, str or None
        The codec, a name/path for :func:`~qtok_widgets.load_codec` (``"builtin"``, ``"qwen"``,
        ``"server"``), or None for ``load_codec(None)``. Names are loaded on first use, on the
        background thread.
    source : optional
        Initial input: a path, URL, bytes or :class:`~qtok_widgets.Audio`.

    Examples
    --------
    >>> lab = CodecLab("builtin")                          # doctest: +SKIP
    >>> lab                                                # doctest: +SKIP
    >>> rt = lab.roundtrip("speech.wav").result()          # doctest: +SKIP
    >>> rt.grid.codes.shape, rt.metrics["snr_db"]          # doctest: +SKIP
    """

    busy = t.Bool(False, help="True while an encode or decode runs on the background thread.")
    status = t.Unicode("", help="Last status line (what ran, how long it took), as shown in the widget.")
    error = t.Unicode(
        "", help="Message of the last error, shown in the widget; empty when the last action worked."
    )
    progress = t.Float(0.0, help="Progress of the running action, 0..1.")
    grid = t.Instance(CodeGrid, allow_none=True, help="Codes from the last encode or the loaded codes file.")
    result = t.Any(
        None, allow_none=True, help="The last one-click RoundTrip (grid, reconstruction, timings, metrics)."
    )
    decoded = t.Instance(Audio, allow_none=True, help="Audio from the last step-by-step decode.")
    editor = t.Any(None, allow_none=True, help="The TokenEditor opened with 'Open in editor', if any.")

    def __init__(self, codec: Any = None, source: Any = None, **kwargs: Any) -> None:
        self._codec_spec = codec
        self._codec = codec if _is_codec(codec) else None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qtok-lab")
        self._job: Future | None = None
        self._source: Any = source
        self._source_name = _describe(source) if source is not None else ""
        self._figure: Any = None
        self._build()
        super().__init__(
            children=[self._header, self._tabs, self._footer, self._editor_area, self._download], **kwargs
        )
        self.add_class("qtok-codec-lab")
        self._show_codec()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        btn = dict(layout=w.Layout(width="auto"))
        self._codec_label = w.HTML()
        self._header = w.HBox(
            [w.HTML("<b>qtok codec lab</b>", layout=w.Layout(margin="0 1em 0 0")), self._codec_label]
        )

        # shared audio input (shown in the one-click and encode tabs)
        self._upload = w.FileUpload(accept=_AUDIO_ACCEPT, multiple=False, description="Upload audio")
        self._path = w.Text(
            placeholder="or a path / http(s) URL", continuous_update=False, layout=w.Layout(width="32em")
        )
        self._source_label = w.HTML(self._source_label_html())
        self._upload.observe(self._on_upload, "value")
        self._path.observe(self._on_path, "value")

        # one-click
        self._rt_button = w.Button(description="Encode + decode", button_style="primary", icon="play", **btn)
        self._rt_button.on_click(lambda _: self._click(self.roundtrip, "roundtrip"))
        self._rt_original = w.Audio(format="wav", autoplay=False, loop=False)
        self._rt_reconstructed = w.Audio(format="wav", autoplay=False, loop=False)
        self._rt_original.add_class("qtok-lab-original")
        self._rt_reconstructed.add_class("qtok-lab-reconstructed")
        self._errors = {tab: _error_box() for tab in _TABS}
        self._rt_info = w.HTML()
        self._rt_plot = w.VBox()
        self._rt_players = w.HBox(
            [
                w.VBox([w.HTML("Original"), self._rt_original], layout=w.Layout(margin="0 2em 0 0")),
                w.VBox([w.HTML("Reconstructed"), self._rt_reconstructed]),
            ],
            layout=w.Layout(display="none"),
        )
        roundtrip_tab = w.VBox(
            [
                w.HBox([self._upload, self._path, self._rt_button]),
                self._errors["roundtrip"],
                self._source_label,
                self._rt_players,
                self._rt_info,
                self._rt_plot,
            ]
        )

        # step encode
        self._enc_button = w.Button(description="Encode", button_style="primary", icon="cogs", **btn)
        self._enc_button.on_click(lambda _: self._click(self.encode, "encode"))
        self._enc_info = w.HTML()
        self._enc_preview = w.HTML()
        self._save_button = w.Button(description="Save .pt", icon="download", disabled=True, **btn)
        self._save_button.on_click(lambda _: self._click(self.save_codes, "encode"))
        self._save_path = w.Text(placeholder="or write to a path in the kernel, e.g. codes.pt")
        self._write_button = w.Button(description="Write", icon="save", disabled=True, **btn)
        self._write_button.on_click(
            lambda _: self._click(lambda: self.save_codes(self._save_path.value), "encode")
        )
        self._enc_editor = w.Button(description="Open in editor", icon="edit", disabled=True, **btn)
        self._enc_editor.on_click(lambda _: self._click(self.open_in_editor, "encode"))
        encode_tab = w.VBox(
            [
                w.HBox([self._upload, self._path, self._enc_button]),
                self._errors["encode"],
                self._source_label,
                self._enc_info,
                w.HBox([self._save_button, self._save_path, self._write_button, self._enc_editor]),
                self._enc_preview,
            ]
        )

        # step decode
        self._codes_upload = w.FileUpload(
            accept=",".join(CODES_SUFFIXES), multiple=False, description="Upload codes"
        )
        self._codes_upload.observe(self._on_codes_upload, "value")
        self._dec_button = w.Button(description="Decode", button_style="primary", icon="volume-up", **btn)
        self._dec_button.on_click(lambda _: self._click(self.decode, "decode"))
        self._dec_audio = w.Audio(format="wav", autoplay=False, loop=False, layout=w.Layout(display="none"))
        self._dec_audio.add_class("qtok-lab-decoded")
        self._dec_info = w.HTML()
        self._wav_button = w.Button(description="Download output.wav", icon="download", disabled=True, **btn)
        self._wav_button.on_click(lambda _: self._click(self.download_wav, "decode"))
        self._dec_editor = w.Button(description="Open in editor", icon="edit", disabled=True, **btn)
        self._dec_editor.on_click(lambda _: self._click(self.open_in_editor, "decode"))
        decode_tab = w.VBox(
            [
                w.HBox([self._codes_upload, self._dec_button]),
                self._errors["decode"],
                self._dec_audio,
                self._dec_info,
                w.HBox([self._wav_button, self._dec_editor]),
            ]
        )

        self._tabs = w.Tab(children=[roundtrip_tab, encode_tab, decode_tab])
        for i, title in enumerate(["One-click", "Step encode", "Step decode"]):
            self._tabs.set_title(i, title)

        self._bar = w.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=w.Layout(width="16em", display="none")
        )
        self._status_label = w.HTML()
        self._footer = w.VBox([w.HBox([self._bar, self._status_label])])
        self._editor_area = w.VBox()
        self._download = _Download()
        self._actions = [self._rt_button, self._enc_button, self._dec_button]

    def _source_label_html(self) -> str:
        if not self._source_name:
            return "<i>no input yet: upload a file or type a path or URL</i>"
        return f"input: <code>{html.escape(self._source_name)}</code>"

    def _show_codec(self) -> None:
        if self._codec is not None:
            c = self._codec
            text = f"codec <b>{html.escape(c.name)}</b> on {html.escape(str(c.device))}"
        else:
            spec = "default" if self._codec_spec is None else str(self._codec_spec)
            text = f"codec <b>{html.escape(spec)}</b> (loads on first use)"
        self._codec_label.value = text

    # ------------------------------------------------------------------ inputs
    def _on_upload(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if files:
            item = files[-1]
            self._source = bytes(item["content"])
            self._source_name = f"{item['name']} (uploaded, {item['size'] / 1024:.0f} kB)"
            self._source_label.value = self._source_label_html()
            self._clear("roundtrip", "encode")

    def _on_path(self, change: dict[str, Any]) -> None:
        text = change["new"].strip()
        if text:
            self._source = text
            self._source_name = text
            self._source_label.value = self._source_label_html()
            self._clear("roundtrip", "encode")

    def _on_codes_upload(self, change: dict[str, Any]) -> None:
        files = change["new"]
        if files:
            self._clear("decode")
            self._dec_info.value = f"codes file: <code>{html.escape(files[-1]['name'])}</code>"

    def set_source(self, source: Any) -> None:
        """Use ``source`` (path, URL, bytes or Audio) as the input of the next encode."""
        self._source = source
        self._source_name = _describe(source)
        self._source_label.value = self._source_label_html()

    def _audio(self, source: Any) -> Audio:
        if source is not None:
            self.set_source(source)
        if self._source is None:
            msg = "no input: upload an audio file or type a path or URL first"
            raise QtokError(msg)
        if isinstance(self._source, Audio):
            return self._source
        if isinstance(self._source, (bytes, bytearray)):
            import io

            body = io.BytesIO(bytes(self._source))
            body.name = self._source_name.split(" (uploaded")[0] or "upload"
            return load_audio(body)
        return load_audio(self._source)

    # ------------------------------------------------------------------ background work
    def codec(self) -> Any:
        """The codec, loaded on the first call (blocking)."""
        if self._codec is None:
            from ..codecs import load_codec

            self._codec = load_codec(self._codec_spec)
            self._show_codec()
        return self._codec

    def _click(self, action: Callable[[], Any], tab: str | None = None) -> None:
        """A button press: run ``action``; anything it raises is shown in place, not raised.

        ``tab`` ("roundtrip", "encode" or "decode"): where the error shows, beside the button.
        """
        try:
            action()
        except QtokError as exc:
            self._show_error(str(exc), tab)

    def _clear(self, *tabs: str) -> None:
        """Take down the results shown in ``tabs``: they belong to an input that is gone, or to
        an action that is running again (and may fail)."""
        for tab in tabs:
            self._show_error("", tab)
            if tab == "roundtrip":
                self.result = None
                self._rt_players.layout.display = "none"
                self._rt_original.value = b""
                self._rt_reconstructed.value = b""
                self._rt_info.value = ""
                self._rt_plot.layout.display = "none"
            elif tab == "encode":
                self._enc_info.value = ""
                self._enc_preview.value = ""
                for button in (self._save_button, self._write_button, self._enc_editor):
                    button.disabled = True
            elif tab == "decode":
                self.decoded = None
                self._dec_audio.value = b""
                self._dec_audio.layout.display = "none"
                self._dec_info.value = ""
                self._wav_button.disabled = True
                self._dec_editor.disabled = True

    def _submit(
        self,
        label: str,
        work: Callable[[Callable[[int, int], None]], Any],
        done: Callable[[Any], None],
        tab: str,
    ) -> Future:
        """Run ``work(progress)`` on the background thread, then ``done(result)``; one job at a time.

        The results ``tab`` shows are cleared first, so a failure never leaves the previous
        input's players and numbers beside its error.
        """
        if self._job is not None and not self._job.done():
            msg = "busy: wait for the running action to finish"
            raise QtokError(msg)
        self._clear(tab)
        self.busy = True
        self.progress = 0.0
        for button in self._actions:
            button.disabled = True
        self._bar.value = 0.0
        self._bar.bar_style = "info"
        self._bar.layout.display = "inline-flex"
        t0 = time.perf_counter()
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(_TICK_S):
                self._status_label.value = f"{html.escape(label)}… {time.perf_counter() - t0:.1f} s"

        def report(done_: int, total: int) -> None:
            if total > 0:
                self.progress = min(1.0, max(0.0, done_ / total))
                self._bar.value = self.progress

        def run() -> Any:
            ticker = threading.Thread(target=tick, daemon=True)
            ticker.start()
            try:
                try:
                    result = work(report)
                finally:
                    # the ticker stops before the final status is written, never after
                    stop.set()
                    ticker.join()
                self._bar.value = 1.0
                self.progress = 1.0
                done(result)
                self._bar.bar_style = "success"
                return result
            except Exception as exc:
                self._bar.bar_style = "danger"
                message = str(exc) if isinstance(exc, QtokError) else f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, QtokError):
                    log.exception("CodecLab: %s failed", label)
                self._show_error(f"{label} failed: {message}", tab)
                self._set_status(f"{label} failed after {time.perf_counter() - t0:.1f} s")
                raise
            finally:
                self.busy = False
                for button in self._actions:
                    button.disabled = False
                self._bar.layout.display = "none"

        self._status_label.value = f"{html.escape(label)}…"
        self._job = self._executor.submit(run)
        return self._job

    def wait(self, timeout: float | None = None) -> Any:
        """Block until the running action ends; return its result (or raise its error)."""
        if self._job is None:
            return None
        return self._job.result(timeout)

    def _show_error(self, message: str, tab: str | None = None) -> None:
        """Show ``message`` under the buttons of ``tab`` (default: the tab in view); '' clears it."""
        self.error = message
        box = self._errors[tab if tab in self._errors else _TABS[self._tabs.selected_index or 0]]
        if message:
            box.value = (
                '<div style="color:#cf222e;border:1px solid #cf222e;border-radius:4px;'
                f'padding:2px 8px;background:#ffebe9">{html.escape(message)}</div>'
            )
            box.layout.display = "block"
        else:
            box.value = ""
            box.layout.display = "none"

    def _set_status(self, text: str) -> None:
        self.status = text
        self._status_label.value = html.escape(text)

    # ------------------------------------------------------------------ one-click
    def roundtrip(self, source: Any = None) -> Future:
        """Encode and decode the input, then show players, waveforms and numbers (one-click tab).

        Parameters
        ----------
        source : optional
            Path, URL, bytes or Audio; default: the uploaded file or the typed path/URL.

        Returns
        -------
        concurrent.futures.Future
            Resolves to a :class:`~qtok_widgets.roundtrip.RoundTrip`.
        """
        from ..roundtrip import roundtrip

        def work(progress: Callable[[int, int], None]) -> Any:
            audio = self._audio(source)
            return roundtrip(self.codec(), audio, progress=progress)

        return self._submit("encode + decode", work, self._show_roundtrip, "roundtrip")

    def _show_roundtrip(self, rt: Any) -> None:
        self.result = rt
        self.grid = rt.grid
        self._rt_original.value = rt.original.to_wav_bytes()
        self._rt_reconstructed.value = rt.reconstructed.to_wav_bytes()
        self._rt_players.layout.display = "flex"
        m = rt.metrics
        rows = [
            ("Codes shape", f"[{rt.grid.n_layers}, {rt.grid.n_frames}]"),
            ("Original duration", f"{rt.original.duration:.2f} s at {rt.original.sample_rate} Hz"),
            (
                "Reconstructed duration",
                f"{rt.reconstructed.duration:.2f} s at {rt.reconstructed.sample_rate} Hz "
                f"({rt.grid.n_frames} frames at {rt.grid.frame_rate:g} Hz)",
            ),
            ("Reconstruction SNR", _db(m.get("snr_db")) + _snr_note(self._codec)),
            ("Log-spectral distance", _db(m.get("lsd_db")) + " (ignores phase)"),
            ("Mel-cepstral distortion", _db(m.get("mcd_db")) + " (ignores phase)"),
            ("Encode / decode", f"{_seconds(rt.encode_s)} / {_seconds(rt.decode_s)}"),
        ]
        if m.get("stoi") is not None:
            rows.insert(6, ("STOI", f"{m['stoi']:.3f}"))
        self._rt_info.value = _table(rows)
        self._plot(rt.original, rt.reconstructed)
        self._rt_plot.layout.display = "flex"
        self._show_grid_actions()
        self._set_status(
            f"encode + decode: [{rt.grid.n_layers}, {rt.grid.n_frames}] codes, "
            f"encode {_seconds(rt.encode_s)}, decode {_seconds(rt.decode_s)}, SNR {_db(m.get('snr_db'))}"
        )

    def _plot(self, original: Audio, reconstructed: Audio) -> None:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots

        from ..stats import envelope

        traces = []
        for audio, name, color in (
            (original, "original", "#1f77b4"),
            (reconstructed, "reconstructed", "#ff7f0e"),
        ):
            lo, hi = envelope(audio.samples, _WAVE_POINTS)
            times = np.linspace(0.0, audio.duration, lo.size, endpoint=False)
            # min/max pairs drawn as one zig-zag line: the envelope of the waveform
            x = np.repeat(times, 2)
            y = np.empty(2 * lo.size, np.float32)
            y[0::2], y[1::2] = lo, hi
            traces.append((x, y, name, color))
        if self._figure is None:
            fig = make_subplots(
                rows=3,
                cols=1,
                shared_xaxes=True,
                vertical_spacing=0.06,
                subplot_titles=("Original", "Reconstructed", "Overlay"),
            )
            for row, (x, y, name, color) in enumerate(traces, start=1):
                fig.add_trace(
                    go.Scattergl(x=x, y=y, name=name, line={"color": color, "width": 1}), row=row, col=1
                )
            for x, y, name, color in traces:
                fig.add_trace(
                    go.Scattergl(
                        x=x, y=y, name=f"{name} (overlay)", opacity=0.6, line={"color": color, "width": 1}
                    ),
                    row=3,
                    col=1,
                )
            fig.update_layout(height=420, margin={"l": 40, "r": 10, "t": 30, "b": 30}, showlegend=False)
            fig.update_xaxes(title_text="time (s)", row=3, col=1)
            self._figure = go.FigureWidget(fig)
            self._rt_plot.children = [self._figure]
        else:
            with self._figure.batch_update():
                for i, (x, y, _, _) in enumerate(traces + traces):
                    self._figure.data[i].x = x
                    self._figure.data[i].y = y

    # ------------------------------------------------------------------ step encode
    def encode(self, source: Any = None) -> Future:
        """Encode the input and show shape, device and the first/last codes (encode tab).

        Returns
        -------
        concurrent.futures.Future
            Resolves to the :class:`~qtok_widgets.CodeGrid`.
        """

        def work(progress: Callable[[int, int], None]) -> Any:
            audio = self._audio(source)
            codec = self.codec()
            t0 = time.perf_counter()
            grid = codec.encode(audio, progress=progress)
            return grid, audio, time.perf_counter() - t0, codec.device

        return self._submit("encode", work, self._show_encode, "encode")

    def _show_encode(self, out: tuple[CodeGrid, Audio, float, str]) -> None:
        grid, audio, seconds, device = out
        self.grid = grid
        self._enc_info.value = _table(
            [
                ("Codes shape", f"[{grid.n_layers}, {grid.n_frames}]"),
                ("Device", str(device)),
                ("Duration", f"{audio.duration:.2f} s ({grid.n_frames} frames at {grid.frame_rate:g} Hz)"),
                ("Encode time", _seconds(seconds)),
            ]
        )
        self._enc_preview.value = _preview_table(grid)
        self._show_grid_actions()
        self._set_status(
            f"encode: [{grid.n_layers}, {grid.n_frames}] codes on {device} in {_seconds(seconds)}"
        )

    def _show_grid_actions(self) -> None:
        for button in (self._save_button, self._write_button, self._enc_editor, self._dec_editor):
            button.disabled = False

    def save_codes(self, path: str | pathlib.Path | None = None) -> pathlib.Path | None:
        """Save the current codes as ``.pt``: downloaded in the browser, or written to ``path``.

        Parameters
        ----------
        path : str or Path, optional
            A path in the kernel's filesystem (``.pt``, ``.npz`` or ``.json``). Without it the
            browser downloads ``codes.pt``.

        Returns
        -------
        pathlib.Path or None
            The written path, or None for a browser download.
        """
        grid = self._need_grid()
        if path is None or str(path).strip() == "":
            name = "codes.pt"
            if self._source_name:
                stem = pathlib.PurePath(self._source_name.split(" (uploaded")[0]).stem
                name = f"{stem or 'codes'}.pt"
            self._download.save(grid.to_bytes(".pt"), name)
            self._set_status(f"saved {name} (browser download)")
            return None
        target = pathlib.Path(str(path).strip()).expanduser()
        if target.suffix.lower() not in CODES_SUFFIXES:
            target = target.with_suffix(".pt") if not target.suffix else target
        written = grid.save(target)
        self._set_status(f"wrote {written}")
        return written

    def _need_grid(self) -> CodeGrid:
        if self.grid is None:
            msg = "no codes yet: encode an input or decode a codes file first"
            raise QtokError(msg)
        return self.grid

    # ------------------------------------------------------------------ step decode
    def decode(self, codes: Any = None) -> Future:
        """Decode codes to audio and show a player, the duration and a download (decode tab).

        Parameters
        ----------
        codes : CodeGrid, bytes, str or Path, optional
            Codes to decode; default: the uploaded codes file.

        Returns
        -------
        concurrent.futures.Future
            Resolves to the decoded :class:`~qtok_widgets.Audio` (24 kHz for Qwen).
        """
        grid = self._codes(codes)

        def work(progress: Callable[[int, int], None]) -> Any:
            codec = self.codec()
            t0 = time.perf_counter()
            audio = codec.decode(grid)
            progress(1, 1)
            return grid, audio, time.perf_counter() - t0

        return self._submit("decode", work, self._show_decode, "decode")

    def _codes(self, codes: Any) -> CodeGrid:
        if isinstance(codes, CodeGrid):
            return codes
        if isinstance(codes, (bytes, bytearray)):
            return CodeGrid.from_bytes(bytes(codes), None, source="codes")
        if codes is not None:
            return CodeGrid.load(codes)
        files = self._codes_upload.value
        if not files:
            msg = "no codes: upload a .pt, .npz or .json codes file first"
            raise QtokError(msg)
        item = files[-1]
        suffix = pathlib.PurePath(item["name"]).suffix.lower()
        return CodeGrid.from_bytes(
            bytes(item["content"]), suffix if suffix in CODES_SUFFIXES else None, source=item["name"]
        )

    def _show_decode(self, out: tuple[CodeGrid, Audio, float]) -> None:
        grid, audio, seconds = out
        self.grid = grid
        self.decoded = audio
        self._dec_audio.value = audio.to_wav_bytes()
        self._dec_audio.layout.display = "block"
        self._dec_info.value = _table(
            [
                ("Codes shape", f"[{grid.n_layers}, {grid.n_frames}]"),
                ("Sample rate", f"{audio.sample_rate} Hz"),
                ("Duration", f"{audio.duration:.2f} s"),
                ("Decode time", _seconds(seconds)),
            ]
        )
        self._wav_button.disabled = False
        self._show_grid_actions()
        self._set_status(f"decode: {audio.duration:.2f} s of audio in {_seconds(seconds)}")

    def download_wav(self) -> None:
        """Download the last decoded audio as ``output.wav`` in the browser."""
        if self.decoded is None:
            msg = "nothing decoded yet: decode a codes file first"
            raise QtokError(msg)
        self._download.save(self.decoded.to_wav_bytes(), "output.wav", "audio/wav")
        self._set_status("saved output.wav (browser download)")

    # ------------------------------------------------------------------ editor
    def open_in_editor(self, grid: CodeGrid | None = None) -> Any:
        """Open the current codes in a :class:`~qtok_widgets.TokenEditor` below the lab and return it."""
        from .editor import TokenEditor

        grid = grid if grid is not None else self._need_grid()
        self.editor = TokenEditor(grid, codec=self.codec())
        self._editor_area.children = [self.editor]
        self._set_status(f"opened [{grid.n_layers}, {grid.n_frames}] codes in the editor")
        return self.editor

    def close(self) -> None:
        """Close the widget and its children and stop the background thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        for child in (self._download, self._figure, self.editor):
            if child is not None:
                child.close()
        super().close()


#: The tabs, in order: where each action's results and errors show.
_TABS = ("roundtrip", "encode", "decode")

#: Codecs that resynthesise speech without its phase (waveform SNR says nothing about them).
_PHASE_FREE = frozenset({"builtin"})


def _error_box() -> w.HTML:
    return w.HTML(layout=w.Layout(display="none", margin="2px 0"))


def _snr_note(codec: Any) -> str:
    """What the SNR row adds: for a codec that does not keep phase, that SNR means nothing."""
    keeps = getattr(codec, "keeps_phase", None)
    if keeps is None:
        keeps = getattr(codec, "name", None) not in _PHASE_FREE
    if keeps:
        return " (waveform match)"
    return " (meaningless here: this codec does not keep phase; judge by the measures below)"


def _seconds(value: float) -> str:
    """A duration for people: "1.25 s", "38 ms", "0.4 ms"; never "0.00 s"."""
    if value >= 0.1:
        return f"{value:.2f} s"
    ms = value * 1000
    if ms >= 10:
        return f"{ms:.0f} ms"
    if ms >= 0.1:
        return f"{ms:.1f} ms"
    return "< 0.1 ms"


def _is_codec(value: Any) -> bool:
    from ..codecs.base import Codec

    return isinstance(value, Codec)


def _describe(source: Any) -> str:
    if isinstance(source, Audio):
        return source.source or "audio"
    if isinstance(source, (bytes, bytearray)):
        return f"<{len(source)} bytes>"
    return str(source)


def _db(value: Any) -> str:
    if value is None:
        return "n/a"
    value = float(value)
    if not np.isfinite(value):
        return "∞ dB" if value > 0 else "n/a"
    return f"{value:.1f} dB"


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><td style="color:#59636e;padding-right:1em">{html.escape(k)}</td><td>{html.escape(v)}</td></tr>'
        for k, v in rows
    )
    return f'<table class="qtok-lab-info">{body}</table>'


def _preview_table(grid: CodeGrid, n: int = 5) -> str:
    from ..stats import code_preview

    preview = code_preview(grid, n)
    head = "<tr><th>layer</th><th>first 5 codes</th><th></th><th>last 5 codes</th></tr>"
    rows = "".join(
        f"<tr><td>{i}</td><td>{', '.join(map(str, first))}</td><td>{'…' if grid.n_frames > 2 * n else ''}</td>"
        f"<td>{', '.join(map(str, last))}</td></tr>"
        for i, (first, last) in enumerate(zip(preview["first"], preview["last"], strict=True))
    )
    return f'<table class="qtok-lab-codes" style="font-family:monospace">{head}{rows}</table>'
