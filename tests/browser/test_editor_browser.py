"""TokenEditor in a real JupyterLab in headless Chromium: drag-select, mask, undo, play.

The notebook builds an editor on a real speech clip with the built-in codec; the test drives
the canvas with the mouse and keyboard like a user, and reads the kernel-side session with
``kernel_exec`` to check that every UI action became an EditSession operation.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

EDITOR = ".qtok-editor"


def test_fixtures_run_a_notebook(jupyterlab, page, run_notebook_in_lab, kernel_exec):
    path = jupyterlab.write_notebook("smoke.ipynb", ["x = 6 * 7", "print(x)"])
    run_notebook_in_lab(page, jupyterlab, path)
    assert kernel_exec(page, "print(x + 1)").strip() == "43"
    assert page.relevant_errors() == []


def _acks(page) -> int:
    return int(page.evaluate("() => Number(document.querySelector('.qtok-editor').dataset.acks || 0)"))


def _wait_acks(page, n: int) -> None:
    page.wait_for_function(
        "(n) => Number(document.querySelector('.qtok-editor').dataset.acks || 0) >= n", arg=n, timeout=20_000
    )


_BROWSER_CHECKSUM = """() => {
    const c = document.querySelector('.qtok-editor').qtokDebug.cells();
    let sum = 0;
    for (let i = 0; i < c.values.length; i++) sum += c.values[i] * ((i % 7) + 1);
    return [c.nLayers, c.nFrames, sum];
}"""

_KERNEL_CHECKSUM = (
    "import numpy as np\n"
    "v = (editor.grid.codes.astype(np.int64) + 32768 * editor.grid.mask).reshape(-1)\n"
    "print(editor.n_layers, editor.n_frames, int((v * (np.arange(v.size) % 7 + 1)).sum()))"
)


def _same_grid_in_browser_and_kernel(page, kernel_exec) -> bool:
    """The browser's copy of the codes equals the kernel's, cell for cell (weighted checksum)."""
    return page.evaluate(_BROWSER_CHECKSUM) == [int(x) for x in kernel_exec(page, _KERNEL_CHECKSUM).split()]


def _history(page, kernel_exec) -> list[dict]:
    return json.loads(kernel_exec(page, "import json; print(json.dumps(editor.session.history))"))


def test_select_mask_undo_play(
    masked_cells, cell_point, drag_cells, jupyterlab, page, run_notebook_in_lab, kernel_exec, speech_path
):
    cells = [
        "from qtok_widgets import TokenEditor, load_codec\n"
        "codec = load_codec('builtin')\n"
        f"editor = TokenEditor({str(speech_path)!r}, codec)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("editor.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
    # the waveform envelope arrives after the grid
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor').qtokDebug.envelope('edited') !== null"
    )
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)

    # drag a rectangle: frames 10..19, layers 8..15
    drag_cells(page, (10, 8), (19, 15))
    page.wait_for_timeout(200)
    selection = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))"))
    assert selection == {"frames": [10, 20], "layers": [8, 16]}

    # press Mask: the kernel-side session holds exactly that edit
    page.click(f"{EDITOR} button[data-action=mask]")
    _wait_acks(page, 1)
    assert _history(page, kernel_exec) == [{"op": "mask", "frames": "10:20", "layers": "8:16"}]
    assert kernel_exec(
        page, "print(int(editor.grid.mask.sum()), bool(editor.grid.mask[8:16, 10:20].all()))"
    ).split() == [
        "80",
        "True",
    ]
    # and the browser's copy of the grid shows it
    masked_in_browser = masked_cells(page)
    assert masked_in_browser == 80
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)

    # Ctrl+Z in the editor undoes it, in the kernel too
    page.keyboard.press("Control+z")
    _wait_acks(page, 2)
    assert _history(page, kernel_exec) == []
    assert kernel_exec(page, "print(int(editor.grid.mask.sum()))").strip() == "0"
    # Shift+Ctrl+Z redoes; keys pressed in the editor stay out of JupyterLab's shortcuts
    page.keyboard.press("Shift+Control+z")
    _wait_acks(page, 3)
    assert len(_history(page, kernel_exec)) == 1
    page.keyboard.press("m")  # mask again by key: in command mode 'm' would make a markdown cell
    _wait_acks(page, 4)
    cell_types = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.widgets.map((c) => c.model.type)"
    )
    assert cell_types == ["code"]
    assert _history(page, kernel_exec)[-1]["op"] == "mask"

    # an action that cannot run shows its error in the widget
    page.keyboard.press("Escape")
    page.click(f"{EDITOR} button[data-action=mask]")
    _wait_acks(page, 5)
    message = page.locator(f"{EDITOR} .qtok-message")
    assert "select cells first" in message.inner_text()
    assert "qtok-error" in (message.get_attribute("class") or "")

    # play: the playhead moves across the grid while the audio plays
    page.click(f"{EDITOR} .qtok-play")
    page.wait_for_selector(f"{EDITOR}[data-playing]", timeout=20_000)
    first = float(page.get_attribute(EDITOR, "data-playhead"))
    page.wait_for_timeout(600)
    second = float(page.get_attribute(EDITOR, "data-playhead"))
    assert second > first + 0.1, (first, second)
    page.click(f"{EDITOR} .qtok-play")  # stop: the kernel learns where it stopped
    page.wait_for_timeout(300)
    assert float(kernel_exec(page, "print(editor.playhead)")) > 0.1

    # A/B: the original plays at the same place, on a click
    page.click(f"{EDITOR} .qtok-ab")
    page.click(f"{EDITOR} .qtok-play")
    page.wait_for_selector(f"{EDITOR}[data-playing=original]", timeout=20_000)
    page.click(f"{EDITOR} .qtok-play")
    assert kernel_exec(page, "print(editor.ab)").strip() == "original"

    # a layer label selects the whole row; shift-click on another extends it
    geo = page.evaluate(
        "() => { const r = document.querySelector('.qtok-editor .qtok-overlay').getBoundingClientRect();"
        " const L = document.querySelector('.qtok-editor').qtokDebug.layout(); return [r.left, r.top, L.gy, L.rowH, L.axisY]; }"
    )
    left, top, gy, row_h, axis_y = geo
    page.mouse.click(left + 20, top + gy + 2.5 * row_h)
    page.keyboard.down("Shift")
    page.mouse.click(left + 20, top + gy + 4.5 * row_h)
    page.keyboard.up("Shift")
    page.wait_for_timeout(200)
    n_frames = int(kernel_exec(page, "print(editor.n_frames)"))
    selection = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))"))
    assert selection == {"frames": [0, n_frames], "layers": [2, 5]}
    # a click on the time axis seeks
    x, _ = cell_point(page, 30, 0)
    page.mouse.click(x, top + axis_y + 10)
    page.wait_for_timeout(200)
    assert abs(float(kernel_exec(page, "print(editor.playhead)")) - 30.5 / 12.5) < 0.05

    # an edit made in Python shows in the browser at once
    kernel_exec(page, "editor.session.replace(frames=slice(30, 33), layers=0, code=5)")
    page.wait_for_function(
        "() => { const v = document.querySelector('.qtok-editor').qtokDebug.cells().values; return v[30] === 5 && v[32] === 5; }"
    )
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)
    assert page.locator(f"{EDITOR} .qtok-history-list li").count() == 3

    # hover shows layer, frame, time, code and original code
    x, y = cell_point(page, 12, 9)
    page.mouse.move(x, y - 3)
    page.mouse.move(x, y)
    tip = page.locator(f"{EDITOR} .qtok-tooltip").inner_text()
    assert "L9" in tip and "frame 12" in tip and "original" in tip

    assert page.relevant_errors() == []


def test_toolbar_comes_from_the_operations(jupyterlab, page, run_notebook_in_lab, kernel_exec):
    cells = [
        "import numpy as np\n"
        "from qtok_widgets import CodeGrid, EditSession, TokenEditor\n"
        "codes = np.random.default_rng(0).integers(0, 2048, (16, 60))\n"
        "grid = CodeGrid(codes, 'builtin', 12.5, 24000, 2048)\n"
        "editor = TokenEditor(session=EditSession(grid, None), show_waveform=False)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("toolbar.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
    page.wait_for_selector(f"{EDITOR} button[data-action=randomize]")
    # one button per operation Python lists, in its order, with the widget's own actions between
    names = json.loads(
        kernel_exec(
            page,
            "import json\nfrom qtok_widgets.widgets.editor import _toolbar_ops\n"
            "print(json.dumps([c.name for c in _toolbar_ops()]))",
        )
    )
    buttons = page.eval_on_selector_all(
        f"{EDITOR} .qtok-edit-bar button", "bs => bs.map(b => b.dataset.action)"
    )
    assert [b for b in buttons if b in names] == names
    assert {"copy", "paste", "paste_source", "undo", "redo", "reset"} <= set(buttons)
    assert page.evaluate("() => document.querySelector('.qtok-editor').qtokDebug.ops()") == names

    def last_op() -> dict:
        return json.loads(kernel_exec(page, "import json; print(json.dumps(editor.session.history[-1]))"))

    kernel_exec(page, "editor.select(frames=slice(5, 10), layers=slice(2, 4))")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-info').textContent.includes('sel 5..9')"
    )
    # R focuses the code input; a number typed there and Enter replace, with that code
    page.locator(f"{EDITOR} .qtok-overlay").click(position={"x": 5, "y": 2})  # focus, selecting nothing
    page.keyboard.press("r")
    assert page.evaluate("() => document.activeElement.className").split()[:2] == [
        "qtok-param",
        "qtok-param-replace-code",
    ]
    page.keyboard.press("Control+a")
    page.keyboard.type("17")
    page.keyboard.press("Enter")
    _wait_acks(page, 1)
    assert last_op() == {"op": "replace", "frames": "5:10", "layers": "2:4", "code": 17}
    assert json.loads(kernel_exec(page, "import json; print(json.dumps(editor.op_params['replace']))")) == {
        "code": 17
    }

    # randomize, added as one class in Python, runs from its button with the seed typed beside it
    page.fill(f"{EDITOR} .qtok-param-randomize-seed", "3")
    page.click(f"{EDITOR} button[data-action=randomize]")
    _wait_acks(page, 2)
    assert last_op()["op"] == "randomize" and last_op()["seed"] == 3
    assert _same_grid_in_browser_and_kernel(page, kernel_exec)

    # a code that is not a whole number is refused in the browser, nothing is sent
    page.fill(f"{EDITOR} .qtok-code", "1.5")
    page.click(f"{EDITOR} button[data-action=replace]")
    message = page.locator(f"{EDITOR} .qtok-message")
    assert message.inner_text() == "replace: type a whole-number code first"
    page.wait_for_timeout(300)
    assert _acks(page) == 2

    # an out-of-range code reaches Python, which names the valid range
    page.fill(f"{EDITOR} .qtok-code", "5000")
    page.click(f"{EDITOR} button[data-action=replace]")
    _wait_acks(page, 3)
    assert "2047" in message.inner_text() and "qtok-error" in (message.get_attribute("class") or "")

    # the interpolation slider shows and sets op_params
    kernel_exec(page, "editor.alpha = 0.25")
    page.wait_for_function(
        "() => document.querySelector('.qtok-editor .qtok-alpha').value === '0.25'"
        " && document.querySelector('.qtok-editor .qtok-alpha-label').textContent === '0.25'"
    )
    assert page.relevant_errors() == []


def test_a_saved_notebook_keeps_a_picture_of_the_edited_grid(
    drag_cells, jupyterlab, page, run_notebook_in_lab, kernel_exec, speech_path
):
    """The editor leaves a static picture beside the widget (hidden while the view is live) that
    follows edits made in the browser, so the saved .ipynb shows the edited grid without a kernel."""
    cells = [
        "from qtok_widgets import TokenEditor\n"
        f"editor = TokenEditor({str(speech_path)!r}, 'builtin', journal=False)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("picture.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
    picture = page.locator("[data-qtok-picture]")
    picture.wait_for(state="attached", timeout=20_000)
    assert not picture.is_visible()  # the live view stands in for it
    drag_cells(page, (0, 0), (9, 15))
    page.wait_for_timeout(200)
    page.click(f"{EDITOR} button[data-action=mask]")
    _wait_acks(page, 1)
    page.wait_for_timeout(1200)  # the picture follows at most every half second
    assert not page.locator("[data-qtok-picture]").first.is_visible()
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.wait_for_timeout(1000)
    saved = json.loads((jupyterlab.root / path).read_text())
    outputs = saved["cells"][0]["outputs"]
    pictures = [o for o in outputs if "data-qtok-picture" in "".join(o.get("data", {}).get("text/html", ""))]
    assert len(pictures) == 1
    caption = "".join(pictures[0]["data"]["text/plain"])
    assert caption.endswith("160 masked cells, 1 edit"), caption
    assert page.relevant_errors() == []
