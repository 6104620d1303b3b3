"""Audio loading: ``load_audio`` time per container, and the cost of resampling to 24 kHz.

A 60 s clip (10 s with ``quick``) is built by repeating the real clips of ``tests/data`` at
16 kHz, then written as WAV (16-bit PCM), FLAC, OGG/Vorbis and MP3 (libsndfile) and M4A/AAC
(PyAV). Each row times ``load_audio(path)`` (decode to mono float32 at the file's rate) and
``load_audio(path, target_rate=24000)`` (what a codec sees); the last row times
``resample`` alone, 16 kHz -> 24 kHz (soxr VHQ). ``realtime_x`` is audio seconds per second
of work. Compare rows only within one run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks.harness import measure
from qtok_widgets.audio import load_audio, resample

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
RATE = 16000


def _clip(seconds: float) -> np.ndarray:
    """The real clips at 16 kHz, repeated and cut to ``seconds``."""
    parts = [
        load_audio(p, target_rate=RATE).samples
        for p in sorted(DATA.glob("*.wav")) + sorted(DATA.glob("*.mp3"))
    ]
    one = np.concatenate(parts)
    n = int(seconds * RATE)
    return np.tile(one, n // one.size + 1)[:n].astype(np.float32)


def _write_m4a(path: Path, x: np.ndarray) -> None:
    import av

    with av.open(str(path), "w", format="ipod") as out:
        stream = out.add_stream("aac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(x[None, :], format="fltp", layout="mono")
        frame.rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def _write_all(folder: Path, x: np.ndarray) -> dict[str, Path]:
    files = {
        "WAV": folder / "clip.wav",
        "FLAC": folder / "clip.flac",
        "OGG": folder / "clip.ogg",
        "MP3": folder / "clip.mp3",
        "M4A": folder / "clip.m4a",
    }
    sf.write(files["WAV"], x, RATE, subtype="PCM_16")
    sf.write(files["FLAC"], x, RATE, subtype="PCM_16")
    sf.write(files["OGG"], x, RATE, format="OGG", subtype="VORBIS")
    sf.write(files["MP3"], x, RATE, format="MP3", subtype="MPEG_LAYER_III")
    _write_m4a(files["M4A"], x)
    return files


def run(quick: bool) -> list[dict]:
    """One row per container (native rate and 24 kHz), then one for resampling alone."""
    seconds = 10.0 if quick else 60.0
    repeats = 3 if quick else 5
    x = _clip(seconds)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, path in _write_all(Path(tmp), x).items():
            for target in (None, 24000):
                m = measure(
                    lambda path=path, target=target: load_audio(path, target_rate=target), repeats=repeats
                )
                audio = m["result"]
                rows.append(
                    {
                        "case": f"load {fmt}" + (" -> 24 kHz" if target else ""),
                        "audio_s": round(audio.duration, 2),
                        "file_kb": round(path.stat().st_size / 1024),
                        "median_s": m["median_s"],
                        "min_s": m["min_s"],
                        "realtime_x": round(audio.duration / m["median_s"]),
                        "peak_rss_mb": m["peak_rss_mb"],
                    }
                )
    m = measure(lambda: resample(x, RATE, 24000), repeats=repeats)
    rows.append(
        {
            "case": "resample 16k -> 24k",
            "audio_s": seconds,
            "file_kb": "",
            "median_s": m["median_s"],
            "min_s": m["min_s"],
            "realtime_x": round(seconds / m["median_s"]),
            "peak_rss_mb": m["peak_rss_mb"],
        }
    )
    return rows
