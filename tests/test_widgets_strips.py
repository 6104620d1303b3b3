"""Editor strips: columns aligned with code frames, quantised, and recomputed per span exactly."""

from __future__ import annotations

import numpy as np
import pytest

from qtok_widgets.analysis import pitch_range
from qtok_widgets.audio import load_audio
from qtok_widgets.examples import example_path
from qtok_widgets.widgets._strips import MAX_COLUMNS, N_MELS, columns_per_frame, strip_span, strips

SPF = 1920  # 24 kHz audio, 12.5 Hz frames


@pytest.fixture(scope="module")
def clip():
    return load_audio(example_path("arctic_a0007"), target_rate=24000)


def test_level_of_detail_divides_the_frame_and_bounds_columns() -> None:
    assert columns_per_frame(50, SPF) == 8
    assert columns_per_frame(45_000, SPF) == 1  # one hour at 12.5 Hz
    assert columns_per_frame(10_000, SPF) == 6
    assert columns_per_frame(10_000, 1875) == 5  # the largest divisor under the budget
    for n in (1, 100, 9000, 45_000):
        cpf = columns_per_frame(n, SPF)
        assert SPF % cpf == 0 and n * cpf <= max(MAX_COLUMNS, n)


def test_strips_are_aligned_and_quantised(clip) -> None:
    n_frames = -(-clip.n_samples // SPF)
    s = strips(clip, SPF, n_frames, pitch_range(clip))
    assert s.cpf == 8 and (s.start, s.stop) == (0, n_frames * 8)
    assert s.mel.shape == (N_MELS, n_frames * 8) and s.mel.dtype == np.uint8
    assert s.f0.dtype == np.uint16 and s.energy.dtype == np.uint8
    assert s.nbytes == s.mel.nbytes + s.f0.nbytes + s.energy.nbytes
    # speech starts at 0.42 s ("And"): column 0.42 * 100 is where the energy rises
    cols_per_s = 12.5 * 8
    quiet, loud = (
        s.energy[: int(0.38 * cols_per_s)],
        s.energy[int(0.46 * cols_per_s) : int(0.55 * cols_per_s)],
    )
    assert quiet.max() < loud.min()
    voiced = s.f0[s.f0 > 0] / 10
    assert 80 < np.median(voiced) < 180


def test_a_span_equals_the_same_columns_of_the_whole(clip) -> None:
    n_frames = -(-clip.n_samples // SPF)
    rng = pitch_range(clip)
    whole = strips(clip, SPF, n_frames, rng)
    for first, stop in ((0, 5), (10, 20), (n_frames - 3, n_frames)):
        part = strip_span(clip, SPF, whole.cpf, first, stop, rng)
        cols = slice(part.start, part.stop)
        assert np.array_equal(part.mel, whole.mel[:, cols])
        assert np.array_equal(part.energy, whole.energy[cols])
        assert np.array_equal(part.f0, whole.f0[cols])


def test_editor_sends_strips_then_only_the_edited_span() -> None:
    from qtok_widgets import TokenEditor, load_codec

    path = example_path("fox_take_a")
    editor = TokenEditor(path, load_codec("builtin"), show_strips=True, journal=False)
    sent: list[tuple[dict, list]] = []
    editor.send = lambda content, buffers=None: sent.append((content, buffers or []))  # the comm's end
    try:
        editor._on_front_end_msg(editor, {"type": "hello"}, [])
        strips_msgs = [(c, b) for c, b in sent if c["type"] == "strips"]
        assert [c["which"] for c, _ in strips_msgs] == ["original", "edited"]
        content, buffers = strips_msgs[0]
        total = editor.n_frames * content["cpf"]
        assert content["start"] == 0 and content["stop"] == content["total"] == total
        assert len(buffers[0]) == N_MELS * total and len(buffers[1]) == 2 * total and len(buffers[2]) == total
        sent.clear()
        editor.select(frames=[10, 12], layers=[0, 16])
        editor.mask()
        (content, buffers), *_ = [(c, b) for c, b in sent if c["type"] == "strips"]
        assert content["which"] == "edited"
        assert 0 < content["stop"] - content["start"] < total  # only the re-rendered span
        assert content["start"] <= 10 * content["cpf"] and content["stop"] >= 12 * content["cpf"]
    finally:
        editor.close()


def test_audition_plays_a_frame_in_context_and_a_code_alone() -> None:
    from qtok_widgets import TokenEditor, load_codec
    from qtok_widgets.errors import QtokError

    editor = TokenEditor(example_path("fox_take_a"), load_codec("builtin"), journal=False)
    try:
        editor.select(frames=[12, 13], layers=[3, 4])
        rate, spf = editor.sample_rate, editor.grid.samples_per_frame
        clip = editor.audition_audio(context_s=0.5)
        side = spf + 2 * round(0.5 * rate)
        assert clip.n_samples == 2 * side + round(0.25 * rate)
        original = editor.original_audio.samples
        assert np.allclose(
            clip.samples[:side], original[12 * spf - rate // 2 : 13 * spf + rate // 2], atol=1e-6
        )
        alone = editor.code_audio(seconds=0.4)
        assert alone.n_samples == 5 * spf and np.abs(alone.samples).max() > 0
        with pytest.raises(QtokError, match=r"layers must be in 0\.\.15"):
            editor.code_audio(layer=16, code=0)
    finally:
        editor.close()
