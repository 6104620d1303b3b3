"""Editor strips: columns aligned with code frames, quantised, and recomputed per span exactly."""

from __future__ import annotations

import numpy as np
import pytest

from qtok_widgets.analysis import pitch_range
from qtok_widgets.audio import load_audio
from qtok_widgets.examples import example_path
from qtok_widgets.widgets._strips import (
    MAX_COLUMNS,
    N_MELS,
    OVERVIEW_COLUMNS,
    columns_per_frame,
    strip_span,
    strips,
)

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


def test_an_overview_column_pools_its_frames(clip) -> None:
    from qtok_widgets.widgets._strips import pool

    n_frames = -(-clip.n_samples // SPF)
    fine = strips(clip, SPF, n_frames, pitch_range(clip))
    assert pool(fine, 1).f0.size == n_frames  # one column per frame
    one = strip_span(clip, SPF, 1, 0, n_frames, pitch_range(clip))
    over = pool(one, 4)
    assert (over.cpf, over.fpc, over.start, over.stop) == (1, 4, 0, -(-n_frames // 4))
    for c in range(over.stop):
        group = slice(4 * c, 4 * c + 4)
        # mean power: between the quietest and loudest of its frames, at least the mean level
        e = one.energy[group].astype(float)
        assert e.min() - 1 <= over.energy[c] <= e.max() + 1 and over.energy[c] >= e.mean() - 1
        assert np.all(over.mel[:, c] >= one.mel[:, group].min(axis=1))
        voiced = one.f0[group][one.f0[group] > 0]
        if voiced.size * 4 >= one.f0[group].size:
            assert over.f0[c] == pytest.approx(np.median(voiced), abs=0.5)
        else:
            assert over.f0[c] == 0


def _strip_messages(sent, which=None):
    return [
        (c, b) for c, b in sent if c["type"] == "strips" and (which is None or c["which"] in (which, "both"))
    ]


def _f0(buffers):
    return np.frombuffer(buffers[1], dtype="<u2").astype(float) / 10


def _held_f0(sent, which):
    """The F0 a view holds of a version after the "whole" strips messages sent so far (as strips.js merges them)."""
    held = np.zeros(0)
    for c, b in _strip_messages(sent, which):
        if held.size != c["total"]:
            keep = held[: min(c["start"], held.size, c["total"])]
            held = np.concatenate([keep, np.zeros(c["total"] - keep.size)])
        held[c["start"] : c["stop"]] = _f0(b)
    return held


def test_original_pitch_follows_timing_edits_to_lie_under_the_edited_audio() -> None:
    from qtok_widgets import TokenEditor, load_codec

    editor = TokenEditor(example_path("arctic_a0007"), load_codec("builtin"), show_strips=True, journal=False)
    sent: list[tuple[dict, list]] = []
    editor.send = lambda content, buffers=None: sent.append((content, buffers or []))
    try:
        editor._on_front_end_msg(editor, {"type": "hello"}, [])
        (first, orig_buffers), *_ = _strip_messages(sent, "original")
        cpf = first["cpf"]
        original_f0 = _f0(orig_buffers)
        n = editor.n_frames
        editor.session.delete_frames(frames="10:22")  # 0.96 s from 0.8 s on: the rest comes earlier
        editor._flush_audio()
        content, _ = _strip_messages(sent, "original")[-1]
        assert content["total"] == (n - 12) * cpf and content["start"] <= 10 * cpf
        aligned = _held_f0(sent, "original")
        # after the cut, the original's columns are those of 12 frames later
        assert np.array_equal(aligned[10 * cpf :], original_f0[22 * cpf :])
        assert np.array_equal(aligned[: 10 * cpf], original_f0[: 10 * cpf])
        edited = _held_f0(sent, "edited")

        # the same codes after the cut: the two curves agree there, where unaligned ones would not
        def agreement(a, b):
            both = (a > 0) & (b > 0)
            return np.mean(np.abs(12 * np.log2(a[both] / b[both])) < 1.0)

        tail = slice(12 * cpf, content["total"] - cpf)
        assert agreement(aligned[tail], edited[tail]) > 0.9
        assert agreement(original_f0[tail], edited[tail]) < 0.6

        # a stretch: the original's columns spread over the stretched frames, the rest follow
        editor.session.undo()
        editor._flush_audio()
        editor.session.time_stretch(frames="20:30", factor=1.5)
        editor._flush_audio()
        aligned = _held_f0(sent, "original")
        assert aligned.size == (n + 5) * cpf
        assert np.array_equal(aligned[: 20 * cpf], original_f0[: 20 * cpf])
        assert np.array_equal(aligned[35 * cpf :], original_f0[30 * cpf :])
        stretched = aligned[20 * cpf : 35 * cpf]
        assert np.array_equal(np.unique(stretched), np.unique(original_f0[20 * cpf : 30 * cpf]))
    finally:
        editor.close()


def test_a_long_recording_gets_an_overview_and_a_window_of_detail() -> None:
    from qtok_widgets import EditSession, TokenEditor, load_audio, load_codec
    from qtok_widgets.widgets.editor import WAVEFORM_AUTO_MAX_S

    codec = load_codec("builtin")
    base = codec.encode(load_audio(example_path("arctic_a0007")))
    n = int(WAVEFORM_AUTO_MAX_S * 12.5) + 300  # 10 min 24 s: past the whole-waveform limit
    grid = base.with_codes(np.tile(base.codes, (1, -(-n // base.n_frames)))[:, :n])
    editor = TokenEditor(session=EditSession(grid, codec), show_strips=True, journal=False)
    assert editor.waveform_window_s > 0
    sent: list[tuple[dict, list]] = []
    editor.send = lambda content, buffers=None: sent.append((content, buffers or []))
    try:
        editor._on_front_end_msg(editor, {"type": "hello"}, [])
        editor._strip_feed.wait(120)
        assert editor._strip_feed.error is None
        overview = _strip_messages(sent)
        fpc = overview[0][0]["fpc"]
        total = -(-n // fpc)
        assert fpc == -(-n // OVERVIEW_COLUMNS) and {c["level"] for c, _ in overview} == {"overview"}
        # unedited: each block is sent once for both versions, and covers the clip in order
        assert [c["which"] for c, _ in overview] == ["both"] * len(overview)
        assert [c["start"] for c, _ in overview] == [0, *[c["stop"] for c, _ in overview[:-1]]]
        assert overview[-1][0]["stop"] == total
        sent_bytes = sum(len(b) for _, bufs in overview for b in bufs)
        assert sent_bytes == total * (N_MELS + 3)  # light: 51 bytes per overview column
        # the overview equals the whole recording's strips pooled
        from qtok_widgets.widgets._strips import pool, strip_span

        audio = codec.decode(grid)
        whole = pool(strip_span(audio, SPF, 1, 0, n, editor._strip_feed.f0_range), fpc)
        mel = np.concatenate([np.frombuffer(b[0], np.uint8).reshape(N_MELS, -1) for _, b in overview], axis=1)
        assert np.mean(np.abs(mel.astype(int) - whole.mel)) < 1.0

        # a second view gets the whole overview too, without the original being analysed again
        sent.clear()
        editor._on_front_end_msg(editor, {"type": "hello"}, [])
        editor._strip_feed.wait(120)
        again = _strip_messages(sent)
        assert [c["start"] for c, _ in again] == [c["start"] for c, _ in overview]
        assert all(np.array_equal(a[1][0], b[1][0]) for a, b in zip(again, overview, strict=True))

        # a mask sends the overview columns it touched, of the edited audio only
        sent.clear()
        editor.select(frames=[4000, 4100])
        editor.mask()
        (content, _), *rest = _strip_messages(sent)
        assert not rest and content["which"] == "edited" and content["level"] == "overview"
        assert content["start"] <= 4000 // fpc and content["stop"] >= 4100 // fpc
        assert content["stop"] - content["start"] < 4200 // fpc - 3900 // fpc

        # zoomed in, the view asks for its window: both versions at about its pixel density
        sent.clear()
        editor._on_front_end_msg(
            editor, {"type": "strips_window", "start": 3900, "stop": 5000, "px_per_frame": 2.5}, []
        )
        window = _strip_messages(sent)
        assert [c["which"] for c, _ in window] == ["edited", "original"]
        for c, _ in window:
            assert c["level"] == "window" and c["cpf"] == 3 and c["total"] == n * 3
            assert (c["start"], c["stop"]) == (3900 * 3, (3900 + 751) * 3)  # at most 60 s
        masked = slice((4010 - 3900) * 3, (4090 - 3900) * 3)
        edited_energy = np.frombuffer(window[0][1][2], np.uint8)[masked]
        original_energy = np.frombuffer(window[1][1][2], np.uint8)[masked]
        assert edited_energy.mean() < original_energy.mean() - 20  # the masked frames are quieter

        # a timing edit: the edited overview is recomputed from the edit on, the original moved
        sent.clear()
        editor.session.delete_frames(frames="1000:1110")
        editor._flush_audio()
        editor._strip_feed.wait(120)
        edited = [c for c, _ in _strip_messages(sent) if c["which"] == "edited"]
        assert edited[0]["start"] == 1000 // fpc and edited[-1]["stop"] == edited[-1]["total"] == -(
            -(n - 110) // fpc
        )
        content, _ = [(c, b) for c, b in _strip_messages(sent) if c["which"] == "original"][-1]
        assert content["start"] <= 1000 // fpc + 1 and content["total"] == -(-(n - 110) // fpc)
    finally:
        editor.close()
