"""Classic low-bitrate speech codecs to compare the built-in codec with: Codec2 and Opus.

* **Codec2** (``pycodec2``, 8 kHz narrowband, 3200 or 2400 bit/s): not a project dependency;
  ``pip install 'qtok_widgets[bench]'`` or ``pip install pycodec2`` installs it. Without it the
  benchmark leaves its rows out and says so.
* **Opus** (libopus inside PyAV's wheel, a project dependency; 6 kbit/s, wideband by the
  encoder's choice at that rate), through an in-memory Ogg file.

Both take and return float32 mono at 24 kHz (resampled on the way in and out), the same
length as the input, so they can be scored exactly like the built-in codec.
"""

from __future__ import annotations

import io

import numpy as np

from qtok_widgets.audio import resample

RATE = 24000


def codec2_available() -> bool:
    """Whether ``pycodec2`` can be imported."""
    try:
        import pycodec2  # noqa: F401
    except ImportError:
        return False
    return True


def codec2_roundtrip(samples: np.ndarray, bitrate: int) -> np.ndarray:
    """Encode and decode 24 kHz float32 ``(n,)`` with Codec2 at ``bitrate`` bit/s (3200, 2400, ...).

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n,)`` at 24 kHz (band-limited to 4 kHz by the codec).
    """
    import pycodec2

    c2 = pycodec2.Codec2(bitrate)
    spf = c2.samples_per_frame()
    low = resample(np.asarray(samples, np.float32), RATE, 8000)
    pcm = np.clip(np.round(low * 32767.0), -32768, 32767).astype(np.int16)
    n_frames = -(-pcm.shape[0] // spf)
    pcm = np.concatenate([pcm, np.zeros(n_frames * spf - pcm.shape[0], np.int16)])
    out = np.concatenate([c2.decode(c2.encode(pcm[i * spf : (i + 1) * spf])) for i in range(n_frames)])
    # the decoded speech lags the input by one frame (20 ms): measured on tests/data by the
    # lag that best aligns the two amplitude envelopes (20-25 ms at both rates)
    out = out[spf:]
    back = resample((out.astype(np.float32) / 32768.0)[: low.shape[0]], 8000, RATE)
    return _fit(back, samples.shape[0])


def opus_roundtrip(samples: np.ndarray, bitrate: int = 6000) -> np.ndarray:
    """Encode and decode 24 kHz float32 ``(n,)`` with Opus (libopus via PyAV) at ``bitrate`` bit/s.

    Returns
    -------
    numpy.ndarray
        float32, shape ``(n,)`` at 24 kHz.
    """
    import av

    pcm = np.clip(np.round(np.asarray(samples, np.float32) * 32767.0), -32768, 32767).astype(np.int16)
    buf = io.BytesIO()
    with av.open(buf, "w", format="ogg") as out:
        stream = out.add_stream("libopus", rate=RATE)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    pieces = []
    with av.open(buf, "r") as inp:
        for frame in inp.decode(audio=0):
            arr = frame.to_ndarray().astype(np.float32)
            if frame.format.name.startswith("s16"):
                arr /= 32768.0
            pieces.append(arr.reshape(-1) if arr.shape[0] == 1 else arr.mean(axis=0))
            rate = frame.sample_rate
    decoded = np.concatenate(pieces)
    if rate != RATE:
        decoded = resample(decoded, rate, RATE)
    return _fit(decoded, samples.shape[0])


def opus_bytes(samples: np.ndarray, bitrate: int = 6000) -> int:
    """Size of the Opus packets (no container) for 24 kHz ``samples``: to check the bitrate."""
    import av

    pcm = np.clip(np.round(np.asarray(samples, np.float32) * 32767.0), -32768, 32767).astype(np.int16)
    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate = RATE
    codec.layout = "mono"
    codec.format = "s16"
    codec.bit_rate = bitrate
    frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
    frame.sample_rate = RATE
    return sum(p.size for p in codec.encode(frame)) + sum(p.size for p in codec.encode(None))


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if x.shape[0] >= n:
        return x[:n]
    return np.concatenate([x, np.zeros(n - x.shape[0], np.float32)])
