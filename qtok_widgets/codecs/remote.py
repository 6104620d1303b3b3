"""ServerCodec: the codec held by a running Jupyter server's qtok extension, used over HTTP.

``load_codec("server")`` returns a :class:`ServerCodec`. It finds the server (an explicit
``url``, else ``$QTOK_SERVER_URL`` or ``$JUPYTER_SERVER_URL``, else the servers that
``jupyter_server.serverapp.list_running_servers()`` knows, first one whose qtok extension
answers), asks it to load its codec once (``GET /qtok/api/health?load=1``) and then encodes
and decodes through ``POST /qtok/api/encode`` and ``/decode``, authenticated with the server's
token (or its XSRF cookie on a server without one). Every notebook that does this shares the
server's one copy of the model, which saves GPU memory when several notebooks are open.
Audio travels as 32-bit float WAV and codes as ``.npz``, so the results are the same as the
server's codec gives locally.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import numpy as np

from ..audio import Audio, load_audio
from ..errors import CodecError, QtokError
from ..grid import CodeGrid
from .base import Codec, ProgressCallback

__all__ = ["ServerCodec", "find_server"]

_PROBE_TIMEOUT_S = 5.0
_ENV_URLS = ("QTOK_SERVER_URL", "JUPYTER_SERVER_URL")
_ENV_TOKENS = ("QTOK_SERVER_TOKEN", "JUPYTER_TOKEN")


class ServerCodec(Codec):
    """A :class:`Codec` whose model lives in a Jupyter server (the qtok server extension).

    Parameters
    ----------
    device : str, optional
        Accepted for the :func:`~qtok_widgets.load_codec` signature; the server decides where
        its codec runs (``QtokExtension.device``) and :attr:`device` reports it.
    url : str, optional
        Server base URL, e.g. ``http://127.0.0.1:8888/`` (a ``?token=...`` part is used as the
        token). Default: ``$QTOK_SERVER_URL``, ``$JUPYTER_SERVER_URL``, then the running servers.
    token : str, optional
        The server's token. Default: from the URL, ``$QTOK_SERVER_TOKEN``, ``$JUPYTER_TOKEN``
        or the running server's record.
    timeout_s : float
        Longest wait for one encode or decode request, in seconds.

    Raises
    ------
    CodecError
        No running Jupyter server with the qtok extension was found, or its codec cannot load.
    """

    def __init__(
        self,
        device: str | None = None,
        url: str | None = None,
        *,
        token: str | None = None,
        timeout_s: float = 600.0,
    ) -> None:
        self.url, self.token = find_server(url, token)
        self.timeout_s = float(timeout_s)
        self._jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._jar))
        health = self.health(load=True)
        info = health.get("info") or {}
        try:
            self.name = str(info["codec"])
            self.sample_rate = int(info["sample_rate"])
            self.frame_rate = float(info["frame_rate"])
            self.n_layers = int(info["n_layers"])
            self.codebook_size = int(info["codebook_size"])
            self.device = str(info["device"])
        except (KeyError, TypeError, ValueError):
            msg = f"qtok server at {self.url} answered an unexpected health record: {sorted(info)}"
            raise CodecError(msg) from None
        self.max_upload_bytes = int(float(health.get("max_upload_mb") or 200) * 1024 * 1024)

    # ------------------------------------------------------------------ HTTP
    def _request(
        self, path: str, *, body: bytes | None = None, query: dict[str, str] | None = None, timeout_s: float
    ) -> tuple[bytes, dict[str, str]]:
        url = urllib.parse.urljoin(self.url, path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Content-Type": "application/octet-stream"}
        if self.token:
            headers["Authorization"] = f"token {self.token}"
        elif body is not None:
            headers["X-XSRFToken"] = self._xsrf()
        req = urllib.request.Request(
            url, data=body, headers=headers, method="POST" if body is not None else "GET"
        )
        try:
            with self._opener.open(req, timeout=timeout_s) as resp:
                return resp.read(), dict(resp.headers.items())
        except urllib.error.HTTPError as exc:
            detail = _error_message(exc)
            msg = f"qtok server at {self.url}: {detail} (HTTP {exc.code})"
            raise CodecError(msg) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            msg = f"qtok server at {self.url} cannot be reached ({reason}); is it still running?"
            raise CodecError(msg) from None

    def _xsrf(self) -> str:
        """The ``_xsrf`` cookie value, fetched once from the page on a server without a token."""
        for cookie in self._jar:
            if cookie.name == "_xsrf" and cookie.value:
                return cookie.value
        self._request("qtok/", timeout_s=_PROBE_TIMEOUT_S)
        for cookie in self._jar:
            if cookie.name == "_xsrf" and cookie.value:
                return cookie.value
        msg = f"qtok server at {self.url} gave no XSRF cookie; pass token= or set QTOK_SERVER_TOKEN"
        raise CodecError(msg)

    def health(self, *, load: bool = False) -> dict[str, Any]:
        """The server's ``/qtok/api/health`` record (``load=True`` makes it load its codec first)."""
        raw, _ = self._request(
            "qtok/api/health", query={"load": "1"} if load else None, timeout_s=self.timeout_s
        )
        return json.loads(raw)

    # ------------------------------------------------------------------ Codec API
    def encode(self, audio: Audio | object, progress: ProgressCallback | None = None) -> CodeGrid:
        """Encode on the server; the audio is sent at its own rate and resampled there.

        Returns
        -------
        CodeGrid
            Shape ``(n_layers, n_frames)``, equal to what the server's codec gives locally.
        """
        if not isinstance(audio, Audio):
            audio = load_audio(audio)
        grid = self._encode_audio(audio)
        if progress is not None:
            progress(1, 1)
        return grid

    def _encode_audio(self, audio: Audio) -> CodeGrid:
        body = audio.to_wav_bytes(subtype="FLOAT")
        if len(body) > self.max_upload_bytes:
            # too big as float: 24-bit FLAC is lossless to 2**-23 and about a third of the size
            body = _flac_24(audio)
        raw, _ = self._request(
            "qtok/api/encode", body=body, query={"format": "npz"}, timeout_s=self.timeout_s
        )
        try:
            return CodeGrid.from_bytes(raw, ".npz", source=f"codes from {self.url}")
        except QtokError as exc:
            msg = f"qtok server at {self.url} answered unreadable codes: {exc}"
            raise CodecError(msg) from None

    def decode(self, grid: CodeGrid) -> Audio:
        """Decode on the server.

        Returns
        -------
        Audio
            float32 samples at :attr:`sample_rate`, shape ``(grid.n_samples,)``.
        """
        self.check_grid(grid)
        if grid.n_frames == 0:
            return Audio(np.zeros(0, np.float32), self.sample_rate, "decoded")
        raw, _ = self._request(
            "qtok/api/decode",
            body=grid.to_bytes(".npz"),
            query={"sample_format": "float32"},
            timeout_s=self.timeout_s,
        )
        audio = load_audio(raw)
        return Audio(audio.samples, audio.sample_rate, f"decoded {self.name} (server)")

    def _encode_samples(self, samples: np.ndarray, progress: ProgressCallback | None = None) -> np.ndarray:
        return self._encode_audio(Audio(samples, self.sample_rate, "samples")).codes

    def _decode_codes(self, codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        grid = CodeGrid(
            codes,
            codec=self.name,
            frame_rate=self.frame_rate,
            sample_rate=self.sample_rate,
            codebook_size=self.codebook_size,
            mask=mask,
        )
        return self.decode(grid).samples

    def info(self) -> dict[str, object]:
        """As :meth:`Codec.info`, plus the server ``url``."""
        return {**super().info(), "url": self.url}

    def __repr__(self) -> str:
        return f"ServerCodec(name={self.name!r}, device={self.device!r}, url={self.url!r})"


def _flac_24(audio: Audio) -> bytes:
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio.sample_rate, format="FLAC", subtype="PCM_24")
    return buf.getvalue()


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read()
        return str(json.loads(body).get("message") or exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def _split_token(url: str) -> tuple[str, str | None]:
    """``http://h:p/base/?token=x`` -> (``http://h:p/base/``, ``x``)."""
    parts = urllib.parse.urlsplit(url)
    token = urllib.parse.parse_qs(parts.query).get("token", [None])[0]
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", "")), token


def _probe(url: str, token: str | None) -> bool:
    req = urllib.request.Request(urllib.parse.urljoin(url, "qtok/api/health"))
    if token:
        req.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(req, timeout=_PROBE_TIMEOUT_S) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def find_server(url: str | None = None, token: str | None = None) -> tuple[str, str | None]:
    """Base URL and token of a running Jupyter server whose qtok extension answers.

    Parameters
    ----------
    url, token : str, optional
        Use this server; otherwise ``$QTOK_SERVER_URL``/``$JUPYTER_SERVER_URL`` (token from
        the URL, ``$QTOK_SERVER_TOKEN`` or ``$JUPYTER_TOKEN``), else the first of
        ``list_running_servers()`` whose ``/qtok/api/health`` answers.

    Returns
    -------
    (str, str or None)
        Base URL ending in ``/`` and the token (None when the server needs none).

    Raises
    ------
    CodecError
        No such server.
    """
    env_token = next((os.environ[k] for k in _ENV_TOKENS if os.environ.get(k)), None)
    explicit = url or next((os.environ[k] for k in _ENV_URLS if os.environ.get(k)), None)
    if explicit:
        if not explicit.startswith(("http://", "https://")):
            msg = f"server URL must start with http:// or https://, got {explicit!r}"
            raise CodecError(msg)
        base, url_token = _split_token(explicit)
        return base, token or url_token or env_token
    tried = []
    try:
        from jupyter_server.serverapp import list_running_servers

        servers = list(list_running_servers())
    except (ImportError, OSError):
        servers = []
    for server in servers:
        base = server.get("url") or ""
        if not base:
            continue
        base, url_token = _split_token(base)
        found = token or server.get("token") or url_token or env_token
        tried.append(base)
        if _probe(base, found):
            return base, found
    where = f" (tried {', '.join(tried)}: none answered /qtok/api/health)" if tried else ""
    msg = (
        f"no running Jupyter server with the qtok extension found{where}; start one with "
        "'qtok lab' or 'jupyter lab', or set QTOK_SERVER_URL"
    )
    raise CodecError(msg)
