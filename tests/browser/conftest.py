"""Fixtures for real-browser tests: one JupyterLab server per test session, driven by Chromium.

``jupyterlab`` starts ``python -m jupyterlab`` (the same interpreter that runs pytest, so the
default ``python3`` kernel imports qtok_widgets) on a free loopback port with a temporary root
folder and private config/runtime folders, and waits until ``/api/status`` answers. Tests write
notebooks into ``jupyterlab.root`` (see :func:`write_notebook`) and open them with
:func:`run_notebook_in_lab`. ``page`` is a fresh Playwright page in Debian's ``/usr/bin/chromium``
(``playwright install`` is never needed); it records console and page errors in
``page.console_errors`` and saves ``artifacts/screenshots/<test name>.png`` when the test ends.
The server runs with ``expose_app_in_browser`` so tests can call JupyterLab commands and the
kernel of the open notebook (:func:`kernel_exec`) instead of clicking through menus.

Test modules cannot import this file; they use the fixtures and methods::

    def test_x(jupyterlab, page, run_notebook_in_lab, kernel_exec):
        path = jupyterlab.write_notebook("x.ipynb", ["import qtok_widgets", "w = ..."])
        run_notebook_in_lab(page, jupyterlab, path)      # or jupyterlab.run_notebook(page, path)
        assert kernel_exec(page, "print(1 + 1)").strip() == "2"
        assert page.relevant_errors() == []             # console errors minus Lab's own noise

Every test in this folder is marked ``browser``; deselect them with ``-m "not browser"``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("QTOK_CHROMIUM", "/usr/bin/chromium"))
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"

#: Flags that keep headless Chromium from hanging on a closed network and let Web Audio run.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]

_LAB_START_TIMEOUT_S = 90.0

# JupyterLab logs these on a closed network or by itself; they are not errors of ours.
_BENIGN_CONSOLE = (
    "favicon",
    "Failed to load resource: the server responded with a status of 404",
    "net::ERR_",
    "lsp",
    "LSP",
)


@pytest.fixture
def jp_asyncio_loop() -> Iterator[None]:
    """Keep pytest-jupyter's autouse event-loop fixtures out of browser tests.

    ``tests/test_server.py`` loads the pytest-jupyter plugin, whose autouse ``jp_asyncio_loop``
    and ``jp_server_cleanup`` would otherwise try to close Playwright's running loop after
    every test here.
    """
    yield None


@pytest.fixture
def jp_server_cleanup() -> Iterator[None]:
    """No in-process Jupyter server to clean up in browser tests (see :func:`jp_asyncio_loop`)."""
    yield None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder as ``browser``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------------------- JupyterLab


@dataclass
class JupyterLab:
    """A running JupyterLab server.

    Attributes
    ----------
    url : str
        Base URL with a trailing slash, e.g. ``http://127.0.0.1:8891/``.
    root : pathlib.Path
        The server's root folder; notebooks written here open as ``lab/tree/<name>``.
    process : subprocess.Popen
        The server process.
    log_path : pathlib.Path
        The server's combined stdout/stderr.
    """

    url: str
    root: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    opened: list[str] = field(default_factory=list)

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the server's REST API (``path`` like ``"api/sessions"``) and return the JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path.lstrip("/"), data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log(self) -> str:
        """The server log so far (for failure messages)."""
        return self.log_path.read_text(errors="replace")

    def open_notebook(self, page: Any, path: str, *, timeout_s: float = 60.0) -> None:
        """Open ``path`` (relative to :attr:`root`) in ``page`` and wait for an idle kernel."""
        # ?reset: a fresh workspace, so tabs that earlier tests left open are not restored
        # (each restored notebook would start a kernel and show its own editor)
        page.goto(f"{self.url}lab/tree/{path}?reset", wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout_s * 1000)
        page.wait_for_function(
            """(path) => {
                const app = window.jupyterapp;
                const w = app.shell.currentWidget;
                if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                return w.sessionContext.isReady && !!k && k.status === 'idle';
            }""",
            arg=path,
            timeout=timeout_s * 1000,
        )
        self.opened.append(path)

    def write_notebook(self, name: str, cells: list[str]) -> str:
        """Write a notebook of code ``cells`` into :attr:`root`; see :func:`write_notebook`."""
        return write_notebook(self, name, cells)

    def run_notebook(self, page: Any, path: str, *, timeout_s: float = 120.0) -> None:
        """Open ``path`` and run all its cells; see :func:`run_notebook_in_lab`."""
        run_notebook_in_lab(page, self, path, timeout_s=timeout_s)

    def kernel_exec(self, page: Any, code: str, *, timeout_s: float = 60.0) -> str:
        """Run ``code`` in the open notebook's kernel; see :func:`kernel_exec`."""
        return kernel_exec(page, code, timeout_s=timeout_s)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_jupyterlab(base: Path) -> JupyterLab:
    """Start JupyterLab with its root, config and runtime folders under ``base``; wait for it.

    Used by the ``jupyterlab`` fixture and by ``benchmarks/bench_editor_browser.py``.

    Raises
    ------
    RuntimeError
        When the server exits or does not answer ``/api/status`` in time (with its log).
    """
    root = base / "root"
    config = base / "config"
    runtime = base / "runtime"
    for d in (root, config, runtime, config / "labconfig"):
        d.mkdir(parents=True, exist_ok=True)
    # no "would you like news?" toast over the page
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # the qtok server extension (an editable install does not ship jupyter-config/), built-in codec
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"jpserver_extensions": {"qtok_widgets": True}},
                "QtokExtension": {"codec": "builtin"},
            }
        )
    )
    port = _free_port()
    log_path = base / "server.log"
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
        PYTHONUNBUFFERED="1",
    )
    argv = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--allow-root",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=root, env=env)
    lab = JupyterLab(url=f"http://127.0.0.1:{port}/", root=root, process=proc, log_path=log_path)
    deadline = time.monotonic() + _LAB_START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            msg = f"JupyterLab exited with status {proc.returncode}:\n{lab.log()[-3000:]}"
            raise RuntimeError(msg)
        try:
            lab.api("api/status")
            return lab
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            if time.monotonic() > deadline:
                stop_jupyterlab(lab)
                msg = f"JupyterLab did not answer in {_LAB_START_TIMEOUT_S:.0f} s:\n{lab.log()[-3000:]}"
                raise RuntimeError(msg) from None
            time.sleep(0.25)


def stop_jupyterlab(lab: JupyterLab) -> None:
    """Shut down the kernels of ``lab`` and then the server."""
    for session in _safe_sessions(lab):
        try:
            lab.api(f"api/sessions/{session['id']}", method="DELETE")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
    lab.process.terminate()
    try:
        lab.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        lab.process.kill()
        lab.process.wait(timeout=5)


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """A real JupyterLab server for the whole test session (loopback only, no token)."""
    try:
        lab = start_jupyterlab(tmp_path_factory.mktemp("jupyterlab"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield lab
    finally:
        stop_jupyterlab(lab)


def _safe_sessions(lab: JupyterLab) -> list[dict[str, Any]]:
    if lab.process.poll() is not None:
        return []
    try:
        return list(lab.api("api/sessions") or [])
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return []


@pytest.fixture(autouse=True)
def _stop_kernels_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Shut down every kernel a test started once it ends (its page is closed first).

    The server lives for the whole session; kernels that earlier tests left running (each with
    a codec and its analysis workers) would otherwise slow every later test on this machine.
    """
    yield
    if "jupyterlab" not in request.fixturenames:
        return
    lab = request.getfixturevalue("jupyterlab")
    for session in _safe_sessions(lab):
        try:
            lab.api(f"api/sessions/{session['id']}", method="DELETE")
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass


# ---------------------------------------------------------------------------- browser


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's headless Chromium with :data:`CHROMIUM_ARGS` through Playwright.

    Playwright gives each launch a fresh temporary ``--user-data-dir``.
    """
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (a fresh temporary profile)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (install Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new page (own context, 1400x900) that records errors and leaves a screenshot.

    ``page.console_errors`` collects console messages of type ``error`` and uncaught page
    errors (as strings); :func:`relevant_errors` drops JupyterLab's own network noise.
    """
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.console_errors = errors
    pg.relevant_errors = lambda: relevant_errors(pg)
    pg.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)
        except PlaywrightError as exc:  # a failed screenshot must not hide the test's result
            print(f"screenshot of {name} failed: {exc}")
        context.close()


def relevant_errors(page: Any) -> list[str]:
    """``page.console_errors`` without JupyterLab's known network noise (404s, LSP, favicon)."""
    return [e for e in page.console_errors if not any(b in e for b in _BENIGN_CONSOLE)]


# ---------------------------------------------------------------------------- notebooks


def write_notebook(lab: JupyterLab, name: str, cells: list[str]) -> str:
    """Write a notebook of code ``cells`` into ``lab.root`` and return its path (``name``)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = lab.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return name


def run_notebook_in_lab(page: Any, lab: JupyterLab, path: str, *, timeout_s: float = 120.0) -> None:
    """Open ``path`` in JupyterLab, run all cells, and wait until each ran and the kernel is idle.

    Raises
    ------
    AssertionError
        When a cell's output is an error (its name and value are in the message).
    """
    lab.open_notebook(page, path)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            const cells = w.content.widgets.filter((c) => c.model.type === 'code');
            const done = cells.every((c) => c.model.executionCount !== null
                && !c.node.querySelector('.jp-InputPrompt').textContent.includes('*'));
            return done && k && k.status === 'idle';
        }""",
        timeout=timeout_s * 1000,
    )
    errors = page.evaluate(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const out = [];
            for (const c of w.content.widgets) {
                if (c.model.type !== 'code') continue;
                for (let i = 0; i < c.model.outputs.length; i++) {
                    const o = c.model.outputs.get(i).toJSON();
                    if (o.output_type === 'error') out.push(o.ename + ': ' + o.evalue);
                }
            }
            return out;
        }"""
    )
    if errors:
        msg = f"{path}: cell errors: {errors}"
        raise AssertionError(msg)


def kernel_exec(page: Any, code: str, *, timeout_s: float = 60.0) -> str:
    """Run ``code`` in the kernel of the notebook open in ``page``; return what it printed.

    The code runs silently (no cell, no history). An exception in it raises AssertionError
    with the traceback's last line.
    """
    result = page.evaluate(
        """async ([code, timeoutMs]) => {
            const w = window.jupyterapp.shell.currentWidget;
            const kernel = w.sessionContext.session.kernel;
            const future = kernel.requestExecute({code, silent: false, store_history: false});
            let text = '';
            let error = null;
            future.onIOPub = (msg) => {
                const t = msg.header.msg_type;
                if (t === 'stream') text += msg.content.text;
                else if (t === 'error') error = msg.content.ename + ': ' + msg.content.evalue;
                else if (t === 'execute_result') text += (msg.content.data['text/plain'] || '') + '\\n';
            };
            const timeout = new Promise((_, reject) =>
                setTimeout(() => reject(new Error('kernel_exec timed out')), timeoutMs));
            await Promise.race([future.done, timeout]);
            return {text, error};
        }""",
        [code, timeout_s * 1000],
    )
    if result["error"]:
        msg = f"kernel raised {result['error']} running:\n{code}"
        raise AssertionError(msg)
    return str(result["text"])


@pytest.fixture(name="run_notebook_in_lab")
def _run_notebook_in_lab_fixture() -> Any:
    """The :func:`run_notebook_in_lab` helper, as a fixture (test modules cannot import conftest)."""
    return run_notebook_in_lab


@pytest.fixture(name="kernel_exec")
def _kernel_exec_fixture() -> Any:
    """The :func:`kernel_exec` helper, as a fixture."""
    return kernel_exec


def editor_cell_point(page: Any, frame: float, layer: float) -> tuple[float, float]:
    """Page coordinates of the middle of cell (frame, layer) of the first TokenEditor on the page."""
    x, y = page.evaluate(
        """([frame, layer]) => {
            const root = document.querySelector('.qtok-editor');
            const r = root.querySelector('.qtok-overlay').getBoundingClientRect();
            const c = root.qtokDebug.cellCentre(frame, layer);
            return [r.left + c.x, r.top + c.y];
        }""",
        [frame, layer],
    )
    return x, y


@pytest.fixture(name="cell_point")
def _cell_point_fixture() -> Any:
    """The :func:`editor_cell_point` helper, as a fixture."""
    return editor_cell_point


def editor_drag_cells(page: Any, start: tuple[int, int], end: tuple[int, int]) -> None:
    """Drag the mouse from cell ``start`` to cell ``end`` (each ``(frame, layer)``) of the first
    TokenEditor, through the midpoint, as a user selecting a rectangle would."""
    x0, y0 = editor_cell_point(page, *start)
    x1, y1 = editor_cell_point(page, *end)
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=4)
    page.mouse.move(x1, y1, steps=4)
    page.mouse.up()


@pytest.fixture(name="drag_cells")
def _drag_cells_fixture() -> Any:
    """The :func:`editor_drag_cells` helper, as a fixture."""
    return editor_drag_cells


#: Pixels of an editor's heatmap canvas that are drawn, and how many colours they use;
#: evaluate on the editor's root element (``.qtok-editor``).
EDITOR_CANVAS_PIXELS_JS = """(root) => {
    const canvas = root.querySelector('canvas.qtok-base');
    const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set();
    let drawn = 0;
    for (let i = 0; i < img.length; i += 4) {
        if (img[i + 3] === 0) continue;
        drawn++;
        if (colours.size < 5000) colours.add((img[i] << 16) | (img[i + 1] << 8) | img[i + 2]);
    }
    return {drawn, total: img.length / 4, colours: colours.size, width: canvas.width, height: canvas.height};
}"""


def editor_canvas_pixels(editor: Any) -> dict[str, int]:
    """Drawn pixels, total pixels, colours and size of a TokenEditor's heatmap canvas.

    ``editor`` is a Playwright locator or element handle of the ``.qtok-editor`` root.
    """
    return editor.evaluate(EDITOR_CANVAS_PIXELS_JS)


def editor_masked_cells(page: Any) -> int:
    """Number of masked cells in the browser's copy of the first TokenEditor's grid."""
    return int(
        page.evaluate(
            """() => {
                const { values: v, maskBit } = document.querySelector('.qtok-editor').qtokDebug.cells();
                let n = 0;
                for (let i = 0; i < v.length; i++) if (v[i] & maskBit) n++;
                return n;
            }"""
        )
    )


@pytest.fixture(name="canvas_pixels")
def _canvas_pixels_fixture() -> Any:
    """The :func:`editor_canvas_pixels` helper, as a fixture."""
    return editor_canvas_pixels


@pytest.fixture(name="masked_cells")
def _masked_cells_fixture() -> Any:
    """The :func:`editor_masked_cells` helper, as a fixture."""
    return editor_masked_cells
