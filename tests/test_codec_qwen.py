"""Tests for the Qwen3-TTS-Tokenizer-12Hz backend on a seeded random tiny checkpoint.

The checkpoint has random weights but goes through the real qwen-tts model code: loading,
the library's own encode and decode, and our masked / chunked decode on top of it.
"""

from __future__ import annotations

import importlib
import math
import shutil
import sys

import numpy as np
import pytest

from qtok_widgets import CodeGrid, load_audio, load_codec
from qtok_widgets.errors import CodecError

torch = pytest.importorskip("torch")
qwen = pytest.importorskip("qtok_widgets.codecs.qwen")
qwen_random = pytest.importorskip("qtok_widgets.codecs.qwen_random")

SPF = 1920


@pytest.fixture(autouse=True, scope="module")
def _plain_cpu_convolutions():
    """Run this module with oneDNN off: the tiny model's narrow transposed convolutions pay seconds
    of oneDNN set-up per new input length. Library and backend run under the same setting, so
    the exact comparisons below compare like with like."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    yield
    torch.backends.mkldnn.enabled = before


@pytest.fixture(scope="module")
def codec(tiny_qwen_dir):
    return qwen.QwenCodec(path=tiny_qwen_dir, device="cpu")


@pytest.fixture(scope="module")
def long_grid(codec):
    """610 frames (three decode chunks) of seeded random codes with about 10% of cells masked."""
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2048, size=(16, 610))
    mask = rng.random((16, 610)) < 0.1
    return CodeGrid(
        codes, codec=codec.name, frame_rate=12.5, sample_rate=24000, codebook_size=2048, mask=mask
    )


@pytest.fixture(scope="module")
def long_full(codec, long_grid):
    return codec._decode_codes(long_grid.codes, long_grid.mask)


def _library_decode(codec, codes):
    with torch.inference_mode():
        out = codec.model.decode(torch.from_numpy(codes.T.astype(np.int64))[None], return_dict=True)
    return out.audio_values[0].numpy()


# ---------------------------------------------------------------------------------- loading
def test_loads_through_load_codec(tiny_qwen_dir):
    codec = load_codec(str(tiny_qwen_dir), device="cpu")
    assert isinstance(codec, qwen.QwenCodec)
    assert codec.name == "qwen3-12hz"
    assert (codec.n_layers, codec.codebook_size, codec.samples_per_frame) == (16, 2048, 1920)
    assert codec.layer_groups() == [[0], list(range(1, 16))]
    info = codec.info()
    assert info["has_embeddings"] and info["decode_chunk_frames"] == 300
    assert info["checkpoint"] == str(tiny_qwen_dir)


def test_random_checkpoint_is_seeded(tmp_path, tiny_qwen_dir):
    again = qwen_random.build_random_checkpoint(tmp_path / "again", preset="tiny", seed=0)
    assert (again / "model.safetensors").read_bytes() == (tiny_qwen_dir / "model.safetensors").read_bytes()


def test_missing_checkpoint_path_is_one_line_error(tmp_path):
    with pytest.raises(CodecError) as err:
        qwen.QwenCodec(path=tmp_path / "nowhere")
    text = str(err.value)
    assert "\n" not in text and "nowhere" in text


def test_folder_without_checkpoint_is_refused(tmp_path):
    with pytest.raises(CodecError, match=r"config\.json"):
        load_codec(str(tmp_path))
    (tmp_path / "config.json").write_text('{"model_type": "qwen3_tts_tokenizer_25hz"}')
    with pytest.raises(CodecError, match="qwen3_tts_tokenizer_12hz"):
        load_codec(str(tmp_path))


def test_hub_id_missing_offline_says_how_to_get_it(tmp_path, monkeypatch):
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hub.constants, "HF_HUB_CACHE", str(tmp_path))
    assert qwen.find_local_checkpoint() is None
    with pytest.raises(CodecError) as err:
        load_codec("qwen")
    text = str(err.value)
    assert "\n" not in text
    assert "huggingface-cli download Qwen/Qwen3-TTS-Tokenizer-12Hz" in text


def test_cached_checkpoint_is_found_and_loaded_by_default(tmp_path, monkeypatch, tiny_qwen_dir):
    hub = pytest.importorskip("huggingface_hub")
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--Qwen--Qwen3-TTS-Tokenizer-12Hz"
    shutil.copytree(tiny_qwen_dir, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr(hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.delenv("QTOK_CODEC", raising=False)
    assert qwen.find_local_checkpoint() == repo / "snapshots" / revision
    codec = load_codec(device="cpu")
    assert isinstance(codec, qwen.QwenCodec)
    assert codec.checkpoint == repo / "snapshots" / revision


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_without_cuda_is_refused(tiny_qwen_dir):
    with pytest.raises(CodecError, match="CUDA is not available"):
        qwen.QwenCodec(path=tiny_qwen_dir, device="cuda")


# ---------------------------------------------------------------------------------- shape contract
def test_shape_and_length_contract_on_every_clip(codec, clip_paths):
    assert len(clip_paths) >= 5
    for path in clip_paths:
        audio = load_audio(path)
        n24 = audio.resample(24000).n_samples
        grid = codec.encode(audio)
        assert grid.shape == (16, math.ceil(n24 / SPF)), path.name
        assert grid.codec == "qwen3-12hz" and grid.n_samples == n24
        assert len(np.unique(grid.codes[0])) > 1, f"{path.name}: layer 0 is constant"
        out = codec.decode(grid)
        assert out.sample_rate == 24000 and out.n_samples == n24, path.name
        assert np.all(np.isfinite(out.samples))


@pytest.mark.parametrize("n_samples", [1, 1919, 1920, 1921, 5 * 1920 + 7])
def test_frame_count_at_frame_edges(codec, speech_path, n_samples):
    speech = load_audio(speech_path, target_rate=24000).samples[:n_samples]
    grid = codec.encode(load_audio(speech, sample_rate=24000))
    assert grid.n_frames == math.ceil(n_samples / SPF)
    assert codec.decode(grid).n_samples == n_samples


# ---------------------------------------------------------------------------------- decoding
def test_library_decode_is_the_librarys_and_decode_is_within_rounding_of_it(codec, speech_path):
    """``library_decode`` is qwen-tts's decode bit for bit; ``decode`` streams the same chunks
    5 frames at a time and differs from it by float rounding only (about 2e-5 here; 4.2e-5 and
    an SNR of 85 dB on the released architecture, docs/qwen_backend.md)."""
    grid = codec.encode(speech_path)
    ref = _library_decode(codec, grid.codes)
    library = codec.library_decode(grid.codes)
    assert library.shape == ref.shape == (grid.n_frames * SPF,)
    np.testing.assert_array_equal(library, ref)
    ours = codec._decode_codes(grid.codes, grid.mask)
    assert ours.shape == ref.shape
    assert 0 < np.abs(ours - ref).max() <= 5e-5
    np.testing.assert_array_equal(codec.decode(grid).samples, np.clip(ours[: grid.n_samples], -1, 1))
    with pytest.raises(CodecError, match=r"shape \(16, n_frames\)"):
        codec.library_decode(grid.codes[:3])


def test_masked_cells_change_audio_after_them_only(codec, speech_path):
    grid = codec.encode(speech_path)
    plain = codec.decode(grid).samples
    mask = np.zeros(grid.shape, bool)
    mask[4:, 20:30] = True
    masked = codec.decode(grid.replace(mask=mask))
    region = slice(20 * SPF, 30 * SPF)
    assert np.abs(masked.samples[region] - plain[region]).max() > 1e-3
    # the decoder is causal: nothing before the first masked frame moves
    np.testing.assert_allclose(masked.samples[: 20 * SPF], plain[: 20 * SPF], atol=1e-6)


def test_all_masked_frames_differ_from_unmasked(codec, speech_path):
    grid = codec.encode(speech_path)
    full_mask = np.ones(grid.shape, bool)
    silent = codec.decode(grid.replace(mask=full_mask)).samples
    plain = codec.decode(grid).samples
    assert np.abs(silent - plain).mean() > 1e-3
    # with every cell masked the codes no longer matter
    other = (grid.codes + 1) % 2048
    np.testing.assert_array_equal(codec.decode(grid.with_codes(other, mask=full_mask)).samples, silent)


def test_masking_a_whole_group_zeroes_its_latent(codec):
    rng = np.random.default_rng(1)
    codes = torch.from_numpy(rng.integers(0, 2048, (16, 12)))
    keep = torch.ones(16, 12, dtype=torch.bool)
    keep[1:] = False
    with torch.inference_mode():
        latent = codec._latent(codes, keep)
        first = codec.model.decoder.quantizer.rvq_first.decode(codes[None, :1])
    np.testing.assert_allclose(latent.numpy(), first.numpy(), atol=1e-6)


# ---------------------------------------------------------------------------------- embeddings
def test_embeddings_add_up_to_the_latent(codec):
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 2048, (16, 9))
    tables = [codec.embeddings(layer) for layer in range(16)]
    assert all(t.shape == tables[0].shape and t.dtype == np.float32 for t in tables)
    assert tables[0].shape[0] == 2048
    quantizer = codec.model.decoder.quantizer
    with torch.inference_mode():
        expect = codec._latent(torch.from_numpy(codes), torch.ones(16, 9, dtype=torch.bool))[0].numpy()
        rest = sum(tables[layer][codes[layer]] for layer in range(1, 16))
        got = quantizer.rvq_first.output_proj(torch.from_numpy(tables[0][codes[0]].T[None]))
        got = got + quantizer.rvq_rest.output_proj(torch.from_numpy(np.ascontiguousarray(rest.T)[None]))
    np.testing.assert_allclose(got[0].numpy(), expect, atol=1e-4)
    with pytest.raises(CodecError, match=r"0\.\.15"):
        codec.embeddings(16)


def test_quantize_recovers_semantic_codes(codec):
    codes = np.array([5, 17, 2047, 0, 1024])
    latent = codec.embeddings(0)[codes]
    got, error = codec.quantize(latent, [0])
    np.testing.assert_array_equal(got[0], codes)
    assert float(error.max()) < 1e-5


# ---------------------------------------------------------------------------------- chunks
def test_decode_chunks_and_affected_frames(codec):
    assert codec.decode_chunks(650) == [(0, 300), (300, 600), (600, 650)]
    assert codec.decode_chunks(0) == []
    assert codec.affected_frames(10, 11, 650) == (0, 300)
    assert codec.affected_frames(274, 275, 650) == (0, 300)
    assert codec.affected_frames(275, 276, 650) == (0, 600)  # in chunk 1's 25-frame lead-in
    assert codec.affected_frames(300, 301, 650) == (300, 600)
    assert codec.affected_frames(590, 600, 650) == (300, 650)
    assert codec.affected_frames(0, 650, 650) == (0, 650)
    with pytest.raises(CodecError, match=r"0\.\.650"):
        codec.affected_frames(10, 700, 650)


def test_decode_range_concatenates_to_full_decode(codec, long_grid, long_full):
    assert long_full.shape == (610 * SPF,)
    pieces = [codec.decode_range(long_grid, lo, hi) for lo, hi in codec.decode_chunks(610)]
    np.testing.assert_array_equal(np.concatenate(pieces), long_full)
    with pytest.raises(CodecError, match="chunk boundaries"):
        codec.decode_range(long_grid, 10, 300)


def test_unmasked_long_decode_equals_library_chunked_decode(codec, long_grid):
    library = codec.library_decode(long_grid.codes)
    np.testing.assert_array_equal(library, _library_decode(codec, long_grid.codes))
    ours = codec._decode_codes(long_grid.codes, np.zeros(long_grid.shape, bool))
    assert np.abs(ours - library).max() <= 5e-5  # the same chunks, streamed
    masked = codec.library_decode(long_grid.codes, long_grid.mask)
    assert np.abs(codec._decode_codes(long_grid.codes, long_grid.mask) - masked).max() <= 5e-5


def test_one_frame_edit_changes_only_predicted_samples(codec, long_grid, long_full):
    frame = 590  # inside chunk 1 and in the left context of chunk 2
    codes = np.array(long_grid.codes)
    codes[3, frame] = (codes[3, frame] + 1000) % 2048
    edited = long_grid.with_codes(codes, mask=long_grid.mask)
    lo, hi = codec.affected_frames(frame, frame + 1, edited.n_frames)
    assert (lo, hi) == (300, 610)
    full_edited = codec._decode_codes(edited.codes, edited.mask)
    changed = np.flatnonzero(full_edited != long_full)
    assert changed.size > 0
    assert changed.min() >= lo * SPF and changed.max() < hi * SPF
    assert np.any(changed >= 600 * SPF), "the next chunk's context change is visible"
    np.testing.assert_array_equal(codec.decode_range(edited, lo, hi), full_edited[lo * SPF : hi * SPF])


# ---------------------------------------------------------------------------------- long inputs
def test_windowed_encode_agrees_with_whole_file_encode(tiny_qwen_dir, data_dir, capsys):
    speech = load_audio(data_dir / "1320_00000.mp3", target_rate=24000).samples
    samples = np.tile(speech, 1 + (24 * 24000) // speech.size)[: 24 * 24000]
    audio = load_audio(samples, sample_rate=24000)
    whole = qwen.QwenCodec(path=tiny_qwen_dir, device="cpu", encode_window_s=100).encode(audio)
    windowed_codec = qwen.QwenCodec(path=tiny_qwen_dir, device="cpu", encode_window_s=6, encode_context_s=2)
    calls = []
    windowed = windowed_codec.encode(audio, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 4) for i in range(1, 5)]
    assert windowed.shape == whole.shape == (16, 300)
    agreement = (windowed.codes == whole.codes).mean(axis=1)
    with capsys.disabled():
        print("\nwindowed encode agreement per layer (%):", np.round(100 * agreement, 1).tolist())
    assert agreement.min() >= 0.99
    np.testing.assert_array_equal(windowed.codes[:, :75], whole.codes[:, :75])  # first window: same input


# ---------------------------------------------------------------------------------- interop
def test_saved_pt_decodes_through_the_library_tokenizer(
    codec, tiny_qwen_dir, speech_path, tmp_path, monkeypatch
):
    from transformers import AutoFeatureExtractor

    core = sys.modules["qwen_tts.core"]
    for name in ("Qwen3TTSTokenizerV1Config", "Qwen3TTSTokenizerV1Model"):
        if not hasattr(core, name):  # 25 Hz classes need sox; the 12 Hz path never touches them
            monkeypatch.setattr(core, name, None, raising=False)
    library = importlib.import_module("qwen_tts.inference.qwen3_tts_tokenizer")
    tokenizer = library.Qwen3TTSTokenizer()
    tokenizer.feature_extractor = AutoFeatureExtractor.from_pretrained(
        str(tiny_qwen_dir), local_files_only=True
    )
    tokenizer.model = codec.model
    tokenizer.config = codec.model.config
    tokenizer.device = codec.model.device

    audio = load_audio(speech_path, target_rate=24000)
    grid = codec.encode(audio)
    path = grid.save(tmp_path / "codes.pt")
    wavs, rate = tokenizer.decode(torch.load(path, weights_only=True))
    assert rate == 24000

    library = np.clip(codec.library_decode(grid.codes)[: grid.n_samples], -1, 1)
    np.testing.assert_array_equal(wavs[0][: grid.n_samples], library)
    assert np.abs(wavs[0][: grid.n_samples] - codec.decode(grid).samples).max() <= 5e-5

    encoded = tokenizer.encode(np.asarray(audio.samples), sr=24000)
    np.testing.assert_array_equal(encoded.audio_codes[0].numpy().T, grid.codes)


# ---------------------------------------------------------------------------------- streaming
def _random_grid(codec, n_frames, seed):
    rng = np.random.default_rng(seed)
    return CodeGrid(
        rng.integers(0, 2048, size=(16, n_frames)),
        codec=codec.name,
        frame_rate=12.5,
        sample_rate=24000,
        codebook_size=2048,
        mask=rng.random((16, n_frames)) < 0.1,
    )


def test_streaming_equals_whole_sequence_decode(codec):
    """Stepping the decoder with cached state gives the whole-sequence decode up to rounding.

    The tolerance, 5e-5, is half of the renderer's 1e-4: the steps run the same operations on
    shorter inputs (attention over the window instead of the masked full matrix, matrix
    products blocked differently), and the random weights amplify last-bit differences to
    about 2e-5 here and 4e-5 on the released architecture (docs/qwen_backend.md).
    """
    from qtok_widgets.codecs.qwen_stream import StreamingDecoder

    grid = _random_grid(codec, 120, 3)  # past the 72-frame attention window
    codes, keep = codec._tensors(grid.codes, grid.mask)
    stream = StreamingDecoder(codec.model.decoder)
    with torch.inference_mode():
        whole = codec._decode_window(codes, keep).numpy()
        latent = codec._latent(codes, keep)
        for step in (25, 9):
            state = stream.initial_state()
            pieces = [stream.step(state, latent[..., a : a + step]).numpy() for a in range(0, 120, step)]
            got = np.concatenate(pieces)
            assert got.shape == whole.shape
            assert np.abs(got - whole).max() <= 5e-5, step
            assert state.position == 120
            assert all(k.shape[2] == 71 for k, _ in state.kv)  # bounded to the window


def test_state_clone_restores_exactly(codec):
    from qtok_widgets.codecs.qwen_stream import StreamingDecoder, state_nbytes

    grid = _random_grid(codec, 100, 4)
    codes, keep = codec._tensors(grid.codes, grid.mask)
    stream = StreamingDecoder(codec.model.decoder)
    with torch.inference_mode():
        latent = codec._latent(codes, keep)
        state = stream.initial_state()
        stream.step(state, latent[..., :75])
        saved = state.clone()
        assert saved.equals(state) and saved.nbytes == state.nbytes == state_nbytes(codec.model.decoder)
        first = stream.step(state, latent[..., 75:100]).numpy()
        assert not saved.equals(state) and saved.position == 75
        restored = saved.clone()
        again = stream.step(restored, latent[..., 75:100]).numpy()
    np.testing.assert_array_equal(first, again)
    assert restored.equals(state)


def test_snapshots_share_the_window_and_restore_exactly(codec):
    """Snapshots every 5 frames share their keys and values; each restores its state bit for bit."""
    from qtok_widgets.codecs.qwen_stream import StreamingDecoder, snapshot, snapshot_nbytes, state_nbytes

    grid = _random_grid(codec, 120, 9)
    codes, keep = codec._tensors(grid.codes, grid.mask)
    stream = StreamingDecoder(codec.model.decoder)
    window = stream.window - 1
    state, snaps, states = stream.initial_state(), [], []
    with torch.inference_mode():
        latent = codec._latent(codes, keep)
        previous = snapshot(state, window)
        for a in range(0, 100, 5):
            stream.step(state, latent[..., a : a + 5])
            previous = snapshot(state, window, previous)
            snaps.append(previous)
            states.append(state.clone())
        assert all(snap.restore().equals(kept) for snap, kept in zip(snaps, states, strict=True))
        tail = stream.step(snaps[-1].restore(), latent[..., 100:120]).numpy()
        np.testing.assert_array_equal(tail, stream.step(state, latent[..., 100:120]).numpy())
    # the snapshot at frame 100 holds only its own 5 frames; the rest of its window is shared
    shared = {id(t) for snap in snaps[:-1] for t in snap.tensors()}
    own = sum(t.numel() * t.element_size() for t in snaps[-1].tensors() if id(t) not in shared)
    assert own == snapshot_nbytes(codec.model.decoder, 5) < state_nbytes(codec.model.decoder) / 4
    assert snaps[-1].nbytes >= state_nbytes(codec.model.decoder)  # its segments cover the window
    assert snapshot_nbytes(codec.model.decoder, 200) == state_nbytes(codec.model.decoder)


def test_receptive_field_is_one_attention_hop(codec):
    """Derived from the configuration (71 + 2 + 10 = 83 frames), and confirmed: a one-code edit
    moves the audio by more than 1e-4 within it, never before the edit, and by less after it."""
    assert codec.receptive_field_frames == 83
    grid = _random_grid(codec, 200, 5)
    codes = np.array(grid.codes)
    codes[2, 20] = (codes[2, 20] + 999) % 2048
    codes_t, keep = codec._tensors(grid.codes, grid.mask)
    with torch.inference_mode():
        before = codec._decode_window(codes_t, keep).numpy().reshape(200, SPF)
        after = codec._decode_window(torch.from_numpy(codes), keep).numpy().reshape(200, SPF)
    per_frame = np.abs(after - before).max(axis=1)
    assert per_frame[:20].max() == 0
    assert per_frame[20:30].min() > 1e-4
    assert per_frame[20 + 83 :].max() <= 1e-4


def test_checkpoint_interval_fits_the_budget(codec):
    from qtok_widgets.codecs.qwen_stream import state_nbytes

    full = state_nbytes(codec.model.decoder)
    assert codec.checkpoint_interval(3750) == 5 and codec.checkpoint_interval(3750, interval=12) == 15
    every = codec.checkpoint_interval(3750, budget_bytes=40 * full)
    assert every % 5 == 0 and every > 25
    count = sum((hi - lo + codec._chunk_context(lo) - 1) // every for lo, hi in codec.decode_chunks(3750))
    assert count * codec.checkpoint_bytes(every) <= 40 * full
    grid = _random_grid(codec, 120, 6)
    samples, store = codec.decode_checkpointed(grid, interval=50)
    np.testing.assert_array_equal(samples, codec._decode_codes(grid.codes, grid.mask))
    assert store.interval == 50 and store.count == 2  # offsets 50 and 100 of one 120-frame stream
    assert store.states[0][0].nbytes == 0  # the empty start state
    assert store.states[0][100].restore().nbytes == full  # a full window of keys and values
    assert store.nbytes == 2 * codec.checkpoint_bytes(50) < 2 * full  # frames 50-100 held once
    _, dense = codec.decode_checkpointed(grid)  # every 5 frames, windows shared
    assert dense.interval == 5 and dense.count == 23
    assert dense.nbytes <= 23 * codec.checkpoint_bytes(5) < 23 * full / 3


def _edit(grid, frame):
    codes = np.array(grid.codes)
    codes[:, frame] = (codes[:, frame] + 700) % 2048
    return grid.with_codes(codes, mask=grid.mask)


def test_incremental_render_stays_within_1e4_of_decode(codec):
    """Edits at the start, a window boundary, the middle, the chunk boundary and its lead-in,
    the end, then an insert and a delete: every render within 1e-4 of ``codec.decode`` at every
    sample, and bit-identical to it up to where a re-decode stopped. A one-frame edit decodes
    at most the receptive field plus one checkpoint interval: the restart lies less than an
    interval before the edit and the output converges within the receptive field (the
    design allows one step more, the step that shows convergence, which these edits do not
    need). When an earlier early stop left residual in the chunk, the budget may send an edit
    on to the chunk's end instead."""
    from qtok_widgets import EditSession

    grid = _random_grid(codec, 400, 8)  # chunks [0, 300) and [300, 400)
    session = EditSession(grid, codec)
    rendered = session.render()
    reference = codec._decode_codes(grid.codes, grid.mask)
    np.testing.assert_array_equal(rendered.samples, codec.decode(grid).samples)
    assert session.render_stats["frames_decoded"] == 400 and session.render_stats["checkpoints_held"] > 0
    bound = codec.receptive_field_frames + codec.checkpoint_interval(400)
    fresh = {150, 300}  # the first edit in each chunk; later ones may find residual left by it
    for frame in (150, 300, 0, 72, 290, 399):
        session.replace([frame], list(range(16)), int((grid.codes[0, frame] + 5) % 2048))
        rendered = session.render()
        stats = session.render_stats
        lo, hi = codec.affected_frames(frame, frame + 1, 400)
        reference[lo * SPF : hi * SPF] = codec.decode_range(
            session.grid, lo, hi
        )  # == a full decode (tested above)
        assert np.abs(rendered.samples - reference).max() <= 1e-4, frame
        if frame in fresh:  # decoded from an up-to-date checkpoint: exact up to the stop
            assert stats["converged"], stats
            (until,) = stats["converged"]
            np.testing.assert_array_equal(
                rendered.samples[lo * SPF : until * SPF], reference[lo * SPF : until * SPF]
            )
        streams = 2 if frame == 290 else 1  # frame 290 is in the lead-in of chunk [300, 400)
        assert stats["checkpoints_used"] == streams
        assert 0 < stats["frames_decoded"] <= (bound if frame in fresh else 325 * streams), (frame, stats)
        assert stats["seconds"] > 0
    session.duplicate_frames("200:203")  # an insert of 3 frames
    rendered = session.render()
    assert np.abs(rendered.samples - codec.decode(session.grid).samples).max() <= 1e-4
    session.delete_frames("50:52")
    rendered = session.render()
    assert np.abs(rendered.samples - codec.decode(session.grid).samples).max() <= 1e-4
    assert session.render_stats["decoded"][0][0] <= 50
    session.undo()
    session.undo()
    assert np.abs(session.render().samples - reference).max() <= 1e-4
