"""Binary encodings for what the editor sends to the browser: codes, waveform envelopes and PCM.

Codes are held as little-endian ``uint16``, layer-major (the ``(n_layers, n_frames)`` order of
:class:`~qtok_widgets.grid.CodeGrid`), with the top bit carrying the cell's mask flag, so
codebooks of up to 32,768 codes fit. On the wire that is 2 bytes per cell; for codebooks of up to
2,048 codes (Qwen 12 Hz, the built-in codec) :func:`encode_cells` packs two cells into 3 bytes
(11-bit code + mask bit each), 1.5 bytes per cell. Waveforms travel as an ``int8``
min/max envelope with a few bins per frame (so the strip lines up with the frame columns), and
playback audio as ``int16`` PCM. Nothing here ever produces int64 or JSON lists of numbers.
"""

from __future__ import annotations

import numpy as np

from .. import stats
from ..errors import GridError

__all__ = [
    "ENVELOPE_BINS_PER_FRAME",
    "MASK_BIT",
    "MAX_CODEBOOK_SIZE",
    "MAX_CODEBOOK_SIZE_12BIT",
    "encode_cells",
    "envelope",
    "pack_codes",
    "pcm16",
]

#: Bit of the packed ``uint16`` that marks a masked cell.
MASK_BIT = 1 << 15
#: Largest codebook that fits beside the mask bit.
MAX_CODEBOOK_SIZE = MASK_BIT
#: Largest codebook whose cells pack into 12 bits (11-bit code + mask bit).
MAX_CODEBOOK_SIZE_12BIT = 2048
#: Min/max pairs per frame in a waveform envelope.
ENVELOPE_BINS_PER_FRAME = 4


def pack_codes(codes: np.ndarray, mask: np.ndarray, codebook_size: int | None = None) -> np.ndarray:
    """Pack codes and mask into one ``uint16`` array.

    Parameters
    ----------
    codes : numpy.ndarray
        int, shape ``(n_layers, n_frames)``, values in ``0 .. 32767``.
    mask : numpy.ndarray
        bool, same shape; True sets :data:`MASK_BIT`.
    codebook_size : int, optional
        When given and at most :data:`MAX_CODEBOOK_SIZE`, the codes are known to fit (a
        :class:`~qtok_widgets.grid.CodeGrid` checks its range) and are not scanned again.

    Returns
    -------
    numpy.ndarray
        ``uint16`` (little-endian), shape ``(n_layers, n_frames)``, C-contiguous.
    """
    codes = np.asarray(codes)
    known = codebook_size is not None and codebook_size <= MAX_CODEBOOK_SIZE
    if not known and codes.size and int(codes.max()) >= MAX_CODEBOOK_SIZE:
        msg = f"codes up to {MAX_CODEBOOK_SIZE - 1} can be shown, got {int(codes.max())}"
        raise GridError(msg)
    packed = codes.astype("<u2")
    packed |= np.asarray(mask, dtype=bool).astype("<u2") << 15
    return np.ascontiguousarray(packed)


def cell_bits(codebook_size: int) -> int:
    """Bits per cell on the wire for a codebook: 12 up to 2,048 codes, else 16."""
    return 12 if codebook_size <= MAX_CODEBOOK_SIZE_12BIT else 16


def encode_cells(packed: np.ndarray, bits: int) -> bytes:
    """Wire bytes of packed cells (see :func:`pack_codes`), in C order.

    Parameters
    ----------
    packed : numpy.ndarray
        ``uint16`` cells, any shape; flattened in C (layer-major) order.
    bits : {12, 16}
        16: the ``uint16`` values as they are (2 bytes per cell). 12: each cell becomes
        ``code | mask << 11`` and cells ``2i, 2i + 1`` share 3 bytes, low bits first:
        ``b0 = a & 0xFF``, ``b1 = a >> 8 | (b & 0xF) << 4``, ``b2 = b >> 4`` (an odd count is
        padded with a zero cell). Codes must be below 2,048.

    Returns
    -------
    bytes
        ``2 * n`` bytes (16 bits) or ``3 * ceil(n / 2)`` bytes (12 bits).
    """
    flat = np.ascontiguousarray(packed, dtype="<u2").reshape(-1)
    if bits == 16:
        return flat.tobytes()
    if bits != 12:
        msg = f"bits must be 12 or 16, got {bits}"
        raise ValueError(msg)
    v = (flat & 0x7FF) | ((flat >> 4) & 0x800)  # move the mask from bit 15 to bit 11
    if v.size % 2:
        v = np.concatenate([v, np.zeros(1, v.dtype)])
    a = v[0::2]
    b = v[1::2]
    out = np.empty((a.size, 3), dtype=np.uint8)
    out[:, 0] = a & 0xFF
    out[:, 1] = (a >> 8) | ((b & 0xF) << 4)
    out[:, 2] = b >> 4
    return out.tobytes()


def envelope(samples: np.ndarray, samples_per_frame: int, n_frames: int) -> np.ndarray:
    """Min/max waveform envelope, :data:`ENVELOPE_BINS_PER_FRAME` bins per frame, as ``int8``.

    :func:`qtok_widgets.stats.envelope` over the frames' samples, scaled for the wire.

    Parameters
    ----------
    samples : numpy.ndarray
        float, shape ``(n_samples,)`` in [-1, 1]; padded with silence to whole frames.
    samples_per_frame : int
        Audio samples per frame (1920 at 24 kHz and 12.5 Hz).
    n_frames : int
        Number of frames to cover.

    Returns
    -------
    numpy.ndarray
        ``int8``, shape ``(n_frames * bins, 2)``: ``[min, max]`` per bin, scaled by 127.
    """
    bins = ENVELOPE_BINS_PER_FRAME
    lo, hi = stats.envelope(samples, n_frames * bins, n_samples=n_frames * samples_per_frame)
    out = np.empty((lo.shape[0], 2), dtype=np.int8)
    out[:, 0] = np.clip(np.round(lo * 127), -127, 127)
    out[:, 1] = np.clip(np.round(hi * 127), -127, 127)
    return out


def pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as little-endian ``int16`` PCM, shape ``(n_samples,)``."""
    x = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0)
    return np.round(x * 32767.0).astype("<i2")
