"""Tests of qtok_widgets.audio: every container, every in-memory source, URLs, and each refusal."""

from __future__ import annotations

import functools
import http.server
import io
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from qtok_widgets.audio import (
    DEFAULT_MAX_DURATION_S,
    DEFAULT_URL_TIMEOUT_S,
    Audio,
    check_regular_file,
    duration_limit,
    frames_for,
    load_audio,
    open_regular_file,
    resample,
    url_timeout,
)
from qtok_widgets.errors import AudioError, AudioFileNotFoundError, GridError, QtokError
from qtok_widgets.metrics import aligned_snr_db

# ------------------------------------------------------------------ helpers


@pytest.fixture(scope="module")
def reference(speech_path) -> Audio:
    """The 16 kHz WAV clip every other format is made from."""
    return load_audio(speech_path)


def _write_m4a(path: Path, samples: np.ndarray, rate: int) -> Path:
    import av

    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None, :].astype(np.float32), format="fltp", layout="mono")
        frame.rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _make(fmt: str, tmp_path: Path, ref: Audio) -> Path:
    x, rate = np.asarray(ref.samples), ref.sample_rate
    if fmt == "flac":
        path = tmp_path / "clip.flac"
        sf.write(path, x, rate, format="FLAC", subtype="PCM_16")
    elif fmt == "ogg-vorbis":
        path = tmp_path / "clip.ogg"
        sf.write(path, x, rate, format="OGG", subtype="VORBIS")
    elif fmt == "ogg-opus":
        path = tmp_path / "clip.opus"
        if "OPUS" in sf.available_subtypes("OGG"):
            sf.write(path, x, rate, format="OGG", subtype="OPUS")
        else:  # pragma: no cover - older libsndfile
            import av

            with av.open(str(path), "w", format="ogg") as out:
                stream = out.add_stream("libopus", rate=rate, layout="mono")
                frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
                frame.rate = rate
                for packet in [*stream.encode(frame), *stream.encode(None)]:
                    out.mux(packet)
    elif fmt == "m4a":
        path = _write_m4a(tmp_path / "clip.m4a", x, rate)
    elif fmt == "wav-float":
        path = tmp_path / "clip_float.wav"
        sf.write(path, x, rate, subtype="FLOAT")
    else:  # pragma: no cover
        raise AssertionError(fmt)
    return path


# ------------------------------------------------------------------ containers


def test_wav_reads_mono_float32(reference, speech_path):
    assert reference.sample_rate == 16000
    assert reference.samples.dtype == np.float32
    assert reference.samples.ndim == 1
    assert reference.n_samples == 64000
    assert reference.duration == pytest.approx(4.0)
    assert reference.source == str(speech_path)
    assert not reference.samples.flags.writeable
    assert float(np.max(np.abs(reference.samples))) <= 1.0


@pytest.mark.parametrize(
    ("fmt", "min_snr_db", "max_extra_samples"),
    [
        ("flac", 80.0, 0),  # lossless (16-bit, the WAV's own resolution)
        ("wav-float", 200.0, 0),
        ("ogg-vorbis", 10.0, 0),
        ("ogg-opus", 10.0, 0),
        ("m4a", 10.0, 2048),  # AAC priming/padding frames
    ],
)
def test_every_container_decodes_to_the_same_speech(reference, tmp_path, fmt, min_snr_db, max_extra_samples):
    path = _make(fmt, tmp_path, reference)
    audio = load_audio(path)
    assert audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32
    assert reference.n_samples <= audio.n_samples <= reference.n_samples + max_extra_samples
    n = reference.n_samples
    snr, _lag = aligned_snr_db(reference.samples, audio.samples[: n + max_extra_samples][:n], 16000, 100.0)
    if max_extra_samples:  # the codec delay is larger than the ±100 ms search, so look it up
        best = max(
            aligned_snr_db(reference.samples, audio.samples[k : k + n], 16000, 2.0)[0]
            for k in range(0, max_extra_samples + 1, 64)
        )
        snr = max(snr, best)
    assert snr > min_snr_db


def test_mp3_clips_read_at_their_own_rate(clip_paths):
    rates = {}
    for path in clip_paths:
        audio = load_audio(path)
        rates[path.name] = audio.sample_rate
        assert 3.0 < audio.duration < 6.0
        assert np.all(np.isfinite(audio.samples))
        assert float(np.sqrt(np.mean(audio.samples**2))) > 1e-3  # real speech, not silence
    assert rates["p240_00000.mp3"] == 24000
    assert rates["1320_00000.mp3"] == 16000


def test_stereo_file_is_averaged_to_mono(reference, tmp_path):
    x = np.asarray(reference.samples)
    stereo = np.stack([x, np.zeros_like(x)], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 16000, subtype="FLOAT")
    audio = load_audio(path)
    np.testing.assert_allclose(audio.samples, x / 2, atol=1e-7)


def test_file_shorter_than_its_channel_count_keeps_its_frames(tmp_path):
    # files are (frames, channels): a 1-frame stereo file is one sample, not two
    path = tmp_path / "one_frame.wav"
    sf.write(path, np.array([[0.5, -0.25]], np.float32), 16000, subtype="FLOAT")
    audio = load_audio(path)
    np.testing.assert_allclose(audio.samples, [0.125])


# ------------------------------------------------------------------ in-memory sources


def test_bytes_and_file_objects_match_the_path(reference, speech_path, clip_paths):
    data = Path(speech_path).read_bytes()
    np.testing.assert_array_equal(load_audio(data).samples, reference.samples)
    np.testing.assert_array_equal(load_audio(bytearray(data)).samples, reference.samples)
    np.testing.assert_array_equal(load_audio(memoryview(data)).samples, reference.samples)
    with open(speech_path, "rb") as fh:
        np.testing.assert_array_equal(load_audio(fh).samples, reference.samples)
    mp3 = next(p for p in clip_paths if p.suffix == ".mp3")
    from_path = load_audio(mp3)
    from_bytes = load_audio(mp3.read_bytes())
    np.testing.assert_array_equal(from_bytes.samples, from_path.samples)
    assert load_audio(io.BytesIO(mp3.read_bytes())).sample_rate == from_path.sample_rate


def test_text_mode_file_object_is_refused(speech_path):
    with open(speech_path, encoding="latin-1") as fh, pytest.raises(AudioError, match="binary mode"):
        load_audio(fh)


def test_int16_array_is_scaled_from_full_range(reference):
    pcm = np.round(np.asarray(reference.samples) * 32767).astype(np.int16)
    audio = load_audio(pcm, sample_rate=16000)
    np.testing.assert_allclose(audio.samples, pcm / 32768.0, atol=1e-7)
    full = load_audio(np.array([-32768, 0, 16384], np.int16), sample_rate=8000)
    np.testing.assert_allclose(full.samples, [-1.0, 0.0, 0.5])
    unsigned = load_audio(np.array([0, 128, 255], np.uint8), sample_rate=8000)
    np.testing.assert_allclose(unsigned.samples, [-1.0, 0.0, 127 / 128])


def test_float_and_stereo_arrays(reference):
    x = np.asarray(reference.samples, dtype=np.float64)
    audio = load_audio(x, sample_rate=16000)
    assert audio.samples.dtype == np.float32
    np.testing.assert_allclose(audio.samples, x, atol=1e-7)
    both = np.stack([x, -x * 0.5])
    for stereo in (both, both.T):  # (channels, samples) and (samples, channels)
        np.testing.assert_allclose(load_audio(stereo, sample_rate=16000).samples, x * 0.25, atol=1e-7)


def test_torch_tensor(reference):
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(np.asarray(reference.samples).copy())
    audio = load_audio(tensor, sample_rate=16000)
    np.testing.assert_array_equal(audio.samples, reference.samples)
    stereo = torch.stack([tensor, tensor])
    np.testing.assert_allclose(load_audio(stereo, sample_rate=16000).samples, reference.samples, atol=1e-7)


def test_audio_passes_through_and_resamples(reference):
    assert np.array_equal(load_audio(reference).samples, reference.samples)
    assert load_audio(reference, target_rate=24000).sample_rate == 24000


def test_peak_above_one_is_scaled_with_a_warning():
    loud = np.array([0.0, 2.0, -1.0, 0.5], np.float32)
    with pytest.warns(UserWarning, match=r"peak 2\.000 exceeds 1\.0"):
        audio = load_audio(loud, sample_rate=8000)
    np.testing.assert_allclose(audio.samples, loud / 2)


# ------------------------------------------------------------------ URLs (loopback only)


@pytest.fixture(scope="module")
def data_server(data_dir):
    handler = functools.partial(_QuietHandler, directory=str(data_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # keep test output clean
        pass


def test_url_loads_like_the_file(data_server, reference, data_dir):
    audio = load_audio(f"{data_server}/arctic_a0007.wav")
    np.testing.assert_array_equal(audio.samples, reference.samples)
    assert audio.source == f"{data_server}/arctic_a0007.wav"
    mp3 = load_audio(f"{data_server}/p240_00000.mp3", target_rate=24000)
    np.testing.assert_array_equal(mp3.samples, load_audio(data_dir / "p240_00000.mp3").samples)


def test_missing_url_names_the_url(data_server):
    url = f"{data_server}/no_such_clip.wav"
    with pytest.raises(AudioError, match=r"no_such_clip\.wav: could not download audio \(HTTP Error 404"):
        load_audio(url)


# ------------------------------------------------------------------ resampling


@pytest.mark.parametrize(("orig", "target"), [(16000, 24000), (24000, 16000), (44100, 24000), (8000, 24000)])
def test_resample_length_is_exact(orig, target):
    n = 12345
    x = np.sin(2 * np.pi * 440 * np.arange(n) / orig).astype(np.float32)
    y = resample(x, orig, target)
    assert y.dtype == np.float32
    assert y.shape == (round(n * target / orig),)


def test_load_with_target_rate(reference, speech_path):
    audio = load_audio(speech_path, target_rate=24000)
    assert audio.sample_rate == 24000
    assert audio.n_samples == 96000
    assert audio.duration == pytest.approx(reference.duration)
    # a 16 kHz -> 24 kHz -> 16 kHz trip keeps the band below 8 kHz
    back = audio.resample(16000)
    assert aligned_snr_db(reference.samples, back.samples, 16000)[0] > 30.0
    assert audio.resample(24000) is audio


# ------------------------------------------------------------------ refusals, one per problem


def test_missing_file(tmp_path):
    path = tmp_path / "absent.wav"
    with pytest.raises(AudioFileNotFoundError, match=r"absent\.wav: no such file") as info:
        load_audio(path)
    assert isinstance(info.value, QtokError)
    assert isinstance(info.value, FileNotFoundError)


def test_directory(tmp_path):
    with pytest.raises(AudioError, match="is a directory, not an audio file"):
        load_audio(tmp_path)


def test_text_file_is_an_unsupported_container(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("these are not samples\n" * 20)
    with pytest.raises(AudioError, match=r"notes\.wav: unreadable or unsupported audio container") as info:
        load_audio(path)
    assert "\n" not in str(info.value)
    assert "WAV, FLAC, OGG, MP3, M4A/AAC" in str(info.value)


def test_garbage_bytes_are_refused():
    with pytest.raises(AudioError, match="<bytes>: unreadable or unsupported audio container"):
        load_audio(b"\x00\x01garbage" * 100)


def test_empty_file_and_empty_bytes(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file \(0 bytes\)"):
        load_audio(path)
    with pytest.raises(AudioError, match=r"<bytes>: empty file \(0 bytes\)"):
        load_audio(b"")


def test_zero_samples(tmp_path):
    path = tmp_path / "no_frames.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match=r"no_frames\.wav: audio has zero samples"):
        load_audio(path)
    with pytest.raises(AudioError, match="audio has zero samples"):
        load_audio(np.zeros(0, np.float32), sample_rate=16000)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(bad):
    x = np.zeros(1000, np.float32)
    x[10] = bad
    with pytest.raises(AudioError, match="contains 1 NaN/Inf samples; all samples must be finite"):
        load_audio(x, sample_rate=16000)


def test_non_finite_samples_in_a_float_wav(tmp_path):
    x = np.zeros(1000, np.float32)
    x[5:8] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"nan\.wav: audio contains 3 NaN/Inf samples"):
        load_audio(path)


@pytest.mark.parametrize("rate", [0, -16000, 16000.5])
def test_sample_rate_must_be_positive_whole_hz(rate):
    with pytest.raises(AudioError, match="sample rate must be a positive whole number of Hz"):
        load_audio(np.zeros(100, np.float32), sample_rate=rate)


def test_array_needs_a_sample_rate():
    with pytest.raises(AudioError, match=r"sample_rate= is required"):
        load_audio(np.zeros(100, np.float32))


@pytest.mark.parametrize("rate", [0, -24000, 24000.5, "24000", [24000], float("nan"), True])
def test_target_rate_must_be_positive_whole_hz(speech_path, rate):
    with pytest.raises(
        AudioError, match=r"target_rate must be > 0 Hz, a whole number such as 24000, got "
    ) as info:
        load_audio(speech_path, target_rate=rate)
    assert "\n" not in str(info.value)


def test_unsupported_source_type():
    with pytest.raises(AudioError, match="cannot load audio from int"):
        load_audio(42)


def test_non_numeric_array():
    with pytest.raises(AudioError, match="audio samples must be numeric"):
        load_audio(np.array(["a", "b"]), sample_rate=16000)
    with pytest.raises(AudioError, match=r"1-D or 2-D"):
        load_audio(np.zeros((2, 2, 2), np.float32), sample_rate=16000)


def test_audio_rejects_bad_construction():
    with pytest.raises(AudioError, match="must be 1-D"):
        Audio(np.zeros((2, 3), np.float32), 16000)
    with pytest.raises(AudioError, match="positive integer"):
        Audio(np.zeros(3, np.float32), 0)


@pytest.mark.parametrize("name", ["arctic_a0007.wav", "1320_00000.mp3"])
def test_longer_than_max_duration(data_dir, name):
    path = data_dir / name
    with pytest.raises(AudioError, match=rf"{name}: audio is .* long, above the limit of 2 s"):
        load_audio(path, max_duration_s=2.0)
    with pytest.raises(AudioError, match=r"above the limit of 2 s"):
        load_audio(path.read_bytes(), max_duration_s=2.0)
    assert load_audio(path, max_duration_s=10.0).duration < 10.0


def test_max_duration_from_environment(speech_path, monkeypatch):
    monkeypatch.setenv("QTOK_MAX_DURATION_S", "1.5")
    with pytest.raises(AudioError, match=r"arctic_a0007\.wav: audio is 4\.0 s long, above the limit of 2 s"):
        load_audio(speech_path)
    with pytest.raises(AudioError, match="above the limit"):
        load_audio(np.zeros(16000 * 2, np.float32), sample_rate=16000)
    # an explicit argument wins over the variable
    assert load_audio(speech_path, max_duration_s=5.0).duration == pytest.approx(4.0)
    monkeypatch.setenv("QTOK_MAX_DURATION_S", "ten")
    with pytest.raises(AudioError, match="QTOK_MAX_DURATION_S must be a number of seconds, got 'ten'"):
        load_audio(speech_path)
    monkeypatch.delenv("QTOK_MAX_DURATION_S")
    assert DEFAULT_MAX_DURATION_S == 3600.0


# ------------------------------------------------------------------ writing


def test_save_and_wav_bytes_round_trip(reference, tmp_path):
    for suffix in (".wav", ".flac"):
        path = reference.save(tmp_path / f"out{suffix}")
        back = load_audio(path)
        assert back.sample_rate == reference.sample_rate
        np.testing.assert_allclose(back.samples, reference.samples, atol=1 / 32768)
    back = load_audio(reference.to_wav_bytes())
    np.testing.assert_allclose(back.samples, reference.samples, atol=1 / 32768)
    assert "duration=4.000s" in repr(reference)


# ------------------------------------------------------------------ hostile inputs


def _finishes_within(seconds: float, fn):
    """Run ``fn`` in a thread; return what it raised, failing if it is still running after ``seconds``."""
    outcome: list[BaseException | None] = []

    def target():
        try:
            fn()
            outcome.append(None)
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "speech.wav"
    os.mkfifo(fifo)
    error = _finishes_within(5, lambda: load_audio(fifo))
    assert isinstance(error, AudioError)
    assert (
        str(error)
        == f"{fifo}: is a FIFO (named pipe), not a regular file; only regular files are read as an audio file"
    )
    with pytest.raises(AudioError, match="is a FIFO"):
        check_regular_file(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_symlink_to_dev_zero_is_refused_at_once(tmp_path, speech_path):
    link = tmp_path / "speech.wav"
    link.symlink_to("/dev/zero")
    error = _finishes_within(5, lambda: load_audio(link))
    assert isinstance(error, AudioError)
    assert "speech.wav: is a character device, not a regular file" in str(error)
    # the helpers the server and the codes loader share
    with pytest.raises(QtokError, match="is a character device") as info:
        check_regular_file(link, what="a codes file", error=GridError)
    assert isinstance(info.value, GridError)
    assert check_regular_file(speech_path).st_size == speech_path.stat().st_size
    with open_regular_file(speech_path) as fh:
        assert fh.read(4) == b"RIFF"


def test_mp3s_joined_behind_a_short_header_are_decoded_whole(tmp_path, data_dir):
    one = (data_dir / "p240_00000.mp3").read_bytes()
    path = tmp_path / "joined.mp3"
    path.write_bytes(one * 13)
    single = load_audio(one)
    # the first file's header speaks for the whole: libsndfile alone would stop after 4.9 s
    assert sf.info(str(path)).duration == pytest.approx(single.duration, abs=0.01)
    audio = load_audio(path)
    assert audio.duration == pytest.approx(13 * single.duration, rel=0.02)
    assert load_audio(path.read_bytes()).n_samples == audio.n_samples
    # and the duration limit counts what the file holds, not what its header says
    with pytest.raises(
        AudioError, match=r"joined\.mp3: audio is longer than the limit of 30 s \(max_duration_s=\)"
    ):
        load_audio(path, max_duration_s=30)
    # a single file still reads as before
    assert load_audio(data_dir / "p240_00000.mp3").n_samples == single.n_samples


class _TrickleHandler(http.server.BaseHTTPRequestHandler):
    """Promises 10 kB, then sends one byte every 0.1 s."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", "10000")
        self.end_headers()
        try:
            for _ in range(10000):
                self.wfile.write(b"R")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client hung up, as it should
            pass

    def log_message(self, format, *args):
        pass


@pytest.fixture
def trickle_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TrickleHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/slow.wav"
    finally:
        server.shutdown()
        server.server_close()


def test_url_that_trickles_fails_at_its_deadline(trickle_server, monkeypatch):
    start = time.monotonic()
    with pytest.raises(
        AudioError,
        match=r"slow\.wav: download did not finish within 1 s \(url_timeout_s= or QTOK_URL_TIMEOUT_S\)",
    ):
        load_audio(trickle_server, url_timeout_s=1)
    assert time.monotonic() - start < 2.5
    monkeypatch.setenv("QTOK_URL_TIMEOUT_S", "0.5")
    start = time.monotonic()
    with pytest.raises(AudioError, match=r"did not finish within 0\.5 s"):
        load_audio(trickle_server)
    assert time.monotonic() - start < 2.0


def test_url_that_never_answers_fails_at_its_deadline():
    with socket.socket() as listener:  # accepts the connection, never says a word
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/silent.wav"
        start = time.monotonic()
        with pytest.raises(AudioError, match=r"silent\.wav: download did not finish within 0\.5 s"):
            load_audio(url, url_timeout_s=0.5)
        assert time.monotonic() - start < 2.0


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1, 0, "1 h", [60], True])
def test_max_duration_of_the_wrong_type_or_range_is_named(speech_path, value):
    with pytest.raises(AudioError, match=r"^max_duration_s must be a (finite )?number of seconds") as info:
        load_audio(speech_path, max_duration_s=value)
    assert "\n" not in str(info.value)
    assert duration_limit(10) == 10.0


@pytest.mark.parametrize("text", ["nan", "inf", "-5", "0"])
def test_max_duration_from_environment_must_be_finite_and_positive(speech_path, monkeypatch, text):
    monkeypatch.setenv("QTOK_MAX_DURATION_S", text)
    with pytest.raises(
        AudioError, match=rf"QTOK_MAX_DURATION_S must be a finite number of seconds > 0, got {text!r}"
    ):
        load_audio(speech_path)


def test_url_timeout_of_the_wrong_type_is_named():
    with pytest.raises(AudioError, match=r"url_timeout_s must be a finite number of seconds > 0, got nan"):
        load_audio("http://127.0.0.1:9/x.wav", url_timeout_s=float("nan"))
    assert url_timeout() == DEFAULT_URL_TIMEOUT_S == 30.0


def test_rates_and_counts_of_the_wrong_type_are_named(reference):
    with pytest.raises(
        AudioError, match=r"target_rate must be > 0 Hz, a whole number such as 24000, got '24000'"
    ):
        reference.resample("24000")
    with pytest.raises(
        AudioError, match=r"sample rates must be > 0 Hz, whole numbers such as 24000, got 16000 -> '24000'"
    ):
        resample(reference.samples, 16000, "24000")
    with pytest.raises(AudioError, match=r"sample rate must be a positive whole number of Hz, got nan"):
        load_audio(np.zeros(100, np.float32), sample_rate=float("nan"))
    with pytest.raises(AudioError, match=r"n_samples must be a whole number >= 0, got \[1\]"):
        frames_for([1], 1920)
    assert frames_for(1921, 1920) == 2


def test_save_takes_any_file_name_and_names_bad_targets(tmp_path):
    import os

    audio = Audio(np.zeros(2400, np.float32), 24000)
    odd = tmp_path / os.fsdecode(b"take \xff\xfe.wav")  # not valid UTF-8
    assert audio.save(odd) == odd and load_audio(odd).n_samples == 2400
    with pytest.raises(AudioError, match=r"cannot write \.mp3; use \.wav, \.flac or \.ogg"):
        audio.save(tmp_path / "x.mp3")
    with pytest.raises(AudioError, match="cannot write audio"):
        audio.save(tmp_path / "missing" / "x.wav")
