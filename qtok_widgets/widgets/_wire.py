"""Binary encodings for what the editor sends to the browser: codes, waveform envelopes and PCM.

Codes are packed cell by cell, layer-major (the ``(n_layers, n_frames)`` order of
:class:`~qtok_widgets.grid.CodeGrid`), with a bit of the cell carrying its mask flag. Three widths
go on the wire, chosen by the codebook size (:func:`cell_bits`):

* 12 bits, codebooks of up to 2,048 codes (Qwen 12 Hz, the built-in codec, Mimi): 11-bit code +
  mask bit, two cells in 3 bytes, 1.5 bytes per cell;
* 16 bits, up to 32,768 codes: ``code | mask << 15`` as ``uint16``, 2 bytes per cell;
* 32 bits, up to 2**30 codes (65,536-code codebooks and beyond): ``code | mask << 30`` as
  ``uint32``, 4 bytes per cell. The mask sits in bit 30, not 31, so that a cell stays a positive
  number under JavaScript's signed 32-bit bit operators; the browser holds every cell in this
  form whatever the wire width.

Waveforms travel as an ``int8`` min/max envelope with a few bins per frame (so the strip lines up
with the frame columns), and playback audio as ``int16`` PCM. Nothing here ever produces int64
or JSON lists of numbers.
"""

from __future__ import annotations

import numpy as np

from .. import stats
from ..errors import GridError

__all__ = [
    "ENVELOPE_BINS_PER_FRAME",
    "MASK_BIT",
    "MASK_BIT_32",
    "MAX_CODEBOOK_SIZE",
    "MAX_CODEBOOK_SIZE_12BIT",
    "MAX_CODEBOOK_SIZE_16BIT",
    "cell_bits",
    "encode_cells",
    "envelope",
    "pack_codes",
    "pcm16",
]

#: Bit of a packed ``uint16`` cell (codebooks of up to 32,768 codes) that marks it masked.
MASK_BIT = 1 << 15
#: Bit of a packed ``uint32`` cell (larger codebooks) that marks it masked.
MASK_BIT_32 = 1 << 30
#: Largest codebook whose cells pack into 12 bits (11-bit code + mask bit).
MAX_CODEBOOK_SIZE_12BIT = 2048
#: Largest codebook whose cells pack into 16 bits (15-bit code + mask bit).
MAX_CODEBOOK_SIZE_16BIT = MASK_BIT
#: Largest codebook the wire carries: codes below :data:`MASK_BIT_32` (32-bit cells). Above the
#: grid's own limit (:data:`qtok_widgets.grid.MAX_CODEBOOK_SIZE`, 2**20), so every grid fits.
MAX_CODEBOOK_SIZE = MASK_BIT_32
#: Min/max pairs per frame in a waveform envelope.
ENVELOPE_BINS_PER_FRAME = 4


def pack_codes(codes: np.ndarray, mask: np.ndarray, codebook_size: int | None = None) -> np.ndarray:
    """Pack codes and mask into one integer per cell.

    Parameters
    ----------
    codes : numpy.ndarray
        int, shape ``(n_layers, n_frames)``, values in ``0 .. MAX_CODEBOOK_SIZE - 1``.
    mask : numpy.ndarray
        bool, same shape; True sets the mask bit.
    codebook_size : int, optional
        The grid's codebook size. It picks the width: ``uint16`` with :data:`MASK_BIT` up to
        :data:`MAX_CODEBOOK_SIZE_16BIT` codes, else ``uint32`` with :data:`MASK_BIT_32`; and the
        codes are known to fit (a :class:`~qtok_widgets.grid.CodeGrid` checks its range), so
        they are not scanned again. Without it the largest code picks the width.

    Returns
    -------
    numpy.ndarray
        ``uint16`` (``code | mask << 15``) or ``uint32`` (``code | mask << 30``), little-endian,
        shape ``(n_layers, n_frames)``, C-contiguous.

    Raises
    ------
    GridError
        A codebook or a code too large for the wire (at or above :data:`MAX_CODEBOOK_SIZE`).
    """
    codes = np.asarray(codes)
    if codebook_size is not None and codebook_size > MAX_CODEBOOK_SIZE:
        msg = f"the editor's wire carries codebooks of 1..{MAX_CODEBOOK_SIZE} codes, got {codebook_size}"
        raise GridError(msg)
    if codebook_size is None:
        top = int(codes.max()) if codes.size else 0
        if top >= MAX_CODEBOOK_SIZE:
            msg = f"the editor's wire carries codes 0..{MAX_CODEBOOK_SIZE - 1}, got {top}"
            raise GridError(msg)
        wide = top >= MAX_CODEBOOK_SIZE_16BIT
    else:
        wide = codebook_size > MAX_CODEBOOK_SIZE_16BIT
    dtype, shift = ("<u4", 30) if wide else ("<u2", 15)
    packed = codes.astype(dtype)
    packed |= np.asarray(mask, dtype=bool).astype(dtype) << shift
    return np.ascontiguousarray(packed)


def cell_bits(codebook_size: int) -> int:
    """Bits per cell on the wire for a codebook: 12 up to 2,048 codes, 16 up to 32,768, else 32."""
    if codebook_size <= MAX_CODEBOOK_SIZE_12BIT:
        return 12
    return 16 if codebook_size <= MAX_CODEBOOK_SIZE_16BIT else 32


def encode_cells(packed: np.ndarray, bits: int) -> bytes:
    """Wire bytes of packed cells (see :func:`pack_codes`), in C order.

    Parameters
    ----------
    packed : numpy.ndarray
        ``uint16`` cells (``code | mask << 15``) for 12 and 16 bits, ``uint32`` cells
        (``code | mask << 30``) for 32 bits; any shape, flattened in C (layer-major) order.
    bits : {12, 16, 32}
        32: the ``uint32`` values as they are (4 bytes per cell). 16: the ``uint16`` values as
        they are (2 bytes per cell). 12: each cell becomes ``code | mask << 11`` and cells
        ``2i, 2i + 1`` share 3 bytes, low bits first: ``b0 = a & 0xFF``,
        ``b1 = a >> 8 | (b & 0xF) << 4``, ``b2 = b >> 4`` (an odd count is padded with a zero
        cell). Codes must be below 2,048.

    Returns
    -------
    bytes
        ``4 * n`` bytes (32 bits), ``2 * n`` bytes (16 bits) or ``3 * ceil(n / 2)`` bytes (12 bits).
    """
    if bits == 32:
        if np.asarray(packed).dtype.itemsize != 4:
            msg = "32-bit cells must be packed as uint32 (pack_codes with a codebook above 32768)"
            raise ValueError(msg)
        return np.ascontiguousarray(packed, dtype="<u4").reshape(-1).tobytes()
    if bits not in (12, 16):
        msg = f"bits must be 12, 16 or 32, got {bits}"
        raise ValueError(msg)
    if np.asarray(packed).dtype.itemsize != 2:
        msg = f"{bits}-bit cells must be packed as uint16 (pack_codes with a codebook of at most 32768)"
        raise ValueError(msg)
    flat = np.ascontiguousarray(packed, dtype="<u2").reshape(-1)
    if bits == 16:
        return flat.tobytes()
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
