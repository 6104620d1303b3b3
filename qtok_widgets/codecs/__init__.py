"""Codec backends and :func:`load_codec`, the one way to get a codec by name or path.

Backends live one per module (``builtin``, ``qwen``, ``remote``, ``hf`` for the codecs of
``transformers``) and are imported only when asked for, so ``import qtok_widgets`` loads no
model and probes no device. Other packages add backends through the entry-point group
``qtok_widgets.codecs`` (see :func:`backends` and docs/codecs.md); nothing of theirs is
imported until a backend is asked for by name or a checkpoint's ``model_type`` is not one of
ours.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CodecError
from .base import Codec, ProgressCallback

__all__ = [
    "CODEC_NAMES",
    "ENTRY_POINT_GROUP",
    "QWEN_HUB_ID",
    "Backend",
    "Codec",
    "ProgressCallback",
    "backends",
    "cached_models",
    "default_codec_name",
    "is_hub_id",
    "load_codec",
]

log = logging.getLogger("qtok_widgets")

#: The Hugging Face repository of the Qwen 12 Hz tokenizer (read from the local cache only).
QWEN_HUB_ID = "Qwen/Qwen3-TTS-Tokenizer-12Hz"

#: Entry-point group through which other packages add backends (``name = "module:factory"``).
ENTRY_POINT_GROUP = "qtok_widgets.codecs"

#: name -> "module:factory"; the factory takes ``device=`` (and ``path=`` for qwen and the
#: transformers codecs, which also take ``n_layers=``).
_BACKENDS = {
    "builtin": "qtok_widgets.codecs.builtin:BuiltinCodec",
    "qwen": "qtok_widgets.codecs.qwen:QwenCodec",
    "server": "qtok_widgets.codecs.remote:ServerCodec",
    "mimi": "qtok_widgets.codecs.hf:MimiCodec",
    "encodec": "qtok_widgets.codecs.hf:EncodecCodec",
    "dac": "qtok_widgets.codecs.hf:DacCodec",
    "xcodec": "qtok_widgets.codecs.hf:XcodecCodec",
}
#: config.json ``model_type`` -> backend name, for the backends above.
_MODEL_TYPES = {
    "qwen3_tts_tokenizer_12hz": "qwen",
    "mimi": "mimi",
    "encodec": "encodec",
    "dac": "dac",
    "xcodec": "xcodec",
}
_ALIASES = {
    "qwen3": "qwen",
    "qwen3-12hz": "qwen",
    QWEN_HUB_ID.lower(): "qwen",
    "remote": "server",
    "x-codec": "xcodec",
    "kyutai/mimi": "mimi",
    "facebook/encodec_24khz": "encodec",
}
CODEC_NAMES = tuple(_BACKENDS)
#: grid codec names -> the hub id whose grids carry that name, so that ``qtok decode`` finds
#: the codec a codes file names (looked up in the local cache only).
_GRID_NAMES = {
    "encodec-24khz": "facebook/encodec_24khz",
    "dac-16khz": "descript/dac_16khz",
    "dac-24khz": "descript/dac_24khz",
    "dac-44.1khz": "descript/dac_44khz",
}


@dataclass(frozen=True)
class Backend:
    """One codec backend: where its factory lives and which checkpoints it opens.

    Attributes
    ----------
    name : str
        What :func:`load_codec` accepts (``"mimi"``).
    target : str
        ``"module:attribute"`` of the factory (a :class:`Codec` subclass or a function) called
        as ``factory(path=..., device=..., **options)``, or ``factory(device=...)`` for a name alone.
    source : str
        ``"qtok_widgets"`` for the built-in ones, else the distribution that registered it.
    """

    name: str
    target: str
    source: str

    def load(self) -> Any:
        """Import and return the factory (this runs the backend's module)."""
        module, _, attr = self.target.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            msg = f"codec backend {self.name!r} from {self.source} cannot be imported ({exc})"
            raise CodecError(msg) from None
        return obj


def backends() -> dict[str, Backend]:
    """Every backend: the built-in ones, then those of the ``qtok_widgets.codecs`` entry points.

    Nothing is imported. A registered name that repeats a built-in one is ignored (the
    built-in wins), so no package can replace the codecs of this one.
    """
    out = {name: Backend(name, target, "qtok_widgets") for name, target in _BACKENDS.items()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        key = ep.name.lower()
        if key in out:
            continue
        dist = getattr(ep, "dist", None)
        out[key] = Backend(key, ep.value, getattr(dist, "name", None) or "an entry point")
    return out


def _factory(name: str) -> Any:
    return backends()[name].load()


def _model_type(folder: Path) -> str | None:
    try:
        value = json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _backend_for_folder(folder: Path) -> str:
    """Backend that opens a checkpoint folder, by its ``config.json`` ``model_type``.

    Qwen3-TTS model folders (tokenizer in ``speech_tokenizer/``) and folders without a
    ``model_type`` go to the Qwen backend, which says what it expected. Unknown model types
    are offered to registered backends that declare them in ``model_types``.
    """
    model_type = _model_type(folder)
    if model_type is None or model_type in _MODEL_TYPES:
        return _MODEL_TYPES.get(model_type or "", "qwen")
    for name, backend in backends().items():
        if backend.source == "qtok_widgets":
            continue
        if model_type in tuple(getattr(backend.load(), "model_types", ())):
            return name
    known = sorted(set(_MODEL_TYPES))
    msg = (
        f"{folder / 'config.json'}: no codec backend for model_type {model_type!r}; known: {', '.join(known)}"
    )
    raise CodecError(msg)


def cached_models() -> list[dict[str, object]]:
    """Checkpoints usable offline: the built-in codec and every known hub id in the local cache.

    Reads ``config.json`` files only; no model is loaded and nothing is downloaded.

    Returns
    -------
    list of dict
        One per model: ``backend``, ``model`` (hub id or ``"built in"``), ``path``, and the
        ``codec`` name, ``sample_rate`` (Hz), ``frame_rate`` (Hz), ``n_layers`` and
        ``codebook_size`` its grids will have.
    """
    from . import hf

    rows: list[dict[str, object]] = [
        {
            "backend": "builtin",
            "model": "built in",
            "path": "",
            "codec": "builtin",
            "sample_rate": 24000,
            "frame_rate": 12.5,
            "n_layers": 16,
            "codebook_size": 2048,
        },
    ]
    from .qwen import find_local_checkpoint

    qwen = find_local_checkpoint()
    if qwen is not None:
        rows.append(
            {
                "backend": "qwen",
                "model": QWEN_HUB_ID,
                "path": str(qwen),
                "codec": "qwen3-12hz",
                "sample_rate": 24000,
                "frame_rate": 12.5,
                "n_layers": 16,
                "codebook_size": 2048,
            }
        )
    for name, backend in backends().items():
        if name in ("builtin", "qwen", "server"):
            continue
        factory = backend.load() if backend.source == "qtok_widgets" else _try_load(backend)
        hub_ids = tuple(getattr(factory, "hub_ids", ()))
        describe = getattr(factory, "describe_config", None)
        for repo_id, folder in hf.cached_hub_ids(hub_ids):
            row: dict[str, object] = {"backend": name, "model": repo_id, "path": str(folder)}
            if callable(describe):
                try:
                    row.update(describe(json.loads((folder / "config.json").read_text())))
                except (OSError, ValueError, TypeError, KeyError):
                    row["codec"] = "(config.json not readable)"
            rows.append(row)
    return rows


def _try_load(backend: Backend) -> Any:
    try:
        return backend.load()
    except CodecError as exc:
        log.warning("qtok: %s", exc)
        return None


def is_hub_id(text: str) -> bool:
    """Whether ``text`` names a Hugging Face repository (``owner/name``) rather than a local path.

    One slash, not starting with ``.``, ``/`` or ``~``, and nothing of that name on disk.
    """
    return (
        text.count("/") == 1 and not text.startswith((".", "/", "~")) and not Path(text).expanduser().exists()
    )


def default_codec_name(*, use_env: bool = True) -> tuple[str, str]:
    """The codec :func:`load_codec` picks when given no name, and why.

    ``$QTOK_CODEC`` when set (and ``use_env``), else the Qwen checkpoint when it is already in
    the local Hugging Face cache, else the built-in codec. Nothing is loaded or downloaded.

    Parameters
    ----------
    use_env : bool
        Honour ``$QTOK_CODEC``. A Jupyter server whose ``$QTOK_CODEC`` is ``server`` (meant for
        its kernels) passes False to follow the rest of the rule.

    Returns
    -------
    name_or_path : str
        What to pass to :func:`load_codec`: a codec name or a checkpoint directory.
    reason : str
        One line for logs, kept as the codec's ``load_reason``.
    """
    if use_env:
        env = os.environ.get("QTOK_CODEC")
        if env:
            return env, "from $QTOK_CODEC"
    from .qwen import find_local_checkpoint

    local = find_local_checkpoint()
    if local is not None:
        return str(local), "Qwen checkpoint found locally"
    return "builtin", "no Qwen checkpoint available locally; using the built-in codec"


def load_codec(
    name_or_path: str | os.PathLike[str] | None = None,
    device: str | None = None,
    *,
    n_layers: int | None = None,
) -> Codec:
    """Load a codec by name or local checkpoint path.

    Parameters
    ----------
    name_or_path : str or os.PathLike, optional
        ``"builtin"`` (offline codec shipped in the package), ``"qwen"`` (hub id
        ``Qwen/Qwen3-TTS-Tokenizer-12Hz``, from the local cache only), ``"server"`` (the codec
        held by a running Jupyter server's qtok extension), ``"mimi"``, ``"encodec"``,
        ``"dac"``, ``"xcodec"`` (their usual hub ids, from the local cache only), the name of a
        backend registered in the ``qtok_widgets.codecs`` entry-point group, a local checkpoint
        directory (its ``config.json`` ``model_type`` picks the backend) or a hub id in the
        local cache.
        With ``None``: :func:`default_codec_name` (``$QTOK_CODEC`` if set, else the Qwen
        checkpoint when it is already available locally, else the built-in codec). The choice
        is logged on one line and kept in the codec's ``load_reason``.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available (Qwen), CPU otherwise.
    n_layers : int, optional
        Quantizer layers to use, for codecs that can run with fewer (EnCodec and X-Codec
        bandwidths, DAC, Mimi); the error lists the choices. A codec with a fixed number of
        layers (built-in, Qwen) takes only that number. Default: all.

    Returns
    -------
    Codec

    Raises
    ------
    CodecError
        Unknown name (the message lists the valid ones) or a checkpoint that is not available.
    """
    if isinstance(name_or_path, Codec):
        return name_or_path
    reason = "asked for"
    if name_or_path is None:
        name_or_path, reason = default_codec_name()
    text = os.fspath(name_or_path)
    text = _GRID_NAMES.get(text.lower(), text)
    key = _ALIASES.get(text.lower(), text.lower())
    options: dict[str, Any] = {} if n_layers is None else {"n_layers": n_layers}
    known = backends()
    path: Path | str | None = None
    if key in known:
        factory = known[key].load()
    elif Path(text).expanduser().is_dir():
        path = Path(text).expanduser()
        factory = _factory(_backend_for_folder(path))
    elif is_hub_id(text):
        from .hf import _cached_folder

        folder = _cached_folder(text)
        path = text
        factory = _factory("qwen" if folder is None else _backend_for_folder(folder))
    else:
        msg = f"unknown codec {text!r}: use one of {', '.join(known)} or a local checkpoint directory"
        raise CodecError(msg)
    try:
        codec = (
            factory(device=device, **options)
            if path is None
            else factory(path=path, device=device, **options)
        )
    except TypeError as exc:
        if not (options and "n_layers" in str(exc)):
            raise
        # a backend without the option: its own count is the one valid choice
        codec = factory(device=device) if path is None else factory(path=path, device=device)
        if codec.n_layers != n_layers:
            msg = f"codec {text!r} has a fixed number of layers ({codec.n_layers}): n_layers must be {codec.n_layers}, got {n_layers!r}"
            raise CodecError(msg) from None
    codec.load_reason = reason
    log.info("qtok: codec %s on %s (%s)", codec.name, codec.device, reason)
    return codec
