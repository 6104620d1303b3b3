"""TokenEditor in the Notebook 7 UI (the ``notebook`` package), not only in JupyterLab.

The shared Jupyter server also serves Notebook 7 at ``notebooks/<path>``. That page does not
expose its application object to the browser, so this test drives it like a user: the "Run"
menu runs all cells, the mouse drags a selection on the editor's canvas and clicks its Mask
button, and Ctrl+Enter on a second cell prints the kernel-side edit history into the page.
"""

from __future__ import annotations

import json
import re
import time

import pytest

PlaywrightTimeoutError = pytest.importorskip("playwright.sync_api").TimeoutError

pytestmark = pytest.mark.browser

EDITOR = ".qtok-editor"
HISTORY_CELL = "import json\nprint('history:', json.dumps(editor.session.history))"


# Some code cell has started or finished running.
_STARTED_JS = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(
    (p) => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""

# Every code cell has run (a number in its prompt, no '*') and the kernel is idle.
_ALL_RAN_JS = """(n) => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    const status = document.querySelector('.jp-Notebook-ExecutionIndicator');
    return prompts.length === n && prompts.every((p) => /\\[\\d+\\]/.test(p.textContent))
        && !!status && status.dataset.status === 'idle';
}"""


def _wait_kernel_connected(jupyterlab, path: str, timeout_s: float = 60.0) -> None:
    """Wait until the server lists a session for ``path`` whose kernel has a client connected."""
    deadline = time.monotonic() + timeout_s
    while True:
        for session in jupyterlab.api("api/sessions") or []:
            kernel = session.get("kernel") or {}
            if session.get("path") == path and kernel.get("connections", 0) >= 1:
                if kernel.get("execution_state") == "idle":
                    return
        if time.monotonic() > deadline:
            raise AssertionError(f"no idle connected kernel for {path}: {jupyterlab.api('api/sessions')}")
        time.sleep(0.25)


def _run_all_from_menu(page) -> None:
    page.locator(
        ".lm-MenuBar-item", has=page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$"))
    ).click()
    item = page.locator(
        ".lm-Menu-item", has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
    )
    item.wait_for()
    item.click()


def _is_notebook7_startup(exc) -> bool:
    """An error thrown by Notebook 7's own bundle, with nothing of qtok_widgets on its stack.

    Notebook 7 throws some at page load that a notebook of ``x = 1`` throws as well: its
    keyboard-shortcut plugin reads ``plugins[id].schema`` for a plugin the settings registry
    never loaded ("Cannot read properties of undefined (reading 'schema')"), and, after other
    JupyterLab pages used the same server, "Command 'filebrowser:open-path' not registered".
    """
    stack = exc.stack or ""
    return "/static/notebook/" in stack and "qtok" not in stack and "anywidget" not in stack


def _printed_history(page) -> list[dict] | None:
    """The history the second cell printed, or None while it has printed nothing yet."""
    text = page.locator(".jp-CodeCell").nth(1).locator(".jp-OutputArea-output").all_inner_texts()
    match = re.search(r"history: (.*)", "\n".join(text))
    return json.loads(match.group(1)) if match else None


def test_editor_in_notebook7(masked_cells, canvas_pixels, drag_cells, jupyterlab, page, speech_path):
    cells = [
        "from qtok_widgets import TokenEditor, load_codec\n"
        "codec = load_codec('builtin')\n"
        f"editor = TokenEditor({str(speech_path)!r}, codec)\n"
        "editor",
        HISTORY_CELL,
    ]
    path = jupyterlab.write_notebook("notebook7_editor.ipynb", cells)
    startup_errors: list[str] = []
    page.on(
        "pageerror", lambda exc: startup_errors.append(exc.message) if _is_notebook7_startup(exc) else None
    )
    try:
        response = page.goto(f"{jupyterlab.url}notebooks/{path}", wait_until="domcontentloaded")
        assert response is not None and response.ok, response
        assert "Jupyter Notebook" in page.title()  # the Notebook 7 page, not JupyterLab's
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status=idle]", timeout=60_000)

        # the server sees the page's kernel connection before the menu is used
        _wait_kernel_connected(jupyterlab, path)

        # Run > Run All Cells, through Notebook 7's menu bar. Right after the page loads the
        # command can still go nowhere on a busy machine (no cell starts); then it is run again.
        for attempt in range(3):
            _run_all_from_menu(page)
            try:
                page.wait_for_function(_STARTED_JS, timeout=15_000)
                break
            except PlaywrightTimeoutError:
                if attempt == 2:
                    raise
        page.wait_for_function(_ALL_RAN_JS, arg=2, timeout=90_000)
        # the second cell ran after the first without an error: the fresh editor has no edits
        assert _printed_history(page) == [], page.locator(".jp-OutputArea").all_inner_texts()

        page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
        page.wait_for_function(
            "() => document.querySelector('.qtok-editor').qtokDebug.envelope('edited') !== null"
        )
        editor = page.locator(EDITOR)
        assert editor.count() == 1
        editor.scroll_into_view_if_needed()
        pixels = canvas_pixels(editor)
        assert pixels["width"] > 100 and pixels["height"] > 100, pixels
        # a heatmap of codes covers most of the canvas in many colours
        assert pixels["drawn"] > 0.3 * pixels["total"], pixels
        assert pixels["colours"] > 50, pixels

        # drag a rectangle (frames 10..19, layers 8..15) and press Mask
        drag_cells(page, (10, 8), (19, 15))
        page.click(f"{EDITOR} button[data-action=mask]")
        page.wait_for_function(
            "() => Number(document.querySelector('.qtok-editor').dataset.acks || 0) >= 1", timeout=20_000
        )
        masked_in_browser = masked_cells(page)
        assert masked_in_browser == 80

        # run the second cell again (click into it, Ctrl+Enter): the kernel holds the edit
        page.locator(".jp-CodeCell").nth(1).locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            """() => {
                const out = document.querySelectorAll('.jp-CodeCell')[1].querySelector('.jp-OutputArea');
                return !!out && out.innerText.includes('"op"');
            }""",
            timeout=30_000,
        )
        page.wait_for_function(_ALL_RAN_JS, arg=2, timeout=30_000)
        assert _printed_history(page) == [{"op": "mask", "frames": "10:20", "layers": "8:16"}]

        assert page.locator("text=Error displaying widget").count() == 0
        known = {f"pageerror: {m}" for m in startup_errors}
        assert [e for e in page.relevant_errors() if e not in known] == []
    finally:
        # stop this notebook's kernel so that later tests do not share the machine with it
        for session in jupyterlab.api("api/sessions") or []:
            if session.get("path") == path:
                jupyterlab.api(f"api/sessions/{session['id']}", method="DELETE")
