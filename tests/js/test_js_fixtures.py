"""The fixture the front end's unit tests read: bytes made by the Python side of the wire.

``tests/js/fixtures/wire.json`` holds cells encoded by :func:`~qtok_widgets.widgets._wire.encode_cells`
(12-, 16- and 32-bit, odd and even counts, edge codes, masks) with the cells the browser must hold
for them (``code | mask << 30``), an envelope and PCM made by
:mod:`~qtok_widgets.widgets._wire`, and the custom messages a real :class:`TokenEditor` sends
for "hello" and a few edits (grid, patches with and without a frame map, ack, and the grid of
a second view, which differs from the original and has a frame map), with the grid
Python holds at the end. ``tests/js/wire.test.mjs`` and ``tests/js/state.test.mjs`` decode them
with the front end's modules and compare.

The test here fails when the committed fixture differs from what Python produces now, so a change
to the wire format cannot slip past the JavaScript tests. Rewrite the fixture with
``.venv/bin/python tests/js/test_js_fixtures.py``, then run ``node --test tests/js/``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from qtok_widgets import CodeGrid, EditSession
from qtok_widgets.widgets import _wire
from qtok_widgets.widgets.editor import TokenEditor

FIXTURE = Path(__file__).parent / "fixtures" / "wire.json"

#: Message types the fixture keeps; "ops" lists the operations, which change whenever one is
#: added, and the toolbar tests use their own list.
_KEPT = ("grid", "patch", "ack")


def held_cells(codes: np.ndarray, mask: np.ndarray) -> list[int]:
    """The cells the browser holds for a grid whatever the wire width: ``code | mask << 30``, flat."""
    held = np.asarray(codes, np.int64) | (np.asarray(mask, np.int64) << 30)
    return held.reshape(-1).tolist()


def _cells_case(codes: np.ndarray, mask: np.ndarray, bits: int, size: int) -> dict[str, Any]:
    packed = _wire.pack_codes(codes.reshape(1, -1), mask.reshape(1, -1), size)
    assert _wire.cell_bits(size) == bits
    return {
        "bits": bits,
        "codebook_size": size,
        "n": int(codes.size),
        "hex": _wire.encode_cells(packed, bits).hex(),
        "cells": held_cells(codes, mask),
    }


def _cells_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(12)
    cases = []
    for bits, size in ((12, 2048), (16, 32768), (32, 65536), (32, 2**20)):
        edges = np.array([0, size - 1, size - 1, 0, size // 2, 1, size - 2])
        cases.append(_cells_case(edges, np.array([1, 0, 1, 0, 1, 1, 0], bool), bits, size))
        for n in (1, 2, 5, 48):
            codes = rng.integers(0, size, n)
            cases.append(_cells_case(codes, rng.random(n) < 0.3, bits, size))
    return cases


def _messages() -> dict[str, Any]:
    """Messages a real editor sends on "hello", three session edits, an undo from the browser and a second "hello"."""
    rng = np.random.default_rng(7)
    codes = rng.integers(0, 2048, (4, 9))
    grid = CodeGrid(codes, "builtin", 12.5, 24000, 2048)
    editor = TokenEditor(session=EditSession(grid, None), show_waveform=False)
    sent: list[dict[str, Any]] = []

    def record(content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        if content.get("type") in _KEPT:
            sent.append({"msg": content, "buffers": [bytes(b).hex() for b in buffers or []]})

    editor.send = record  # the comm is not open without a front end; record what would go
    try:
        editor._handle_custom_msg({"type": "hello"}, [])
        editor.session.mask(frames=slice(2, 5), layers=slice(1, 3))  # same shape: a patch of 3 frames
        editor.session.delete_frames(frames=slice(1, 3))  # shorter: a patch to the end and a frame map
        editor.session.duplicate_frames(frames=slice(4, 6))  # longer again
        editor._handle_custom_msg({"type": "action", "id": 7, "name": "undo", "args": {}}, [])
        final = editor.session.grid
        origin = editor.session.origin_frames()
        editor._handle_custom_msg({"type": "hello"}, [])  # a second view: the whole edited grid
    finally:
        editor.close()
    return {
        "messages": sent,
        "final": {
            "n_layers": final.n_layers,
            "n_frames": final.n_frames,
            "cells": held_cells(final.codes, final.mask),
            "origin": np.asarray(origin).tolist(),
        },
    }


def wire_fixture() -> dict[str, Any]:
    """Everything in ``tests/js/fixtures/wire.json``, made now by the Python side."""
    spf = 8
    t = np.arange(3 * spf - 3, dtype=np.float32)  # 3 frames, the last one short (padded with silence)
    samples = 0.9 * np.sin(t * 0.7) * np.linspace(0.2, 1.0, t.size)
    env = _wire.envelope(samples.astype(np.float32), spf, 3)
    pcm_in = np.array([-1.5, -1.0, -0.5, 0.0, 0.25, 1.0, 2.0], dtype=np.float32)
    pcm = _wire.pcm16(pcm_in)
    origin = np.array([-1, 0, 5, 70000], dtype="<i4")
    return {
        "cells": _cells_cases(),
        "envelope": {
            "samples_per_frame": spf,
            "n_frames": 3,
            "bins": _wire.ENVELOPE_BINS_PER_FRAME,
            "hex": env.tobytes().hex(),
            "pairs": env.tolist(),
        },
        "pcm": {"hex": pcm.tobytes().hex(), "values": pcm.tolist()},
        "int32": {"hex": origin.tobytes().hex(), "values": origin.tolist()},
        "editor": _messages(),
    }


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1) + "\n"


def test_the_ops_message_has_what_the_toolbar_reads():
    """Every OpSpec carries the fields tests/js/ops.mjs has and toolbar.js reads, with known values."""
    grid = CodeGrid(np.zeros((4, 9), int), "builtin", 12.5, 24000, 2048)
    editor = TokenEditor(session=EditSession(grid, None), show_waveform=False)
    sent: list[dict[str, Any]] = []
    editor.send = lambda content, buffers=None: sent.append(content)
    try:
        editor._handle_custom_msg({"type": "hello"}, [])
        op_params = editor.op_params
    finally:
        editor.close()
    (message,) = [m for m in sent if m["type"] == "ops"]
    assert [m["type"] for m in sent] == ["grid", "ops"]
    specs = message["ops"]
    assert {"mask", "replace", "interpolate", "randomize", "delete_frames"} <= {s["name"] for s in specs}
    for spec in specs:
        assert {"name", "title", "help", "group", "key", "key_does", "selection", "params"} <= set(spec), spec
        assert spec["key_does"] in ("run", "focus") and spec["selection"] in ("cells", "frames"), spec
        assert spec["key"] is None or spec["key"] == "Delete" or len(spec["key"]) == 1, spec
        for param in spec["params"]:
            assert param["kind"] in ("int", "float", "choice"), param
            assert isinstance(param["label"], str) and isinstance(param["name"], str), param
            if param["kind"] == "choice":
                assert all(len(c) == 2 for c in param["choices"]), param
            else:
                assert param["min"] < param["max"] and param["step"] > 0, param
            # the input shows a value Python holds for it
            assert param["name"] in op_params[spec["name"]], (spec["name"], param["name"])
    json.dumps(message)  # plain JSON, nothing numpy


def test_the_committed_fixture_is_what_python_sends_now():
    assert FIXTURE.read_text() == _dump(wire_fixture()), (
        "tests/js/fixtures/wire.json is stale: run .venv/bin/python tests/js/test_js_fixtures.py"
    )


if __name__ == "__main__":
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(_dump(wire_fixture()))
    print(f"wrote {FIXTURE}", file=sys.stderr)
