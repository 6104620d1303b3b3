"""CorpusExplorer: pick a code from a layer's usage chart, hear it in context, open one in the editor.

:class:`CorpusExplorer` shows, for the chosen layer, a plotly bar chart of the most used codes
of a :class:`~qtok_widgets.Corpus` (counts from DuckDB over its Parquet shards). Clicking a bar,
or typing a code and pressing *Contexts*, lists random occurrences of that code as audio
players (:meth:`Corpus.concordance <qtok_widgets.corpus.Corpus.concordance>`: cut from the source
recordings, or decoded from the codes when a source is gone), each with an *Open in editor*
button that shows the utterance in a :class:`~qtok_widgets.TokenEditor` below. Everything the
buttons do is also a method (:meth:`CorpusExplorer.select`, :meth:`CorpusExplorer.open_context`).
"""

from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as w
import numpy as np

from ..errors import QtokError

__all__ = ["CorpusExplorer"]


class CorpusExplorer(w.VBox):
    """Browse a corpus by code: usage chart, contexts as players, one click to the editor.

    Parameters
    ----------
    corpus : Corpus or str or os.PathLike
        A :class:`~qtok_widgets.Corpus` or its folder.
    codec : Codec or str, optional
        For the editor (and decoded snippets); default the corpus's codec.
    n_bars : int
        How many of the layer's most used codes the chart shows.
    n_contexts : int
        Occurrences listed per code.
    context_s : float
        Seconds of audio on each side of the code's frame.
    """

    def __init__(
        self,
        corpus: Any,
        codec: Any = None,
        *,
        n_bars: int = 60,
        n_contexts: int = 8,
        context_s: float = 1.0,
        **kwargs: Any,
    ) -> None:
        from ..corpus import Corpus

        super().__init__(**kwargs)
        self.corpus = corpus if isinstance(corpus, Corpus) else Corpus(os.fspath(corpus))
        self._codec = codec
        self.n_bars = int(n_bars)
        self.n_contexts = int(n_contexts)
        self.context_s = float(context_s)
        self.counts = self.corpus.code_counts()  # (n_layers, codebook_size)
        self.snippets: list[Any] = []
        self.editor: Any = None
        n_layers, size = self.counts.shape
        self.layer = w.Dropdown(options=list(range(n_layers)), value=0, description="layer")
        self.code = w.BoundedIntText(value=0, min=0, max=size - 1, description="code")
        self.show = w.Button(description="Contexts", tooltip="hear random occurrences of this code")
        self.status = w.HTML()
        self.contexts = w.VBox()
        self.editor_box = w.VBox()
        self.figure = self._figure()
        self.layer.observe(lambda _: self._redraw(), names="value")
        self.show.on_click(lambda _: self._safe(lambda: self.select(self.layer.value, self.code.value)))
        self.children = [
            w.HTML(html.escape(repr(self.corpus))),
            w.HBox([self.layer, self.code, self.show]),
            self.figure,
            self.status,
            self.contexts,
            self.editor_box,
        ]
        self.add_class("qtok-corpus-explorer")

    # ------------------------------------------------------------------ chart
    def top_codes(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n_bars`` most used codes of ``layer`` and their counts, most used first."""
        counts = self.counts[layer]
        order = np.argsort(-counts, kind="stable")[: self.n_bars]
        order = order[counts[order] > 0]
        return order, counts[order]

    def _figure(self) -> Any:
        import plotly.graph_objects as go

        codes, counts = self.top_codes(0)
        fig = go.FigureWidget(
            data=[go.Bar(x=[str(c) for c in codes], y=counts.tolist(), marker_color="#4c78a8")],
            layout={
                "height": 260,
                "margin": {"l": 50, "r": 10, "t": 30, "b": 40},
                "title": {"text": "layer 0: most used codes (click one)", "font": {"size": 13}},
                "xaxis": {"type": "category", "title": "code"},
                "yaxis": {"title": "frames"},
            },
        )
        fig.data[0].on_click(self._on_bar)
        return fig

    def _redraw(self) -> None:
        codes, counts = self.top_codes(self.layer.value)
        with self.figure.batch_update():
            self.figure.data[0].x = [str(c) for c in codes]
            self.figure.data[0].y = counts.tolist()
            self.figure.layout.title.text = f"layer {self.layer.value}: most used codes (click one)"

    def _on_bar(self, trace: Any, points: Any, state: Any) -> None:
        if points.xs:
            self._safe(lambda: self.select(self.layer.value, int(points.xs[0])))

    # ------------------------------------------------------------------ actions
    def _safe(self, action: Any) -> None:
        try:
            action()
        except QtokError as exc:
            self.status.value = f"<span style='color:#b00'>{html.escape(str(exc))}</span>"

    def select(self, layer: int, code: int) -> list[Any]:
        """Show random contexts of ``code`` in ``layer`` as players; returns the snippets."""
        self.layer.value = int(layer)
        self.code.value = int(code)
        self.snippets = self.corpus.concordance(layer, code, n=self.n_contexts, context_s=self.context_s)
        total = int(self.counts[layer, code])
        self.status.value = html.escape(
            f"layer {layer}, code {code}: {total} frames in the corpus; {len(self.snippets)} contexts"
        )
        rows = []
        for i, s in enumerate(self.snippets):
            label = w.HTML(
                html.escape(f"{s.id}  frame {s.frame} ({s.start_s + s.frame_s:.2f} s)  [{s.origin}]"),
                layout={"width": "340px"},
            )
            player = w.Audio(value=s.audio.to_wav_bytes(), format="wav", autoplay=False, loop=False)
            button = w.Button(description="Open in editor", layout={"width": "130px"})
            button.on_click(lambda _, i=i: self._safe(lambda: self.open_context(i)))
            rows.append(w.HBox([label, player, button]))
        self.contexts.children = rows
        return self.snippets

    def open_context(self, index: int) -> Any:
        """Open the utterance of context ``index`` in a :class:`~qtok_widgets.TokenEditor` below."""
        from .editor import TokenEditor

        if not 0 <= int(index) < len(self.snippets):
            msg = f"context {index} does not exist: choose one in 0..{len(self.snippets) - 1}"
            raise QtokError(msg)
        snippet = self.snippets[int(index)]
        codec = self._codec if self._codec is not None else self.corpus.codec
        self.editor = TokenEditor(self.corpus.grid(snippet.id), codec)
        self.editor_box.children = [w.HTML(html.escape(f"editing {snippet.id}")), self.editor]
        return self.editor
