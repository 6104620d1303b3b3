"""The qtok server extension holding a transformers codec (a tiny DAC 24 kHz checkpoint).

The same endpoints as tests/test_server.py, with ``QtokExtension.codec`` set to a checkpoint
folder written by ``save_pretrained`` (seeded random weights, 32 layers x 1,024 codes, 75 Hz):
encode and decode answer what the codec gives locally, a masked grid decodes as locally, and
codes made by another codec are refused with one line, whether their shape differs (Mimi) or
only their codec's name (EnCodec 24 kHz, the same shape and rates as DAC 24 kHz).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
from tornado.httpclient import HTTPClientError

pytest.importorskip("transformers")

from qtok_widgets import CodeGrid, load_audio, load_codec
from qtok_widgets.codecs.hf import build_random_checkpoint

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny seeded checkpoints: the server's DAC, and EnCodec and Mimi for codes of other codecs."""
    root = tmp_path_factory.mktemp("server_codecs")
    return {
        name: build_random_checkpoint(root / name, name, "tiny", seed=5)
        for name in ("dac", "encodec", "mimi")
    }


@pytest.fixture
def jp_server_config(checkpoints):
    """Enable the extension with the DAC checkpoint folder as its codec."""
    return {
        "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}},
        "QtokExtension": {"codec": str(checkpoints["dac"]), "device": "cpu"},
    }


@pytest.fixture(scope="module")
def dac(checkpoints):
    """The server's codec, loaded here directly: the reference for what the server answers."""
    return load_codec(checkpoints["dac"], device="cpu")


@pytest.fixture(scope="module")
def speech(speech_path):
    """1.5 s of the real speech clip, as WAV bytes to post and as Audio."""
    audio = load_audio(speech_path)
    clip = type(audio)(audio.samples[: int(1.5 * audio.sample_rate)], audio.sample_rate, "speech")
    return clip.to_wav_bytes(subtype="FLOAT"), load_audio(clip.to_wav_bytes(subtype="FLOAT"))


@pytest.fixture(scope="module")
def dac_grid(dac, speech) -> CodeGrid:
    return dac.encode(speech[1])


async def _fails(fetch, *parts, **kwargs) -> tuple[int, dict]:
    """Status and JSON body of a request that must fail."""
    with pytest.raises(HTTPClientError) as info:
        await fetch(*parts, **kwargs)
    return info.value.code, json.loads(info.value.response.body)


async def test_health_names_the_checkpoints_codec_once_loaded(jp_fetch, checkpoints):
    health = json.loads((await jp_fetch("qtok", "api", "health", params={"load": "1"})).body)
    assert health["loaded"] is True and health["device"] == "cpu"
    assert health["codec"] == "dac-24khz"
    assert health["load_reason"] == "QtokExtension.codec"


async def test_encode_answers_the_local_codes(jp_fetch, speech, dac_grid):
    resp = await jp_fetch("qtok", "api", "encode", method="POST", body=speech[0])
    out = json.loads(resp.body)
    assert (out["codec"], out["frame_rate"], out["codebook_size"]) == ("dac-24khz", 75.0, 1024)
    assert out["shape"] == [32, 113] == [dac_grid.n_layers, dac_grid.n_frames]
    assert resp.headers["X-Qtok-Shape"] == "32x113"
    assert CodeGrid.from_bytes(resp.body) == dac_grid
    npz = await jp_fetch("qtok", "api", "encode", method="POST", body=speech[0], params={"format": "npz"})
    assert CodeGrid.from_bytes(npz.body, ".npz") == dac_grid


async def test_decode_answers_the_local_audio_masked_or_not(jp_fetch, dac, dac_grid):
    mask = np.zeros(dac_grid.shape, bool)
    mask[8:, 20:60] = True
    masked = dac_grid.replace(mask=mask)
    for grid, fmt in ((dac_grid, ".pt"), (masked, ".npz")):
        resp = await jp_fetch(
            "qtok",
            "api",
            "decode",
            method="POST",
            body=grid.to_bytes(fmt),
            params={"sample_format": "float32"},
        )
        audio = load_audio(resp.body)
        assert audio.sample_rate == 24000 and audio.n_samples == grid.n_samples
        assert np.array_equal(audio.samples, dac.decode(grid).samples), fmt


async def test_roundtrip_reports_the_codecs_shape(jp_fetch, speech, dac_grid):
    out = json.loads((await jp_fetch("qtok", "api", "roundtrip", method="POST", body=speech[0])).body)
    assert out["shape"] == [32, dac_grid.n_frames]
    assert out["preview"]["first"] == dac_grid.codes[:, :5].tolist()


@pytest.mark.parametrize(
    ("other", "line"),
    [
        (
            "encodec",
            "grid from codec 'encodec-24khz' does not fit codec 'dac-24khz': decode it with "
            "load_codec('encodec-24khz') or a checkpoint of that codec",
        ),
        (
            "mimi",
            "grid from codec 'mimi' does not fit codec 'dac-24khz': codebook size 2048 (expected 1024), "
            "frame rate 12.5 Hz (expected 75 Hz)",
        ),
    ],
)
async def test_codes_of_another_codec_are_refused_in_one_line(jp_fetch, checkpoints, speech, other, line):
    grid = load_codec(checkpoints[other], device="cpu").encode(speech[1])
    status, body = await _fails(jp_fetch, "qtok", "api", "decode", method="POST", body=grid.to_bytes(".npz"))
    assert status == 400
    assert body["message"] == line


async def test_server_codec_in_a_kernel_matches_the_checkpoint(
    jp_serverapp, jp_fetch, jp_http_port, jp_base_url, dac, dac_grid, speech
):
    from qtok_widgets.codecs.remote import ServerCodec

    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    remote = await asyncio.to_thread(ServerCodec, url=url, token=jp_serverapp.identity_provider.token)
    assert (remote.name, remote.n_layers, remote.codebook_size, remote.frame_rate) == (
        "dac-24khz",
        32,
        1024,
        75.0,
    )
    got = await asyncio.to_thread(remote.encode, speech[1])
    assert got == dac_grid
    audio = await asyncio.to_thread(remote.decode, got)
    assert np.array_equal(audio.samples, dac.decode(dac_grid).samples)
