"""Editor strips on a one-hour recording: in the kernel, and in real JupyterLab and headless Chromium.

The hour is a 16 × 45,000 grid (12.5 Hz) of real speech codes from the built-in codec (CMU
ARCTIC a0007 encoded, its codes tiled), as ``bench_editor_browser`` uses. A recording this long
gets its strips at two levels of detail (docs/editor.md, "Strips"): an overview of the whole
clip, computed block by block in a background thread, and the visible window at finer detail
once the view is zoomed in to a minute or less.

Kernel rows (no browser): the time to compute and send the whole overview and its bytes; the
time for a 16 × 100 mask to update the edited overview (the decode and analysis of the frames it
touched); the time and bytes of one 60 s window at 3 columns per frame (both versions).

Browser rows, side by side in one notebook and one run: the same hour shown by two editors,
strips off (``show_waveform=False``: the grid alone, as ``bench_editor_browser`` measures it)
and all strips on (waveform, spectrogram, pitch, energy). For each: the time from running the
cell to the first painted grid, the bytes received on the kernel websocket for the first view
(grid and, with strips, the whole overview), and for a 16 × 100 mask pressed in the toolbar
the time from the click to the repainted grid, to Python's acknowledgement, and (strips on)
to the strips repainted with the edited audio's new overview columns: median and worst of 9.
A small editor is shown first so that loading the front end's JavaScript is not timed.

Run with ``python -m benchmarks.run strips`` (``--quick``: 7,800 frames, 10 min 24 s, still past
the whole-waveform limit); writes ``benchmarks/results/strips.json``.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "tests" / "data" / "arctic_a0007.wav"
EDIT_FRAMES = 100
REPEATS = 9


def _hour(n_frames: int) -> tuple[Any, Any]:
    from qtok_widgets import load_audio, load_codec

    codec = load_codec("builtin")
    base = codec.encode(load_audio(CLIP))
    codes = np.tile(base.codes, (1, -(-n_frames // base.n_frames)))[:, :n_frames]
    return codec, base.with_codes(codes)


def _kernel_rows(n_frames: int) -> list[dict[str, Any]]:
    from qtok_widgets import EditSession, TokenEditor

    codec, grid = _hour(n_frames)
    editor = TokenEditor(session=EditSession(grid, codec), show_strips=True, journal=False)
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    editor.send = lambda content, buffers=None: sent.append((content, buffers or []))  # the comm's end
    t0 = time.perf_counter()
    editor._on_front_end_msg(editor, {"type": "hello"}, [])
    feed = editor._strip_feed
    feed.wait()
    overview_s = time.perf_counter() - t0
    strips = [(c, b) for c, b in sent if c["type"] == "strips"]
    overview_bytes = sum(len(b) for _, bufs in strips for b in bufs)
    blocks = len(strips)
    flush_s = []
    for k in range(REPEATS):
        lo = n_frames // 2 + k * 2 * EDIT_FRAMES
        editor._in_action = True  # as a toolbar action: the edit now, the strips after it
        editor.session.mask(frames=slice(lo, lo + EDIT_FRAMES))
        editor._in_action = False
        t0 = time.perf_counter()
        editor._flush_audio()
        flush_s.append(time.perf_counter() - t0)
    sent.clear()
    window_s = []
    for k in range(3):
        first = n_frames // 4 + k * 1000
        t0 = time.perf_counter()
        feed.window(first, first + 750, 2.5)
        window_s.append(time.perf_counter() - t0)
    window_bytes = sum(len(b) for _, bufs in sent[:2] for b in bufs)
    editor.close()
    return [
        {
            "case": "kernel: overview of the whole clip (both versions, unedited)",
            "grid": f"16x{n_frames}",
            "fpc": feed.fpc,
            "columns": -(-n_frames // feed.fpc),
            "messages": blocks,
            "bytes": overview_bytes,
            "seconds": round(overview_s, 2),
        },
        {
            "case": "kernel: 16x100 mask -> edited overview columns",
            "grid": f"16x{n_frames}",
            "median_s": round(statistics.median(flush_s), 4),
            "worst_s": round(max(flush_s), 4),
        },
        {
            "case": "kernel: one 60 s window at 3 columns per frame (both versions)",
            "grid": f"16x{n_frames}",
            "bytes": window_bytes,
            "median_s": round(statistics.median(window_s), 3),
            "worst_s": round(max(window_s), 3),
        },
    ]


def _cells(n_frames: int) -> list[str]:
    setup = (
        "import numpy as np\n"
        "from qtok_widgets import EditSession, TokenEditor, load_audio, load_codec\n"
        "codec = load_codec('builtin')\n"
        f"base = codec.encode(load_audio({str(CLIP)!r}))\n"
        f"N = {n_frames}\n"
        "grid = base.with_codes(np.tile(base.codes, (1, -(-N // base.n_frames)))[:, :N])\n"
        "plain = TokenEditor(session=EditSession(grid, codec), show_waveform=False, journal=False)\n"
        "editor = TokenEditor(session=EditSession(grid, codec), show_strips=True, journal=False)\n"
        "print(grid)"
    )
    warm = "TokenEditor(session=EditSession(base.with_codes(base.codes[:, :8]), codec), show_waveform=False)"
    return [setup, warm, "plain", "editor"]


# run cell `index`; resolve with the ms until its editor's grid is painted and, when `strips` > 0,
# until that many strips messages are painted
_RUN_CELL = """async ([index, strips]) => {
    const app = window.jupyterapp;
    const w = app.shell.currentWidget;
    w.content.activeCellIndex = index;
    const t0 = performance.now();
    app.commands.execute('notebook:run-cell');
    const cell = w.content.widgets[index];
    let ready = null;
    let first = null;
    return await new Promise((resolve, reject) => {
        const stop = setTimeout(() => reject(new Error('cell ' + index + ' did not paint in 600 s')), 600000);
        const tick = () => {
            const root = cell.node.querySelector('.qtok-editor[data-ready=true]');
            if (root && ready === null) ready = performance.now() - t0;
            const n = root ? Number(root.dataset.strips || 0) : 0;
            if (n > 0 && first === null) first = root.qtokDebug.timings().stripsPaintedAt - t0;
            if (ready !== null && n >= strips) {
                clearTimeout(stop);
                resolve({ready, first, all: strips ? root.qtokDebug.timings().stripsPaintedAt - t0 : null});
            } else requestAnimationFrame(tick);
        };
        tick();
    });
}"""

# press Mask on editor `i`: ms from the click to the grid repainted (the patch), to Python's
# acknowledgement, and (when `strips`) to the strips repainted with the edit's new columns
_MASK = """async ([i, strips]) => {
    const root = document.querySelectorAll('.qtok-editor')[i];
    const d = root.qtokDebug;
    const patches = d.traffic().patches;
    const acks = Number(root.dataset.acks || 0);
    const n = d.timings().stripMessages;
    const t0 = performance.now();
    root.querySelector('button[data-action=mask]').click();
    let patched = null;
    let acked = null;
    return await new Promise((resolve, reject) => {
        const stop = setTimeout(() => reject(new Error('the mask did not come back in 120 s')), 120000);
        const tick = () => {
            const now = performance.now() - t0;
            if (patched === null && d.traffic().patches > patches) patched = now;
            if (acked === null && Number(root.dataset.acks || 0) > acks) acked = now;
            const painted = !strips || d.timings().stripMessages > n;
            if (patched !== null && acked !== null && painted) {
                clearTimeout(stop);
                resolve({patch: patched, ack: acked, strips: strips ? d.timings().stripsPaintedAt - t0 : null});
            } else requestAnimationFrame(tick);
        };
        tick();
    });
}"""


class _TypedMeter:
    """Bytes the page receives on the kernel websocket, by message: ``comm_msg:strips``, ``comm_open``, ..."""

    _TYPE = re.compile(rb'"msg_type": ?"(\w+)"')
    _CONTENT = re.compile(rb'"method": ?"custom", ?"content": ?\{"type": ?"(\w+)"')

    def __init__(self, page: Any) -> None:
        self.by_type: dict[str, int] = {}
        page.on("websocket", lambda ws: ws.on("framereceived", self._count))

    def _count(self, payload: Any) -> None:
        raw = payload if isinstance(payload, (bytes, bytearray)) else payload.encode()
        kind = self._TYPE.search(raw[:4000])
        name = kind.group(1).decode() if kind else "other"
        content = self._CONTENT.search(raw[:8000])
        if content:
            name += ":" + content.group(1).decode()
        self.by_type[name] = self.by_type.get(name, 0) + len(raw)

    def take(self) -> dict[str, int]:
        out, self.by_type = self.by_type, {}
        return out


def _browser_rows(n_frames: int) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    from benchmarks.bench_editor_browser import _fixtures, _WireMeter
    from qtok_widgets.widgets._strips import _BLOCK_COLUMNS, overview_frames_per_column

    fx = _fixtures()
    columns = -(-n_frames // overview_frames_per_column(n_frames))
    blocks = -(-columns // _BLOCK_COLUMNS)  # strips messages of the whole overview
    rows = []
    with tempfile.TemporaryDirectory(prefix="qtok-bench-") as tmp:
        lab = fx.start_jupyterlab(Path(tmp))
        try:
            with sync_playwright() as pw:
                browser = fx.launch_chromium(pw)
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.set_default_timeout(300_000)
                meter = _WireMeter(page)
                typed = _TypedMeter(page)
                page.console_errors = []
                page.on(
                    "console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None
                )
                page.on("pageerror", lambda e: page.console_errors.append(str(e)))
                path = fx.write_notebook(lab, "bench_strips.ipynb", _cells(n_frames))
                lab.open_notebook(page, path)
                page.evaluate("() => window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0")
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
                fx.kernel_exec(page, "grid", timeout_s=600)  # waits for the setup cell
                page.evaluate(_RUN_CELL, [1, 0])
                page.wait_for_timeout(500)
                meter.take()
                typed.take()
                for index, name, strips in ((2, "strips off", 0), (3, "all strips on", blocks)):
                    page.wait_for_timeout(1000)  # the previous editor's last messages
                    meter.take()
                    typed.take()
                    paint = page.evaluate(_RUN_CELL, [index, strips])
                    page.wait_for_timeout(1000)
                    first_bytes = meter.take()
                    by_type = typed.take()
                    i = index - 1  # the small warm-up editor is the first
                    marks = []
                    for k in range(REPEATS):
                        lo = n_frames // 2 + k * 2 * EDIT_FRAMES
                        name_py = "plain" if index == 2 else "editor"
                        fx.kernel_exec(page, f"{name_py}.select(frames=slice({lo}, {lo + EDIT_FRAMES}))")
                        page.wait_for_timeout(200)
                        marks.append(page.evaluate(_MASK, [i, bool(strips)]))
                        page.wait_for_timeout(200)
                    row: dict[str, Any] = {
                        "case": f"browser: {name}",
                        "grid": f"16x{n_frames}",
                        "first_paint_s": round(paint["ready"] / 1000, 3),
                        "first_view_bytes": first_bytes,
                        "first_view_bytes_by_message": dict(
                            sorted(by_type.items(), key=lambda kv: -kv[1])[:6]
                        ),
                        "mask_patch_median_s": round(statistics.median(m["patch"] for m in marks) / 1000, 4),
                        "mask_patch_worst_s": round(max(m["patch"] for m in marks) / 1000, 4),
                        "mask_ack_median_s": round(statistics.median(m["ack"] for m in marks) / 1000, 4),
                    }
                    if strips:
                        row["strips_first_block_s"] = round(paint["first"] / 1000, 3)
                        row["strips_overview_complete_s"] = round(paint["all"] / 1000, 3)
                        row["mask_strips_median_s"] = round(
                            statistics.median(m["strips"] for m in marks) / 1000, 4
                        )
                        row["mask_strips_worst_s"] = round(max(m["strips"] for m in marks) / 1000, 4)
                    rows.append(row)
                errors = fx.relevant_errors(page)
                browser.close()
        finally:
            fx.stop_jupyterlab(lab)
    if errors:
        rows[-1]["browser_errors"] = len(errors)
    off, on = rows
    rows.append(
        {
            "case": "browser: strips on / off (same run)",
            "grid": f"16x{n_frames}",
            "first_paint_s": round(on["first_paint_s"] / off["first_paint_s"], 2),
            "first_view_bytes": round(on["first_view_bytes"] / off["first_view_bytes"], 2),
            "mask_patch_median_s": round(on["mask_patch_median_s"] / off["mask_patch_median_s"], 2),
        }
    )
    return rows


def run(quick: bool) -> list[dict[str, Any]]:
    """Kernel rows, then the two editors side by side in one browser session."""
    warnings.simplefilter("ignore")
    n_frames = 7_800 if quick else 45_000
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    rows = _kernel_rows(n_frames) + _browser_rows(n_frames)
    after = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    rows.append({"case": "machine load (1, 5, 15 min) before / after", "grid": f"{load} / {after}"})
    return rows
