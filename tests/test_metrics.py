"""Tests of qtok_widgets.metrics on real speech: identity, known noise levels, delays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qtok_widgets.audio import Audio, load_audio
from qtok_widgets.errors import AudioError
from qtok_widgets.metrics import (
    aligned_snr_db,
    compare,
    log_spectral_distance,
    mel_cepstral_distortion,
    pesq_wb,
    snr_db,
    stoi,
)


@pytest.fixture(scope="module")
def speech(speech_path) -> Audio:
    return load_audio(speech_path, target_rate=24000)


def _noise_at(x: np.ndarray, level_db: float, seed: int = 0) -> np.ndarray:
    """White noise scaled so that ``10 log10(|x|^2 / |noise|^2) == level_db`` exactly."""
    noise = np.random.default_rng(seed).standard_normal(x.size)
    noise *= math.sqrt(float(np.dot(x, x)) / float(np.dot(noise, noise))) / 10 ** (level_db / 20)
    return noise


def test_identical_signals_score_perfectly(speech):
    result = compare(speech, speech)
    assert result["snr_db"] == math.inf
    assert result["snr_aligned_db"] == math.inf
    assert result["lag_ms"] == 0.0
    assert result["lsd_db"] == pytest.approx(0.0, abs=1e-9)
    assert result["mcd_db"] == pytest.approx(0.0, abs=1e-9)
    assert result["stoi"] == pytest.approx(1.0, abs=1e-6)
    assert result["pesq_wb"] > 4.5
    assert result["sample_rate"] == 24000
    assert result["duration_s"] == pytest.approx(speech.duration)
    assert result["notes"] == []


@pytest.mark.parametrize("level_db", [0.0, 10.0, 20.0, 30.0])
def test_snr_of_added_noise_matches_its_level(speech, level_db):
    x = speech.samples.astype(np.float64)
    noisy = x + _noise_at(x, level_db)
    assert snr_db(x, noisy) == pytest.approx(level_db, abs=1e-6)
    aligned, lag = aligned_snr_db(x, noisy, 24000)
    # white noise has no correlation peak away from zero lag
    assert lag == 0
    assert aligned == pytest.approx(level_db, abs=1e-6)


def test_spectral_measures_grow_as_noise_grows(speech):
    x = speech.samples.astype(np.float64)
    lsd = [log_spectral_distance(x, x + _noise_at(x, db), 24000) for db in (40.0, 20.0, 0.0)]
    mcd = [mel_cepstral_distortion(x, x + _noise_at(x, db), 24000) for db in (40.0, 20.0, 0.0)]
    assert lsd[0] < lsd[1] < lsd[2]
    assert mcd[0] < mcd[1] < mcd[2]
    assert stoi(x, x + _noise_at(x, 20.0), 24000) > stoi(x, x + _noise_at(x, -5.0), 24000)


def test_delayed_copy_is_aligned(speech):
    x = speech.samples.astype(np.float64)
    delay = 72  # 3 ms at 24 kHz
    late = np.concatenate([np.zeros(delay), x[:-delay]])
    assert snr_db(x, late) < 3.0  # plain SNR is ruined by 3 ms
    aligned, lag = aligned_snr_db(x, late, 24000)
    assert lag == delay
    assert aligned > 40.0  # only the last 3 ms are lost
    early = x[delay:]
    aligned, lag = aligned_snr_db(x, np.concatenate([early, np.zeros(delay)]), 24000)
    assert lag == -delay
    assert aligned > 40.0
    result = compare(speech, Audio(late.astype(np.float32), 24000))
    assert result["lag_ms"] == pytest.approx(3.0)
    assert result["lsd_db"] < 3.0


def test_delay_beyond_the_search_range_is_not_found(speech):
    x = speech.samples.astype(np.float64)
    delay = 240  # 10 ms, outside the default ±5 ms
    late = np.concatenate([np.zeros(delay), x[:-delay]])
    _, lag = aligned_snr_db(x, late, 24000)
    assert abs(lag) <= 120
    _, lag = aligned_snr_db(x, late, 24000, max_lag_ms=12.0)
    assert lag == delay


def test_gain_change_is_charged_to_snr(speech):
    x = speech.samples.astype(np.float64)
    assert snr_db(x, 0.5 * x) == pytest.approx(20 * math.log10(2), abs=1e-9)
    # a level change moves every log spectrum by 6 dB, except bins at the -80 dB floor
    assert 3.0 < log_spectral_distance(x, 0.5 * x, 24000) <= 20 * math.log10(2) + 1e-6


def test_compare_resamples_to_the_lower_rate_and_cuts_lengths(speech_path):
    at16 = load_audio(speech_path)
    at24 = at16.resample(24000)
    result = compare(at16, at24)
    assert result["sample_rate"] == 16000
    assert result["snr_db"] > 30.0
    longer = Audio(np.concatenate([at24.samples, np.zeros(2400, np.float32)]), 24000)
    result = compare(at24, longer)
    assert result["duration_s"] == pytest.approx(at24.duration)
    assert result["snr_db"] == math.inf


def test_pesq_is_none_for_silence():
    silence = np.zeros(16000, np.float64)
    assert pesq_wb(silence, silence, 16000) is None


def test_bad_inputs_raise_audio_errors(speech):
    x = speech.samples
    with pytest.raises(AudioError, match="zero samples"):
        snr_db(x, np.zeros(0))
    with pytest.raises(AudioError, match="NaN/Inf"):
        snr_db(x, np.full(x.size, np.nan))
    with pytest.raises(AudioError, match=r"shape \(n_samples,\)"):
        snr_db(x, np.zeros((2, 10)))
    with pytest.raises(AudioError, match="must be an Audio"):
        compare(speech, x)
    with pytest.raises(AudioError, match="max_lag_ms must be >= 0"):
        aligned_snr_db(x, x, 24000, max_lag_ms=-1.0)


def test_block_size_does_not_change_the_result(speech, monkeypatch):
    import qtok_widgets.metrics as metrics

    x = speech.samples.astype(np.float64)
    y = np.concatenate([np.zeros(30), x[:-30]]) + _noise_at(x, 15.0)
    whole = metrics._spectral_distances(x, y, 24000)
    monkeypatch.setattr(metrics, "_BLOCK_FRAMES", 7)
    blocked = metrics._spectral_distances(x, y, 24000)
    assert blocked == pytest.approx(whole, rel=1e-12)
    # the lag search spans many 65536-sample blocks on a 40 s signal
    long_x = np.tile(x, 10)
    late = np.concatenate([np.zeros(31), long_x[:-31]])
    assert aligned_snr_db(long_x, late, 24000)[1] == 31


def test_optional_measures_are_none_without_their_packages(speech, monkeypatch):
    import sys

    x = speech.samples
    monkeypatch.setitem(sys.modules, "pystoi", None)  # makes `import pystoi` raise ImportError
    monkeypatch.setitem(sys.modules, "pesq", None)
    assert stoi(x, x, 24000) is None
    assert pesq_wb(x, x, 24000) is None
    result = compare(speech, speech)
    assert result["stoi"] is None and result["pesq_wb"] is None
    assert result["lsd_db"] == pytest.approx(0.0, abs=1e-9)


def test_clips_too_short_for_stoi_give_none_and_a_note(speech):
    """A 25 ms clip made pystoi raise; anything up to 0.4 s made it return a bogus 1e-5."""
    for seconds in (0.025, 0.3):
        clip = Audio(speech.samples[: int(seconds * 24000)], 24000)
        assert stoi(clip, clip, 24000) is None
        result = compare(clip, clip)
        assert result["stoi"] is None
        assert result["lsd_db"] == pytest.approx(0.0, abs=1e-9)
        assert any(note.startswith("STOI needs more than 0.4 s") for note in result["notes"])
    assert compare(speech, speech, with_pesq=False)["notes"] == []


def test_stoi_of_mostly_silence_is_none_with_a_note(speech):
    x = np.zeros(2 * 24000, np.float32)
    x[:2400] = speech.samples[12000:14400]  # 0.1 s of speech, then silence that STOI drops
    clip = Audio(x, 24000)
    result = compare(clip, clip, with_pesq=False)
    assert result["stoi"] is None
    assert result["notes"] == [
        "STOI needs more than 0.4 s of speech; the clip has less once silence is left out"
    ]


def test_pesq_note_for_silence():
    silence = Audio(np.zeros(16000, np.float32), 16000)
    result = compare(silence, silence)
    assert result["pesq_wb"] is None
    assert any(note.startswith("PESQ-WB found no utterance") for note in result["notes"])
