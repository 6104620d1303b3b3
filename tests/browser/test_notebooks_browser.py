"""The four notebooks in a real JupyterLab in headless Chromium: every cell runs, every widget draws.

Each notebook of ``notebooks/`` is copied into the session's JupyterLab root, opened and run
with *Run All*. The test then compares what the kernel sent with what the browser shows: every
widget output is a ``TokenEditor`` whose heatmap canvas holds drawn (non-blank) pixels, every
plotly output became a ``.js-plotly-plot``, every audio output an ``<audio>`` player, and the
browser logged no errors. The quickstart's editor is then driven with the mouse like a user
would: a drag selects cells, *Mask* masks them in the kernel's session, *Play* plays. Screenshots
land in ``artifacts/screenshots/``: ``notebook_<name>.png`` for each notebook after its run and
``quickstart_editor.png``, the quickstart's editor alone after the mouse edit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
SCREENSHOTS = REPO / "artifacts" / "screenshots"
EDITOR = ".qtok-editor"

#: Outputs each notebook must show at least (the kernel's count must match the browser's too).
EXPECTED = {
    "01_quickstart": {"editors": 1, "plots": 1},
    "02_token_semantics": {"editors": 0, "plots": 4},
    "03_prosody_editing": {"editors": 1, "plots": 4},
    "04_teaching_rvq": {"editors": 0, "plots": 4},
}

# The notebook model's outputs, counted by kind.
_COUNT_OUTPUTS_JS = """() => {
    const w = window.jupyterapp.shell.currentWidget;
    const n = {widgets: 0, plots: 0, audio: 0};
    for (const c of w.content.widgets) {
        if (c.model.type !== 'code') continue;
        for (let i = 0; i < c.model.outputs.length; i++) {
            const data = c.model.outputs.get(i).toJSON().data || {};
            if (data['application/vnd.jupyter.widget-view+json']) n.widgets++;
            if (data['application/vnd.plotly.v1+json']) n.plots++;
            if (String(data['text/html'] || '').includes('<audio')) n.audio++;
        }
    }
    return n;
}"""


def _copy_notebook(jupyterlab, name: str) -> str:
    """Copy ``notebooks/<name>.ipynb`` into the server's root (its outputs land beside it)."""
    folder = jupyterlab.root / "notebooks"
    folder.mkdir(exist_ok=True)
    shutil.copy(NOTEBOOKS / f"{name}.ipynb", folder / f"{name}.ipynb")
    return f"notebooks/{name}.ipynb"


def _finish(page, jupyterlab, path: str, name: str) -> None:
    """Screenshot the notebook, close its tab unsaved and stop its kernel.

    JupyterLab restores the open tabs of its workspace in every new page, and a restored
    notebook starts a kernel: closing the tab keeps later tests from paying for this one.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"notebook_{name}.png"))
    page.evaluate(
        """() => {
            for (const w of Array.from(window.jupyterapp.shell.widgets('main'))) {
                if (w.context) w.context.model.dirty = false;
                w.close();
            }
        }"""
    )
    page.wait_for_timeout(500)
    for session in jupyterlab.api("api/sessions") or []:
        if session.get("path") == path:
            jupyterlab.api(f"api/sessions/{session['id']}", method="DELETE")


def _check_rendered(page, name: str, canvas_pixels) -> dict:
    """Assert that every widget, figure and player the kernel sent is drawn in the page."""
    counts = page.evaluate(_COUNT_OUTPUTS_JS)
    expected = EXPECTED[name]
    assert counts["widgets"] == expected["editors"], counts
    assert counts["plots"] >= expected["plots"], counts
    assert counts["audio"] >= 1, counts

    editors = page.locator(EDITOR)
    assert editors.count() == counts["widgets"]
    for i in range(editors.count()):
        editor = editors.nth(i)
        editor.scroll_into_view_if_needed()
        page.wait_for_function(
            "([sel, i]) => document.querySelectorAll(sel)[i].dataset.ready === 'true'",
            arg=[EDITOR, i],
            timeout=60_000,
        )
        pixels = canvas_pixels(editor)
        assert pixels["width"] > 100 and pixels["height"] > 100, pixels
        # a heatmap of codes covers most of the canvas in many colours
        assert pixels["drawn"] > 0.3 * pixels["total"], pixels
        assert pixels["colours"] > 50, pixels

    plots = page.locator(".js-plotly-plot")
    for i in range(counts["plots"]):
        page.wait_for_function(
            "(n) => document.querySelectorAll('.js-plotly-plot').length >= n", arg=i + 1, timeout=30_000
        )
        plots.nth(i).scroll_into_view_if_needed()
    assert plots.count() == counts["plots"]
    # every plot drew its data: plotly adds one trace group per trace
    traces = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')].map("
        "(p) => p.querySelectorAll('.trace, .hm').length)"
    )
    assert all(n > 0 for n in traces), traces
    assert page.locator(".jp-OutputArea-output audio").count() == counts["audio"]
    assert page.locator("text=Error displaying widget").count() == 0
    return counts


@pytest.mark.parametrize("name", ["02_token_semantics", "03_prosody_editing", "04_teaching_rvq"])
def test_notebook_runs_and_renders(name, canvas_pixels, jupyterlab, page, run_notebook_in_lab):
    path = _copy_notebook(jupyterlab, name)
    try:
        run_notebook_in_lab(page, jupyterlab, path, timeout_s=240)
        _check_rendered(page, name, canvas_pixels)
        assert page.relevant_errors() == []
    finally:
        _finish(page, jupyterlab, path, name)


def test_quickstart_runs_and_its_editor_works(
    masked_cells, canvas_pixels, cell_point, drag_cells, jupyterlab, page, run_notebook_in_lab, kernel_exec
):
    path = _copy_notebook(jupyterlab, "01_quickstart")
    try:
        run_notebook_in_lab(page, jupyterlab, path, timeout_s=240)
        _check_rendered(page, "01_quickstart", canvas_pixels)
        # what the notebook saved is in its scratch folder, nothing beside the notebook
        scratch = Path(kernel_exec(page, "print(SCRATCH)").strip())
        for saved in ("quickstart_original.npz", "quickstart_edited.npz", "quickstart_recipe.json"):
            assert (scratch / saved).stat().st_size > 0
            assert not (jupyterlab.root / "notebooks" / saved).exists()

        editor = page.locator(EDITOR).first
        editor.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => document.querySelector('.qtok-editor').qtokDebug.envelope('edited') !== null"
        )
        history = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.session.history))"))
        assert [op["op"] for op in history] == ["mask"]  # the notebook's own edit, redone after undo
        masked_before = int(kernel_exec(page, "print(editor.grid.n_masked)"))
        assert masked_cells(page) == masked_before > 0

        # drag over frames 30..39 of layers 0..3, then press Mask
        drag_cells(page, (30, 0), (39, 3))
        page.wait_for_timeout(300)
        selection = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.selection))"))
        assert selection == {"frames": [30, 40], "layers": [0, 4]}
        page.click(f"{EDITOR} button[data-action=mask]")
        page.wait_for_function(
            "() => Number(document.querySelector('.qtok-editor').dataset.acks || 0) >= 1", timeout=30_000
        )
        history = json.loads(kernel_exec(page, "import json; print(json.dumps(editor.session.history))"))
        assert history[-1] == {"op": "mask", "frames": "30:40", "layers": "0:4"}
        assert int(kernel_exec(page, "print(editor.grid.n_masked)")) == masked_before + 40
        page.wait_for_function(
            "(n) => { const { values: v, maskBit } = document.querySelector('.qtok-editor').qtokDebug.cells();"
            " let m = 0; for (let i = 0; i < v.length; i++) if (v[i] & maskBit) m++; return m === n; }",
            arg=masked_before + 40,
            timeout=20_000,
        )

        # Play: the playhead runs while the edited audio plays
        page.click(f"{EDITOR} .qtok-play")
        page.wait_for_selector(f"{EDITOR}[data-playing]", timeout=30_000)
        first = float(page.get_attribute(EDITOR, "data-playhead"))
        page.wait_for_timeout(600)
        second = float(page.get_attribute(EDITOR, "data-playhead"))
        assert second > first + 0.1, (first, second)
        page.click(f"{EDITOR} .qtok-play")
        page.wait_for_function("() => !('playing' in document.querySelector('.qtok-editor').dataset)")

        # hover a masked cell, for the screenshot: the tooltip names it
        x, y = cell_point(page, 34, 2)
        page.mouse.move(x, y)
        tip = page.locator(f"{EDITOR} .qtok-tooltip").inner_text()
        assert "L2" in tip and "frame 34" in tip
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        editor.screenshot(path=str(SCREENSHOTS / "quickstart_editor.png"))
        assert page.relevant_errors() == []
    finally:
        _finish(page, jupyterlab, path, "01_quickstart")
