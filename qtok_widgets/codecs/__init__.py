"""Codec backends and :func:`load_codec`, the one way to get a codec by name or path.

Backends live one per module (``builtin``, ``qwen``, ``remote``) and are imported only when
asked for, so ``import qtok_widgets`` loads no model and probes no device.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from ..errors import CodecError
from .base import Codec, ProgressCallback

__all__ = [
    "CODEC_NAMES",
    "QWEN_HUB_ID",
    "Codec",
    "ProgressCallback",
    "default_codec_name",
    "is_hub_id",
    "load_codec",
]

log = logging.getLogger("qtok_widgets")

#: The Hugging Face repository of the Qwen 12 Hz tokenizer (read from the local cache only).
QWEN_HUB_ID = "Qwen/Qwen3-TTS-Tokenizer-12Hz"

#: name -> "module:factory"; the factory takes ``device=`` (and ``path=`` for qwen).
_BACKENDS = {
    "builtin": "qtok_widgets.codecs.builtin:BuiltinCodec",
    "qwen": "qtok_widgets.codecs.qwen:QwenCodec",
    "server": "qtok_widgets.codecs.remote:ServerCodec",
}
_ALIASES = {"qwen3": "qwen", "qwen3-12hz": "qwen", QWEN_HUB_ID.lower(): "qwen", "remote": "server"}
CODEC_NAMES = tuple(_BACKENDS)


def _factory(name: str):
    module, attr = _BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), attr)


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


def load_codec(name_or_path: str | os.PathLike[str] | None = None, device: str | None = None) -> Codec:
    """Load a codec by name or local checkpoint path.

    Parameters
    ----------
    name_or_path : str or os.PathLike, optional
        ``"builtin"`` (offline codec shipped in the package), ``"qwen"`` (hub id
        ``Qwen/Qwen3-TTS-Tokenizer-12Hz``, from the local cache only), ``"server"`` (the codec
        held by a running Jupyter server's qtok extension), or a local checkpoint directory.
        With ``None``: :func:`default_codec_name` (``$QTOK_CODEC`` if set, else the Qwen
        checkpoint when it is already available locally, else the built-in codec). The choice
        is logged on one line and kept in the codec's ``load_reason``.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; default CUDA when available (Qwen), CPU otherwise.

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
    key = _ALIASES.get(text.lower(), text.lower())
    if key in _BACKENDS:
        codec = _factory(key)(device=device)
    elif Path(text).expanduser().is_dir():
        codec = _factory("qwen")(path=Path(text).expanduser(), device=device)
    elif is_hub_id(text):
        codec = _factory("qwen")(path=text, device=device)
    else:
        msg = f"unknown codec {text!r}: use one of {', '.join(CODEC_NAMES)} or a local checkpoint directory"
        raise CodecError(msg)
    codec.load_reason = reason
    log.info("qtok: codec %s on %s (%s)", codec.name, codec.device, reason)
    return codec
