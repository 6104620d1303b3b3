"""HTTP handlers of the qtok server extension: health, encode, decode, round trip, convert and the page.

Every handler is a Jupyter handler: it needs an authenticated user (an unauthenticated request
gets 403, never audio) and, for cookie-authenticated POSTs, the XSRF token. Uploads arrive as
the raw request body (never a path: nothing here reads a filesystem path from a request); the
body is streamed in and refused with 413 above ``QtokExtension.max_upload_mb``, before it is
read when ``Content-Length`` says so. Bodies that are not audio or codes get 400 with the
one-line message of the :class:`~qtok_widgets.errors.QtokError` that rejected them. The work
runs on the service's thread pool, and each request writes one log line with its timing and
the GPU memory in use.

========================  ======  ==========================================================
``/qtok/api/health``      GET     codec, device, loaded, GPU memory (``?load=1`` loads it)
``/qtok/api/encode``      POST    audio file -> ``{"codec", "shape", "duration_s", "codes"}``
                                  (``?format=pt`` or ``npz``: the codes file instead)
``/qtok/api/decode``      POST    ``.pt``/``.npz``/``.json`` codes -> ``audio/wav``
                                  (``?sample_format=float32`` for 32-bit float samples)
``/qtok/api/roundtrip``   POST    audio file -> shape, timings, metrics, waveforms and the WAV
``/qtok/api/convert``     POST    codes file -> the same codes as ``?format=pt|npz|json``
``/qtok/``                GET     the page with the three modes
========================  ======  ==========================================================
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import time
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import APIHandler, AuthenticatedFileHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from . import CodecService, format_mb, gpu_memory_mb

__all__ = ["setup_handlers"]

STATIC = Path(__file__).parent / "static"
_MB = 1024 * 1024
_CODE_FORMATS = ("pt", "npz", "json")
_CODE_MEDIA = {
    "pt": "application/octet-stream",
    "npz": "application/octet-stream",
    "json": "application/json",
}
_SAMPLE_FORMATS = {"pcm16": "PCM_16", "float32": "FLOAT"}
_ENVELOPE_POINTS = 800


class _Rejected(Exception):
    """Raised in a worker thread: the request is answered with ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> web.HTTPError:
    # the message travels as an argument so that a '%' in it never breaks tornado's logging
    return web.HTTPError(status, "%s", message)


class QtokHandler(APIHandler):
    """Base of the qtok API handlers: the shared service, JSON errors and the per-request log line."""

    _qtok_note = ""
    _qtok_t0 = 0.0

    @property
    def service(self) -> CodecService:
        """The server's one :class:`~qtok_widgets.server.CodecService`."""
        return self.settings["qtok_service"]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors are ``{"message": ..., "reason": ...}`` JSON with the full one-line message."""
        self.set_header("Content-Type", "application/json")
        message = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        self._qtok_note = self._qtok_note or message
        self.finish(json.dumps({"message": message, "reason": self._reason}))

    async def run(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the service's threads; ``_Rejected`` becomes an HTTP error."""
        try:
            return await IOLoop.current().run_in_executor(self.service.executor, fn, *args)
        except _Rejected as exc:
            raise _error(exc.status, exc.message) from None

    def set_timing_headers(self, seconds: float) -> None:
        """``X-Qtok-Seconds`` (work time) and ``X-Qtok-Gpu-Memory-Mb`` (when CUDA is in use)."""
        self.set_header("X-Qtok-Seconds", f"{seconds:.4f}")
        mem = gpu_memory_mb()
        if mem is not None:
            self.set_header("X-Qtok-Gpu-Memory-Mb", f"{mem:.1f}")

    def on_finish(self) -> None:
        """Write the per-request line: endpoint, status, what was done, time and GPU memory."""
        if not self._qtok_t0:
            return
        status = self.get_status()
        elapsed = time.perf_counter() - self._qtok_t0
        service = self.settings.get("qtok_service")
        if service is not None:
            service.requests += 1
            if status >= 400:
                service.failures += 1
        self.log.info(
            "qtok %s %s %d: %s in %.3f s, GPU mem %s",
            self.request.method,
            self.request.path,
            status,
            self._qtok_note or "-",
            elapsed,
            format_mb(gpu_memory_mb()),
        )


class HealthHandler(QtokHandler):
    """``GET /qtok/api/health``: codec name, device, whether it is loaded, memory in use."""

    @web.authenticated
    async def get(self) -> None:
        """Answer the health JSON; ``?load=1`` first loads the codec and adds its ``info``."""
        self._qtok_t0 = time.perf_counter()
        load = self.get_query_argument("load", "0").lower() in ("1", "true", "yes")
        info = None
        if load:
            info = await self.run(_load_info, self.service)
        out = self.service.health()
        if info is not None:
            out["info"] = info
        self._qtok_note = f"codec {out['codec']} on {out['device']}, loaded={out['loaded']}"
        self.finish(json.dumps(out))


@web.stream_request_body
class UploadHandler(QtokHandler):
    """Base of the POST handlers: the body streams in, capped at ``QtokExtension.max_upload_mb``."""

    async def prepare(self) -> None:
        """Check authentication, XSRF, Content-Length and Content-Type before any body is read."""
        self._qtok_t0 = time.perf_counter()
        self._chunks: list[bytes] = []
        self._size = 0
        self._too_large = False
        await super().prepare()
        if self._finished:
            return
        if self.current_user is None:
            raise _error(403, "authentication required")
        limit = self.service.config.max_upload_bytes
        length = self.request.headers.get("Content-Length")
        if length is not None:
            try:
                n_bytes = int(length)
            except ValueError:
                raise _error(400, f"Content-Length must be a whole number of bytes, got {length!r}") from None
            if n_bytes > limit:
                raise _error(413, self._too_large_message(n_bytes))
        ctype = self.request.headers.get("Content-Type", "")
        if ctype.lower().startswith("multipart/"):
            raise _error(400, "send the file itself as the request body, not as a multipart form")

    def _too_large_message(self, n_bytes: int | None = None) -> str:
        limit_mb = self.service.config.max_upload_mb
        size = f"{n_bytes / _MB:.1f} MB " if n_bytes is not None else ""
        return f"upload {size}is above the limit of {limit_mb:g} MB (QtokExtension.max_upload_mb)"

    def data_received(self, chunk: bytes) -> None:
        """Collect the body; past the limit, drop it and remember to answer 413."""
        if self._too_large:
            return
        self._size += len(chunk)
        if self._size > self.service.config.max_upload_bytes:
            self._too_large = True
            self._chunks = []
            return
        self._chunks.append(chunk)

    def body(self, what: str) -> bytes:
        """The whole body; 413 when it was too large, 400 when empty (``what`` names the expected file)."""
        if self._too_large:
            raise _error(413, self._too_large_message())
        data = b"".join(self._chunks)
        self._chunks = []
        if not data:
            raise _error(400, f"empty request body: POST {what} as the body")
        return data

    def choice(self, name: str, default: str, valid: tuple[str, ...] | dict[str, str]) -> str:
        """A query argument that must be one of ``valid`` (400 naming the choices otherwise)."""
        value = self.get_query_argument(name, default).lower()
        if value not in valid:
            raise _error(400, f"{name}={value!r} is not supported; use one of {', '.join(valid)}")
        return value


class EncodeHandler(UploadHandler):
    """``POST /qtok/api/encode``: the audio file as the body -> codes (JSON, ``.pt`` or ``.npz``)."""

    @web.authenticated
    async def post(self) -> None:
        """Encode the uploaded audio with the shared codec."""
        fmt = self.choice("format", "json", ("json", "pt", "npz"))
        data = self.body("the audio file (WAV, FLAC, OGG, MP3, M4A)")
        result = await self.run(_encode, self.service, data)
        grid = result["grid"]
        self._qtok_note = (
            f"{result['duration_s']:.2f} s audio ({len(data) / _MB:.2f} MB) -> "
            f"[{grid.n_layers}, {grid.n_frames}] codes, encode {result['encode_s']:.3f} s"
        )
        self.set_timing_headers(result["encode_s"])
        self.set_header("X-Qtok-Shape", f"{grid.n_layers}x{grid.n_frames}")
        self.set_header("X-Qtok-Duration-S", f"{result['duration_s']:.4f}")
        if fmt == "json":
            self.finish(
                json.dumps(
                    {
                        "codec": grid.codec,
                        "shape": [grid.n_layers, grid.n_frames],
                        "duration_s": result["duration_s"],
                        "device": result["device"],
                        "encode_s": result["encode_s"],
                        "frame_rate": grid.frame_rate,
                        "sample_rate": grid.sample_rate,
                        "codebook_size": grid.codebook_size,
                        "n_samples": grid.n_samples,
                        "codes": grid.codes.tolist(),
                    },
                    separators=(",", ":"),
                )
            )
            return
        self.set_header("Content-Disposition", f'attachment; filename="codes.{fmt}"')
        self.finish(await self.run(grid.to_bytes, "." + fmt), set_content_type=_CODE_MEDIA[fmt])


class DecodeHandler(UploadHandler):
    """``POST /qtok/api/decode``: a ``.pt``/``.npz``/``.json`` codes file as the body -> ``audio/wav``."""

    @web.authenticated
    async def post(self) -> None:
        """Decode the uploaded codes with the shared codec to a 24 kHz WAV."""
        subtype = _SAMPLE_FORMATS[self.choice("sample_format", "pcm16", _SAMPLE_FORMATS)]
        data = self.body("a .pt, .npz or .json codes file")
        result = await self.run(_decode, self.service, data, subtype)
        self._qtok_note = (
            f"[{result['shape'][0]}, {result['shape'][1]}] codes -> {result['duration_s']:.2f} s audio, "
            f"decode {result['decode_s']:.3f} s"
        )
        self.set_timing_headers(result["decode_s"])
        self.set_header("Content-Disposition", 'inline; filename="output.wav"')
        self.set_header("X-Qtok-Duration-S", f"{result['duration_s']:.4f}")
        self.set_header("X-Qtok-Sample-Rate", str(result["sample_rate"]))
        self.set_header("X-Qtok-Shape", f"{result['shape'][0]}x{result['shape'][1]}")
        self.finish(result["wav"], set_content_type="audio/wav")


class RoundTripHandler(UploadHandler):
    """``POST /qtok/api/roundtrip``: the one-click mode of the page in one request."""

    @web.authenticated
    async def post(self) -> None:
        """Encode, decode and compare; answer numbers, waveform envelopes and the WAV (base64)."""
        data = self.body("the audio file (WAV, FLAC, OGG, MP3, M4A)")
        out = await self.run(_roundtrip, self.service, data)
        shape = out["shape"]
        self._qtok_note = (
            f"{out['duration_s']:.2f} s audio -> [{shape[0]}, {shape[1]}] codes -> audio, "
            f"encode {out['encode_s']:.3f} s, decode {out['decode_s']:.3f} s"
        )
        self.set_timing_headers(out["encode_s"] + out["decode_s"])
        self.finish(json.dumps(out, separators=(",", ":")))


class ConvertHandler(UploadHandler):
    """``POST /qtok/api/convert?format=pt``: re-save a codes file in another format (no codec needed)."""

    @web.authenticated
    async def post(self) -> None:
        """Parse the codes (safely) and answer them as ``format``."""
        fmt = self.choice("format", "pt", _CODE_FORMATS)
        data = self.body("a .pt, .npz or .json codes file")
        payload, shape = await self.run(_convert, data, fmt)
        self._qtok_note = f"[{shape[0]}, {shape[1]}] codes -> .{fmt}"
        self.set_header("Content-Disposition", f'attachment; filename="codes.{fmt}"')
        self.finish(payload, set_content_type=_CODE_MEDIA[fmt])


class PageHandler(JupyterHandler):
    """``GET /qtok/``: the three modes as a plain page (log in first, as for JupyterLab)."""

    @web.authenticated
    def get(self) -> None:
        """Serve ``static/index.html`` with the base URL and the XSRF token filled in."""
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = html.replace("{{base_url}}", _attr(self.base_url))
        html = html.replace("{{xsrf_token}}", _attr(self.xsrf_token.decode("ascii")))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(html)


class StaticHandler(AuthenticatedFileHandler):
    """Script and style of the page, for logged-in users only."""

    auth_resource = "qtok"


# ---------------------------------------------------------------------------- worker functions
# These run on the service's threads. Input problems raise _Rejected(400); a codec that cannot
# be loaded raises _Rejected(503).


def _codec(service: CodecService) -> Any:
    from ..errors import QtokError

    try:
        return service.codec()
    except QtokError as exc:
        raise _Rejected(503, f"codec unavailable: {exc}") from None


def _load_info(service: CodecService) -> dict[str, Any]:
    return _codec(service).info()


def _read_audio(service: CodecService, data: bytes) -> Any:
    from ..audio import load_audio
    from ..errors import QtokError

    body = io.BytesIO(data)
    body.name = "request body"
    try:
        return load_audio(body, max_duration_s=service.config.max_duration_s)
    except QtokError as exc:
        raise _Rejected(400, str(exc)) from None


def _read_codes(data: bytes) -> Any:
    from ..errors import QtokError
    from ..grid import CodeGrid

    try:
        return CodeGrid.from_bytes(data, None, source="request body")
    except QtokError as exc:
        raise _Rejected(400, str(exc)) from None


def _with_codec(service: CodecService, work: Any) -> tuple[Any, float]:
    """Run ``work()`` holding the codec lock; a user error becomes a 400. Returns (result, seconds)."""
    from ..errors import QtokError

    with service.codec_lock:
        t0 = time.perf_counter()
        try:
            result = work()
        except QtokError as exc:
            raise _Rejected(400, str(exc)) from None
        return result, time.perf_counter() - t0


def _encode(service: CodecService, data: bytes) -> dict[str, Any]:
    audio = _read_audio(service, data)
    codec = _codec(service)
    grid, encode_s = _with_codec(service, lambda: codec.encode(audio))
    return {"grid": grid, "duration_s": audio.duration, "encode_s": encode_s, "device": codec.device}


def _decode(service: CodecService, data: bytes, subtype: str) -> dict[str, Any]:
    grid = _read_codes(data)
    codec = _codec(service)
    audio, decode_s = _with_codec(service, lambda: codec.decode(grid))
    return {
        "wav": audio.to_wav_bytes(subtype=subtype),
        "duration_s": audio.duration,
        "sample_rate": audio.sample_rate,
        "decode_s": decode_s,
        "shape": [grid.n_layers, grid.n_frames],
    }


def _roundtrip(service: CodecService, data: bytes) -> dict[str, Any]:
    from ..roundtrip import code_preview, envelope, roundtrip

    audio = _read_audio(service, data)
    codec = _codec(service)
    result, _ = _with_codec(service, lambda: roundtrip(codec, audio, compare=False))
    # the comparison needs no codec: done outside the lock
    from ..metrics import compare

    result = dataclasses.replace(
        result, metrics=compare(result.original, result.reconstructed, with_pesq=False)
    )
    out = result.summary()
    out["device"] = codec.device
    out["preview"] = code_preview(result.grid)
    out["waveform"] = {
        name: [arr.round(4).tolist() for arr in envelope(sig.samples, _ENVELOPE_POINTS)]
        for name, sig in (("original", result.original), ("reconstructed", result.reconstructed))
    }
    out["wav_base64"] = base64.b64encode(result.reconstructed.to_wav_bytes()).decode("ascii")
    return out


def _convert(data: bytes, fmt: str) -> tuple[bytes, list[int]]:
    grid = _read_codes(data)
    return grid.to_bytes("." + fmt), [grid.n_layers, grid.n_frames]


def _attr(text: str) -> str:
    """Escape for an HTML attribute value."""
    return (
        text.replace("&", "&amp;")
        .replace('"', "&quot;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
    )


def setup_handlers(web_app: Any, service: CodecService) -> None:
    """Register the qtok routes on ``web_app`` (under its ``base_url``) and store ``service``."""
    web_app.settings["qtok_service"] = service
    base = web_app.settings.get("base_url", "/")
    api = url_path_join(base, "qtok", "api")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(api, "health"), HealthHandler),
            (url_path_join(api, "encode"), EncodeHandler),
            (url_path_join(api, "decode"), DecodeHandler),
            (url_path_join(api, "roundtrip"), RoundTripHandler),
            (url_path_join(api, "convert"), ConvertHandler),
            (url_path_join(base, "qtok", "static", "(.*)"), StaticHandler, {"path": str(STATIC)}),
            (url_path_join(base, "qtok") + "/?", PageHandler),
        ],
    )
