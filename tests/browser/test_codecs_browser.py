"""TokenEditor in a real JupyterLab on a transformers codec's grid: 32 layers, 65,536 codes, 86 Hz.

The notebook builds a tiny random-weight DAC checkpoint shaped like DAC 44.1 kHz (512 samples a
frame, 86.13 frames a second) with 32 layers of 65,536 codes, encodes a real speech clip with it
and opens the editor. The grid travels as 32-bit cells; the test checks the browser holds the
kernel's grid, draws 32 rows, shows a known cell's code on hover and in its pixels once zoomed in
to whole cells, and that an edit made in the browser reaches the kernel's session.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

EDITOR = ".qtok-editor"


def _wait_acks(page, n: int) -> None:
    page.wait_for_function(
        "(n) => Number(document.querySelector('.qtok-editor').dataset.acks || 0) >= n", arg=n, timeout=60_000
    )


_BROWSER_CHECKSUM = """() => {
    const c = document.querySelector('.qtok-editor').qtokDebug.cells();
    let sum = 0;
    for (let i = 0; i < c.values.length; i++) sum += c.values[i] * ((i % 7) + 1);
    return [c.nLayers, c.nFrames, sum, c.maskBit, c.values.constructor.name];
}"""

_KERNEL_CHECKSUM = (
    "import numpy as np\n"
    "v = (editor.grid.codes.astype(np.int64) + 2**30 * editor.grid.mask).reshape(-1)\n"
    "print(editor.n_layers, editor.n_frames, int((v * (np.arange(v.size) % 7 + 1)).sum()))"
)


def _same_grid_in_browser_and_kernel(page, kernel_exec) -> bool:
    """The browser's copy of the codes equals the kernel's, cell for cell (weighted checksum)."""
    n_layers, n_frames, total, mask_bit, kind = page.evaluate(_BROWSER_CHECKSUM)
    assert (mask_bit, kind) == (2**30, "Uint32Array")
    return [n_layers, n_frames, total] == [int(x) for x in kernel_exec(page, _KERNEL_CHECKSUM).split()]


#: RGBA of the base canvas at the middle of cell (frame, layer), in device pixels.
_CELL_PIXEL = """([frame, layer]) => {
    const root = document.querySelector('.qtok-editor');
    const canvas = root.querySelector('canvas.qtok-base');
    const c = root.qtokDebug.cellCentre(frame, layer);
    const ratio = canvas.width / canvas.getBoundingClientRect().width;
    const px = canvas.getContext('2d').getImageData(Math.floor(c.x * ratio), Math.floor(c.y * ratio), 1, 1).data;
    return Array.from(px);
}"""


def test_a_32_layer_65536_code_86_hz_grid_draws_and_edits(
    masked_cells, cell_point, drag_cells, jupyterlab, page, run_notebook_in_lab, kernel_exec, speech_path
):
    cells = [
        "from qtok_widgets import Audio, TokenEditor, load_audio, load_codec\n"
        "from qtok_widgets.codecs.hf import build_random_checkpoint\n"
        "folder = build_random_checkpoint('dac86', 'dac', seed=3, codebook_size=65536,\n"
        "    sampling_rate=44100, downsampling_ratios=[2, 4, 8, 8], upsampling_ratios=[8, 8, 4, 2])\n"
        "codec = load_codec(folder, device='cpu')\n"
        f"speech = load_audio({str(speech_path)!r})\n"
        "clip = Audio(speech.samples[: int(1.5 * speech.sample_rate)], speech.sample_rate, 'speech')\n"
        "grid = codec.encode(clip)\n"
        "editor = TokenEditor(grid, codec)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("codec65536.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path, timeout_s=240.0)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=120_000)
    shape = kernel_exec(
        page, "print(grid.n_layers, grid.n_frames, grid.codebook_size, grid.frame_rate)"
    ).split()
    n_layers, n_frames = int(shape[0]), int(shape[1])
    assert (n_layers, int(shape[2]), float(shape[3])) == (32, 65536, 44100 / 512)
    assert n_frames == 130  # 1.5 s at 86.13 Hz, rounded up to whole frames
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)
    # codes above 32,767 arrive whole (they would have collided with the 16-bit mask bit)
    assert int(kernel_exec(page, "print(int((grid.codes >= 32768).sum()))")) > n_layers * n_frames // 4

    # 32 rows of cells, each painted (opaque, not the masked checker), in many colours
    layout = page.evaluate("() => document.querySelector('.qtok-editor').qtokDebug.layout()")
    assert layout["gridH"] == 32 * layout["rowH"] and layout["rowH"] >= 6
    row_colours = [tuple(page.evaluate(_CELL_PIXEL, [20, layer])) for layer in range(n_layers)]
    assert all(c[3] == 255 and c[:3] not in ((34, 34, 34), (58, 58, 58)) for c in row_colours), row_colours
    assert len(set(row_colours)) > 16

    # fitted, 130 frames of 86 Hz fill the plot; + zooms in to whole cells of 48 CSS px
    view = page.evaluate("() => document.querySelector('.qtok-editor').qtokDebug.view()")
    assert view["fitted"] and 1 <= view["cellW"] < 48
    page.locator(f"{EDITOR} .qtok-overlay").click(position={"x": 5, "y": 2})  # focus, selecting nothing
    for _ in range(4):
        page.keyboard.press("+")
    page.wait_for_function("() => document.querySelector('.qtok-editor').qtokDebug.view().cellW === 48")
    v0 = page.evaluate("() => document.querySelector('.qtok-editor').qtokDebug.view().v0")
    first = int(v0) + 2
    frames = [first, first + 4]

    # drag-select 4 frames of the last two layers, type the largest code and replace
    drag_cells(page, (frames[0], 30), (frames[1] - 1, 31))
    page.wait_for_timeout(200)
    selection = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))"))
    assert selection == {"frames": frames, "layers": [30, 32]}
    page.fill(f"{EDITOR} .qtok-code", "65535")
    page.click(f"{EDITOR} button[data-action=replace]")
    _wait_acks(page, 1)
    history = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.session.history))"))
    assert history == [
        {"op": "replace", "frames": f"{frames[0]}:{frames[1]}", "layers": "30:32", "code": 65535}
    ]
    replaced = f"editor.grid.codes[30:32, {frames[0]}:{frames[1]}]"
    assert kernel_exec(page, f"print(bool(({replaced} == 65535).all()))").strip() == "True"
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)
    # the top of the scale is viridis's brightest colour, drawn in the middle of the cell
    assert page.evaluate(_CELL_PIXEL, [frames[0] + 1, 31]) == [253, 231, 37, 255]

    # hover reads the code back: layer, frame, time at 86 Hz, new and original code
    original = int(kernel_exec(page, f"print(int(grid.codes[31, {frames[0] + 1}]))"))
    x, y = cell_point(page, frames[0] + 1, 31)
    page.mouse.move(x, y - 3)
    page.mouse.move(x, y)
    tip = page.locator(f"{EDITOR} .qtok-tooltip").inner_text()
    seconds = f"{(frames[0] + 1) * 512 / 44100:.3f} s"
    assert f"L31 · frame {frames[0] + 1} · {seconds}" in tip, tip
    assert f"code 65535 · original {original}" in tip, tip

    # mask by key: the mask bit of 32-bit cells reaches the browser, the kernel holds the edit
    page.evaluate("() => document.querySelector('.qtok-editor').focus()")  # keys to the grid, not the button
    page.keyboard.press("m")
    _wait_acks(page, 2)
    assert kernel_exec(page, "print(int(editor.grid.mask.sum()))").strip() == "8"
    assert masked_cells(page) == 8
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)
    assert page.relevant_errors() == []
