"""Analysis: spectrogram, pitch and energy on known signals and real speech; codebook colours."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from qtok_widgets import analysis
from qtok_widgets.analysis import AnalysisError, codebook_colors, energy, hz_to_semitones, pitch, spectrogram
from qtok_widgets.audio import Audio, load_audio
from qtok_widgets.errors import CodecError

SR = 16000


def tone(f0_hz: float, seconds: float = 1.0, harmonics: int = 8) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return (
        sum(np.sin(2 * np.pi * f0_hz * k * t) / k for k in range(1, harmonics + 1)).astype(np.float32) * 0.3
    )


def test_spectrogram_shapes_times_and_level() -> None:
    t = np.arange(SR) / SR
    audio = Audio(np.sin(2 * np.pi * 1000 * t).astype(np.float32), SR)
    times, freqs, db = spectrogram(audio, n_mels=64)
    assert times.shape == (100,) and freqs.shape == (64,) and db.shape == (64, 100)
    assert times[1] - times[0] == pytest.approx(0.01)
    band = int(np.argmin(np.abs(freqs - 1000)))
    assert int(np.argmax(db[:, 50])) in (band - 1, band, band + 1)
    assert -6.0 < db[band, 50] < 3.0  # a full-scale sine reads about 0 dB in its band
    assert db[-1, 50] < db[band, 50] - 60
    silence = spectrogram(Audio(np.zeros(SR // 2, np.float32), SR))[2]
    assert np.all(silence == analysis.FLOOR_DB)


def test_energy_of_a_sine_and_a_pause() -> None:
    t = np.arange(SR) / SR
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    x[SR // 2 :] = 0
    times, db = energy(Audio(x, SR))
    assert times.shape == db.shape == (100,)
    assert db[20] == pytest.approx(-3.01, abs=0.05)
    assert db[80] == analysis.FLOOR_DB


@pytest.mark.parametrize("method", ["praat", "harvest"])
def test_pitch_of_a_harmonic_tone(method: str) -> None:
    x = np.concatenate([tone(150.0, 0.6), np.zeros(SR * 3 // 10, np.float32), tone(220.0, 0.6)])
    times, f0 = pitch(Audio(x, SR), method=method)
    assert times.shape == f0.shape == (150,)
    assert np.nanmedian(f0[10:50]) == pytest.approx(150.0, rel=0.02)
    assert np.nanmedian(f0[100:140]) == pytest.approx(220.0, rel=0.02)
    assert np.isnan(f0[70:80]).all()  # silence is unvoiced


def test_the_two_trackers_agree_on_real_speech(speech_path: Path) -> None:
    audio = load_audio(speech_path)
    _, praat = pitch(audio)
    _, harvest = pitch(audio, method="harvest")
    both = ~np.isnan(praat) & ~np.isnan(harvest)
    assert both.sum() > 100
    gross = np.abs(praat[both] - harvest[both]) > 0.2 * harvest[both]
    assert gross.mean() < 0.05
    assert 80 < np.nanmedian(praat) < 180  # a male voice


def test_semitones() -> None:
    out = hz_to_semitones(np.array([100.0, 200.0, np.nan, 0.0]))
    assert out[:2] == pytest.approx([0.0, 12.0])
    assert np.isnan(out[2:]).all()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda a: pitch(a, method="yin"), "unknown pitch method 'yin'"),
        (lambda a: pitch(a, f0_floor_hz=5), "f0_floor_hz must be in 20..500 Hz"),
        (lambda a: spectrogram(a, n_mels=3), "n_mels must be an int in 8..256"),
        (lambda a: energy(a, hop_s="fast"), "hop_s must be a number in"),
    ],
)
def test_bad_settings_are_one_line(call, match: str) -> None:
    with pytest.raises(AnalysisError, match=match):
        call(Audio(tone(100.0, 0.2), SR))


def test_codebook_and_its_colours_are_deterministic() -> None:
    from qtok_widgets.codecs import load_codec

    codec = load_codec("builtin")
    book = codec.codebook(0)
    assert book.shape == (codec.codebook_size, book.shape[1]) and book.dtype == np.float32
    colours = codebook_colors(book)
    assert colours.shape == (codec.codebook_size, 3) and colours.dtype == np.uint8
    assert np.array_equal(colours, codebook_colors(book.copy()))
    assert len({tuple(c) for c in colours}) > codec.codebook_size // 4  # colours tell codes apart
    # codes with close vectors get closer colours than codes chosen at random
    rng = np.random.default_rng(1)
    a = rng.integers(0, len(book), 300)
    dist = (book * book).sum(1)[None, :] - 2.0 * book[a] @ book.T
    dist[np.arange(a.size), a] = np.inf
    nearest = np.argmin(dist, axis=1)
    other = rng.integers(0, len(book), 300)
    near = np.linalg.norm(colours[a].astype(float) - colours[nearest], axis=1).mean()
    far = np.linalg.norm(colours[a].astype(float) - colours[other], axis=1).mean()
    assert near < 0.7 * far
    with pytest.raises(CodecError, match=r"layers must be in 0\.\.15"):
        codec.codebook(16)


def test_embedding_change_is_zero_where_nothing_changed() -> None:
    from qtok_widgets.codecs import load_codec
    from qtok_widgets.session import EditSession

    codec = load_codec("builtin")
    grid = codec.encode(load_audio(Path(__file__).parent / "data" / "arctic_a0009.wav"))
    session = EditSession(grid, codec)
    session.randomize(frames="5:10", layers=[2], seed=3)
    change = analysis.embedding_change(codec, grid, session.grid)
    assert change.shape == grid.shape
    assert np.all(change[:, :5] == 0) and np.all(change[[0, 1, 3], :] == 0)
    # randomize draws from the layer's own codes, so a cell may draw the code it had
    redrawn = session.grid.codes[2, 5:10] != grid.codes[2, 5:10]
    assert redrawn.sum() >= 3
    assert np.all(change[2, 5:10][redrawn] > 0) and np.all(change[2, 5:10][~redrawn] == 0)


def test_prosody_figure_draws_pitch_energy_and_labels() -> None:
    from qtok_widgets.examples import example_path
    from qtok_widgets.widgets.stats import prosody_figure

    take_a = load_audio(example_path("fox_take_a"))
    take_b = load_audio(example_path("fox_take_b"))
    fig = prosody_figure(take_a, take_b, example_path("fox_take_a").with_suffix(".TextGrid"))
    names = [trace.name for trace in fig.data]
    assert names == ["spectrogram", "pitch, original", "energy, original", "pitch, edited", "energy, edited"]
    assert [a.text for a in fig.layout.annotations][:3] == ["The", "quick", "brown"]
    # take B is about 35 Hz higher than take A
    assert np.nanmedian(fig.data[3].y) > np.nanmedian(fig.data[1].y) + 20


def test_editor_colour_by_embedding_sends_the_codebook_colours() -> None:
    from qtok_widgets import CodeGrid, EditSession, TokenEditor
    from qtok_widgets.codecs import load_codec

    codec = load_codec("builtin")
    codes = np.random.default_rng(0).integers(0, 2048, (16, 30))
    grid = CodeGrid(codes, "builtin", 12.5, 24000, 2048)
    editor = TokenEditor(session=EditSession(grid, codec), show_waveform=False, journal=False)
    sent: list[tuple[dict, list]] = []
    editor.send = lambda content, buffers=None: sent.append((content, buffers or []))  # the comm's end
    try:
        editor._on_front_end_msg(editor, {"type": "hello"}, [])
        editor.color_mode = "embedding"
        (content, buffers) = next((c, b) for c, b in sent if c.get("type") == "palette")
        assert content == {"type": "palette", "n_layers": 16, "codebook_size": 2048}
        rgb = np.frombuffer(buffers[0], dtype=np.uint8).reshape(16, 2048, 3)
        assert np.array_equal(rgb[5], codebook_colors(codec.codebook(5)))
        lab = np.frombuffer(buffers[1], dtype=np.int8).reshape(16, 2048, 3)
        assert np.array_equal(lab[5], np.rint(analysis.codebook_lab(codec.codebook(5))))
        editor.color_mode = "change"  # uses the same palette: nothing new to compute or refuse
        assert editor.color_mode == "change" and editor.message_kind != "error"
        # without codebook vectors the mode is refused with one line and falls back
        bare = TokenEditor(session=EditSession(grid, None), show_waveform=False, journal=False)
        bare.color_mode = "embedding"
        assert bare.color_mode == "code" and "no codebook vectors" in bare.message
        bare.color_mode = "change"
        assert bare.color_mode == "code" and bare.message.startswith("colour by change:")
        bare.close()
    finally:
        editor.close()
