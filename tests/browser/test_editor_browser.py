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
    # every operation once (grouped as the toolbar groups them, so not always in registry order)
    assert sorted(b for b in buttons if b in names) == sorted(names)
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
    # focus is back on the grid, so its shortcuts work again
    assert page.evaluate("() => document.activeElement.classList.contains('qtok-editor')")
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


_DEBUG = "document.querySelectorAll('.qtok-editor')[{i}].qtokDebug"


def test_daily_use_faults_stay_fixed(
    jupyterlab, page, run_notebook_in_lab, kernel_exec, speech_path, data_dir
):
    """The faults found by using the editor as a person would (issue 16), in one notebook:
    a second view plays the edited audio, not silence; a drag to a three-digit selection ends
    where the pointer is; the first A/B switch keeps the place; the 2nd clip's frames are chosen
    on its track and pasted anywhere; layers are muted and soloed for listening; the view follows
    the playhead; ? shows the shortcuts."""
    page.set_viewport_size({"width": 1100, "height": 900})  # a narrow notebook: toolbars wrap
    cells = [
        "from qtok_widgets import TokenEditor\n"
        f"editor = TokenEditor({str(speech_path)!r}, 'builtin', journal=False)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("daily.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
    first = page.locator(EDITOR).first

    # --- a drag whose cell count reaches three digits ends on the layer under the pointer
    stage_top = "() => document.querySelector('.qtok-editor .qtok-stage').getBoundingClientRect().top"
    top_before = page.evaluate(stage_top)
    x0, y0 = page.evaluate(
        "() => { const r = document.querySelector('.qtok-editor .qtok-overlay').getBoundingClientRect();"
        f" const c = {_DEBUG.format(i=0)}.cellCentre(2, 3); return [r.left + c.x, r.top + c.y]; }}"
    )
    page.mouse.move(x0, y0)
    page.mouse.down()
    x1, y1 = page.evaluate(
        "() => { const r = document.querySelector('.qtok-editor .qtok-overlay').getBoundingClientRect();"
        f" const c = {_DEBUG.format(i=0)}.cellCentre(40, 12); return [r.left + c.x, r.top + c.y]; }}"
    )
    page.mouse.move(x1, y1, steps=8)
    assert "= 390 cells" in first.locator(".qtok-info").inner_text()
    assert page.evaluate(stage_top) == top_before  # the info line did not push the canvas down
    page.mouse.up()
    page.wait_for_timeout(200)
    sel = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))"))
    assert sel == {"frames": [2, 41], "layers": [3, 13]}

    # --- the first A/B switch while playing keeps the place
    page.keyboard.press("Escape")
    first.locator(".qtok-play").click()
    page.wait_for_selector(f"{EDITOR}[data-playing=edited]", timeout=20_000)
    page.wait_for_timeout(900)
    at_switch = float(first.get_attribute("data-playhead"))
    page.keyboard.press("a")
    page.wait_for_selector(f"{EDITOR}[data-playing=original]", timeout=20_000)
    resumed = float(first.get_attribute("data-playhead"))
    assert resumed >= at_switch - 0.05, (at_switch, resumed)
    first.locator(".qtok-play").click()  # stop
    page.keyboard.press("a")  # back to B

    # --- a second view, opened after the first one played B, plays the edited audio after an edit
    page.evaluate(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.model.sharedModel.insertCell(1, {cell_type: 'code', source: 'editor'});
            nb.activeCellIndex = 1;
            return window.jupyterapp.commands.execute('notebook:run-cell');
        }"""
    )
    page.wait_for_function(
        "() => document.querySelectorAll('.qtok-editor[data-ready=true]').length === 2", timeout=30_000
    )
    second = page.locator(EDITOR).nth(1)
    kernel_exec(page, "editor.select(frames=slice(30, 34)); editor.mask()")
    page.wait_for_timeout(1500)  # the edited audio's patch reaches both views
    second.locator(".qtok-play").click()
    page.wait_for_selector(f"{EDITOR} >> nth=1 >> xpath=self::*[@data-playing]", timeout=20_000)
    second.locator(".qtok-play").click()
    pcm = page.evaluate(f"() => {_DEBUG.format(i=1)}.pcm('edited', 0.3, 2.0)")
    assert pcm is not None and pcm["samples"] == int(kernel_exec(page, "print(editor.grid.n_samples)"))
    assert pcm["peak"] > 1000, pcm  # speech, not the silence a zero-padded patch would play
    env = page.evaluate(f"() => {_DEBUG.format(i=1)}.envelope('edited')")
    assert env is not None and max(env["data"][: 2 * env["bins"] * 20]) > 0
    page.evaluate(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.model.sharedModel.deleteCell(1);
        }"""
    )
    page.wait_for_function("() => document.querySelectorAll('.qtok-editor').length === 1")

    # --- the second clip as a track: drag its frames 5..9, paste them at frame 30, overwriting
    kernel_exec(page, f"editor.load_source({str(data_dir / 'arctic_a0009.wav')!r})")
    page.wait_for_function(f"() => {_DEBUG.format(i=0)}.source() !== null")
    page.wait_for_timeout(200)
    box, layout, n_src = page.evaluate(
        "() => { const root = document.querySelector('.qtok-editor');"
        " const r = root.querySelector('.qtok-overlay').getBoundingClientRect();"
        " return [[r.left, r.top], root.qtokDebug.layout(), root.qtokDebug.source().nFrames]; }"
    )
    track_y = box[1] + layout["trackY"] + layout["trackH"] / 2
    fx = lambda f: box[0] + layout["gx"] + (f + 0.5) / n_src * layout["plotW"]  # noqa: E731
    page.mouse.move(fx(5), track_y)
    page.mouse.down()
    page.mouse.move(fx(9), track_y, steps=4)
    page.mouse.up()
    page.wait_for_timeout(200)
    assert json.loads(kernel_exec(page, "import json; print(json.dumps(editor.source_selection))")) == [5, 10]
    kernel_exec(page, "editor.playhead = 30 / editor.frame_rate; editor.clear_selection()")
    first.locator("button[data-action=paste_source]").click()
    _wait_acks(page, 1)
    last = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.session.history[-1]))"))
    assert (last["op"], last["src_frames"], last["dst_start"], last["mode"]) == (
        "splice",
        "5:10",
        30,
        "replace",
    ), last
    assert "qtok-error" not in (first.locator(".qtok-message").get_attribute("class") or "")

    # --- listening: Shift+click a layer's dot hears it alone; the select hears the first k layers
    dot = page.evaluate(
        "() => { const r = document.querySelector('.qtok-editor .qtok-overlay').getBoundingClientRect();"
        f" const L = {_DEBUG.format(i=0)}.layout(); return [r.left + 7, r.top + L.gy + 3.5 * L.rowH]; }}"
    )
    page.keyboard.down("Shift")
    page.mouse.click(*dot)
    page.keyboard.up("Shift")
    page.wait_for_timeout(200)
    assert kernel_exec(page, "print(editor.listen_layers)").strip() == "[3]"
    first.locator(".qtok-listen").select_option("4")
    page.wait_for_timeout(200)
    assert kernel_exec(page, "print(editor.listen_layers, len(editor.session.history))").split() == [
        "[0,",
        "1,",
        "2,",
        "3]",
        "2",
    ]  # a listening view: still only the mask and the paste in the history

    # --- zoomed in, the view follows the playhead
    first.locator(".qtok-listen").select_option("all")
    kernel_exec(page, "editor.playhead = 0")
    for _ in range(3):
        first.locator(".qtok-zoom-in").click()
    v0 = page.evaluate(f"() => {_DEBUG.format(i=0)}.view().v0")
    assert v0 > 10  # zoomed in round the middle: the playhead at 0 s is out of view
    first.locator(".qtok-play").click()
    page.wait_for_timeout(2500)
    first.locator(".qtok-play").click()
    view, layout = page.evaluate(f"() => [{_DEBUG.format(i=0)}.view(), {_DEBUG.format(i=0)}.layout()]")
    played = float(first.get_attribute("data-playhead")) * 12.5  # frames
    assert played > 25
    assert view["v0"] <= played <= view["v0"] + layout["plotW"] / view["cellW"], (view, played)

    # --- ? lists the shortcuts; Esc closes the list
    first.locator(".qtok-overlay").click(position={"x": 30, "y": 2})
    page.keyboard.press("?")
    help_box = first.locator(".qtok-help")
    assert help_box.is_visible() and "Space" in help_box.inner_text() and "Ctrl+Z" in help_box.inner_text()
    page.keyboard.press("Escape")
    assert not help_box.is_visible()
    assert page.relevant_errors() == []
