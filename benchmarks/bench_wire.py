"""The editor's wire for codes: bytes per cell and time to pack (Python) and decode (browser side).

One hour of codes (``--quick``: six minutes) for four shapes, side by side in one run: Qwen
12 Hz (16 × 2,048 at 12.5 Hz, 12-bit cells), DAC 44.1 kHz (32 × 1,024 at 86.13 Hz, 12-bit
cells), and the same 32-layer 86 Hz grid with codebooks of 32,768 codes (16-bit cells) and
65,536 codes (32-bit cells). For each: the bytes of the ``grid`` message's cells, the time for
:func:`~qtok_widgets.widgets._wire.pack_codes` + :func:`~qtok_widgets.widgets._wire.encode_cells`
(what the kernel does when a view opens), and the time for the front end's ``decodeCells``
(``frontend/wire.js``, run by Node on the same bytes) to turn them into the cells the browser
holds. Codes are uniform random with 10 % of cells masked. The ratios are to the 32 × 1,024
row of the same run.

Run with ``python -m benchmarks.run wire`` (``--quick``: six minutes of codes).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from qtok_widgets.widgets import _wire

from .harness import measure

REPO = Path(__file__).resolve().parents[1]
WIRE_JS = REPO / "qtok_widgets" / "widgets" / "frontend" / "wire.js"

#: name -> (layers, codebook size, frame rate in Hz)
SHAPES = {
    "qwen 16x2048 12.5Hz": (16, 2048, 12.5),
    "dac44 32x1024 86Hz": (32, 1024, 44100 / 512),
    "32x32768 86Hz": (32, 32768, 44100 / 512),
    "32x65536 86Hz": (32, 65536, 44100 / 512),
}
BASE = "dac44 32x1024 86Hz"

_NODE = """
import { readFileSync } from "node:fs";
import { decodeCells } from %s;
const [path, bits, n, repeats] = process.argv.slice(1);
const bytes = new Uint8Array(readFileSync(path));
const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
decodeCells(view, Number(bits), Number(n));
const times = [];
let cells;
for (let i = 0; i < Number(repeats); i++) {
  const t0 = performance.now();
  cells = decodeCells(view, Number(bits), Number(n));
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
let sum = 0;
for (let i = 0; i < cells.length; i += 997) sum += cells[i];
console.log(JSON.stringify({ median_ms: times[times.length >> 1], checksum: sum }));
"""


def _node_decode(data: bytes, bits: int, n: int, repeats: int) -> dict[str, Any]:
    """Median ms of ``decodeCells`` on ``data`` in Node, and a checksum of what it held."""
    node = shutil.which("node")
    if node is None:
        return {"median_ms": None, "checksum": None}
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        script = _NODE % json.dumps(WIRE_JS.as_uri())
        out = subprocess.run(
            [node, "--input-type=module", "-e", script, f.name, str(bits), str(n), str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout)


def run(quick: bool) -> list[dict[str, Any]]:
    seconds = 360 if quick else 3600
    repeats = 3 if quick else 5
    rows: list[dict[str, Any]] = []
    rng = np.random.default_rng(0)
    for name, (n_layers, size, frame_rate) in SHAPES.items():
        n_frames = int(np.ceil(seconds * frame_rate))
        codes = rng.integers(0, size, (n_layers, n_frames))
        mask = rng.random((n_layers, n_frames)) < 0.1
        bits = _wire.cell_bits(size)

        def pack(
            codes: np.ndarray = codes, mask: np.ndarray = mask, size: int = size, bits: int = bits
        ) -> bytes:
            return _wire.encode_cells(_wire.pack_codes(codes, mask, size), bits)

        timing = measure(pack, repeats=repeats)
        data = timing["result"]
        n = codes.size
        held = codes.reshape(-1)[::997].astype(np.int64) | (mask.reshape(-1)[::997].astype(np.int64) << 30)
        js = _node_decode(data, bits, n, repeats)
        if js["checksum"] is not None and js["checksum"] != int(held.sum()):
            msg = f"{name}: the front end decoded other cells than Python packed"
            raise AssertionError(msg)
        rows.append(
            {
                "shape": name,
                "frames": n_frames,
                "cells": n,
                "bits": bits,
                "bytes_per_cell": round(len(data) / n, 3),
                "wire_mb": round(len(data) / 2**20, 2),
                "pack_ms": round(timing["median_s"] * 1000, 1),
                "js_decode_ms": None if js["median_ms"] is None else round(js["median_ms"], 1),
            }
        )
    base = next(r for r in rows if r["shape"] == BASE)
    for row in rows:
        row["bytes_x"] = round(row["wire_mb"] / base["wire_mb"], 2)
        row["pack_x"] = round(row["pack_ms"] / base["pack_ms"], 2)
        if row["js_decode_ms"] is not None and base["js_decode_ms"]:
            row["js_decode_x"] = round(row["js_decode_ms"] / base["js_decode_ms"], 2)
    return rows
