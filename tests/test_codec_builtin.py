"""Tests of the built-in offline codec: contract, determinism, locality and round-trip quality."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from qtok_widgets import load_audio
from qtok_widgets.codecs import load_codec
from qtok_widgets.codecs.builtin import CHUNK_FRAMES, BuiltinCodec
from qtok_widgets.errors import CodecError, QtokError
from qtok_widgets.grid import CodeGrid

SPF = 1920


@pytest.fixture(scope="module")
def codec() -> BuiltinCodec:
    return load_codec("builtin")


@pytest.fixture(scope="module")
def speech(speech_path):
    return load_audio(speech_path, target_rate=24000)


@pytest.fixture(scope="module")
def grid(codec, speech) -> CodeGrid:
    return codec.encode(speech)


def test_load_codec_gives_builtin(codec):
    assert isinstance(codec, BuiltinCodec)
    info = codec.info()
    assert (info["sample_rate"], info["frame_rate"], info["samples_per_frame"]) == (24000, 12.5, SPF)
    assert (info["n_layers"], info["codebook_size"]) == (16, 2048)
    assert codec.has_embeddings and info["has_embeddings"]


def test_shape_and_length_contract(codec, speech, grid):
    n_frames = -(-speech.n_samples // SPF)
    assert grid.shape == (16, n_frames)
    assert grid.codes.min() >= 0 and grid.codes.max() < 2048
    assert grid.codec == "builtin" and grid.n_samples == speech.n_samples
    out = codec.decode(grid)
    assert out.sample_rate == 24000 and out.n_samples == speech.n_samples
    assert np.all(np.isfinite(out.samples))


def test_encode_is_deterministic(codec, speech, grid):
    again = codec.encode(speech)
    np.testing.assert_array_equal(again.codes, grid.codes)
    np.testing.assert_array_equal(codec.decode(grid).samples, codec.decode(again).samples)


def test_all_layers_are_used(grid):
    # every layer varies over a 4 s utterance; a dead layer would repeat one code
    for layer in range(16):
        assert len(np.unique(grid.codes[layer])) > 5, layer


def test_roundtrip_stoi_above_floor(codec, speech, grid):
    pystoi = pytest.importorskip("pystoi")
    out = codec.decode(grid)
    score = pystoi.stoi(speech.samples, out.samples, 24000)
    # floors from the validation speakers (docs/builtin_codec.md): median STOI 0.912, a quarter
    # of the speakers below 0.889, a tenth below 0.833; this clip scores 0.898
    assert score > 0.87


def test_roundtrip_pesq_above_floor(codec, speech, grid):
    pytest.importorskip("pesq")
    from qtok_widgets import metrics

    out = codec.decode(grid)
    # validation: median PESQ-WB 2.03, a quarter of the speakers below 1.76, a tenth below 1.59;
    # this clip scores 1.72
    assert metrics.pesq_wb(speech.samples, out.samples, 24000) > 1.6


def test_fewer_layers_sound_worse(codec, speech, grid):
    pystoi = pytest.importorskip("pystoi")
    mask = np.zeros(grid.shape, dtype=bool)
    mask[1:] = True
    coarse = codec.decode(grid.with_codes(grid.codes, mask=mask))
    full = codec.decode(grid)
    assert pystoi.stoi(speech.samples, coarse.samples, 24000) < pystoi.stoi(
        speech.samples, full.samples, 24000
    )


@pytest.mark.parametrize("n_samples", [1, 100, SPF - 1, SPF, SPF + 1])
def test_short_input(codec, n_samples):
    rng = np.random.default_rng(0)
    samples = (0.1 * rng.standard_normal(n_samples)).astype(np.float32)
    grid = codec.encode(load_audio(samples, sample_rate=24000))
    assert grid.shape == (16, -(-n_samples // SPF))
    out = codec.decode(grid)
    assert out.n_samples == n_samples and np.all(np.isfinite(out.samples))


def test_silence(codec):
    silence = load_audio(np.zeros(3 * 24000, dtype=np.float32), sample_rate=24000)
    grid = codec.encode(silence)
    assert grid.shape == (16, 38)
    out = codec.decode(grid)
    assert np.all(np.isfinite(out.samples))
    # silence decodes to something far quieter than speech
    assert np.sqrt(np.mean(out.samples**2)) < 0.01


def test_full_decode_equals_concatenated_chunks(codec, grid):
    codec.clear_cache()
    full = codec._decode_codes(grid.codes, grid.mask)
    codec.clear_cache()
    parts = []
    for s, e in codec.decode_chunks(grid.n_frames):
        parts.append(codec.decode_range(grid, s, e))
        codec.clear_cache()
    assert codec.decode_chunks(grid.n_frames)[0] == (0, CHUNK_FRAMES)
    np.testing.assert_array_equal(np.concatenate(parts), full)


def test_edit_changes_audio_only_in_affected_frames(codec, grid):
    t = grid.n_frames // 2
    codes = grid.codes.copy()
    codes[:, t] = (codes[:, t] + 7) % 2048
    edited = grid.with_codes(codes)
    before = codec._decode_codes(grid.codes, grid.mask)
    after = codec._decode_codes(edited.codes, edited.mask)
    start, stop = codec.affected_frames(t, t + 1, grid.n_frames)
    assert start <= t < stop and stop - start <= 3 * CHUNK_FRAMES
    assert start % CHUNK_FRAMES == 0
    changed = np.flatnonzero(before != after)
    assert changed.size > 0
    assert changed.min() >= start * SPF and changed.max() < stop * SPF
    np.testing.assert_array_equal(codec.decode_range(edited, start, stop), after[start * SPF : stop * SPF])


def test_affected_frames_cover_every_change(codec, grid):
    n = grid.n_frames
    rng = np.random.default_rng(1)
    before = codec._decode_codes(grid.codes, grid.mask)
    for t in rng.choice(n, size=3, replace=False):
        mask = grid.mask.copy()
        mask[5:, t] = True
        after = codec._decode_codes(grid.codes, mask)
        start, stop = codec.affected_frames(int(t), int(t) + 1, n)
        changed = np.flatnonzero(before != after)
        assert changed.min() >= start * SPF and changed.max() < stop * SPF


def test_masked_cells_add_nothing(codec, grid):
    layer = 3
    mask = np.zeros(grid.shape, dtype=bool)
    mask[layer:] = True
    kept = codec._latent_of(grid.codes, mask, 0, grid.n_frames)
    expected = sum(codec.embeddings(layer_)[grid.codes[layer_]] for layer_ in range(layer))
    np.testing.assert_allclose(kept, expected, rtol=1e-5, atol=1e-5)


def test_embeddings_and_quantize_agree(codec, speech, grid):
    emb = codec.embeddings(0)
    assert emb.dtype == np.float32 and emb.shape[0] == 2048
    latent = codec.latents(speech.samples)
    codes, error = codec.quantize(latent, range(16))
    assert codes.shape == grid.shape and error.shape == (grid.n_frames,)
    # encoding is the beam search over the same codebooks; on average it beats greedy
    beam_codes, beam_error = codec.quantize_beam(latent)
    np.testing.assert_array_equal(beam_codes, grid.codes)
    assert float(np.mean(beam_error**2)) < float(np.mean(error**2))
    greedy_codes, _ = codec.quantize_beam(latent, beam=1)
    np.testing.assert_array_equal(greedy_codes, codes)
    # quantising with more layers leaves less behind
    _, error4 = codec.quantize(latent, range(4))
    assert float(error.mean()) < float(error4.mean())
    assert codec.layer_groups() == [list(range(16))]


def test_bad_input_errors(codec, grid):
    with pytest.raises(CodecError, match=r"0\.\.15"):
        codec.embeddings(16)
    with pytest.raises(CodecError, match="chunk boundaries"):
        codec.decode_range(grid, 1, 4)
    with pytest.raises(CodecError, match="outside"):
        codec.affected_frames(0, grid.n_frames + 1, grid.n_frames)
    with pytest.raises(CodecError, match="CPU"):
        BuiltinCodec(device="cuda")
    with pytest.raises(QtokError):
        codec.quantize(np.zeros((3, 5), np.float32), [0])
    other = CodeGrid(
        np.zeros((8, 4), np.int32), codec="x", frame_rate=12.5, sample_rate=24000, codebook_size=2048
    )
    with pytest.raises(CodecError, match="layers"):
        codec.decode(other)


def test_segmented_analysis_is_the_same_with_any_worker_count(monkeypatch, speech):
    from qtok_widgets.codecs import _world

    monkeypatch.setattr(_world, "SEGMENT_FRAMES", 8)
    monkeypatch.setattr(_world, "SEGMENT_CONTEXT_FRAMES", 4)
    samples = speech.samples[: 2 * 24000]
    n_frames = -(-samples.shape[0] // SPF)
    serial = _world.analyze(samples, n_frames, 40, workers=1)
    parallel = _world.analyze(samples, n_frames, 40, workers=2)
    assert serial.shape == (n_frames * 8, 45)
    np.testing.assert_array_equal(serial, parallel)
    # segment seams cost little: F0 and envelope agree with the one-piece analysis
    whole = _world.pack(*_world.analyze_raw(samples, n_frames), 40)
    voiced = (whole[:, 1] > 0.5) & (serial[:, 1] > 0.5)
    assert np.mean(whole[:, 1] == serial[:, 1]) > 0.95
    assert np.median(np.abs(whole[voiced, 0] - serial[voiced, 0])) < 0.01


def test_bad_worker_setting(monkeypatch, speech):
    from qtok_widgets.codecs import _world

    monkeypatch.setenv("QTOK_BUILTIN_WORKERS", "many")
    monkeypatch.setattr(_world, "SEGMENT_FRAMES", 8)
    with pytest.raises(CodecError, match="QTOK_BUILTIN_WORKERS"):
        _world.analyze(speech.samples[: 2 * 24000], 25, 40)


def test_long_encodes_share_one_worker_pool_from_any_thread(monkeypatch, codec, speech):
    """Analysis workers start once (never by fork) and serve every later long input, also from
    a thread, as the server's request threads and CodecLab's worker thread encode."""
    import threading

    from qtok_widgets.codecs import _world

    monkeypatch.setattr(_world, "SEGMENT_FRAMES", 8)  # 2 s of speech is then "long": 4 segments
    monkeypatch.setattr(_world, "SEGMENT_CONTEXT_FRAMES", 4)
    monkeypatch.setenv("QTOK_BUILTIN_WORKERS", "2")
    clip = load_audio(speech.samples[: 2 * 24000], sample_rate=24000)
    first = codec.encode(clip)
    workers = _world.pool_processes()
    assert len(workers) >= 1
    assert _world._start_method() in ("forkserver", "spawn")
    results: dict[str, object] = {}

    def encode_in_thread() -> None:
        try:
            results["grid"] = codec.encode(clip)
        except Exception as exc:  # reported below, in the test's thread
            results["error"] = exc

    thread = threading.Thread(target=encode_in_thread)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive(), "encoding from a thread hung"
    assert "error" not in results, results.get("error")
    assert results["grid"] == first
    assert codec.encode(clip) == first
    assert set(_world.pool_processes()) >= set(workers)  # the same processes, still running
    monkeypatch.setenv("QTOK_BUILTIN_WORKERS", "1")  # one worker: analysed in this process
    assert codec.encode(clip) == first


SPLIT = Path(__file__).resolve().parent.parent / "benchmarks" / "builtin_speech_split.csv"


def test_training_and_validation_speakers_are_disjoint():
    """The real-speech split the model is trained and chosen on (benchmarks/builtin_speech_split.csv)."""
    with open(SPLIT, newline="") as fh:
        rows = list(csv.DictReader(fh))
    sides: dict[str, set[tuple[str, str]]] = {"train": set(), "validation": set()}
    for row in rows:
        sides[row["side"]].add((row["dataset"], row["speaker"]))
    assert sides["train"] and sides["validation"]
    assert not sides["train"] & sides["validation"]
    # the test clips' speakers are never trained on
    assert not {speaker for _, speaker in sides["train"]} & {"1320", "3575", "p240", "aew", "bdl"}
    # one evaluation clip per validation speaker
    evals = [(r["dataset"], r["speaker"]) for r in rows if r["eval"] == "1"]
    assert sorted(evals) == sorted(sides["validation"])
    files = [r["file"] for r in rows]
    assert len(files) == len(set(files))


def test_shipped_model_matches_its_documented_checksum():
    """The model file is the one docs/builtin_codec.md says the training command writes."""
    import hashlib

    from qtok_widgets.codecs.builtin import MODEL_FILE, _default_model_path

    digest = hashlib.sha256(Path(_default_model_path()).read_bytes()).hexdigest()
    docs = (Path(__file__).resolve().parent.parent / "docs" / "builtin_codec.md").read_text()
    assert f"{MODEL_FILE}` sha256 `{digest}`" in docs


def _model_copy(tmp_path: Path, **changes) -> Path:
    """A copy of the shipped model file with some arrays replaced (None removes one)."""
    from qtok_widgets.codecs.builtin import _default_model_path

    with np.load(_default_model_path(), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key, None)
        else:
            arrays[key] = value
    path = tmp_path / "model.npz"
    np.savez(path, **arrays)
    return path


def test_postfilter_is_the_documented_linear_map(codec, grid):
    model = codec.model
    assert model.postfilter is not None and model.postfilter.shape == (3 * model.dim + 1, model.dim)
    q = codec._latent_of(grid.codes, np.zeros(grid.shape, dtype=bool), 0, grid.n_frames)
    prev = np.concatenate([q[:1], q[:-1]])
    nxt = np.concatenate([q[1:], q[-1:]])
    expected = (
        q + np.concatenate([prev, q, nxt, np.ones((q.shape[0], 1), np.float32)], axis=1) @ model.postfilter
    )
    np.testing.assert_allclose(model.postfiltered(q), expected, rtol=1e-5, atol=1e-5)
    assert float(np.abs(expected - q).max()) > 1e-3  # it does change the latents


def test_model_without_postfilter_decodes_the_plain_codeword_sums(tmp_path, codec, grid):
    plain = BuiltinCodec(model_path=_model_copy(tmp_path, postfilter=None, smooth_f0_ap=None))
    assert plain.model.postfilter is None and plain.model.smooth == 0.25
    q = plain._latent_of(grid.codes, np.zeros(grid.shape, dtype=bool), 0, grid.n_frames)
    np.testing.assert_array_equal(plain.model.postfiltered(q), q)
    assert not np.array_equal(plain.decode(grid).samples, codec.decode(grid).samples)


def test_model_file_with_a_wrongly_shaped_postfilter_is_refused(tmp_path, codec):
    path = _model_copy(tmp_path, postfilter=np.zeros((codec.model.dim, codec.model.dim), np.float32))
    with pytest.raises(CodecError, match="inconsistent shapes"):
        BuiltinCodec(model_path=path).model  # noqa: B018


@pytest.mark.parametrize("name", ["builtin_v1.npz", "builtin_v2.npz"])
def test_earlier_models_still_decode_their_grids(name, speech):
    """Grids encoded with an earlier shipped model decode with it as before (smoothing 0.25,
    no post-filter) and still sound like the speech."""
    from qtok_widgets import metrics
    from qtok_widgets.codecs.builtin import _default_model_path

    old = BuiltinCodec(model_path=Path(_default_model_path()).with_name(name))
    assert old.model.postfilter is None and old.model.smooth == 0.25
    out = old.decode(old.encode(speech))
    assert metrics.stoi(speech.samples, out.samples, 24000) > 0.8
