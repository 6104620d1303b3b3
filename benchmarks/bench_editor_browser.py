"""TokenEditor against a plotly FigureWidget heatmap, in real JupyterLab and headless Chromium.

One notebook holds a 16 × 45,000 grid (one hour at 12.5 Hz; real speech codes from the
built-in codec, tiled) and shows it twice, side by side in the same run: as a
:class:`~qtok_widgets.TokenEditor` and as a ``plotly.graph_objects.FigureWidget`` heatmap. For
each we measure the bytes received on the kernel websocket (what crossed the wire: widget
state, messages and buffers), the time from running the cell to the first painted grid, and
the time for the same 16 × 100 mask edit made from Python to be repainted. For the editor we also time a mask pressed in the toolbar on
a 16 × 100 selection until the browser has the patch repainted and Python's acknowledgement
(the edit is in the kernel-side session). A small instance of each widget (16 x 8 codes) is
shown first, so that loading each front end's JavaScript is not timed; its bytes are reported
too, because every instance carries its front end's JavaScript in its widget state (plotly's is
several MB), and the ratio without them is given beside the raw one. Ratios come from rows of
the same run. Last, Play is pressed on the editor at 10, 50 and 90 % of the recording (and on
the original at 50 %; median of 3 each, after a first Play that also starts the page's
AudioContext): the time until the audio starts, then the repaint of a Ctrl+wheel zoom step,
the tab's JavaScript heap, the PCM it holds (a long recording plays from slices) and the
kernel's resident memory.

Run with ``python -m benchmarks.run editor_browser`` (``--quick``: 4,500 frames).
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "tests" / "data" / "arctic_a0007.wav"
EDIT_FRAMES = 100
REPEATS = 9


def _fixtures() -> Any:
    """The browser test fixtures module (tests/browser/conftest.py), loaded by path."""
    spec = importlib.util.spec_from_file_location(
        "qtok_browser_fixtures", REPO / "tests" / "browser" / "conftest.py"
    )
    if spec is None or spec.loader is None:
        msg = "cannot load tests/browser/conftest.py"
        raise RuntimeError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def _cells(n_frames: int) -> list[str]:
    setup = (
        "import numpy as np\n"
        "import plotly.graph_objects as go\n"
        "from qtok_widgets import EditSession, TokenEditor, load_audio, load_codec\n"
        "codec = load_codec('builtin')\n"
        f"base = codec.encode(load_audio({str(CLIP)!r}))\n"
        f"N = {n_frames}\n"
        "codes = np.tile(base.codes, (1, -(-N // base.n_frames)))[:, :N]\n"
        "grid = base.with_codes(codes)\n"
        "session = EditSession(grid, codec)\n"
        "plotly_session = EditSession(grid, codec)\n"
        "print(grid)"
    )
    # the waveform strip would decode an hour of audio; this measures the grid alone
    editor = "editor = TokenEditor(session=session, show_waveform=False)\neditor"
    figure = (
        "fw = go.FigureWidget(go.Heatmap(z=grid.codes, colorscale='Viridis'))\n"
        "fw.update_layout(height=320, margin=dict(l=40, r=10, t=10, b=30))\n"
        "fw"
    )
    # small instances first, so both front ends' JavaScript is loaded before anything is timed
    warm_editor = (
        "TokenEditor(session=EditSession(base.with_codes(base.codes[:, :8]), codec), show_waveform=False)"
    )
    warm_figure = "go.FigureWidget(go.Heatmap(z=base.codes[:, :8]))"
    return [setup, warm_editor, warm_figure, editor, figure]


_RUN_CELL = """async ([index, kind]) => {
    const app = window.jupyterapp;
    const w = app.shell.currentWidget;
    w.content.activeCellIndex = index;
    const t0 = performance.now();
    app.commands.execute('notebook:run-cell');
    const cell = w.content.widgets[index];
    const ready = () => {
        if (kind === 'editor') return cell.node.querySelector('.qtok-editor[data-ready=true]');
        const img = cell.node.querySelector('.js-plotly-plot .hm image');
        return img && img.getAttribute('href');
    };
    return await new Promise((resolve, reject) => {
        const stop = setTimeout(() => reject(new Error(kind + ' in cell ' + index + ' did not paint in 300 s')), 300000);
        const tick = () => {
            if (ready()) { clearTimeout(stop); resolve(performance.now() - t0); }
            else requestAnimationFrame(tick);
        };
        tick();
    });
}"""

_PY_UPDATE = """async ([code, kind]) => {
    const w = window.jupyterapp.shell.currentWidget;
    const kernel = w.sessionContext.session.kernel;
    const root = document.querySelectorAll('.qtok-editor')[1];
    const img = () => document.querySelectorAll('.js-plotly-plot')[1].querySelector('.hm image');
    const before = kind === 'editor' ? root.qtokDebug.traffic().patches : img().getAttribute('href');
    const t0 = performance.now();
    const future = kernel.requestExecute({code, store_history: false});
    return await new Promise((resolve, reject) => {
        const stop = setTimeout(() => reject(new Error(kind + ' update did not paint in 300 s')), 300000);
        const tick = () => {
            const now = kind === 'editor' ? root.qtokDebug.traffic().patches : img().getAttribute('href');
            if (now !== before) { clearTimeout(stop); future.done.then(() => resolve(performance.now() - t0)); }
            else requestAnimationFrame(tick);
        };
        tick();
    });
}"""


_PLAY = """async (i) => {
    const root = document.querySelectorAll('.qtok-editor')[i];
    const t0 = performance.now();
    root.querySelector('.qtok-play').click();
    return await new Promise((resolve, reject) => {
        const stop = setTimeout(() => reject(new Error('no sound in 120 s')), 120000);
        const tick = () => {
            if (root.dataset.playing) { clearTimeout(stop); resolve(performance.now() - t0); }
            else requestAnimationFrame(tick);
        };
        tick();
    });
}"""


def _play_to_sound(page: Any, fx: Any, duration_s: float) -> dict[str, Any]:
    """Press Play on the long editor at 10, 50 and 90 % (B), and at 50 % on A: ms until the
    audio starts; then the tab's JS heap, the PCM it holds and the kernel's memory."""
    big = page.locator(".qtok-editor").nth(1)
    out: dict[str, Any] = {}

    def play(which: str, at_s: float) -> float:
        fx.kernel_exec(page, f"editor.ab = {which!r}; editor.playhead = {at_s}")
        page.wait_for_timeout(300)
        ms = page.evaluate(_PLAY, 1)
        page.wait_for_timeout(1000)  # it plays on
        big.locator(".qtok-play").click()
        page.wait_for_timeout(300)
        return float(ms)

    # the first Play also starts the page's AudioContext: reported on its own
    out["first_play_to_sound_s"] = round(play("edited", 0.3 * duration_s) / 1000, 3)
    for which, fraction in (("edited", 0.1), ("edited", 0.5), ("edited", 0.9), ("original", 0.5)):
        times = [play(which, (fraction + k * 0.01) * duration_s) for k in range(3)]
        key = "B" if which == "edited" else "A"
        out[f"play_to_sound_{key}_{int(fraction * 100)}pct_s"] = round(statistics.median(times) / 1000, 3)
    # wheel zoom: the repaint of each step (Ctrl+wheel over the grid), zooming in then out
    box = big.locator(".qtok-overlay").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 40)
    page.keyboard.down("Control")
    paints = []
    for k in range(12):
        page.mouse.wheel(0, -240 if k < 6 else 240)
        page.wait_for_timeout(120)
        paints.append(
            page.evaluate("() => document.querySelectorAll('.qtok-editor')[1].qtokDebug.timings().paintMs")
        )
    page.keyboard.up("Control")
    out["wheel_zoom_paint_s"] = round(statistics.median(paints) / 1000, 4)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    held = page.evaluate(
        "() => { const d = document.querySelectorAll('.qtok-editor')[1].qtokDebug;"
        " return ['edited', 'original'].map((w) => d.pcm(w)).reduce((n, p) => n + (p ? p.samples : 0), 0); }"
    )
    rss = fx.kernel_exec(page, "import psutil; print(psutil.Process().memory_info().rss)")
    out["tab_js_heap_mb"] = round(metrics.get("JSHeapUsedSize", 0) / 2**20, 1)
    out["tab_pcm_held_mb"] = round(held * 2 / 2**20, 2)  # int16, plus float32 AudioBuffers of the same length
    out["kernel_rss_mb"] = round(int(rss) / 2**20, 1)
    return out


class _WireMeter:
    """Counts bytes the page receives on websockets (the kernel channel)."""

    def __init__(self, page: Any) -> None:
        self.received = 0
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        ws.on("framereceived", self._count)

    def _count(self, payload: Any) -> None:
        self.received += len(payload if isinstance(payload, (bytes, bytearray)) else payload.encode())

    def take(self) -> int:
        n, self.received = self.received, 0
        return n


def run(quick: bool) -> list[dict[str, Any]]:
    """Measure both widgets on one grid in one browser session; return one row each plus ratios."""
    from playwright.sync_api import sync_playwright

    fx = _fixtures()
    n_frames = 4_500 if quick else 45_000
    n_cells = 16 * n_frames
    start = n_frames // 2
    with tempfile.TemporaryDirectory(prefix="qtok-bench-") as tmp:
        lab = fx.start_jupyterlab(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = fx.launch_chromium(pw)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(180_000)
                meter = _WireMeter(page)
                page.console_errors = []
                page.on(
                    "console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None
                )
                page.on("pageerror", lambda e: page.console_errors.append(str(e)))
                path = fx.write_notebook(lab, "bench_editor.ipynb", _cells(n_frames))
                lab.open_notebook(page, path)
                page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0")
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
                fx.kernel_exec(page, "grid", timeout_s=300)  # waits for the setup cell
                meter.take()
                page.evaluate(_RUN_CELL, [1, "editor"])
                page.wait_for_timeout(500)
                editor_small_bytes = meter.take()
                page.evaluate(_RUN_CELL, [2, "plotly"])
                page.wait_for_timeout(500)
                plotly_small_bytes = meter.take()

                editor_paint_ms = page.evaluate(_RUN_CELL, [3, "editor"])
                page.wait_for_timeout(500)
                editor_bytes = meter.take()
                editor_state = page.evaluate(
                    "() => { const d = document.querySelectorAll('.qtok-editor')[1].qtokDebug;"
                    " return {paint: d.timings().firstPaintMs, grid: d.traffic().gridBytes}; }"
                )

                plotly_paint_ms = page.evaluate(_RUN_CELL, [4, "plotly"])
                page.wait_for_timeout(500)
                plotly_bytes = meter.take()

                # toolbar mask on a 16 x 100 selection: click -> patch repainted -> Python's ack
                ui_ms, repaint_ms = [], []
                big = page.locator(".qtok-editor").nth(1)
                for k in range(REPEATS):
                    lo = start + k * 2 * EDIT_FRAMES
                    fx.kernel_exec(page, f"editor.select(frames=slice({lo}, {lo + EDIT_FRAMES}))")
                    acks = int(big.get_attribute("data-acks") or 0)
                    big.locator("button[data-action=mask]").click()
                    page.wait_for_function(
                        "(n) => Number(document.querySelectorAll('.qtok-editor')[1].dataset.acks || 0) > n",
                        arg=acks,
                    )
                    ui_ms.append(float(big.get_attribute("data-last-action-ms")))
                    repaint_ms.append(
                        page.evaluate(
                            "() => document.querySelectorAll('.qtok-editor')[1].qtokDebug.timings().paintMs"
                        )
                    )
                meter.take()

                # the same edit made from Python, repainted by each widget
                editor_py_ms, plotly_py_ms, editor_upd_bytes, plotly_upd_bytes = [], [], [], []
                for k in range(REPEATS):
                    lo = start + (2 * k + 1) * EDIT_FRAMES
                    sel = f"frames=slice({lo}, {lo + EDIT_FRAMES})"
                    meter.take()
                    editor_py_ms.append(page.evaluate(_PY_UPDATE, [f"session.mask({sel})", "editor"]))
                    page.wait_for_timeout(200)
                    editor_upd_bytes.append(meter.take())
                    code = (
                        f"plotly_session.mask({sel})\n"
                        "z = plotly_session.grid.codes.astype(float)\n"
                        "z[plotly_session.grid.mask] = np.nan\n"
                        "fw.data[0].z = z"
                    )
                    plotly_py_ms.append(page.evaluate(_PY_UPDATE, [code, "plotly"]))
                    page.wait_for_timeout(200)
                    plotly_upd_bytes.append(meter.take())
                playback = _play_to_sound(page, fx, n_frames / 12.5)
                errors = fx.relevant_errors(page)
                browser.close()
        finally:
            fx.stop_jupyterlab(lab)

    med = statistics.median
    editor_row = {
        "case": "TokenEditor",
        "grid": f"16x{n_frames}",
        "initial_bytes": editor_bytes,
        "small_instance_bytes": editor_small_bytes,
        "bytes_per_cell": round(editor_bytes / n_cells, 3),
        "grid_buffer_bytes_per_cell": round(editor_state["grid"] / n_cells, 3),
        "first_paint_s": round(editor_paint_ms / 1000, 4),
        "js_paint_s": round(editor_state["paint"] / 1000, 4),
        "ui_mask_16x100_s": round(med(ui_ms) / 1000, 4),
        "ui_mask_16x100_min_s": round(min(ui_ms) / 1000, 4),
        "js_repaint_s": round(med(repaint_ms) / 1000, 4),
        "py_update_s": round(med(editor_py_ms) / 1000, 4),
        "update_bytes": int(med(editor_upd_bytes)),
        **playback,
    }
    plotly_row = {
        "case": "plotly FigureWidget",
        "grid": f"16x{n_frames}",
        "initial_bytes": plotly_bytes,
        "small_instance_bytes": plotly_small_bytes,
        "bytes_per_cell": round(plotly_bytes / n_cells, 3),
        "first_paint_s": round(plotly_paint_ms / 1000, 4),
        "py_update_s": round(med(plotly_py_ms) / 1000, 4),
        "update_bytes": int(med(plotly_upd_bytes)),
    }
    ratio_row = {
        "case": "plotly / editor (same run)",
        "grid": f"16x{n_frames}",
        "initial_bytes": round(plotly_bytes / editor_bytes, 2),
        # each instance carries its front end's JavaScript in its state; this ratio leaves it out
        "initial_minus_small_instance": round(
            (plotly_bytes - plotly_small_bytes) / max(1, editor_bytes - editor_small_bytes), 2
        ),
        "first_paint_s": round(plotly_paint_ms / editor_paint_ms, 2),
        "py_update_s": round(med(plotly_py_ms) / med(editor_py_ms), 2),
        "update_bytes": round(med(plotly_upd_bytes) / max(1, med(editor_upd_bytes)), 1),
    }
    if errors:
        editor_row["browser_errors"] = len(errors)
    return [editor_row, plotly_row, ratio_row]
