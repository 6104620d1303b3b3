"""Jupyter server extension: one codec per server, a REST API under ``/qtok/api/`` and a page at ``/qtok/``.

The extension is switched on by ``jupyter-config/server-config/qtok_widgets.json`` (installed by
the wheel into ``etc/jupyter/jupyter_server_config.d``). Loading it registers the handlers of
:mod:`qtok_widgets.server.handlers` and creates one :class:`CodecService`, which loads the codec
lazily on the first request that needs it and then serves every notebook and page on that
server (``load_codec("server")`` in a kernel talks to it instead of loading its own copy).
Encoding and decoding run in a thread pool, never on the tornado IO loop; calls into the one
codec are serialised with a lock. The service also bounds the load: at most ``max_workers +
max_queue`` uploads are taken at once (receiving, waiting or running), and it estimates how
long a refused client should wait. Settings are traitlets on :class:`QtokExtension`, e.g.
``jupyter lab --QtokExtension.codec=builtin`` or ``c.QtokExtension.max_upload_mb = 50``.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from traitlets import Float, Int, Unicode, default, validate
from traitlets.config import LoggingConfigurable

__all__ = ["CodecService", "QtokExtension"]

_MB = 1024 * 1024
_SERVER_NAMES = ("server", "remote")


class QtokExtension(LoggingConfigurable):
    """Settings of the qtok server extension (configure as ``c.QtokExtension.<name>``)."""

    codec = Unicode(
        None,
        allow_none=True,
        help=(
            "Codec the server loads: 'builtin', 'qwen', or a local checkpoint directory. "
            "Default: $QTOK_CODEC, else the Qwen checkpoint when it is available locally, "
            "else the built-in codec (the rule of load_codec(None))."
        ),
    ).tag(config=True)

    device = Unicode(
        None,
        allow_none=True,
        help="Device for the codec ('cpu', 'cuda', 'cuda:1'); default: $QTOK_DEVICE, else CUDA when available.",
    ).tag(config=True)

    max_upload_mb = Float(
        200.0,
        help="Largest request body accepted by the qtok endpoints, in MB (larger bodies get 413).",
    ).tag(config=True)

    max_duration_s = Float(
        3600.0,
        help="Longest audio accepted for encoding, in seconds (longer inputs get 400).",
    ).tag(config=True)

    max_codes_mb = Float(
        64.0,
        help=(
            "Largest codes file accepted by decode and convert, and largest converted answer, in MB "
            "(larger gets 413); an hour of 16-layer codes is under 15 MB in every format."
        ),
    ).tag(config=True)

    max_workers = Int(
        4,
        help="Threads that read, encode and decode uploads (calls into the codec itself take turns).",
    ).tag(config=True)

    max_queue = Int(
        8,
        help=(
            "Uploads taken beyond the max_workers being worked on: at most max_workers + max_queue "
            "at once (receiving, waiting or running); more get 503 with Retry-After."
        ),
    ).tag(config=True)

    spool_mb = Float(
        4.0,
        help=(
            "Request bodies larger than this many MB are written to a temporary file as they arrive "
            "instead of being held in memory (0: always)."
        ),
    ).tag(config=True)

    body_timeout_s = Float(
        300.0,
        help=(
            "Seconds a request body may take to arrive in full after its headers; a slower client "
            "gets 408 and is disconnected."
        ),
    ).tag(config=True)

    @default("codec")
    def _default_codec(self) -> str | None:
        env = os.environ.get("QTOK_CODEC") or None
        # QTOK_CODEC=server in the server's environment is meant for its kernels (they inherit
        # it and share this codec); the server itself then follows the local default rule.
        if env is not None and env.strip().lower() in _SERVER_NAMES:
            return None
        return env

    @validate("codec")
    def _check_codec(self, proposal: Any) -> str | None:
        value = proposal["value"]
        if value is not None and value.strip().lower() in _SERVER_NAMES:
            msg = f"QtokExtension.codec cannot be {value!r}: the server would call itself; use 'builtin', 'qwen' or a checkpoint"
            raise ValueError(msg)
        return value

    @default("device")
    def _default_device(self) -> str | None:
        return os.environ.get("QTOK_DEVICE") or None

    @validate("max_upload_mb", "max_codes_mb", "max_duration_s", "body_timeout_s")
    def _check_positive(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not (value > 0 and math.isfinite(value)):
            msg = f"QtokExtension.{proposal['trait'].name} must be a finite number > 0, got {value}"
            raise ValueError(msg)
        return value

    @validate("spool_mb")
    def _check_spool(self, proposal: Any) -> float:
        value = float(proposal["value"])
        if not (value >= 0 and math.isfinite(value)):
            msg = f"QtokExtension.spool_mb must be a finite number >= 0, got {value}"
            raise ValueError(msg)
        return value

    @validate("max_workers")
    def _check_workers(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value < 1:
            msg = f"QtokExtension.max_workers must be >= 1, got {value}"
            raise ValueError(msg)
        return value

    @validate("max_queue")
    def _check_queue(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value < 0:
            msg = f"QtokExtension.max_queue must be >= 0, got {value}"
            raise ValueError(msg)
        return value

    @property
    def max_upload_bytes(self) -> int:
        """The upload limit in bytes."""
        return int(self.max_upload_mb * _MB)

    @property
    def max_codes_bytes(self) -> int:
        """The limit on codes files (uploads and converted answers) in bytes."""
        return int(self.max_codes_mb * _MB)

    @property
    def spool_bytes(self) -> int:
        """Bodies above this many bytes go to a temporary file."""
        return int(self.spool_mb * _MB)

    @property
    def max_in_flight(self) -> int:
        """Uploads taken at once: ``max_workers + max_queue``."""
        return self.max_workers + self.max_queue


class CodecService:
    """The codec one server shares with all its clients, loaded on first use.

    Parameters
    ----------
    config : QtokExtension
        Codec name, device, limits and thread count.
    log : logging.Logger
        Where the load and per-request lines go.
    """

    def __init__(self, config: QtokExtension, log: Any) -> None:
        self.config = config
        self.log = log
        self.executor = ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="qtok")
        self._codec: Any = None
        self._load_lock = threading.Lock()
        self.codec_lock = threading.Lock()
        self.load_seconds: float | None = None
        self.requests = 0
        self.failures = 0
        self.cancelled = 0
        self.refused_busy = 0
        self.in_flight = 0
        self._slots_lock = threading.Lock()
        self._work_s = 1.0  # running mean of one request's work, for Retry-After

    @property
    def loaded(self) -> bool:
        """Whether the codec has been loaded."""
        return self._codec is not None

    def codec(self):
        """Return the shared codec, loading it on the first call (blocking; call from a worker thread)."""
        if self._codec is None:
            with self._load_lock:
                if self._codec is None:
                    from ..codecs import load_codec

                    name, reason = self._codec_name()
                    t0 = time.perf_counter()
                    codec = load_codec(name, device=self.config.device)
                    codec.load_reason = reason
                    self.load_seconds = time.perf_counter() - t0
                    self._codec = codec
                    self.log.info(
                        "qtok: loaded codec %s on %s (%s) in %.2f s (GPU mem %s)",
                        codec.name,
                        codec.device,
                        reason,
                        self.load_seconds,
                        format_mb(gpu_memory_mb()),
                    )
        return self._codec

    def _codec_name(self) -> tuple[str, str]:
        """What to pass to ``load_codec``, and why: the configured codec, else the default rule.

        The default rule is ``load_codec(None)``'s without ``$QTOK_CODEC``: when that variable
        names a codec it is already the configured one, and when it says ``server`` it is meant
        for the kernels, not for the server itself.
        """
        if self.config.codec is not None:
            return self.config.codec, "QtokExtension.codec"
        from ..codecs import default_codec_name

        return default_codec_name(use_env=False)

    def admit(self) -> bool:
        """Take a slot for one upload; False when ``max_workers + max_queue`` are taken already."""
        with self._slots_lock:
            if self.in_flight >= self.config.max_in_flight:
                self.refused_busy += 1
                return False
            self.in_flight += 1
            return True

    def release(self) -> None:
        """Give back a slot taken by :meth:`admit` (once the request and its work have ended)."""
        with self._slots_lock:
            self.in_flight = max(0, self.in_flight - 1)

    def record_work(self, seconds: float) -> None:
        """Fold one request's work time into the running mean used by :meth:`retry_after_s`."""
        with self._slots_lock:
            self._work_s = 0.8 * self._work_s + 0.2 * max(0.0, seconds)

    def retry_after_s(self) -> int:
        """Whole seconds after which a refused client may try again: the work ahead of it, 1..60."""
        with self._slots_lock:
            ahead = self._work_s * self.in_flight / self.config.max_workers
        return min(60, max(1, math.ceil(ahead)))

    def health(self) -> dict[str, Any]:
        """Codec name, device, load state, memory and limits as a JSON-ready dict (loads nothing)."""
        codec = self._codec
        return {
            "codec": codec.name if codec is not None else (self.config.codec or "auto"),
            "device": codec.device if codec is not None else self.config.device,
            "loaded": codec is not None,
            "load_reason": getattr(codec, "load_reason", None),
            "load_s": self.load_seconds,
            "gpu_memory_mb": gpu_memory_mb(),
            "process_rss_mb": process_rss_mb(),
            "max_upload_mb": self.config.max_upload_mb,
            "requests": self.requests,
            "failures": self.failures,
            "in_flight": self.in_flight,
            "max_in_flight": self.config.max_in_flight,
            "refused_busy": self.refused_busy,
            "cancelled": self.cancelled,
        }

    def shutdown(self) -> None:
        """Stop the worker threads (pending work is finished first)."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def gpu_memory_mb() -> float | None:
    """CUDA memory allocated by this process in MB, or None when CUDA is not in use.

    Never initialises CUDA: it reports only when torch is already imported and CUDA was used.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not (torch.cuda.is_available() and torch.cuda.is_initialized()):
            return None
        return round(torch.cuda.memory_allocated() / _MB, 1)
    except (RuntimeError, AttributeError):
        return None


def process_rss_mb() -> float | None:
    """Resident memory of this process in MB (Linux ``/proc``), or None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def format_mb(value: float | None) -> str:
    """``"1024 MB"`` or ``"n/a"``."""
    return "n/a" if value is None else f"{value:.0f} MB"


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the qtok handlers on ``serverapp`` and create its (lazy) codec service."""
    from .handlers import setup_handlers

    config = QtokExtension(parent=serverapp, config=serverapp.config, log=serverapp.log)
    if config.max_upload_bytes > getattr(serverapp, "max_body_size", config.max_upload_bytes):
        # tornado refuses bodies above ServerApp.max_body_size before any handler sees them
        serverapp.max_body_size = config.max_upload_bytes + _MB
    service = CodecService(config, serverapp.log)
    setup_handlers(serverapp.web_app, service)
    serverapp.log.info(
        "qtok: extension loaded; page at %sqtok/, codec %s loads on first use",
        serverapp.base_url,
        config.codec or "(default rule)",
    )


# jupyter_server < 2 looked for this name
load_jupyter_server_extension = _load_jupyter_server_extension
