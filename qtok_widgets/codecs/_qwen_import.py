"""Import the qwen-tts 12 Hz tokenizer modules without the rest of the qwen-tts package.

``import qwen_tts`` runs ``qwen_tts/__init__.py``, which imports the TTS model and the 25 Hz
tokenizer and through them torchaudio, sox and onnxruntime. The 12 Hz tokenizer needs none of
these, and the torchaudio wheel on PyPI pins a torch build other than ours. When the normal
import fails for that reason, :func:`import_tokenizer_12hz` registers light package modules
for ``qwen_tts`` and ``qwen_tts.core`` (pointing at the installed source, so submodules resolve)
and imports ``qwen_tts.core.tokenizer_12hz`` directly. When qwen-tts imports normally (a full
install), the real package is used unchanged.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import importlib.util
import io
import sys
import types
from pathlib import Path
from typing import Any

from ..errors import CodecError

__all__ = ["INSTALL_HINT", "import_tokenizer_12hz"]

#: What to run to get the Qwen backend's dependencies.
INSTALL_HINT = "pip install 'qtok_widgets[qwen]' && pip install --no-deps qwen-tts==0.1.1"

_CONFIG_MODULE = "qwen_tts.core.tokenizer_12hz.configuration_qwen3_tts_tokenizer_v2"
_MODELING_MODULE = "qwen_tts.core.tokenizer_12hz.modeling_qwen3_tts_tokenizer_v2"


def import_tokenizer_12hz() -> tuple[Any, Any]:
    """Return the 12 Hz tokenizer's ``(configuration, modeling)`` modules.

    Returns
    -------
    tuple of module
        ``configuration_qwen3_tts_tokenizer_v2`` (``Qwen3TTSTokenizerV2Config``) and
        ``modeling_qwen3_tts_tokenizer_v2`` (``Qwen3TTSTokenizerV2Model``).

    Raises
    ------
    CodecError
        qwen-tts (or transformers) is not installed; the message says what to install.
    """
    if _MODELING_MODULE in sys.modules and _CONFIG_MODULE in sys.modules:
        return sys.modules[_CONFIG_MODULE], sys.modules[_MODELING_MODULE]
    try:
        spec = importlib.util.find_spec("qwen_tts")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        msg = f"the Qwen backend needs qwen-tts and transformers: {INSTALL_HINT}"
        raise CodecError(msg)
    if "qwen_tts" not in sys.modules:
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # qwen-tts prints a flash-attn banner
                importlib.import_module("qwen_tts")
        except ImportError:
            # torchaudio / sox / onnxruntime missing: fall back to the 12 Hz modules alone.
            _register_package_stubs(Path(next(iter(spec.submodule_search_locations))))
    try:
        config = importlib.import_module(_CONFIG_MODULE)
        modeling = importlib.import_module(_MODELING_MODULE)
    except ImportError as exc:
        msg = f"could not import the qwen-tts 12 Hz tokenizer ({exc}); install it with: {INSTALL_HINT}"
        raise CodecError(msg) from None
    core = sys.modules.get("qwen_tts.core")
    if isinstance(core, _StubPackage):
        setattr(core, "Qwen3TTSTokenizerV2Config", config.Qwen3TTSTokenizerV2Config)  # noqa: B010
        setattr(core, "Qwen3TTSTokenizerV2Model", modeling.Qwen3TTSTokenizerV2Model)  # noqa: B010
    return config, modeling


class _StubPackage(types.ModuleType):
    """A package module that only knows where its submodules live (nothing is executed)."""


def _register_package_stubs(root: Path) -> None:
    for name, folder in (("qwen_tts", root), ("qwen_tts.core", root / "core")):
        existing = sys.modules.get(name)
        if existing is not None and getattr(existing, "__path__", None):
            continue
        module = _StubPackage(name, f"qwen-tts package {name} (12 Hz tokenizer only)")
        module.__path__ = [str(folder)]
        module.__file__ = str(folder / "__init__.py")
        module.__package__ = name
        module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
        module.__spec__.submodule_search_locations = [str(folder)]
        sys.modules[name] = module
        if name == "qwen_tts.core":
            setattr(sys.modules["qwen_tts"], "core", module)  # noqa: B010
