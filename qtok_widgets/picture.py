"""Static pictures of a code grid: PNG bytes made with numpy and zlib alone, for saved notebooks.

A live :class:`~qtok_widgets.widgets.editor.TokenEditor` needs a kernel; a notebook opened on
GitHub, nbviewer or printed as a handout has none. :func:`grid_png` draws what the editor shows
(codes coloured by value with the editor's viridis scale, masked cells as a grey checker, a
red lane above frames that differ from the original, and the waveform envelope when there is
audio) so the editor can leave it in the notebook beside the widget.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .grid import CodeGrid

__all__ = ["grid_png", "png_bytes", "viridis"]

_VIRIDIS = np.array(
    [
        [68, 1, 84],
        [71, 44, 122],
        [59, 81, 139],
        [44, 113, 142],
        [33, 144, 141],
        [39, 173, 129],
        [92, 200, 99],
        [170, 220, 50],
        [253, 231, 37],
    ],
    dtype=np.float64,
)

#: Widest picture, in pixels; longer grids show every k-th frame.
MAX_WIDTH = 1600


def viridis() -> np.ndarray:
    """The editor's colour scale: uint8, shape ``(256, 3)`` (RGB), dark to bright."""
    p = np.arange(256) / 255 * (len(_VIRIDIS) - 1)
    k = np.minimum(np.floor(p).astype(int), len(_VIRIDIS) - 2)
    f = (p - k)[:, None]
    return np.round(_VIRIDIS[k] * (1 - f) + _VIRIDIS[k + 1] * f).astype(np.uint8)


def png_bytes(rgb: np.ndarray) -> bytes:
    """Encode an RGB image as PNG.

    Parameters
    ----------
    rgb : numpy.ndarray
        uint8, shape ``(height, width, 3)``.

    Returns
    -------
    bytes
        A PNG file (8-bit RGB, no interlace).
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = np.zeros((h, 1 + 3 * w), dtype=np.uint8)  # filter byte 0 (None) before every row
    raw[:, 1:] = rgb.reshape(h, 3 * w)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def grid_png(
    grid: CodeGrid,
    changed: np.ndarray | None = None,
    samples: np.ndarray | None = None,
    *,
    row_px: int = 10,
    max_width: int = MAX_WIDTH,
) -> bytes:
    """A PNG of a grid as the editor draws it.

    Parameters
    ----------
    grid : CodeGrid
        Shape ``(n_layers, n_frames)``; layer 0 is the top row.
    changed : numpy.ndarray, optional
        bool, shape ``(n_frames,)``: frames that differ from the original (a red lane above).
    samples : numpy.ndarray, optional
        float, shape ``(n_samples,)`` in [-1, 1]: audio for a waveform strip below the grid.
    row_px : int
        Height of one layer's row, in pixels.
    max_width : int
        Widest picture in pixels; a longer grid shows every k-th frame.

    Returns
    -------
    bytes
        PNG file contents.
    """
    n_layers, n_frames = grid.shape
    step = max(1, -(-n_frames // max_width))  # ceil: frames per column
    cols = np.arange(0, n_frames, step)
    cell_px = max(1, min(8, max_width // max(1, cols.size)))
    lut = viridis()
    idx = np.round(grid.codes[:, cols] / max(1, grid.codebook_size - 1) * 255).astype(np.int64)
    cells = lut[np.clip(idx, 0, 255)]  # (n_layers, n_cols, 3)
    masked = grid.mask[:, cols]
    checker = (np.add.outer(np.arange(n_layers), np.arange(cols.size)) % 2).astype(bool)
    grey = np.where(checker[..., None], np.uint8(200), np.uint8(160))
    cells = np.where(masked[..., None], grey, cells).astype(np.uint8)
    image = np.repeat(np.repeat(cells, row_px, axis=0), cell_px, axis=1)
    width = image.shape[1]
    parts = []
    lane = np.full((4, width, 3), 255, np.uint8)
    if changed is not None and changed.any():
        hit = np.repeat(np.asarray(changed, bool)[cols], cell_px)
        lane[:, hit] = (214, 39, 40)
    parts += [lane, image]
    if samples is not None and len(samples):
        height = 40
        strip = np.full((height, width, 3), 255, np.uint8)
        spf = grid.samples_per_frame
        # only the samples of the frames drawn: work bounded by the picture's width, not the clip's length
        x = np.asarray(samples)
        offsets = cols[:, None] * spf + np.arange(spf)[None, :]
        inside = offsets < x.shape[0]
        per_col = np.where(inside, x[np.minimum(offsets, x.shape[0] - 1)], 0.0).astype(np.float32)
        lo = np.clip(per_col.min(axis=1), -1, 1)
        hi = np.clip(per_col.max(axis=1), -1, 1)
        top = np.round((1 - hi) * (height - 1) / 2).astype(int)
        bottom = np.round((1 - lo) * (height - 1) / 2).astype(int)
        rows = np.arange(height)[:, None]
        on = (rows >= top[None, :]) & (rows <= bottom[None, :])
        strip[np.repeat(on, cell_px, axis=1)] = (70, 110, 160)
        parts += [np.full((2, width, 3), 255, np.uint8), strip]
    return png_bytes(np.concatenate(parts, axis=0))
