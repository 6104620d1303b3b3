"""Read-only statistics of a code grid and its audio, as plotly figures.

Four figures sit beside the editor: :func:`code_histogram` (how often each code occurs, per
layer), :func:`entropy_figure` (per-layer entropy in bits and codebook utilisation, original
against edited), :func:`waveform_figure` and :func:`spectrogram_figure` (original against
edited audio). The numbers behind them come from :mod:`qtok_widgets.stats`
(:func:`layer_entropy` and :func:`codebook_utilisation` are re-exported here for notebooks);
the figures only draw them. plotly is imported when a figure is made.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .. import analysis
from ..audio import Audio
from ..grid import CodeGrid
from ..stats import code_counts, codebook_utilisation, envelope, layer_entropy

__all__ = [
    "code_histogram",
    "codebook_utilisation",
    "entropy_figure",
    "layer_entropy",
    "prosody_figure",
    "spectrogram_figure",
    "waveform_figure",
]


def code_histogram(grid: CodeGrid, layers: list[int] | None = None, *, bins: int = 64) -> Any:
    """Histogram of codes per layer: one row per layer, codes binned into ``bins`` groups.

    Parameters
    ----------
    grid : CodeGrid
        Codes of shape ``(n_layers, n_frames)``.
    layers : list of int, optional
        Layers to show (default all).
    bins : int
        Number of code bins (codes ``0 .. codebook_size - 1`` in equal groups).

    Returns
    -------
    plotly.graph_objects.Figure
        A heatmap of counts, layers × code bins.
    """
    import plotly.graph_objects as go

    layers = list(range(grid.n_layers)) if layers is None else list(layers)
    counts = code_counts(grid)[layers]
    bins = max(1, min(bins, grid.codebook_size))
    edges = np.linspace(0, grid.codebook_size, bins + 1).astype(int)
    binned = np.add.reduceat(counts, edges[:-1], axis=1)
    fig = go.Figure(
        go.Heatmap(
            z=binned,
            x=[f"{a}-{b - 1}" for a, b in itertools.pairwise(edges)],
            y=[f"L{i}" for i in layers],
            colorscale="Viridis",
            colorbar={"title": "count"},
            hovertemplate="layer %{y}<br>codes %{x}<br>count %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Code histogram per layer",
        xaxis_title="code",
        yaxis={"title": "layer", "autorange": "reversed"},
        height=140 + 18 * len(layers),
        margin={"l": 60, "r": 20, "t": 40, "b": 40},
    )
    return fig


def entropy_figure(grid: CodeGrid, original: CodeGrid | None = None) -> Any:
    """Per-layer entropy (bits) and codebook utilisation (%), edited beside original.

    Returns
    -------
    plotly.graph_objects.Figure
        Two panels sharing the layer axis.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("entropy (bits)", "codebook utilisation (%)"))
    series = [("edited", grid, "#1f77b4")]
    if original is not None:
        series.insert(0, ("original", original, "#999999"))
    for name, g, colour in series:
        x = [f"L{i}" for i in range(g.n_layers)]
        fig.add_trace(go.Bar(x=x, y=layer_entropy(g), name=name, marker_color=colour), row=1, col=1)
        fig.add_trace(
            go.Bar(x=x, y=100 * codebook_utilisation(g), name=name, marker_color=colour, showlegend=False),
            row=1,
            col=2,
        )
    fig.add_hline(y=float(np.log2(grid.codebook_size)), line_dash="dot", row=1, col=1)
    fig.update_layout(barmode="group", height=320, margin={"l": 50, "r": 20, "t": 50, "b": 40})
    return fig


def waveform_figure(original: Audio, edited: Audio, *, n_points: int = 2000) -> Any:
    """Original and edited waveforms as min/max envelopes on one time axis.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, audio, colour in (("original", original, "#999999"), ("edited", edited, "#1f77b4")):
        lo, hi = envelope(audio.samples, n_points)
        t = np.linspace(0, audio.duration, lo.shape[0], endpoint=False)
        fig.add_trace(go.Scatter(x=t, y=hi, mode="lines", line={"width": 0.8, "color": colour}, name=name))
        fig.add_trace(
            go.Scatter(
                x=t,
                y=lo,
                mode="lines",
                line={"width": 0.8, "color": colour},
                fill="tonexty",
                name=name,
                showlegend=False,
            )
        )
    fig.update_layout(
        title="Waveform: original vs edited",
        xaxis_title="time (s)",
        yaxis={"title": "amplitude", "range": [-1, 1]},
        height=260,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
    )
    return fig


def spectrogram_figure(original: Audio, edited: Audio, *, max_columns: int = 1500) -> Any:
    """Log-mel spectrograms (dB, :func:`qtok_widgets.analysis.spectrogram`) of original and edited audio, stacked, same colour scale.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=("original", "edited"))
    specs = [_mel(a) for a in (original, edited)]
    top = max(float(s[0].max()) for s in specs)
    for row, (db, freqs, times) in enumerate(specs, start=1):
        step = max(1, db.shape[1] // max_columns)
        fig.add_trace(
            go.Heatmap(
                z=db[:, ::step],
                x=times[::step],
                y=freqs,
                zmin=top - 80,
                zmax=top,
                colorscale="Magma",
                showscale=row == 1,
                colorbar={"title": "dB"},
            ),
            row=row,
            col=1,
        )
        fig.update_yaxes(title_text="Hz", row=row, col=1)
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(
        title="Spectrogram: original vs edited", height=480, margin={"l": 60, "r": 20, "t": 60, "b": 40}
    )
    return fig


def _mel(audio: Audio) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(db, freqs_hz, times_s)`` of :func:`qtok_widgets.analysis.spectrogram`, for a heatmap."""
    times, freqs, db = analysis.spectrogram(audio)
    return db, freqs, times


def prosody_figure(
    original: Audio,
    edited: Audio | None = None,
    labels: Any = None,
    *,
    tier: str | None = None,
    semitones: bool = False,
    max_columns: int = 1500,
) -> Any:
    """Spectrogram, pitch and energy on one time axis, with word labels, original against edited.

    Rows, top to bottom: the log-mel spectrogram of ``edited`` (or ``original`` when there is
    no edit), the pitch curves (:func:`qtok_widgets.analysis.pitch`, unvoiced parts blank) and
    the energy in dB (:func:`qtok_widgets.analysis.energy`) of both. Labels are drawn as
    shaded spans with their text over the pitch row.

    Parameters
    ----------
    original : Audio
    edited : Audio, optional
    labels : Labels or anything :func:`~qtok_widgets.labels.load_labels` reads, optional
    tier : str, optional
        The tier to draw (default: the first).
    semitones : bool
        Pitch in semitones relative to 100 Hz instead of Hz.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from ..labels import load_labels

    fig = make_subplots(
        rows=3, cols=1, shared_xaxes=True, row_heights=[0.45, 0.35, 0.2], vertical_spacing=0.04
    )
    shown = edited if edited is not None else original
    db, freqs, times = _mel(shown)
    step = max(1, db.shape[1] // max_columns)
    fig.add_trace(
        go.Heatmap(
            z=db[:, ::step],
            x=times[::step],
            y=freqs,
            zmin=float(db.max()) - 80,
            zmax=float(db.max()),
            colorscale="Magma",
            showscale=False,
            name="spectrogram",
        ),
        row=1,
        col=1,
    )
    series = [("original", original, "#999999")]
    if edited is not None:
        series.append(("edited", edited, "#1f77b4"))
    for name, audio, colour in series:
        t, f0 = analysis.pitch(audio)
        y = analysis.hz_to_semitones(f0) if semitones else f0
        fig.add_trace(
            go.Scatter(
                x=t, y=y, mode="lines", name=f"pitch, {name}", line={"color": colour}, connectgaps=False
            ),
            row=2,
            col=1,
        )
        t, e = analysis.energy(audio)
        fig.add_trace(
            go.Scatter(x=t, y=e, mode="lines", name=f"energy, {name}", line={"color": colour, "width": 1}),
            row=3,
            col=1,
        )
    if labels is not None:
        for k, (start, end, text) in enumerate(load_labels(labels).tier(tier)):
            fig.add_vrect(
                x0=start,
                x1=end,
                row=2,
                col=1,
                fillcolor="#1f77b4" if k % 2 else "#ff7f0e",
                opacity=0.08,
                line_width=0,
            )
            fig.add_annotation(
                x=(start + end) / 2, y=1.0, yref="y2 domain", text=text, showarrow=False, font={"size": 11}
            )
    fig.update_yaxes(title_text="Hz", row=1, col=1)
    fig.update_yaxes(title_text="semitones re 100 Hz" if semitones else "F0 (Hz)", row=2, col=1)
    fig.update_yaxes(title_text="dB", row=3, col=1)
    fig.update_xaxes(title_text="time (s)", row=3, col=1)
    fig.update_layout(height=560, margin={"l": 60, "r": 20, "t": 30, "b": 40})
    return fig
