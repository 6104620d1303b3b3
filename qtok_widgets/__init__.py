"""qtok_widgets: a Jupyter-native editor for the discrete tokens of neural speech codecs.

The public API is small::

    from qtok_widgets import load_audio, load_codec, CodeGrid, EditSession, TokenEditor, CodecLab  # noqa: F401

    audio = load_audio("speech.wav")          # Audio: mono float32
    codec = load_codec("builtin")             # or "qwen", or a checkpoint directory
    grid = codec.encode(audio)                # CodeGrid: 16 layers x N frames at 12.5 Hz
    session = EditSession(grid, codec)        # mask / splice / interpolate / replace, undo
    TokenEditor(grid, codec)                  # the editable heatmap with A/B playback

Names are resolved lazily, so importing the package loads no model, no widget
framework and probes no device.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Audio": "qtok_widgets.audio",
    "load_audio": "qtok_widgets.audio",
    "CodeGrid": "qtok_widgets.grid",
    "Codec": "qtok_widgets.codecs",
    "load_codec": "qtok_widgets.codecs",
    "EditSession": "qtok_widgets.session",
    "TokenEditor": "qtok_widgets.widgets.editor",
    "CodecLab": "qtok_widgets.widgets.lab",
    "Corpus": "qtok_widgets.corpus",
    "CorpusExplorer": "qtok_widgets.widgets.corpus",
    "QtokError": "qtok_widgets.errors",
    "Labels": "qtok_widgets.labels",
    "load_labels": "qtok_widgets.labels",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:  # pragma: no cover
    from .audio import Audio, load_audio  # noqa: F401
    from .codecs import Codec, load_codec  # noqa: F401
    from .corpus import Corpus  # noqa: F401
    from .errors import QtokError  # noqa: F401
    from .grid import CodeGrid  # noqa: F401
    from .labels import Labels, load_labels  # noqa: F401
    from .session import EditSession  # noqa: F401
    from .widgets.corpus import CorpusExplorer  # noqa: F401
    from .widgets.editor import TokenEditor  # noqa: F401
    from .widgets.lab import CodecLab  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if name == "analysis":  # the analysis functions, as qt.analysis.pitch(...)
        return importlib.import_module("qtok_widgets.analysis")
    if module is None:
        msg = f"module 'qtok_widgets' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Entry point Jupyter Server uses to find the qtok extension (see ``jupyter-config/``)."""
    return [{"module": "qtok_widgets.server"}]
