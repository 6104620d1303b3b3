"""Acoustic strips in a real JupyterLab in headless Chromium: the view choices repaint, a long clip gets an overview and a window.

The first notebook shows a clip with the built-in codec and its strips on, masks a stretch of it,
then picks each spectrogram view and pitch unit in the toolbar like a user and reads the canvas:
each choice changes the pixels of its strip, side by side adds a second spectrogram row, and the
difference view draws its legend. The second shows a recording past the whole-waveform limit
(10 min 24 s): the kernel sends an overview of the whole clip, and zooming in brings the window's
strips in detail.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

EDITOR = ".qtok-editor"

# the pixels of a rectangle of the base canvas (CSS px), as one string
_PIXELS = """([x, y, w, h]) => {
    const c = document.querySelector('.qtok-editor canvas.qtok-base');
    const r = c.width / c.getBoundingClientRect().width;
    const d = c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), Math.round(w * r), Math.round(h * r)).data;
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum = (sum * 31 + d[i]) % 1000000007;
    return String(sum);
}"""

_DEBUG = f"() => document.querySelector('{EDITOR}').qtokDebug"


def _strip_messages(page) -> int:
    return int(page.evaluate(f"() => Number(document.querySelector('{EDITOR}').dataset.strips || 0)"))


def test_spectrogram_views_and_pitch_units_change_the_pixels(
    jupyterlab, page, run_notebook_in_lab, kernel_exec
):
    cells = [
        "from qtok_widgets import TokenEditor, load_codec\n"
        "from qtok_widgets.examples import example_path\n"
        "editor = TokenEditor(example_path('arctic_a0007'), load_codec('builtin'), show_strips=True, journal=False)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("strips.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=30_000)
    page.wait_for_function(f"() => Number(document.querySelector('{EDITOR}').dataset.strips || 0) >= 2")
    before = _strip_messages(page)
    kernel_exec(page, "editor.select(frames=[20, 32]); editor.mask()")
    page.wait_for_function(
        f"(n) => Number(document.querySelector('{EDITOR}').dataset.strips || 0) > n",
        arg=before,
        timeout=60_000,
    )
    L = page.evaluate(f"() => ({_DEBUG})().layout()")
    assert L["stripH"] > 0
    mel = [L["gx"], L["stripY"], L["plotW"], L["melH"]]
    pitch_band = [L["gx"], L["stripY"] + L["melH"], L["plotW"], 36]
    gutter = [2, L["stripY"], L["gx"] - 4, L["melH"]]

    seen = {page.evaluate(_PIXELS, mel)}
    for choice in ("original", "difference"):
        page.select_option(f"{EDITOR} .qtok-spectrogram", choice)
        assert kernel_exec(page, "print(editor.spectrogram_view)").strip() == choice
        page.wait_for_timeout(200)
        now = page.evaluate(_PIXELS, mel)
        assert now not in seen, choice  # each view paints its own spectrogram
        seen.add(now)
    # the difference view's legend sits in the gutter beside it
    legend = page.evaluate(_PIXELS, gutter)
    page.select_option(f"{EDITOR} .qtok-spectrogram", "edited")
    page.wait_for_timeout(200)
    assert page.evaluate(_PIXELS, gutter) != legend
    # side by side: a second spectrogram row, original above edited
    page.select_option(f"{EDITOR} .qtok-spectrogram", "both")
    page.wait_for_function(f"(h) => ({_DEBUG})().layout().stripH > h", arg=L["stripH"])
    two = page.evaluate(f"() => ({_DEBUG})().layout()")
    assert two["melH"] == 2 * L["melH"]

    # the pitch axis in hertz, then in semitones: the curves are redrawn on the other scale
    page.select_option(f"{EDITOR} .qtok-spectrogram", "edited")
    page.wait_for_timeout(200)
    units = kernel_exec(page, "print(editor.pitch_units)").strip()
    first = page.evaluate(_PIXELS, pitch_band)
    other = "Hz" if units == "semitones" else "semitones"
    page.select_option(f"{EDITOR} .qtok-pitch-units", other)
    page.wait_for_timeout(200)
    assert kernel_exec(page, "print(editor.pitch_units)").strip() == other
    assert page.evaluate(_PIXELS, pitch_band) != first
    assert page.relevant_errors() == []


def test_a_long_recording_shows_an_overview_then_the_window_in_detail(
    jupyterlab, page, run_notebook_in_lab, kernel_exec
):
    cells = [
        "import numpy as np\n"
        "from qtok_widgets import EditSession, TokenEditor, load_audio, load_codec\n"
        "from qtok_widgets.examples import example_path\n"
        "codec = load_codec('builtin')\n"
        "base = codec.encode(load_audio(example_path('arctic_a0007')))\n"
        "n = 7800  # 10 min 24 s\n"
        "grid = base.with_codes(np.tile(base.codes, (1, -(-n // base.n_frames)))[:, :n])\n"
        "editor = TokenEditor(session=EditSession(grid, codec), show_strips=True, show_waveform=False, journal=False)\n"
        "editor",
    ]
    path = jupyterlab.write_notebook("long_strips.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{EDITOR}[data-ready=true]", timeout=60_000)
    kernel_exec(page, "editor._strip_feed.wait(120)", timeout_s=150)
    page.wait_for_function(
        f"() => {{ const s = ({_DEBUG})().strips(); return s.edited && s.edited.base && s.original.base; }}"
    )
    held = page.evaluate(f"() => ({_DEBUG})().strips()")
    fpc = held["edited"]["base"]["fpc"]
    assert fpc == 2 and held["edited"]["base"]["total"] == 3900 and "window" not in held["edited"]
    L = page.evaluate(f"() => ({_DEBUG})().layout()")
    # the overview is drawn: the spectrogram row has colour across the whole width
    alpha = """([x, y]) => {
        const c = document.querySelector('.qtok-editor canvas.qtok-base');
        const r = c.width / c.getBoundingClientRect().width;
        return c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data[3];
    }"""
    for x in (L["gx"] + 2, L["gx"] + L["plotW"] / 2, L["gx"] + L["plotW"] - 3):
        assert page.evaluate(alpha, [x, L["stripY"] + 10]) == 255
    # zoomed in to under a minute, the view asks for its window and draws it
    page.locator(f"{EDITOR}").focus()
    for _ in range(7):
        page.keyboard.press("+")
    page.wait_for_function(
        f"() => {{ const s = ({_DEBUG})().strips(); return s.edited.window && s.original.window; }}",
        timeout=60_000,
    )
    held = page.evaluate(f"() => ({_DEBUG})().strips()")
    view = page.evaluate(f"() => ({_DEBUG})().view()")
    win = held["edited"]["window"]
    k = win["cpf"] / win["fpc"]
    assert win["cpf"] > 1 and win["start"] / k <= view["v0"]
    assert win["stop"] / k >= view["v0"] + L["plotW"] / view["cellW"] - 1
    assert page.relevant_errors() == []
