"""Tests of the static picture (qtok_widgets.picture) and the editor output that saved notebooks keep."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import pytest
from test_session import make_grid

from qtok_widgets.picture import grid_png, png_bytes, viridis


def decode_png(data: bytes) -> np.ndarray:
    """Pixels of an 8-bit RGB PNG with filter 0 on every row (what png_bytes writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF
        if tag == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    w, h = size
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 3 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 3)


def test_png_round_trip():
    rgb = np.random.default_rng(0).integers(0, 256, (7, 5, 3)).astype(np.uint8)
    assert np.array_equal(decode_png(png_bytes(rgb)), rgb)


def test_grid_picture_shows_codes_masks_and_changes():
    codes = np.zeros((16, 10), int)
    codes[3, 4] = 2047
    mask = np.zeros((16, 10), bool)
    mask[5, 6] = True
    grid = make_grid(10).with_codes(codes, mask)
    changed = np.zeros(10, bool)
    changed[2] = True
    img = decode_png(grid_png(grid, changed, row_px=10))
    cell = 8  # pixels per frame for a short grid
    lut = viridis()
    lane = 4
    assert img.shape == (lane + 16 * 10, 10 * cell, 3)
    assert (img[lane + 0 * 10 + 5, 0 * cell + 3] == lut[0]).all()
    assert (img[lane + 3 * 10 + 5, 4 * cell + 3] == lut[255]).all()
    assert img[lane + 5 * 10 + 5, 6 * cell + 3].tolist() in ([200, 200, 200], [160, 160, 160])
    assert img[1, 2 * cell + 3].tolist() == [214, 39, 40] and img[1, 3 * cell + 3].tolist() == [255, 255, 255]


def test_long_grids_stay_narrow():
    img = decode_png(grid_png(make_grid(45000), samples=np.zeros(45000 * 1920, np.float32)))
    assert img.shape[1] <= 1600


@pytest.fixture(scope="module")
def codec():
    from qtok_widgets import load_codec

    return load_codec("builtin")


def test_editor_picture_follows_edits(codec):
    from qtok_widgets import TokenEditor

    grid = make_grid(30).replace(codec="builtin")
    editor = TokenEditor(grid, codec, journal=False)
    before = editor.picture_bundle()
    assert f'data-qtok-picture="{editor.picture_id}"' in before["text/html"]
    assert "0 edits" in before["text/plain"]
    editor.select(frames=slice(0, 10), layers=slice(0, 16))
    editor.mask()
    after = editor.picture_bundle()
    assert after["image/png"] != before["image/png"] and after["text/plain"].endswith("1 edit")
    img = decode_png(base64.b64decode(after["image/png"]))
    assert img[1, 3].tolist() == [214, 39, 40]  # frame 0 changed
    editor.close()


def test_the_picture_caption_cannot_inject_markup(codec):
    from qtok_widgets import EditSession, TokenEditor

    grid = make_grid(12).replace(codec='builtin"><script>alert(1)</script>')
    editor = TokenEditor(session=EditSession(grid))
    markup = editor.picture_bundle()["text/html"]
    assert "<script>" not in markup and "&lt;script&gt;" in markup


@pytest.mark.slow
def test_a_kernel_displays_the_picture_and_updates_it_after_each_edit(tmp_path, speech_path):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(cwd=str(tmp_path))
    msgs: list[dict] = []

    def run(code: str) -> None:
        reply = kc.execute_interactive(code, timeout=180, output_hook=msgs.append)
        assert reply["content"]["status"] == "ok", [m["content"] for m in msgs if m["msg_type"] == "error"]

    try:
        run(
            f"from qtok_widgets import TokenEditor\neditor = TokenEditor({str(speech_path)!r}, 'builtin')\neditor"
        )
        shown = [m for m in msgs if m["msg_type"] == "display_data"]
        widget, picture = shown[0]["content"], shown[1]["content"]
        assert "application/vnd.jupyter.widget-view+json" in widget["data"]
        display_id = picture["transient"]["display_id"]
        assert 'data-qtok-picture="' in picture["data"]["text/html"] and "image/png" in picture["data"]
        msgs.clear()
        run(
            "import time; editor.select(frames=slice(0, 5), layers=slice(0, 16)); editor.mask(); time.sleep(0.6)"
        )
        updates = [m["content"] for m in msgs if m["msg_type"] == "update_display_data"]
        assert updates and updates[-1]["transient"]["display_id"] == display_id
        assert updates[-1]["data"]["text/plain"].endswith("1 edit")
    finally:
        km.shutdown_kernel(now=True)
        kc.stop_channels()
