"""HTTP handlers of the qtok server extension: health, encode, decode, round trip, convert and the page.

Every handler is a Jupyter handler: it needs an authenticated user (an unauthenticated request
gets 403, never audio) and, for cookie-authenticated POSTs, the XSRF token. Uploads arrive as
the raw request body (never a path: nothing here reads a filesystem path from a request). The
server defends itself before and while a body arrives: 413 above ``QtokExtension.max_upload_mb``
(``max_codes_mb`` for codes), checked on ``Content-Length`` before reading and again while
streaming; 503 with ``Retry-After`` when ``max_workers + max_queue`` uploads are in progress;
408 and a closed connection when the body has not arrived within ``body_timeout_s``. A body
above ``spool_mb`` is written to a temporary file as it arrives, so concurrent large uploads
cost disk, not memory. Bodies that are not audio or codes, or exceed a limit, get 400 with the
one-line message of the :class:`~qtok_widgets.errors.QtokError` that rejected them. The work runs
on the service's thread pool; a client that disconnects cancels its work while it still waits
(in the pool's queue or for the codec), and each request writes one log line with its timing
and the GPU memory in use.

========================  ======  ==========================================================
``/qtok/api/health``      GET     codec, device, loaded, GPU memory (``?load=1`` loads it)
``/qtok/api/encode``      POST    audio file -> the codes in ``CodeGrid.to_dict``'s JSON layout
                                  plus ``duration_s``, ``device``, ``encode_s``
                                  (``?format=pt`` or ``npz``: the codes file instead)
``/qtok/api/decode``      POST    ``.pt``/``.npz``/``.json`` codes -> ``audio/wav``
                                  (``?sample_format=float32`` for 32-bit float samples)
``/qtok/api/roundtrip``   POST    audio file -> shape, timings, metrics, waveforms and the WAV
``/qtok/api/convert``     POST    codes file -> the same codes as ``?format=pt|npz|json``
``/qtok/``                GET     the page with the three modes
========================  ======  ==========================================================
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from jupyter_server.base.handlers import APIHandler, AuthenticatedFileHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.ioloop import IOLoop

from ..errors import QtokError
from ..grid_io import CODES_SUFFIXES
from . import CodecService, format_mb, gpu_memory_mb

__all__ = ["setup_handlers"]

STATIC = Path(__file__).parent / "static"
_MB = 1024 * 1024
_BODY = "request body"
_CODE_FORMATS = tuple(suffix.lstrip(".") for suffix in CODES_SUFFIXES)
_CODE_MEDIA = {
    fmt: "application/json" if fmt == "json" else "application/octet-stream" for fmt in _CODE_FORMATS
}
_AUDIO_FILE = "the audio file (WAV, FLAC, OGG, MP3, M4A)"
_CODES_FILE = f"a {', '.join(CODES_SUFFIXES[:-1])} or {CODES_SUFFIXES[-1]} codes file"
_SAMPLE_FORMATS = {"pcm16": "PCM_16", "float32": "FLOAT"}
_ENVELOPE_POINTS = 800
_LOCK_POLL_S = 0.05


class _Rejected(Exception):
    """Raised in a worker thread: the request is answered with ``status`` and ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Cancelled(Exception):
    """Raised in a worker thread whose client has gone: the work is abandoned."""


class _Job:
    """One request's work on the pool: its future and the flag its client's disconnect sets."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.future: Any = None

    def cancel(self) -> None:
        """Stop the work if it has not started; make it stop at its next check otherwise."""
        self.cancelled.set()
        if self.future is not None:
            self.future.cancel()

    def check(self) -> None:
        """Raise :class:`_Cancelled` when the client has gone."""
        if self.cancelled.is_set():
            raise _Cancelled


class _Body:
    """A request body as it arrives: in memory up to ``spool_bytes``, then in a temporary file.

    Only the IO loop writes to it; after the body is complete a worker thread reads it.
    """

    def __init__(self, spool_bytes: int) -> None:
        self.size = 0
        self.path: Path | None = None
        self._spool_bytes = spool_bytes
        self._chunks: list[bytes] = []
        self._file: Any = None

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; past ``spool_bytes`` everything moves to a temporary file."""
        self.size += len(chunk)
        if self._file is None and self.size > self._spool_bytes:
            fd, name = tempfile.mkstemp(prefix="qtok-upload-")
            self.path = Path(name)
            self._file = os.fdopen(fd, "wb")
            for held in self._chunks:
                self._file.write(held)
            self._chunks = []
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._chunks.append(chunk)

    def close(self) -> None:
        """The body is complete: flush the temporary file (if any)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def data(self) -> bytes:
        """The whole body as bytes (read back from the temporary file when spooled)."""
        if self.path is not None:
            return self.path.read_bytes()
        return b"".join(self._chunks)

    def discard(self) -> None:
        """Drop the body and delete its temporary file; safe to call more than once."""
        self._chunks = []
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def _error(status: int, message: str) -> web.HTTPError:
    # the message travels as an argument so that a '%' in it never breaks tornado's logging
    return web.HTTPError(status, "%s", message)


class QtokHandler(APIHandler):
    """Base of the qtok API handlers: the shared service, JSON errors and the per-request log line."""

    _qtok_note = ""
    _qtok_t0 = 0.0
    _retry_after_s: int | None = None

    @property
    def service(self) -> CodecService:
        """The server's one :class:`~qtok_widgets.server.CodecService`."""
        return self.settings["qtok_service"]

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors are ``{"message": ..., "reason": ...}`` JSON with the full one-line message."""
        self.set_header("Content-Type", "application/json")
        if status_code == 503 and self._retry_after_s is not None:
            self.set_header("Retry-After", str(self._retry_after_s))
        message = kwargs.get("message") or self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        self._qtok_note = self._qtok_note or message
        self.finish(json.dumps({"message": message, "reason": self._reason}))

    async def run(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(job, *args)`` on the service's threads; ``_Rejected`` becomes an HTTP error.

        The job is kept on the handler so that a client's disconnect can cancel it; cancelled
        work is answered 499 (nobody reads it) and counted in the health record.
        """
        job = _Job()
        self._job: _Job | None = job
        job.future = self.service.executor.submit(_timed, self.service, fn, job, *args)
        try:
            return await asyncio.wrap_future(job.future)
        except _Rejected as exc:
            raise _error(exc.status, exc.message) from None
        except (_Cancelled, asyncio.CancelledError):
            if not job.cancelled.is_set():
                raise
            self.service.cancelled += 1
            self._qtok_note = "client disconnected; its work was cancelled"
            raise web.HTTPError(499, reason="Client Closed Request") from None

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


def _timed(service: CodecService, fn: Any, job: _Job, *args: Any) -> Any:
    """Run ``fn(job, *args)`` on a worker thread and fold its time into the service's mean."""
    job.check()
    t0 = time.perf_counter()
    try:
        return fn(job, *args)
    finally:
        service.record_work(time.perf_counter() - t0)


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
    """Base of the POST handlers: admission, a capped and spooled body, a body deadline.

    A request holds one of the service's ``max_workers + max_queue`` slots from its headers
    until its work has ended; its body lives in memory or a temporary file until then.
    """

    #: which limit applies to this endpoint's body: ``"upload"`` (audio) or ``"codes"``
    body_kind = "upload"

    async def prepare(self) -> None:  # type: ignore[override]  # jupyter_server's private keyword is not ours
        """Check authentication, XSRF, Content-Length, Content-Type and room before any body is read."""
        self._qtok_t0 = time.perf_counter()
        self._body = _Body(self.service.config.spool_bytes)
        self._too_large = False
        self._admitted = False
        self._released = False
        self._release_lock = threading.Lock()
        self._job = None
        self._body_timer: Any = None
        await super().prepare()
        if self._finished:
            return
        if self.current_user is None:
            raise _error(403, "authentication required")
        length = self.request.headers.get("Content-Length")
        if length is not None:
            try:
                n_bytes = int(length)
            except ValueError:
                raise _error(400, f"Content-Length must be a whole number of bytes, got {length!r}") from None
            if n_bytes > self.body_limit():
                raise _error(413, self._too_large_message(n_bytes))
        ctype = self.request.headers.get("Content-Type", "")
        if ctype.lower().startswith("multipart/"):
            raise _error(400, "send the file itself as the request body, not as a multipart form")
        if not self.service.admit():
            self._retry_after_s = self.service.retry_after_s()
            config = self.service.config
            raise _error(
                503,
                f"server busy: {config.max_in_flight} uploads in progress, the most it takes at once "
                f"(QtokExtension.max_workers + max_queue); retry after {self._retry_after_s} s",
            )
        self._admitted = True
        timeout_s = self.service.config.body_timeout_s
        self._body_timer = IOLoop.current().call_later(timeout_s, self._body_timed_out)

    def body_limit(self) -> int:
        """The largest body this endpoint takes, in bytes."""
        config = self.service.config
        if self.body_kind == "codes":
            return min(config.max_upload_bytes, config.max_codes_bytes)
        return config.max_upload_bytes

    def _too_large_message(self, n_bytes: int | None = None) -> str:
        config = self.service.config
        size = f"{n_bytes / _MB:.1f} MB " if n_bytes is not None else ""
        if self.body_kind == "codes" and config.max_codes_bytes < config.max_upload_bytes:
            return f"upload {size}is above the limit of {config.max_codes_mb:g} MB for codes (QtokExtension.max_codes_mb)"
        return f"upload {size}is above the limit of {config.max_upload_mb:g} MB (QtokExtension.max_upload_mb)"

    def data_received(self, chunk: bytes) -> None:
        """Collect the body (spooling it to disk when large); past the limit, drop it and remember 413."""
        if self._too_large or self._finished:
            return
        if self._body.size + len(chunk) > self.body_limit():
            self._too_large = True
            self._body.discard()
            return
        self._body.write(chunk)

    def _body_timed_out(self) -> None:
        """The body did not arrive in time: answer 408; tornado then closes the connection."""
        self._body_timer = None
        if self._finished:
            return
        self._body.discard()
        timeout_s = self.service.config.body_timeout_s
        self.send_error(
            408,
            message=(
                f"request body not received within {timeout_s:g} s "
                f"({self._body.size / _MB:.1f} MB arrived; QtokExtension.body_timeout_s)"
            ),
        )

    def body(self, what: str) -> _Body:
        """The complete body; 413 when it was too large, 400 when empty (``what`` names the expected file)."""
        self._stop_body_timer()
        if self._too_large:
            raise _error(413, self._too_large_message())
        self._body.close()
        if self._body.size == 0:
            raise _error(400, f"empty request body: POST {what} as the body")
        return self._body

    def choice(self, name: str, default: str, valid: tuple[str, ...] | dict[str, str]) -> str:
        """A query argument that must be one of ``valid`` (400 naming the choices otherwise)."""
        value = self.get_query_argument(name, default).lower()
        if value not in valid:
            raise _error(400, f"{name}={value!r} is not supported; use one of {', '.join(valid)}")
        return value

    def on_connection_close(self) -> None:
        """The client has gone: cancel its waiting work, delete its body, free its slot."""
        super().on_connection_close()
        if self._job is not None:
            self._job.cancel()
        self._release()

    def on_finish(self) -> None:
        """Log the request and free what it held."""
        super().on_finish()
        self._release()

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            IOLoop.current().remove_timeout(self._body_timer)
            self._body_timer = None

    def _release(self) -> None:
        """Free the slot and the body once the request's work (if any) has ended; idempotent."""
        if not hasattr(self, "_body"):
            return  # prepare() never ran
        self._stop_body_timer()
        job = self._job
        if job is not None and job.future is not None and not job.future.done():
            # still running on a worker: free everything when it ends (on that thread)
            job.future.add_done_callback(lambda _: self._release_now())
            return
        self._release_now()

    def _release_now(self) -> None:
        with self._release_lock:
            if self._released:
                return
            self._released = True
        self._body.discard()
        if self._admitted:
            self.service.release()


class EncodeHandler(UploadHandler):
    """``POST /qtok/api/encode``: the audio file as the body -> codes (JSON, ``.pt`` or ``.npz``)."""

    @web.authenticated
    async def post(self) -> None:
        """Encode the uploaded audio with the shared codec."""
        fmt = self.choice("format", "json", _CODE_FORMATS)
        body = self.body(_AUDIO_FILE)
        result = await self.run(_encode, self.service, body)
        grid = result["grid"]
        self._qtok_note = (
            f"{result['duration_s']:.2f} s audio ({body.size / _MB:.2f} MB) -> "
            f"[{grid.n_layers}, {grid.n_frames}] codes, encode {result['encode_s']:.3f} s"
        )
        self.set_timing_headers(result["encode_s"])
        self.set_header("X-Qtok-Shape", f"{grid.n_layers}x{grid.n_frames}")
        self.set_header("X-Qtok-Duration-S", f"{result['duration_s']:.4f}")
        if fmt == "json":
            # the codes file layout of CodeGrid.to_dict (readable as a .json codes file), plus the run
            out = {
                **grid.to_dict(),
                "duration_s": result["duration_s"],
                "device": result["device"],
                "encode_s": result["encode_s"],
            }
            self.finish(json.dumps(out, separators=(",", ":")))
            return
        self.set_header("Content-Disposition", f'attachment; filename="codes.{fmt}"')
        self.finish(await self.run(_to_bytes, grid, fmt), set_content_type=_CODE_MEDIA[fmt])


class DecodeHandler(UploadHandler):
    """``POST /qtok/api/decode``: a ``.pt``/``.npz``/``.json`` codes file as the body -> ``audio/wav``."""

    body_kind = "codes"

    @web.authenticated
    async def post(self) -> None:
        """Decode the uploaded codes with the shared codec to a 24 kHz WAV."""
        subtype = _SAMPLE_FORMATS[self.choice("sample_format", "pcm16", _SAMPLE_FORMATS)]
        body = self.body(_CODES_FILE)
        result = await self.run(_decode, self.service, body, subtype)
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
        body = self.body(_AUDIO_FILE)
        out = await self.run(_roundtrip, self.service, body)
        shape = out["shape"]
        self._qtok_note = (
            f"{out['duration_s']:.2f} s audio -> [{shape[0]}, {shape[1]}] codes -> audio, "
            f"encode {out['encode_s']:.3f} s, decode {out['decode_s']:.3f} s"
        )
        self.set_timing_headers(out["encode_s"] + out["decode_s"])
        self.finish(json.dumps(out, separators=(",", ":")))


class ConvertHandler(UploadHandler):
    """``POST /qtok/api/convert?format=pt``: re-save a codes file in another format (no codec needed)."""

    body_kind = "codes"

    @web.authenticated
    async def post(self) -> None:
        """Parse the codes (safely) and answer them as ``format``."""
        fmt = self.choice("format", _CODE_FORMATS[0], _CODE_FORMATS)
        body = self.body(_CODES_FILE)
        payload, shape = await self.run(_convert, self.service, body, fmt)
        self._qtok_note = f"[{shape[0]}, {shape[1]}] codes -> .{fmt}"
        self.set_header("Content-Disposition", f'attachment; filename="codes.{fmt}"')
        self.finish(payload, set_content_type=_CODE_MEDIA[fmt])


class PageHandler(JupyterHandler):
    """``GET /qtok/``: the three modes as a plain page (log in first, as for JupyterLab)."""

    @web.authenticated
    def get(self) -> None:
        """Serve ``static/index.html`` with the base URL, the XSRF token and the codes suffixes filled in."""
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = html.replace("{{base_url}}", _attr(self.base_url))
        html = html.replace("{{xsrf_token}}", _attr(self.xsrf_token.decode("ascii")))
        html = html.replace("{{codes_suffixes}}", _attr(",".join(CODES_SUFFIXES)))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(html)


class StaticHandler(AuthenticatedFileHandler):
    """Script and style of the page, for logged-in users only."""

    auth_resource = "qtok"


# ---------------------------------------------------------------------------- worker functions
# These run on the service's threads, each with its request's job first. Input problems raise
# _Rejected(400) (413 for answers too large); a codec that cannot be loaded raises _Rejected(503);
# a client that has gone raises _Cancelled.


def _codec(service: CodecService) -> Any:
    try:
        return service.codec()
    except QtokError as exc:
        raise _Rejected(503, f"codec unavailable: {exc}") from None


def _load_info(job: _Job, service: CodecService) -> dict[str, Any]:
    return _codec(service).info()


def _reading(service: CodecService, read: Any) -> Any:
    """Run ``read()`` on user input: a QtokError is the client's 400, never a 500.

    The loaders raise only :class:`QtokError` for bad input; anything else escaping them is
    a bug in a loader, but it was still caused by the request body, so the client gets 400
    with one line and the server log gets the traceback.
    """
    try:
        return read()
    except QtokError as exc:
        raise _Rejected(400, str(exc)) from None
    except MemoryError:
        raise _Rejected(413, f"{_BODY}: too large to read in memory") from None
    except Exception as exc:
        service.log.warning(
            "qtok: %s raised %s instead of a QtokError", _BODY, type(exc).__name__, exc_info=True
        )
        first = (str(exc).splitlines() or [""])[0][:200]
        raise _Rejected(400, f"{_BODY}: unreadable ({type(exc).__name__}: {first})") from None


def _read_audio(service: CodecService, body: _Body) -> Any:
    from ..audio import load_audio

    limit = service.config.max_duration_s
    if body.path is None:
        source = io.BytesIO(body.data())
        source.name = _BODY

        def read() -> Any:
            return load_audio(source, max_duration_s=limit)

        return _reading(service, read)
    # a spooled body is read from its file (the loader checks the header before the samples);
    # its messages name the request body, not the temporary file
    path = str(body.path)

    def read_file() -> Any:
        try:
            return load_audio(path, max_duration_s=limit)
        except QtokError as exc:
            raise type(exc)(str(exc).replace(path, _BODY)) from None

    return _reading(service, read_file)


def _read_codes(service: CodecService, body: _Body) -> Any:
    """Parse the codes in ``body`` within the loaders' limits, frames up to ``max_duration_s``."""
    from ..grid_io import grid_from_bytes

    limit_s = service.config.max_duration_s
    return _reading(service, lambda: grid_from_bytes(body.data(), None, source=_BODY, max_duration_s=limit_s))


def _check_frames(service: CodecService, grid: Any, frame_rate: float) -> None:
    """Refuse (GridError) codes that last longer than ``max_duration_s`` at the codec's ``frame_rate``.

    The loader checked the frames at the file's own frame rate, which a file may make up.
    """
    from ..errors import GridError
    from ..grid_io import max_frames

    limit_s = service.config.max_duration_s
    allowed = max_frames(frame_rate, limit_s)
    if grid.n_frames > allowed:
        msg = (
            f"{_BODY}: codes have {grid.n_frames} frames ({grid.n_frames / frame_rate:.1f} s at the codec's "
            f"{frame_rate:g} Hz), above the limit of {allowed} frames ({limit_s:g} s; QtokExtension.max_duration_s)"
        )
        raise GridError(msg)


def _with_codec(service: CodecService, job: _Job, work: Any) -> tuple[Any, float]:
    """Run ``work()`` holding the codec lock; a user error becomes a 400. Returns (result, seconds).

    While it waits for the lock, the job is abandoned as soon as its client disconnects.
    """
    while not service.codec_lock.acquire(timeout=_LOCK_POLL_S):
        job.check()
    try:
        job.check()
        t0 = time.perf_counter()
        try:
            result = work()
        except QtokError as exc:
            raise _Rejected(400, str(exc)) from None
        return result, time.perf_counter() - t0
    finally:
        service.codec_lock.release()


def _encode(job: _Job, service: CodecService, body: _Body) -> dict[str, Any]:
    audio = _read_audio(service, body)
    codec = _codec(service)
    grid, encode_s = _with_codec(service, job, lambda: codec.encode(audio))
    return {"grid": grid, "duration_s": audio.duration, "encode_s": encode_s, "device": codec.device}


def _decode(job: _Job, service: CodecService, body: _Body, subtype: str) -> dict[str, Any]:
    grid = _read_codes(service, body)
    codec = _codec(service)
    _reading(service, lambda: _check_frames(service, grid, codec.frame_rate))
    job.check()
    audio, decode_s = _with_codec(service, job, lambda: codec.decode(grid))
    return {
        "wav": audio.to_wav_bytes(subtype=subtype),
        "duration_s": audio.duration,
        "sample_rate": audio.sample_rate,
        "decode_s": decode_s,
        "shape": [grid.n_layers, grid.n_frames],
    }


def _roundtrip(job: _Job, service: CodecService, body: _Body) -> dict[str, Any]:
    from ..metrics import compare
    from ..roundtrip import roundtrip
    from ..stats import code_preview, envelope

    audio = _read_audio(service, body)
    codec = _codec(service)
    result, _ = _with_codec(service, job, lambda: roundtrip(codec, audio, compare=False))
    # the comparison needs no codec: done outside the lock
    job.check()
    try:
        metrics = compare(result.original, result.reconstructed, with_pesq=False)
    except QtokError as exc:
        raise _Rejected(400, str(exc)) from None
    result = dataclasses.replace(result, metrics=metrics)
    out = result.summary()
    out["device"] = codec.device
    out["preview"] = code_preview(result.grid)
    out["waveform"] = {
        name: [arr.round(4).tolist() for arr in envelope(sig.samples, _ENVELOPE_POINTS)]
        for name, sig in (("original", result.original), ("reconstructed", result.reconstructed))
    }
    out["wav_base64"] = base64.b64encode(result.reconstructed.to_wav_bytes()).decode("ascii")
    return out


def _to_bytes(job: _Job, grid: Any, fmt: str) -> bytes:
    return grid.to_bytes("." + fmt)


def _convert(job: _Job, service: CodecService, body: _Body, fmt: str) -> tuple[bytes, list[int]]:
    grid = _read_codes(service, body)
    job.check()
    payload = grid.to_bytes("." + fmt)
    limit = service.config.max_codes_bytes
    if len(payload) > limit:
        msg = (
            f"{_BODY}: the codes as .{fmt} would be {len(payload) / _MB:.1f} MB, above the limit of "
            f"{service.config.max_codes_mb:g} MB (QtokExtension.max_codes_mb)"
        )
        raise _Rejected(413, msg)
    return payload, [grid.n_layers, grid.n_frames]


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
