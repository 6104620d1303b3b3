"""The transformers codec backends (Mimi, EnCodec, DAC, X-Codec) on tiny seeded random checkpoints.

Every checkpoint is built here from its config class and saved with ``save_pretrained``; nothing
is downloaded. The codes they make mean nothing, but the model code that runs is the library's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from qtok_widgets import load_audio
from qtok_widgets.codecs import backends, load_codec
from qtok_widgets.codecs.hf import (
    DacCodec,
    EncodecCodec,
    HFCodec,
    MimiCodec,
    XcodecCodec,
    build_random_checkpoint,
)
from qtok_widgets.errors import CodecError
from qtok_widgets.grid import CodeGrid
from qtok_widgets.grid_io import load_grid, save_grid
from qtok_widgets.session import EditSession

ROOT = Path(__file__).resolve().parent.parent

#: backend -> (class, codec name, sample rate, frame rate, layers, codebook size)
EXPECTED = {
    "mimi": (MimiCodec, "mimi", 24000, 12.5, 32, 2048),
    "encodec": (EncodecCodec, "encodec-24khz", 24000, 75.0, 32, 1024),
    "dac": (DacCodec, "dac-24khz", 24000, 75.0, 32, 1024),
    "xcodec": (XcodecCodec, "xcodec", 16000, 50.0, 8, 1024),
}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf_codecs")
    return {name: build_random_checkpoint(root / name, name, "tiny", seed=3) for name in EXPECTED}


@pytest.fixture(scope="module")
def codecs(checkpoints) -> dict[str, HFCodec]:
    return {name: load_codec(path, device="cpu") for name, path in checkpoints.items()}


@pytest.fixture(scope="module")
def speech(speech_path):
    audio = load_audio(speech_path)
    return type(audio)(audio.samples[: int(0.7 * audio.sample_rate)], audio.sample_rate, "speech")


@pytest.fixture(scope="module")
def grids(codecs, speech) -> dict[str, CodeGrid]:
    return {name: codec.encode(speech) for name, codec in codecs.items()}


# ---------------------------------------------------------------------------- loading


@pytest.mark.parametrize("name", list(EXPECTED))
def test_load_codec_picks_the_backend_from_model_type(codecs, checkpoints, name):
    cls, codec_name, sample_rate, frame_rate, n_layers, codebook_size = EXPECTED[name]
    codec = codecs[name]
    assert json.loads((checkpoints[name] / "config.json").read_text())["model_type"] == name
    assert type(codec) is cls
    assert (codec.name, codec.sample_rate, codec.frame_rate, codec.n_layers, codec.codebook_size) == (
        codec_name,
        sample_rate,
        frame_rate,
        n_layers,
        codebook_size,
    )
    assert codec.info()["incremental"] is (name in ("dac", "xcodec"))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_encode_shapes_and_decode_length(codecs, grids, speech, name):
    codec, grid = codecs[name], grids[name]
    n_samples = round(speech.n_samples * codec.sample_rate / speech.sample_rate)
    assert grid.shape == (codec.n_layers, -(-n_samples // codec.samples_per_frame))
    assert grid.n_samples == n_samples
    assert 0 <= grid.codes.min() and grid.codes.max() < codec.codebook_size
    assert len(np.unique(grid.codes[0])) > 1  # the codes follow the audio
    audio = codec.decode(grid)
    assert audio.n_samples == n_samples and audio.sample_rate == codec.sample_rate
    assert np.isfinite(audio.samples).all() and np.abs(audio.samples).max() > 0


@pytest.mark.parametrize("name", list(EXPECTED))
def test_unmasked_decode_is_the_library_decode_bit_for_bit(codecs, grids, name):
    codec, grid = codecs[name], grids[name]
    ours = codec._decode_codes(grid.codes, grid.mask)
    theirs = codec.library_decode(grid.codes)
    n = min(len(ours), len(theirs))
    assert n >= len(ours) - 8  # DAC's odd strides give a few samples fewer; we pad with zeros
    assert np.array_equal(ours[:n], theirs[:n])


@pytest.mark.parametrize("name", list(EXPECTED))
def test_encode_is_the_library_encode(codecs, speech, name):
    import torch

    codec = codecs[name]
    samples = speech.resample(codec.sample_rate).samples
    n_frames = -(-len(samples) // codec.samples_per_frame)
    padded = np.zeros(n_frames * codec.samples_per_frame, np.float32)
    padded[: len(samples)] = samples
    x = torch.from_numpy(padded)[None, None]
    with torch.inference_mode():
        model = codec.model
        if name == "mimi":
            ref = model.encode(x).audio_codes[0]
        elif name == "encodec":
            ref = model.encode(x, bandwidth=max(model.config.target_bandwidths)).audio_codes[0, 0]
        elif name == "dac":
            ref = model.encode(x).audio_codes[0]
        else:
            ref = model.encode(x).audio_codes[0]
    assert np.array_equal(codec.encode(speech).codes, ref.numpy()[:, :n_frames])


# ---------------------------------------------------------------------------- masking


#: layers of the smaller codec compared with the full one
FEWER = {"mimi": 8, "encodec": 8, "dac": 8, "xcodec": 4}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_fewer_layers_and_masking_the_top_layers_agree(checkpoints, codecs, grids, speech, name):
    """``n_layers=k`` encodes the full encode's first k layers, and a masked cell adds nothing:
    masking layers k.. decodes exactly as the k-layer codec decodes the first k."""
    codec, grid, k = codecs[name], grids[name], FEWER[name]
    fewer = load_codec(checkpoints[name], device="cpu", n_layers=k)
    assert fewer.n_layers == k and fewer.name == codec.name
    top = fewer.encode(speech)
    assert np.array_equal(top.codes, grid.codes[:k])
    masked = grid.replace(mask=np.broadcast_to(np.arange(grid.n_layers)[:, None] >= k, grid.shape).copy())
    assert np.array_equal(codec.decode(masked).samples, fewer.decode(top).samples)
    assert not np.array_equal(codec.decode(masked).samples, codec.decode(grid).samples)


@pytest.mark.parametrize("name", ["encodec", "dac", "xcodec"])
def test_masked_latent_is_the_sum_of_the_unmasked_embeddings(codecs, grids, name):
    import torch

    codec, grid = codecs[name], grids[name]
    rng = np.random.default_rng(1)
    mask = rng.random(grid.shape) < 0.4
    with torch.inference_mode():
        codes = torch.from_numpy(np.array(grid.codes, dtype=np.int64))[:, None, :]
        latent = codec.latent(codes, torch.from_numpy(~mask))[0].numpy().T
    want = np.zeros_like(latent)
    for layer in range(grid.n_layers):
        table = codec.embeddings(layer)
        want += np.where(mask[layer][:, None], 0.0, table[grid.codes[layer]])
    np.testing.assert_allclose(latent, want, rtol=1e-4, atol=1e-5)


def test_mimi_latent_sums_each_chain_then_projects(codecs, grids):
    import torch

    codec, grid = codecs["mimi"], grids["mimi"]
    mask = np.zeros(grid.shape, bool)
    mask[5:, ::2] = True
    q = codec.model.quantizer
    with torch.inference_mode():
        latent = codec.latent(
            torch.from_numpy(np.array(grid.codes, dtype=np.int64))[:, None, :], torch.from_numpy(~mask)
        )
        want = 0
        for rvq, layers in (
            (q.semantic_residual_vector_quantizer, [0]),
            (q.acoustic_residual_vector_quantizer, range(1, 32)),
        ):
            summed = sum(
                torch.from_numpy(
                    np.where(mask[i][:, None], 0.0, codec.embeddings(i)[grid.codes[i]])
                    .T[None]
                    .astype(np.float32)
                )
                for i in layers
            )
            want = want + rvq.output_proj(summed)
    torch.testing.assert_close(latent, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["encodec", "dac"])
def test_quantize_gives_back_the_encoders_codes(codecs, grids, speech, name):
    """The exposed embeddings are those the encoder quantises with, residually, layer by layer."""
    import torch

    codec, grid = codecs[name], grids[name]
    samples = speech.resample(codec.sample_rate).samples
    padded = np.zeros(grid.n_frames * codec.samples_per_frame, np.float32)
    padded[: len(samples)] = samples
    with torch.inference_mode():
        latent = codec.model.encoder(torch.from_numpy(padded)[None, None])[0].T.numpy()
    codes, error = codec.quantize(latent[: grid.n_frames], range(4))
    assert (codes == grid.codes[:4]).mean() > 0.95
    assert error.shape == (grid.n_frames,) and (error > 0).all()


# ---------------------------------------------------------------------------- layers


def test_mimi_layer_zero_is_semantic(codecs):
    codec = codecs["mimi"]
    assert codec.layer_labels() == ["semantic"] + [""] * 31
    assert codec.layer_groups() == [[0], list(range(1, 32))]


def test_n_layers_must_be_one_the_codec_has(checkpoints):
    with pytest.raises(
        CodecError, match=r"n_layers=3 is not available for encodec-24khz: use one of 2, 4, 8, 16, 32"
    ) as err:
        load_codec(checkpoints["encodec"], device="cpu", n_layers=3)
    assert "\n" not in str(err.value)
    with pytest.raises(CodecError, match=r"use one of 1, 2, 3, 4, 8"):
        load_codec(checkpoints["xcodec"], device="cpu", n_layers=6)
    with pytest.raises(CodecError, match=r"1\.\.32"):
        load_codec(checkpoints["dac"], device="cpu", n_layers=0)
    with pytest.raises(CodecError, match="fixed number of layers"):
        load_codec("builtin", n_layers=8)


# ---------------------------------------------------------------------------- files, sessions, editor


def test_codes_of_one_codec_are_refused_by_another_in_one_line(codecs, grids, tmp_path):
    # EnCodec 24 kHz and DAC 24 kHz grids have the same shape and rates: only the name tells them apart
    path = save_grid(grids["encodec"], tmp_path / "encodec.npz")
    grid = load_grid(path)
    assert grid.shape == grids["dac"].shape and grid.frame_rate == codecs["dac"].frame_rate
    with pytest.raises(CodecError) as err:
        codecs["dac"].decode(grid)
    assert str(err.value) == (
        "grid from codec 'encodec-24khz' does not fit codec 'dac-24khz': "
        "decode it with load_codec('encodec-24khz') or a checkpoint of that codec"
    )
    with pytest.raises(CodecError, match=r"32 layers \(expected 8\)"):
        codecs["xcodec"].decode(grids["mimi"])


@pytest.mark.parametrize("name", list(EXPECTED))
def test_incremental_render_equals_full_decode(codecs, name):
    codec = codecs[name]
    n = 3 * max(codec.chunk_frames, 20) + 7  # several decode chunks where the codec has them
    rng = np.random.default_rng(5)
    grid = CodeGrid(
        rng.integers(0, codec.codebook_size, (codec.n_layers, n)),
        codec.name,
        codec.frame_rate,
        codec.sample_rate,
        codec.codebook_size,
    )
    session = EditSession(grid, codec)
    session.render_original()
    edit_at = n // 2
    session.mask(frames=slice(edit_at, edit_at + 3), layers=range(1, grid.n_layers))
    session.replace(frames=slice(1, 3), layers=[0], code=codec.codebook_size - 1)
    audio = session.render()
    full = codec.decode(session.grid).samples
    decoded = session.last_render.decoded
    if codec.info()["incremental"]:  # DAC, X-Codec: chunks with context, equal to float32 rounding
        assert name in ("dac", "xcodec")
        assert sum(b - a for a, b in decoded) < n
        assert all(codec.affected_frames(edit_at, edit_at + 3, n)[0] <= a for a, _ in decoded[1:])
        np.testing.assert_allclose(audio.samples, full, rtol=0, atol=1e-6)
    else:  # EnCodec (LSTM) and Mimi (transformer): a full decode, bit for bit
        assert decoded == [(0, n)]
        assert np.array_equal(audio.samples, full)


@pytest.mark.parametrize("name", ["dac", "xcodec"])
def test_decode_context_is_the_receptive_field(codecs, name):
    """With the computed context a chunk matches the full decode; with one frame it does not."""
    from qtok_widgets.codecs.hf import conv_radius_frames

    codec = codecs[name]
    decoder = codec.model.decoder if name == "dac" else codec.model.acoustic_decoder
    assert codec.context_frames == int(np.ceil(conv_radius_frames(decoder))) + 2
    n = 2 * codec.chunk_frames
    rng = np.random.default_rng(2)
    codes = rng.integers(0, codec.codebook_size, (codec.n_layers, n))
    keep = np.zeros(codes.shape, bool)
    full = codec._decode_codes(codes, keep)
    spf, mid = codec.samples_per_frame, codec.chunk_frames
    scale = float(np.abs(full).max())
    for context, close in ((codec.context_frames, True), (1, False)):
        window = codec._decode_codes(codes[:, mid - context : n], keep[:, mid - context : n])[context * spf :]
        error = float(np.abs(window[: 20 * spf] - full[mid * spf : (mid + 20) * spf]).max()) / scale
        assert (error < 1e-5) is close, (context, error)


@pytest.mark.parametrize("n_layers", [8, 16, 32])
@pytest.mark.parametrize("codebook_size", [1024, 65536])
def test_edits_and_recipes_on_any_shape(n_layers, codebook_size):
    rng = np.random.default_rng(n_layers)
    grid = CodeGrid(rng.integers(0, codebook_size, (n_layers, 40)), "dac-24khz", 75.0, 24000, codebook_size)
    other = CodeGrid(rng.integers(0, codebook_size, (n_layers, 20)), "dac-24khz", 75.0, 24000, codebook_size)
    session = EditSession(grid)
    session.mask(frames=slice(5, 10), layers=range(n_layers // 2, n_layers))
    session.replace(frames=slice(0, 4), layers=[n_layers - 1], code=codebook_size - 1)
    session.splice(other, src_frames=slice(0, 8), dst_start=30)
    session.randomize(frames=slice(12, 14), layers=[0], seed=1)
    edited = session.grid
    assert edited.n_layers == n_layers and edited.codebook_size == codebook_size
    assert edited.codes[n_layers - 1, 0] == codebook_size - 1
    assert edited.mask[n_layers - 1, 5] and not edited.mask[0, 5]
    replayed = EditSession.from_json(session.to_json(), grid)
    assert replayed.grid == edited
    from qtok_widgets.stats import layer_usage

    usage = layer_usage(edited)
    assert len(usage) == n_layers and max(row["entropy_bits"] for row in usage) <= np.log2(codebook_size)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_editor_wire_round_trip(codecs, grids, name):
    from qtok_widgets.widgets import _wire
    from qtok_widgets.widgets.editor import TokenEditor

    codec, grid = codecs[name], grids[name]
    editor = TokenEditor(session=EditSession(grid, codec))
    try:
        sent: list[tuple[dict, list[bytes]]] = []
        editor.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
        editor._handle_custom_msg({"type": "hello"}, [])
        (content, buffers), *_ = [m for m in sent if m[0].get("type") == "grid"]
        n = grid.n_layers * grid.n_frames
        assert content["bits"] == _wire.cell_bits(codec.codebook_size) == 12
        if content["bits"] == 16:
            cells = np.frombuffer(buffers[0], "<u2")[:n]
        else:
            raw = np.frombuffer(buffers[0], np.uint8).reshape(-1, 3).astype(np.uint16)
            cells = np.empty(2 * raw.shape[0], np.uint16)
            cells[0::2] = raw[:, 0] | ((raw[:, 1] & 0xF) << 8)
            cells[1::2] = (raw[:, 1] >> 4) | (raw[:, 2] << 4)
            cells = cells[:n] & 0x7FF
        assert np.array_equal(cells.reshape(grid.shape), grid.codes)
        assert editor.n_layers == grid.n_layers and editor.frame_rate == codec.frame_rate
        assert editor.codec_name == codec.name
        if name == "mimi":
            assert editor.layer_names[:2] == ["L0 sem", "L1"]
        assert _wire.MAX_CODEBOOK_SIZE >= codec.codebook_size
    finally:
        editor.close()


def test_the_editor_opens_a_65536_code_grid_of_32_layers():
    from qtok_widgets.widgets.editor import TokenEditor

    codes = np.random.default_rng(5).integers(0, 65536, (32, 12))
    codes[31, 11] = 65535
    grid = CodeGrid(codes, "dac-24khz", 75.0, 24000, 65536)
    editor = TokenEditor(session=EditSession(grid, None), show_waveform=False)
    try:
        sent: list[tuple[dict, list[bytes]]] = []
        editor.send = lambda content, buffers=None: sent.append((content, [bytes(b) for b in buffers or []]))
        editor._handle_custom_msg({"type": "hello"}, [])
        (content, buffers), *_ = [m for m in sent if m[0].get("type") == "grid"]
        assert (content["bits"], content["n_layers"], editor.codebook_size) == (32, 32, 65536)
        cells = np.frombuffer(buffers[0], "<u4").reshape(32, 12)
        assert np.array_equal(cells, codes) and cells[31, 11] == 65535
    finally:
        editor.close()


def test_a_65536_code_codec_encodes_and_decodes(tmp_path, speech):
    folder = build_random_checkpoint(tmp_path / "dac64k", "dac", codebook_size=65536, n_codebooks=8)
    codec = load_codec(folder, device="cpu")
    grid = codec.encode(speech)
    assert grid.codebook_size == 65536 and grid.codes.max() > 32767
    assert np.array_equal(
        codec.decode(grid).samples, codec.decode(load_grid(save_grid(grid, tmp_path / "g.npz"))).samples
    )


# ---------------------------------------------------------------------------- registry and cache


def test_missing_checkpoint_says_how_to_download_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CodecError) as err:
        MimiCodec(path="kyutai/mimi-not-here")
    assert "huggingface-cli download kyutai/mimi-not-here" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(CodecError, match="model_type is 'mimi', expected 'dac'"):
        DacCodec(path=build_random_checkpoint(tmp_path / "m", "mimi", num_quantizers=2))


def _fake_cache(cache: Path, repo_id: str, checkpoint: Path) -> None:
    """Lay ``checkpoint`` out as the Hugging Face cache holds a downloaded ``repo_id``."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    for item in checkpoint.iterdir():
        (snap / item.name).write_bytes(item.read_bytes())
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)


def _run(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_names_find_the_usual_hub_ids_in_the_local_cache(checkpoints, tmp_path, monkeypatch, capsys):
    from huggingface_hub import constants

    from qtok_widgets.cli import main

    cache = tmp_path / "hub"
    _fake_cache(cache, "kyutai/mimi", checkpoints["mimi"])
    _fake_cache(cache, "descript/dac_24khz", checkpoints["dac"])
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    names = ("mimi", "dac", "kyutai/mimi", "dac-24khz")  # the last as a codes file names its codec
    assert [load_codec(n, device="cpu").name for n in names] == ["mimi", "dac-24khz", "mimi", "dac-24khz"]
    with pytest.raises(
        CodecError,
        match=r"^checkpoint facebook/encodec_24khz is not available offline: run `huggingface-cli download facebook/encodec_24khz`",
    ):
        load_codec("encodec")
    capsys.readouterr()
    assert main(["codecs", "--json"]) == 0
    models = {row["model"]: row for row in json.loads(capsys.readouterr().out)["models"]}
    assert set(models) == {"built in", "kyutai/mimi", "descript/dac_24khz"}
    assert models["kyutai/mimi"]["n_layers"] == 32 and models["kyutai/mimi"]["frame_rate"] == 12.5
    assert models["descript/dac_24khz"]["codebook_size"] == 1024
    assert main(["codecs"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert "  mimi      kyutai/mimi                            24000     12.5     32     2048" in text
    assert any(line.split()[:2] == ["xcodec", "qtok_widgets.codecs.hf:XcodecCodec"] for line in text)


def test_a_backend_from_another_package_is_found_through_its_entry_point(tmp_path):
    """A distribution outside this repo registers a backend in ``qtok_widgets.codecs``."""
    site = tmp_path / "site"
    pkg = site / "outside_codec"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            '''
            import numpy as np
            from qtok_widgets.codecs import Codec

            class HalfCodec(Codec):
                """Two layers of 4 codes at 100 Hz: layer 0 the sign, layer 1 the level."""
                name = "outside-half"
                sample_rate = 8000
                frame_rate = 100.0
                n_layers = 2
                codebook_size = 4
                model_types = ("outside_half",)

                def __init__(self, path=None, device=None):
                    self.path = path

                def _encode_samples(self, samples, progress=None):
                    n = -(-len(samples) // 80)
                    x = np.zeros(n * 80, np.float32); x[: len(samples)] = samples
                    mean = x.reshape(n, 80).mean(axis=1)
                    return np.stack([(mean > 0).astype(int), np.minimum(3, (abs(mean) * 8).astype(int))])

                def _decode_codes(self, codes, mask):
                    level = np.where(mask[1], 0, codes[1]) / 8 * np.where(codes[0] > 0, 1, -1)
                    return np.repeat(level, 80).astype(np.float32)
            '''
        )
    )
    dist = site / "outside_codec-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: outside-codec\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[qtok_widgets.codecs]\nhalf = outside_codec:HalfCodec\n")
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text('{"model_type": "outside_half"}')
    proc = _run(
        f"""
        import numpy as np
        from qtok_widgets.codecs import backends, load_codec
        from qtok_widgets import CodeGrid
        b = backends()["half"]
        print(b.source, b.target)
        codec = load_codec("half")
        from qtok_widgets.audio import Audio
        grid = codec.encode(Audio(np.full(800, 0.2, np.float32), 8000, "x"))
        print(codec.name, grid.shape, grid.codes[:, 0].tolist())
        print(type(load_codec({str(ckpt)!r})).__name__)
        """,
        {"PYTHONPATH": str(site)},
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "outside-codec outside_codec:HalfCodec",
        "outside-half (2, 10) [1, 1]",
        "HalfCodec",
    ]
    assert "half" not in backends()  # nothing leaks into this process


def test_builtin_names_cannot_be_taken_by_an_entry_point():
    assert backends()["mimi"].target == "qtok_widgets.codecs.hf:MimiCodec"
    assert {"builtin", "qwen", "server", "mimi", "encodec", "dac", "xcodec"} <= set(backends())


def test_unknown_model_type_lists_the_known_ones(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "snac"}')
    with pytest.raises(
        CodecError, match=r"no codec backend for model_type 'snac'; known: dac, encodec, mimi"
    ):
        load_codec(tmp_path)
