"""Label rows in a real JupyterLab in headless Chromium: aligned with the grid, a click selects a label's frames.

The notebook builds an editor with two tiers of labels on a random grid with the built-in codec
and its acoustic strips on; the test checks the strips start where the grid does, clicks a word in its row like a user
and reads the kernel's selection with ``kernel_exec``, then turns on colour by embedding and by
change, jumps to the next occurrence of a code and auditions it.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

EDITOR = ".qtok-editor"
LABEL_ROW = 16  # layout.js


def test_label_rows_align_with_the_grid_and_a_click_selects_the_label(
    jupyterlab, page, run_notebook_in_lab, kernel_exec
):
    cells = [
        "import numpy as np\n"
        "from qtok_widgets import CodeGrid, EditSession, TokenEditor, load_codec\n"
        "codes = np.random.default_rng(0).integers(0, 2048, (16, 60))\n"
        "codes[3, ::10] = 5  # one code six times in layer 3, for next occurrence\n"
        "grid = CodeGrid(codes, 'builtin', 12.5, 24000, 2048)\n"
        "labels = [(0.2, 0.62, 'the', 'words'), (0.62, 1.5, 'fox', 'words'), (1.5, 2.33, 'jumps', 'words'),"
        " (0.62, 0.9, 'f', 'phones')]\n"
        "editor = TokenEditor(session=EditSession(grid, load_codec('builtin'), labels=labels), show_strips=True)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("labels.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
    layout = page.evaluate(f"() => document.querySelector('{EDITOR}').qtokDebug.layout()")
    assert layout["labelH"] == 2 * LABEL_ROW and layout["gy"] > layout["labelH"]
    assert layout["stripH"] > 0 and layout["stripY"] > layout["waveY"]

    # the spectrogram strip starts where the grid's frame 0 starts, once the kernel has sent it
    alpha_at = """([x, y]) => {
        const c = document.querySelector('.qtok-editor canvas.qtok-base');
        const r = c.width / c.getBoundingClientRect().width;
        return c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data[3];
    }"""
    y_spec = layout["stripY"] + 10
    page.wait_for_function(f"() => ({alpha_at})([{layout['gx'] + 1}, {y_spec}]) === 255", timeout=60_000)
    assert page.evaluate(alpha_at, [layout["gx"] - 2, y_spec]) == 0

    # "fox" starts at 0.62 s: frame 7.75; the label's left edge and that time on the grid share x
    start = page.evaluate(f"() => document.querySelector('{EDITOR}').qtokDebug.cellCentre(7, 0)")
    view = page.evaluate(f"() => document.querySelector('{EDITOR}').qtokDebug.view()")
    x_fox_start = start["x"] - view["cellW"] / 2 + 0.75 * view["cellW"]
    x_fox_mid = x_fox_start + (1.5 - 0.62) * 12.5 * view["cellW"] / 2
    # the label's colour band starts at x_fox_start in the words row: sample pixels either side
    pixels = page.evaluate(
        """([x, y]) => {
            const c = document.querySelector('.qtok-editor canvas.qtok-base');
            const g = c.getContext('2d'); const r = c.width / c.getBoundingClientRect().width;
            return [g.getImageData(Math.round((x - 3) * r), Math.round(y * r), 1, 1).data,
                    g.getImageData(Math.round((x + 3) * r), Math.round(y * r), 1, 1).data].map((d) => Array.from(d));
        }""",
        [x_fox_start, LABEL_ROW / 2],
    )
    assert pixels[0] != pixels[1]  # a label boundary is drawn where the grid's time 0.62 s is

    # a click on "fox" selects its frames in every layer, as editor.select(label="fox") would
    page.locator(f"{EDITOR} .qtok-overlay").click(position={"x": x_fox_mid, "y": LABEL_ROW / 2})
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-info').textContent.includes('sel 7..')"
    )
    got = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))"))
    want = json.loads(
        kernel_exec(
            page,
            "import json; s = editor.session.select(label='fox').frames; print(json.dumps([int(s[0]), int(s[-1]) + 1]))",
        )
    )
    assert got == {"frames": want, "layers": [0, 16]}
    # shift+click on "jumps" extends the selection to its end
    x_jumps = x_fox_start + (1.9 - 0.62) * 12.5 * view["cellW"]
    page.locator(f"{EDITOR} .qtok-overlay").click(
        position={"x": x_jumps, "y": LABEL_ROW / 2}, modifiers=["Shift"]
    )
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-info').textContent.includes('sel 7..29')"
    )

    # colour by embedding: the cells change colour and the legend says what colour means
    cell = page.evaluate(f"() => document.querySelector('{EDITOR}').qtokDebug.cellCentre(30, 8)")
    pixel = """([x, y]) => {
        const c = document.querySelector('.qtok-editor canvas.qtok-base');
        const r = c.width / c.getBoundingClientRect().width;
        return Array.from(c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data);
    }"""
    before = page.evaluate(pixel, [cell["x"], cell["y"]])
    kernel_exec(page, "editor.color_mode = 'embedding'")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-legend').title.includes('CIELAB')", timeout=30_000
    )
    page.wait_for_function(f"(b) => ({pixel})([{cell['x']}, {cell['y']}]).join() !== b.join()", arg=before)

    # colour by change: unchanged cells grey, the edited cell coloured by how far its code moved
    kernel_exec(page, "editor.session.replace(frames=[30], layers=[8], code=int(codes[8, 30]) ^ 1023)")
    kernel_exec(page, "editor.color_mode = 'change'")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-legend').title.includes('unchanged')",
        timeout=30_000,
    )
    other = page.evaluate(f"() => document.querySelector('{EDITOR}').qtokDebug.cellCentre(40, 8)")
    page.wait_for_function(
        f"() => ({pixel})([{other['x']}, {other['y']}]).slice(0, 3).join() === '200,200,200'"
    )
    assert page.evaluate(pixel, [cell["x"], cell["y"]])[:3] != [200, 200, 200]

    # N jumps to the next frame with the selected cell's code in its layer, and says which of how many
    kernel_exec(page, "editor.select(frames=[10, 11], layers=[3, 4])")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-info').textContent.includes('sel 10..10')"
    )
    page.locator(f"{EDITOR}").focus()
    page.keyboard.press("n")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-message').textContent.includes('occurrence 3 of 6')"
    )
    assert json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))")) == {
        "frames": [20, 21],
        "layers": [3, 4],
    }

    # H plays that frame in context (original, then edited), Shift+H its code alone
    page.keyboard.press("h")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-message').textContent.includes('frame 20 in context')"
    )
    page.wait_for_selector(f"{EDITOR}[data-auditioning=context]", timeout=10_000)
    page.keyboard.press("Shift+H")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-message').textContent.includes('code 5 of layer 3 alone')"
    )
    assert page.relevant_errors() == []
