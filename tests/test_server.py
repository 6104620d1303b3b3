"""The qtok server extension over HTTP (pytest-jupyter's in-process server, built-in codec).

Every endpoint is exercised for success and for the failures a client can cause:
unauthenticated requests, oversized bodies, corrupt or unsafe ``.pt`` files, text posted as
audio. :class:`~qtok_widgets.codecs.remote.ServerCodec` is checked against the same server.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import pickle
import re
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from tornado.httpclient import HTTPClientError

from qtok_widgets import CodeGrid, load_audio, load_codec
from qtok_widgets.audio import Audio
from qtok_widgets.errors import AudioError, CodecError

pytest_plugins = ["pytest_jupyter.jupyter_server"]

REPO = Path(__file__).resolve().parents[1]
UPLOAD_LIMIT_MB = 1


@pytest.fixture
def jp_server_config():
    """Enable the extension (editable installs do not install ``jupyter-config/``), built-in codec."""
    return {
        "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}},
        "QtokExtension": {"codec": "builtin", "max_upload_mb": UPLOAD_LIMIT_MB},
    }


@pytest.fixture(scope="module")
def codec():
    """The built-in codec, loaded directly (the reference for what the server answers)."""
    return load_codec("builtin")


@pytest.fixture
def server_url(jp_serverapp, jp_fetch, jp_http_port, jp_base_url):
    """Base URL of the test server, ending in ``/`` (``jp_fetch`` starts its HTTP server)."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}"


async def _fails(fetch, *parts, **kwargs) -> tuple[int, dict]:
    """Status and JSON body of a request that must fail."""
    with pytest.raises(HTTPClientError) as info:
        await fetch(*parts, **kwargs)
    body = info.value.response.body if info.value.response is not None else b""
    return info.value.code, json.loads(body) if body.startswith(b"{") else {"raw": body}


# ---------------------------------------------------------------------------- health


async def test_health_reports_codec_without_loading_it(jp_fetch, jp_serverapp):
    health = json.loads((await jp_fetch("qtok", "api", "health")).body)
    assert health["codec"] == "builtin"
    assert health["loaded"] is False
    assert health["max_upload_mb"] == UPLOAD_LIMIT_MB
    assert "gpu_memory_mb" in health
    assert not jp_serverapp.web_app.settings["qtok_service"].loaded


async def test_health_load_loads_once(jp_fetch, jp_serverapp):
    first = json.loads((await jp_fetch("qtok", "api", "health", params={"load": "1"})).body)
    assert first["loaded"] is True
    assert first["load_reason"] == "QtokExtension.codec"
    assert first["device"] == "cpu"
    assert first["info"]["n_layers"] == 16
    assert first["info"]["sample_rate"] == 24000
    service = jp_serverapp.web_app.settings["qtok_service"]
    held = service.codec()
    await jp_fetch("qtok", "api", "health", params={"load": "1"})
    assert service.codec() is held


# ---------------------------------------------------------------------------- encode


async def test_encode_json_matches_direct_encode(jp_fetch, speech_path, speech_roundtrip):
    grid, _ = speech_roundtrip
    resp = await jp_fetch("qtok", "api", "encode", method="POST", body=speech_path.read_bytes())
    out = json.loads(resp.body)
    assert out["codec"] == "builtin"
    assert out["shape"] == [16, grid.n_frames]
    assert out["duration_s"] == pytest.approx(4.0)
    assert np.array_equal(np.array(out["codes"]), grid.codes)
    assert float(resp.headers["X-Qtok-Seconds"]) > 0
    assert resp.headers["X-Qtok-Shape"] == f"16x{grid.n_frames}"
    # one JSON layout of codes: the answer is CodeGrid.to_dict's, plus the run
    assert out == {
        **grid.to_dict(),
        "duration_s": out["duration_s"],
        "device": "cpu",
        "encode_s": out["encode_s"],
    }
    assert CodeGrid.from_bytes(resp.body) == grid


async def test_encode_json_saves_as_pt_through_convert(jp_fetch, speech_path, speech_roundtrip):
    # what the page's Save .pt does: the encode answer, sent back as it came, to convert
    encoded = await jp_fetch("qtok", "api", "encode", method="POST", body=speech_path.read_bytes())
    resp = await jp_fetch("qtok", "api", "convert", method="POST", body=encoded.body, params={"format": "pt"})
    assert CodeGrid.from_bytes(resp.body, ".pt") == speech_roundtrip[0]


@pytest.mark.parametrize("fmt", ["pt", "npz"])
async def test_encode_codes_file(jp_fetch, speech_path, speech_roundtrip, fmt):
    resp = await jp_fetch(
        "qtok", "api", "encode", method="POST", body=speech_path.read_bytes(), params={"format": fmt}
    )
    assert resp.headers["Content-Disposition"] == f'attachment; filename="codes.{fmt}"'
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert CodeGrid.from_bytes(resp.body, "." + fmt) == speech_roundtrip[0]


async def test_encode_mp3(jp_fetch, data_dir, codec):
    path = data_dir / "p240_00000.mp3"
    out = json.loads((await jp_fetch("qtok", "api", "encode", method="POST", body=path.read_bytes())).body)
    assert np.array_equal(np.array(out["codes"]), codec.encode(load_audio(path)).codes)


async def test_text_posted_as_audio_is_400(jp_fetch):
    status, body = await _fails(jp_fetch, "qtok", "api", "encode", method="POST", body=b"hello, not audio")
    assert status == 400
    assert body["message"].startswith("request body: unreadable or unsupported audio container")


async def test_empty_body_is_400(jp_fetch):
    status, body = await _fails(
        jp_fetch, "qtok", "api", "encode", method="POST", body=b"", allow_nonstandard_methods=True
    )
    assert status == 400
    assert "empty request body" in body["message"]


async def test_unknown_format_is_400(jp_fetch, speech_path):
    status, body = await _fails(
        jp_fetch,
        "qtok",
        "api",
        "encode",
        method="POST",
        body=speech_path.read_bytes(),
        params={"format": "mp4"},
    )
    assert status == 400
    assert body["message"].startswith("format='mp4' is not supported; use one of pt, npz, json")


async def test_multipart_form_is_400(jp_fetch, speech_path):
    status, body = await _fails(
        jp_fetch,
        "qtok",
        "api",
        "encode",
        method="POST",
        body=b"--x\r\n\r\n--x--\r\n",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert status == 400
    assert "not as a multipart form" in body["message"]


# ---------------------------------------------------------------------------- limits and auth


async def test_oversized_upload_is_413(jp_fetch):
    body = b"\0" * (UPLOAD_LIMIT_MB * 1024 * 1024 + 1)
    status, reply = await _fails(jp_fetch, "qtok", "api", "encode", method="POST", body=body)
    assert status == 413
    assert reply["message"] == "upload 1.0 MB is above the limit of 1 MB (QtokExtension.max_upload_mb)"


async def test_oversized_chunked_upload_is_413(jp_fetch):
    chunk = b"\0" * (256 * 1024)

    async def producer(write):
        for _ in range(4 * UPLOAD_LIMIT_MB + 1):
            await write(chunk)

    status, reply = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body_producer=producer)
    assert status == 413
    assert "above the limit of 1 MB" in reply["message"]


def test_default_upload_limit_is_200_mb():
    from qtok_widgets.server import QtokExtension

    assert QtokExtension().max_upload_mb == 200
    assert QtokExtension().max_upload_bytes == 200 * 1024 * 1024


def test_server_never_uses_itself_as_its_codec(monkeypatch):
    from qtok_widgets.server import CodecService, QtokExtension

    with pytest.raises(ValueError, match="cannot be 'server': the server would call itself"):
        QtokExtension(codec="server")
    # QTOK_CODEC=server is for the kernels; the server itself follows the local default rule
    monkeypatch.setenv("QTOK_CODEC", "server")
    config = QtokExtension()
    assert config.codec is None
    name, reason = CodecService(config, logging.getLogger("test"))._codec_name()
    assert name == "builtin" or Path(name).is_dir()
    assert "QTOK_CODEC" not in reason


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ("health",)),
        ("POST", ("encode",)),
        ("POST", ("decode",)),
        ("POST", ("roundtrip",)),
        ("POST", ("convert",)),
    ],
)
async def test_unauthenticated_is_403(jp_fetch, speech_path, speech_roundtrip, method, parts):
    body = None
    if method == "POST":
        body = (
            speech_roundtrip[0].to_bytes(".pt")
            if parts[0] in ("decode", "convert")
            else speech_path.read_bytes()
        )
    status, reply = await _fails(
        jp_fetch, "qtok", "api", *parts, method=method, body=body, headers={"Authorization": ""}
    )
    assert status == 403
    assert "raw" not in reply  # a JSON error, never audio


async def test_wrong_token_is_403(jp_fetch, speech_path):
    status, _ = await _fails(
        jp_fetch,
        "qtok",
        "api",
        "encode",
        method="POST",
        body=speech_path.read_bytes(),
        headers={"Authorization": "token not-the-token"},
    )
    assert status == 403


async def test_cookie_session_needs_the_xsrf_token(jp_fetch, jp_serverapp, speech_path):
    # log in as a browser does (token in the page URL once), then POST with the cookies only
    token = jp_serverapp.identity_provider.token
    page = await jp_fetch("qtok", params={"token": token}, headers={"Authorization": ""})
    cookies = {}
    for header in page.headers.get_list("Set-Cookie"):
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    assert "_xsrf" in cookies
    assert any(name.startswith("username-") for name in cookies)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    status, reply = await _fails(
        jp_fetch,
        "qtok",
        "api",
        "encode",
        method="POST",
        body=speech_path.read_bytes(),
        headers={"Authorization": "", "Cookie": cookie},
    )
    assert status == 403
    assert "_xsrf" in reply["message"]
    resp = await jp_fetch(
        "qtok",
        "api",
        "encode",
        method="POST",
        body=speech_path.read_bytes(),
        headers={"Authorization": "", "Cookie": cookie, "X-XSRFToken": cookies["_xsrf"]},
    )
    assert json.loads(resp.body)["shape"][0] == 16


# ---------------------------------------------------------------------------- decode


@pytest.mark.parametrize("fmt", [".pt", ".npz", ".json"])
async def test_decode_returns_wav(jp_fetch, speech_roundtrip, fmt):
    grid, reference = speech_roundtrip
    resp = await jp_fetch("qtok", "api", "decode", method="POST", body=grid.to_bytes(fmt))
    assert resp.headers["Content-Type"] == "audio/wav"
    assert resp.body[:4] == b"RIFF"
    audio = load_audio(resp.body)
    assert audio.sample_rate == 24000
    assert audio.n_samples == grid.n_samples
    assert float(resp.headers["X-Qtok-Duration-S"]) == pytest.approx(grid.n_samples / 24000, abs=1e-4)
    # 16-bit PCM: within one quantisation step of the direct decode
    assert np.max(np.abs(audio.samples - reference.samples)) <= 1.01 / 32768


async def test_decode_float32_is_exact(jp_fetch, speech_roundtrip):
    grid, reference = speech_roundtrip
    resp = await jp_fetch(
        "qtok", "api", "decode", method="POST", body=grid.to_bytes(".pt"), params={"sample_format": "float32"}
    )
    assert np.array_equal(load_audio(resp.body).samples, reference.samples)


async def test_decode_masked_grid(jp_fetch, codec, speech_roundtrip):
    grid = speech_roundtrip[0]
    mask = np.zeros(grid.codes.shape, bool)
    mask[8:, :] = True
    masked = CodeGrid(
        grid.codes,
        codec=grid.codec,
        frame_rate=grid.frame_rate,
        sample_rate=grid.sample_rate,
        codebook_size=grid.codebook_size,
        n_samples=grid.n_samples,
        mask=mask,
    )
    resp = await jp_fetch(
        "qtok",
        "api",
        "decode",
        method="POST",
        body=masked.to_bytes(".npz"),
        params={"sample_format": "float32"},
    )
    assert np.array_equal(load_audio(resp.body).samples, codec.decode(masked).samples)


async def test_corrupt_pt_is_400(jp_fetch, speech_roundtrip):
    data = bytearray(speech_roundtrip[0].to_bytes(".pt"))
    data[len(data) // 2 :] = b"\0" * (len(data) - len(data) // 2)
    status, body = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=bytes(data))
    assert status == 400
    assert body["message"].startswith("request body: not a readable .pt file")


class _Payload:
    """Unpickling this would write a file: the server must refuse it without running it."""

    target = ""

    def __reduce__(self):
        return (Path(self.target).write_text, ("executed",))


async def test_pickled_code_in_pt_is_refused(jp_fetch, tmp_path):
    import torch

    marker = tmp_path / "marker.txt"
    _Payload.target = str(marker)
    buf = io.BytesIO()
    torch.save({"audio_codes": _Payload()}, buf)
    status, body = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=buf.getvalue())
    assert status == 400
    assert "refused" in body["message"]
    assert not marker.exists()


async def test_pickle_file_is_400(jp_fetch):
    status, body = await _fails(
        jp_fetch, "qtok", "api", "decode", method="POST", body=pickle.dumps({"audio_codes": [1, 2]})
    )
    assert status == 400
    assert "not a codes file" in body["message"]


async def test_text_posted_as_codes_is_400(jp_fetch):
    status, body = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=b"just some text")
    assert status == 400
    assert body["message"] == "request body: not a codes file (expected a .pt, .npz or .json file of codes)"


async def test_zip_that_is_not_codes_is_400(jp_fetch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    status, body = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=buf.getvalue())
    assert status == 400
    assert "request body" in body["message"]


async def test_codes_out_of_range_is_400(jp_fetch):
    payload = {"codes": [[0, 5000]] * 16, "codec": "builtin"}
    status, body = await _fails(
        jp_fetch, "qtok", "api", "decode", method="POST", body=json.dumps(payload).encode()
    )
    assert status == 400
    assert "out of range" in body["message"]
    assert "0..2047" in body["message"]


async def test_codes_for_another_codec_shape_are_400(jp_fetch):
    grid = CodeGrid(
        np.zeros((8, 10), np.int32), codec="other", frame_rate=12.5, sample_rate=24000, codebook_size=2048
    )
    status, body = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=grid.to_bytes(".npz"))
    assert status == 400
    assert "8 layers (expected 16)" in body["message"]


# ---------------------------------------------------------------------------- hostile and broken uploads
# Each answers 400 (413 for what is too large) with one line naming the request body, never 500.


def _long_grid(n_frames: int, **meta) -> CodeGrid:
    """16 layers of zero codes, ``n_frames`` long (compresses to almost nothing in .npz)."""
    meta = {"codec": "builtin", "frame_rate": 12.5, "sample_rate": 24000, "codebook_size": 2048, **meta}
    return CodeGrid(np.zeros((16, n_frames), np.int16), **meta)


def _deflated_pt(grid: CodeGrid) -> bytes:
    """``grid`` as a .pt whose zip members are deflated (torch writes them stored)."""
    src = zipfile.ZipFile(io.BytesIO(grid.to_bytes(".pt")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


def _flip(data: bytes, at: float) -> bytes:
    """``data`` with the byte at fraction ``at`` of its length inverted."""
    out = bytearray(data)
    out[int(at * (len(out) - 1))] ^= 0xFF
    return bytes(out)


_CODES_JSON = {"codec": "builtin", "frame_rate": 12.5, "sample_rate": 24000, "codebook_size": 2048}

HOSTILE_CODES = {
    "nested_100k_deep": b"[" * 100_000 + b"]" * 100_000,
    "nested_in_object": b'{"codes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "integer_of_400_digits": json.dumps({**_CODES_JSON, "codes": [[int("9" * 400)]] * 16}).encode(),
    "masked_is_a_number": json.dumps({**_CODES_JSON, "codes": [[1, 2]] * 16, "masked": 5}).encode(),
    "codebook_size_2_31": json.dumps(
        {**_CODES_JSON, "codes": [[1, 2]] * 16, "codebook_size": 2**31}
    ).encode(),
    "frame_rate_nan": json.dumps(
        {**_CODES_JSON, "codes": [[1, 2]] * 16, "frame_rate": float("nan")}
    ).encode(),
    "not_utf8": b'{"codes": "\xff\xfe"}',
    "zip_of_nothing": b"PK\x03\x04" + b"\0" * 100,
    "truncated_npz": "truncated npz",
    "truncated_pt": "truncated pt",
    "flipped_npz": "flipped npz",
    "flipped_pt": "flipped pt",
    "too_long_npz": "too long npz",
    "too_long_deflated_pt": "too long deflated pt",
}


def _hostile_codes(name: str, grid: CodeGrid) -> bytes:
    value = HOSTILE_CODES[name]
    if isinstance(value, bytes):
        return value
    npz, pt = grid.to_bytes(".npz"), grid.to_bytes(".pt")
    if value == "truncated npz":
        return npz[: len(npz) // 2]
    if value == "truncated pt":
        return pt[: len(pt) // 2]
    if value == "flipped npz":
        return _flip(npz, 0.5)
    if value == "flipped pt":
        return _flip(pt, 0.6)
    # 46,000 frames at 12.5 Hz: 3680 s, above the 3600 s limit (a few kB on the wire)
    if value == "too long npz":
        return _long_grid(46_000).to_bytes(".npz")
    return _deflated_pt(_long_grid(46_000))


@pytest.mark.parametrize("endpoint", ["decode", "convert"])
@pytest.mark.parametrize("name", sorted(HOSTILE_CODES))
async def test_hostile_codes_are_400(jp_fetch, speech_roundtrip, endpoint, name):
    body = _hostile_codes(name, speech_roundtrip[0])
    status, reply = await _fails(
        jp_fetch, "qtok", "api", endpoint, method="POST", body=body, params={"format": "json"}
    )
    assert status == 400, reply
    message = reply["message"]
    assert message.startswith("request body: ")
    assert "\n" not in message
    assert len(message) < 400


async def test_codes_longer_than_the_limit_name_it(jp_fetch):
    status, reply = await _fails(
        jp_fetch,
        "qtok",
        "api",
        "convert",
        method="POST",
        body=_long_grid(46_000).to_bytes(".npz"),
        params={"format": "json"},
    )
    assert status == 400
    assert reply["message"].startswith(
        "request body: codes have 46000 frames (3680.0 s at 12.5 Hz), above the limit of 45000 frames (3600 s;"
    )


async def test_a_made_up_frame_rate_does_not_lift_the_decode_limit(jp_fetch):
    # 46,000 frames "at 12 kHz" would be 3.8 s; the codec decodes them at its own 12.5 Hz
    body = _long_grid(46_000, frame_rate=12_000.0).to_bytes(".npz")
    status, reply = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=body)
    assert status == 400
    assert reply["message"] == (
        "request body: codes have 46000 frames (3680.0 s at the codec's 12.5 Hz), above the limit of "
        "45000 frames (3600 s; QtokExtension.max_duration_s)"
    )


def _npz_of_zeros(n_layers: int, n_frames: int) -> bytes:
    """A deflated ``.npz`` whose ``codes.npy`` holds ``n_layers x n_frames`` int16 zeros, written
    in 1 MB pieces (never the whole array in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("codes.npy", "w", force_zip64=True) as fh:
            header = {"descr": "<i2", "fortran_order": False, "shape": (n_layers, n_frames)}
            np.lib.format.write_array_header_1_0(fh, header)
            block = bytes(1 << 20)
            left = 2 * n_layers * n_frames
            while left:
                fh.write(block[: min(left, len(block))])
                left -= min(left, len(block))
    return buf.getvalue()


@pytest.mark.parametrize("endpoint", ["decode", "convert"])
async def test_small_file_of_ten_million_frames_is_400_in_little_memory(jp_fetch, endpoint):
    import tracemalloc

    body = _npz_of_zeros(16, 10_000_000)  # 160 million codes in about 310 kB
    assert len(body) < 400_000
    tracemalloc.start()
    try:
        status, reply = await _fails(
            jp_fetch, "qtok", "api", endpoint, method="POST", body=body, params={"format": "json"}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 400
    # refused on what the archive says about itself (its expanded size or its frames)
    assert reply["message"].startswith("request body: ")
    assert "above the limit" in reply["message"]
    assert peak < 16 * 1024 * 1024, f"refusing the file took {peak / 2**20:.0f} MB"


@pytest.mark.parametrize(
    "jp_server_config",
    [
        {
            "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}},
            "QtokExtension": {"codec": "builtin", "max_upload_mb": UPLOAD_LIMIT_MB, "max_codes_mb": 1},
        }
    ],
)
async def test_convert_answer_is_capped(jp_fetch):
    # 40,000 frames (3200 s, inside the duration limit): 11 kB as .npz, 1.3 MB as JSON
    body = _long_grid(40_000).to_bytes(".npz")
    assert len(body) < 100_000
    status, reply = await _fails(
        jp_fetch, "qtok", "api", "convert", method="POST", body=body, params={"format": "json"}
    )
    assert status == 413
    assert re.fullmatch(
        r"request body: the codes as \.json would be 1\.\d MB, above the limit of 1 MB \(QtokExtension\.max_codes_mb\)",
        reply["message"],
    )
    # the same codes as .npz fit
    resp = await jp_fetch("qtok", "api", "convert", method="POST", body=body, params={"format": "npz"})
    assert CodeGrid.from_bytes(resp.body).n_frames == 40_000


async def test_mutated_codes_files_never_give_500(jp_fetch, speech_roundtrip):
    # 36 seeded one-byte mutations of the three formats: each parses (200) or is refused (400)
    grid = speech_roundtrip[0]
    rng = np.random.default_rng(12)
    statuses = []
    for fmt in (".pt", ".npz", ".json"):
        data = grid.to_bytes(fmt)
        for _ in range(12):
            mutated = bytearray(data)
            mutated[int(rng.integers(len(mutated)))] = int(rng.integers(256))
            resp = await jp_fetch(
                "qtok",
                "api",
                "convert",
                method="POST",
                body=bytes(mutated),
                params={"format": "npz"},
                raise_error=False,
            )
            statuses.append(resp.code)
            if resp.code == 400:
                assert json.loads(resp.body)["message"].startswith("request body: ")
    assert set(statuses) <= {200, 400}, statuses
    assert 400 in statuses


def _wav(audio: Audio) -> bytes:
    return audio.to_wav_bytes()


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("truncated_header", lambda wav: wav[:30]),
        ("header_only", lambda wav: wav[:44]),
        ("unknown_wav_format_tag", lambda wav: wav[:20] + b"\x77\x77" + wav[22:]),
        ("zero_sample_rate", lambda wav: wav[:24] + bytes(4) + wav[28:]),
        ("riff_of_garbage", lambda wav: b"RIFF" + b"\xff" * 1000),
        ("mp3_frames_of_garbage", lambda wav: b"\xff\xfb\x90\x00" * 500),
        ("zeros", lambda wav: bytes(4096)),
    ],
)
async def test_broken_audio_is_400(jp_fetch, speech_path, name, make):
    status, reply = await _fails(
        jp_fetch, "qtok", "api", "encode", method="POST", body=make(speech_path.read_bytes())
    )
    assert status == 400, reply
    assert reply["message"].startswith("request body: ")
    assert "\n" not in reply["message"]


async def test_roundtrip_of_a_25_ms_clip_answers_without_stoi(jp_fetch, speech_path):
    audio = load_audio(speech_path)
    clip = Audio(audio.samples[8000 : 8000 + 400], audio.sample_rate, "25 ms").to_wav_bytes()
    resp = await jp_fetch("qtok", "api", "roundtrip", method="POST", body=clip, raise_error=False)
    if resp.code == 400:
        assert json.loads(resp.body)["message"].startswith("request body: ")
        return
    assert resp.code == 200
    out = json.loads(resp.body)
    assert out["duration_s"] == pytest.approx(0.025)
    assert out["metrics"]["stoi"] is None
    assert np.isfinite(out["metrics"]["snr_db"])


# ---------------------------------------------------------------------------- round trip, convert, page


async def test_roundtrip(jp_fetch, speech_path, speech_roundtrip):
    out = json.loads(
        (await jp_fetch("qtok", "api", "roundtrip", method="POST", body=speech_path.read_bytes())).body
    )
    grid, reference = speech_roundtrip
    assert out["shape"] == [16, grid.n_frames]
    assert out["duration_s"] == pytest.approx(4.0)
    assert out["reconstructed_duration_s"] == pytest.approx(grid.n_samples / 24000)
    assert set(out["metrics"]) >= {"snr_db", "lsd_db", "mcd_db"}
    assert out["preview"]["first"] == grid.codes[:, :5].tolist()
    assert len(out["waveform"]["original"][0]) == 800
    wav = load_audio(base64.b64decode(out["wav_base64"]))
    assert np.max(np.abs(wav.samples - reference.samples)) <= 1.01 / 32768


@pytest.mark.parametrize("fmt", ["pt", "npz", "json"])
async def test_convert(jp_fetch, speech_roundtrip, fmt):
    resp = await jp_fetch(
        "qtok",
        "api",
        "convert",
        method="POST",
        body=speech_roundtrip[0].to_bytes(".json"),
        params={"format": fmt},
    )
    assert CodeGrid.from_bytes(resp.body) == speech_roundtrip[0]


async def test_page_and_static_files(jp_fetch):
    page = (await jp_fetch("qtok")).body.decode()
    assert "{{" not in page
    assert 'name="qtok-xsrf"' in page
    assert '<input id="decode-file" type="file" accept=".pt,.npz,.json">' in page
    script = await jp_fetch("qtok", "static", "qtok.js")
    assert b"qtok/api/" in script.body
    resp = await jp_fetch(
        "qtok", "static", "qtok.js", headers={"Authorization": ""}, follow_redirects=False, raise_error=False
    )
    assert resp.code == 302  # to the login page, as for every Jupyter page
    assert b"qtok" not in resp.body


async def test_page_redirects_to_login_when_unauthenticated(jp_fetch):
    resp = await jp_fetch("qtok", headers={"Authorization": ""}, follow_redirects=False, raise_error=False)
    assert resp.code == 302
    assert "/login" in resp.headers["Location"]


async def test_static_files_never_leave_their_folder(jp_fetch):
    status, _ = await _fails(jp_fetch, "qtok", "static", "..%2F__init__.py")
    assert status in (403, 404)


async def test_each_request_logs_timing_and_gpu_memory(jp_fetch, jp_serverapp, speech_path):
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    jp_serverapp.log.addHandler(handler)
    try:
        await jp_fetch("qtok", "api", "encode", method="POST", body=speech_path.read_bytes())
        await _fails(jp_fetch, "qtok", "api", "encode", method="POST", body=b"text")
    finally:
        jp_serverapp.log.removeHandler(handler)
    lines = [r for r in records if r.startswith("qtok POST")]
    assert len(lines) == 2
    assert re.match(r"qtok POST \S*/qtok/api/encode 200: 4\.00 s audio .* -> \[16, 50\] codes", lines[0])
    assert re.search(r"encode \d+\.\d+ s in \d+\.\d+ s, GPU mem ", lines[0])
    assert re.match(r"qtok POST \S*/qtok/api/encode 400: request body: unreadable", lines[1])


async def test_encoding_does_not_block_the_server(jp_fetch, clip_paths):
    # 60 s of the clips looped, at 8 kHz (0.96 MB, under the 1 MB test limit): about 2 s of
    # encoding on a quiet 2-core machine, long enough to ask for health while it runs
    pieces = np.concatenate([load_audio(p, target_rate=8000).samples for p in clip_paths])
    body = Audio(np.resize(pieces, 60 * 8000), 8000, "clips").to_wav_bytes()
    await jp_fetch("qtok", "api", "health", params={"load": "1"})
    encoding = asyncio.ensure_future(
        jp_fetch("qtok", "api", "encode", method="POST", body=body, request_timeout=300)
    )
    await asyncio.sleep(0.5)
    t0 = time.perf_counter()
    health = json.loads((await jp_fetch("qtok", "api", "health")).body)
    answered_s = time.perf_counter() - t0
    assert not encoding.done(), "the encode finished too soon to show anything"
    assert health["loaded"] is True
    assert answered_s < 1.0
    assert json.loads((await encoding).body)["shape"][0] == 16


# ---------------------------------------------------------------------------- ServerCodec


async def test_server_codec_matches_local_codec(jp_serverapp, server_url, speech_path, speech_roundtrip):
    from qtok_widgets.codecs.remote import ServerCodec

    token = jp_serverapp.identity_provider.token
    grid, reference = speech_roundtrip
    remote = await asyncio.to_thread(ServerCodec, url=server_url, token=token)
    assert remote.name == "builtin"
    assert remote.n_layers == 16
    assert remote.device == "cpu"
    got = await asyncio.to_thread(remote.encode, speech_path)
    assert got == grid
    audio = await asyncio.to_thread(remote.decode, got)
    assert np.array_equal(audio.samples, reference.samples)


async def test_load_codec_server_uses_environment(
    jp_serverapp, server_url, monkeypatch, speech_path, speech_roundtrip
):
    monkeypatch.setenv("QTOK_SERVER_URL", f"{server_url}?token={jp_serverapp.identity_provider.token}")
    remote = await asyncio.to_thread(load_codec, "server")
    assert type(remote).__name__ == "ServerCodec"
    grid = await asyncio.to_thread(remote.encode, load_audio(speech_path))
    assert grid == speech_roundtrip[0]
    service = jp_serverapp.web_app.settings["qtok_service"]
    assert service.loaded


async def test_server_codec_reports_server_errors(jp_serverapp, server_url):
    from qtok_widgets.codecs.remote import ServerCodec

    remote = await asyncio.to_thread(ServerCodec, url=server_url, token=jp_serverapp.identity_provider.token)
    # input the client can check is refused before sending
    with pytest.raises(AudioError, match="unreadable or unsupported audio container"):
        await asyncio.to_thread(remote.encode, b"not audio at all")
    # what only the server can judge comes back as its one-line message
    with pytest.raises(CodecError, match=r"request body: not a codes file .* \(HTTP 400\)$"):
        await asyncio.to_thread(
            remote._request, "qtok/api/decode", body=b"not codes", timeout_s=remote.timeout_s
        )
    with pytest.raises(CodecError, match=r"\(HTTP 403\)$"):
        await asyncio.to_thread(ServerCodec, url=server_url, token="wrong")


async def test_codec_lab_uses_the_server_codec(jp_serverapp, server_url, speech_path, speech_roundtrip):
    from qtok_widgets import CodecLab
    from qtok_widgets.codecs.remote import ServerCodec

    remote = await asyncio.to_thread(ServerCodec, url=server_url, token=jp_serverapp.identity_provider.token)
    lab = CodecLab(remote)
    try:
        rt = await asyncio.to_thread(lambda: lab.roundtrip(speech_path).result(120))
    finally:
        lab.close()
    assert rt.grid == speech_roundtrip[0]
    assert np.array_equal(rt.reconstructed.samples, speech_roundtrip[1].samples)


def test_server_codec_without_server(monkeypatch, tmp_path):
    from qtok_widgets.codecs.remote import ServerCodec

    for name in ("QTOK_SERVER_URL", "JUPYTER_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(CodecError, match="no running Jupyter server with the qtok extension found"):
        load_codec("server")
    with pytest.raises(CodecError, match="cannot be reached"):
        ServerCodec(url="http://127.0.0.1:9/")
    with pytest.raises(CodecError, match="must start with http"):
        ServerCodec(url="127.0.0.1:8888")


# ---------------------------------------------------------------------------- packaging


def test_jupyter_config_enables_the_extension():
    config = json.loads((REPO / "jupyter-config" / "server-config" / "qtok_widgets.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"qtok_widgets": True}}}
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"jupyter-config/server-config" = "etc/jupyter/jupyter_server_config.d"' in pyproject


@pytest.mark.slow
def test_wheel_installs_the_server_config(tmp_path):
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("qtok_widgets-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        config = [n for n in names if n.endswith("etc/jupyter/jupyter_server_config.d/qtok_widgets.json")]
        assert config == [
            f"qtok_widgets-{wheel.name.split('-')[1]}.data/data/etc/jupyter/jupyter_server_config.d/qtok_widgets.json"
        ]
        assert json.loads(zf.read(config[0])) == {
            "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}}
        }
        assert {"qtok_widgets/server/static/index.html", "qtok_widgets/server/static/qtok.js"} <= set(names)
        # the editor's bundle, not the ES module sources it is built from
        assert "qtok_widgets/widgets/editor.js" in names
        assert not [n for n in names if "/frontend/" in n]


def test_import_does_no_work():
    import subprocess
    import sys

    code = (
        "import sys, qtok_widgets.server, qtok_widgets.codecs.remote;"
        "print(sorted(m for m in ('torch', 'tornado', 'jupyter_server') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
