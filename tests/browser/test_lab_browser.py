"""The /qtok/ page and CodecLab in a real JupyterLab, driven by headless Chromium.

The page test uploads a real clip, runs the one-click mode and plays the reconstruction, saves
the codes of the step-by-step encode as ``.pt`` through the browser and decodes that file in the
third mode. The CodecLab test uploads the clip into the widget in a notebook, presses
"Encode + decode" and plays the result, then checks the kernel-side state.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

LAB = ".qtok-codec-lab"


def _play(page, selector: str) -> dict:
    """Play the <audio> at ``selector`` for a moment; its position, duration and state."""
    return page.evaluate(
        """async (selector) => {
            let a = document.querySelector(selector);
            if (a.tagName !== 'AUDIO') a = a.querySelector('audio');
            if (a.readyState < 1) await new Promise((ok) => a.addEventListener('loadedmetadata', ok, {once: true}));
            await a.play();
            await new Promise((ok) => setTimeout(ok, 800));
            const out = {time: a.currentTime, duration: a.duration, paused: a.paused, error: a.error && a.error.code};
            a.pause();
            return out;
        }""",
        selector,
    )


def test_page_encodes_an_upload_and_plays_it(jupyterlab, page, speech_path, tmp_path):
    page.goto(f"{jupyterlab.url}qtok/")
    page.wait_for_selector("#status.idle, #status.ready", timeout=20_000)

    # one-click: upload, encode + decode, play the reconstruction
    page.set_input_files("#roundtrip-file", str(speech_path))
    page.click("#roundtrip-run")
    page.wait_for_selector("#roundtrip-result:not([hidden])", timeout=120_000)
    info = page.inner_text("#roundtrip-info")
    assert "Codes shape\n[16, 50]" in info
    assert "Reconstruction SNR" in info
    assert "4.00 s" in info
    played = _play(page, "#roundtrip-reconstructed")
    assert played["error"] is None
    assert played["duration"] == pytest.approx(4.0, abs=0.01)
    assert played["time"] > 0.1
    # the waveform canvases have ink on them
    inked = page.evaluate(
        """() => ['wave-original', 'wave-reconstructed', 'wave-overlay'].map((id) => {
            const c = document.getElementById(id);
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
            return n;
        })"""
    )
    assert all(n > 1000 for n in inked)
    assert "codec ready: builtin on cpu" in page.inner_text("#status")
    assert "roundtrip done" in page.inner_text("#log")

    # step-by-step encode: shape, device, preview, Save .pt
    page.click("#tab-encode")
    page.set_input_files("#encode-file", str(speech_path))
    page.click("#encode-run")
    page.wait_for_selector("#encode-result:not([hidden])", timeout=120_000)
    assert "Device\ncpu" in page.inner_text("#encode-info")
    assert page.locator("#encode-preview tr").count() == 17
    with page.expect_download() as download_info:
        page.click("#encode-save")
    download = download_info.value
    assert download.suggested_filename == "arctic_a0007.pt"
    saved = tmp_path / "arctic_a0007.pt"
    download.save_as(str(saved))

    # step-by-step decode: that .pt back to audio
    page.click("#tab-decode")
    page.set_input_files("#decode-file", str(saved))
    page.click("#decode-run")
    page.wait_for_selector("#decode-result:not([hidden])", timeout=120_000)
    assert "24000 Hz" in page.inner_text("#decode-info")
    assert _play(page, "#decode-audio")["duration"] == pytest.approx(4.0, abs=0.01)
    assert page.get_attribute("#decode-download", "download") == "output.wav"

    # an error shows in place
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    page.click("#tab-roundtrip")
    page.set_input_files("#roundtrip-file", str(text))
    page.click("#roundtrip-run")
    page.wait_for_selector("#roundtrip-error:not([hidden])", timeout=30_000)
    assert "unreadable or unsupported audio container" in page.inner_text("#roundtrip-error")
    assert [e for e in page.relevant_errors() if "400" not in e] == []


def test_codec_lab_one_click_round_trip(jupyterlab, page, run_notebook_in_lab, kernel_exec, speech_path):
    cells = ["from qtok_widgets import CodecLab\nlab = CodecLab('builtin')\nlab"]
    path = jupyterlab.write_notebook("codec_lab.ipynb", cells)
    run_notebook_in_lab(page, jupyterlab, path)
    page.wait_for_selector(f"{LAB} .widget-upload", timeout=30_000)

    # the upload button opens the browser's file chooser, as for a user
    with page.expect_file_chooser() as chooser:
        page.locator(f"{LAB} .widget-upload").first.click()
    chooser.value.set_files(str(speech_path))
    page.wait_for_function(
        "() => document.querySelector('.qtok-codec-lab').innerText.includes('arctic_a0007.wav (uploaded')",
        timeout=20_000,
    )
    page.get_by_role("button", name="Encode + decode").click()
    page.wait_for_function(
        "() => document.querySelector('.qtok-codec-lab').innerText.includes('Reconstruction SNR')",
        timeout=120_000,
    )
    text = page.inner_text(LAB)
    assert "[16, 50]" in text
    assert "Encode / decode" in text
    # two players: original and reconstructed; play the reconstruction
    assert page.locator(f"{LAB} audio").count() >= 2
    played = _play(page, f"{LAB} .qtok-lab-reconstructed")
    assert played["error"] is None
    assert played["time"] > 0.1
    page.wait_for_selector(f"{LAB} .js-plotly-plot", timeout=60_000)

    state = json.loads(
        kernel_exec(
            page,
            "import json; print(json.dumps({'shape': list(lab.result.grid.codes.shape), 'error': lab.error,"
            " 'busy': lab.busy, 'snr': lab.result.metrics['snr_db']}))",
        )
    )
    assert state["shape"] == [16, 50]
    assert state["error"] == ""
    assert state["busy"] is False
    assert page.relevant_errors() == []
