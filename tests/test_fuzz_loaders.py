"""Fuzzing the codes loaders (qtok_widgets.grid_io) with hypothesis, on a fixed budget.

Every example starts from a real codes file, the built-in codec's encoding of a speech clip in
tests/data saved as ``.pt``, ``.npz`` and ``.json``, and damages it: bytes flipped, set, cut,
inserted or repeated, or fields of the right names given values of any type and shape. The
loader must answer each with a grid or one ``QtokError`` line, nothing else, and the memory one
load allocates (traced by tracemalloc: Python objects and numpy arrays; on Linux also the growth
of the peak resident set, which counts torch's own allocations) must stay under
``MEMORY_BUDGET_MB``. The examples are derandomized so CI runs the same ones every time; the
whole file takes about 15 s.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from qtok_widgets.errors import QtokError
from qtok_widgets.grid import CodeGrid

#: Most memory one load may allocate, in MB (a real file here is about 10 kB).
MEMORY_BUDGET_MB = 200

_BUDGET = settings(
    max_examples=200,
    deadline=2000,  # ms per example; a load takes a few
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_FORMATS = (".pt", ".npz", ".json")


@pytest.fixture(scope="module")
def real_grid(speech_roundtrip) -> CodeGrid:
    """The speech clip's codes with a few masked cells, so that every field is in the files."""
    grid = speech_roundtrip[0]
    mask = grid.mask.copy()
    mask[3, 5:9] = True
    mask[:, -1] = True
    return grid.replace(mask=mask)


@pytest.fixture(scope="module")
def real_files(real_grid) -> dict[str, bytes]:
    files = {fmt: real_grid.to_bytes(fmt) for fmt in _FORMATS}
    for fmt, data in files.items():  # each loads, and loads back the same (the loaders are warm)
        assert CodeGrid.from_bytes(data, fmt) == real_grid
    return files


def _rss_mb(field: str) -> float | None:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process in MB (Linux), or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the peak resident memory counter (Linux ``clear_refs``); False where refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _load_within_budget(data: bytes, fmt: str | None) -> CodeGrid | None:
    """Load; return the grid or None for a QtokError (one line), failing on anything else.

    Memory is checked twice: tracemalloc's peak (Python objects, numpy arrays) and, on Linux,
    the growth of the peak resident set across the call (torch's own allocations too).
    """
    rss_before = _rss_mb("VmRSS") if _reset_peak_rss() else None
    tracemalloc.start()
    try:
        try:
            grid = CodeGrid.from_bytes(data, fmt, source="fuzzed")
        except QtokError as exc:
            message = str(exc)
            assert message.startswith("fuzzed: ") or "max_duration_s" in message, message
            assert "\n" not in message, message
            grid = None
        traced_mb = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert traced_mb < MEMORY_BUDGET_MB, f"one load allocated {traced_mb:.0f} MB"
    peak = _rss_mb("VmHWM")
    if rss_before is not None and peak is not None:
        grown = peak - rss_before
        assert grown < MEMORY_BUDGET_MB, f"one load grew the resident set by {grown:.0f} MB"
    return grid


# ------------------------------------------------------------------ damaged bytes

_EDIT = st.tuples(
    st.sampled_from(["flip", "set", "cut", "insert", "truncate", "repeat"]),
    st.floats(0, 1, allow_nan=False),  # where, as a fraction of the length
    st.integers(0, 255),  # a byte value
    st.integers(1, 64),  # how many bytes
)


def _damage(data: bytes, edits: list[tuple[str, float, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, where, value, count in edits:
        pos = min(int(where * len(out)), max(len(out) - 1, 0))
        if kind == "flip" and out:
            out[pos] ^= 1 << (value % 8)
        elif kind == "set" and out:
            out[pos : pos + count] = bytes([value]) * len(out[pos : pos + count])
        elif kind == "cut":
            del out[pos : pos + count]
        elif kind == "insert":
            out[pos:pos] = bytes([value]) * count
        elif kind == "truncate":
            del out[pos:]
        elif kind == "repeat":
            out[pos:pos] = out[pos : pos + count] * (value % 8 + 1)
    return bytes(out)


@pytest.mark.parametrize("fmt", _FORMATS)
@settings(_BUDGET, max_examples=400)
@given(edits=st.lists(_EDIT, min_size=1, max_size=6), sniff=st.booleans())
def test_damaged_codes_files_give_a_grid_or_one_qtok_error(real_files, real_grid, fmt, edits, sniff):
    grid = _load_within_budget(_damage(real_files[fmt], edits), None if sniff else fmt)
    if grid is not None and fmt != ".json" and not sniff:
        # zip entries carry CRCs: damage that passes touched no data
        assert grid == real_grid


# ------------------------------------------------------------------ right names, any values

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=40,
)
_JSON_KEYS = ("codes", "masked", "codec", "frame_rate", "sample_rate", "codebook_size", "n_samples", "shape")


@settings(_BUDGET, max_examples=300)  # JSON loads are the cheapest
@given(changes=st.dictionaries(st.sampled_from(_JSON_KEYS), _JSON_VALUES, min_size=1, max_size=2))
def test_json_fields_of_any_value(real_grid, changes):
    obj = {**real_grid.to_dict(), **changes}
    _load_within_budget(json.dumps(obj).encode(), ".json")


_ARRAYS = hnp.arrays(
    dtype=st.sampled_from(
        [
            np.int8,
            np.uint8,
            np.int16,
            np.int32,
            np.int64,
            np.uint64,
            np.float32,
            np.float64,
            np.bool_,
            "<U8",
            "S4",
        ]
    ),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=20),
)
_NPZ_KEYS = ("codes", "mask", "codec", "frame_rate", "sample_rate", "codebook_size", "n_samples", "extra")


@_BUDGET
@given(changes=st.dictionaries(st.sampled_from(_NPZ_KEYS), _ARRAYS, min_size=1, max_size=4))
def test_npz_fields_of_any_array(real_grid, changes):
    fields = {
        "codes": real_grid.codes,
        "mask": real_grid.mask,
        **{key: np.array(value) for key, value in real_grid.metadata().items()},
        **changes,
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **fields)
    _load_within_budget(buf.getvalue(), ".npz")


_PT_VALUES = (
    _ARRAYS.filter(lambda a: a.dtype.kind in "biuf").map(torch.from_numpy)
    | st.lists(_ARRAYS.filter(lambda a: a.dtype.kind in "iu").map(torch.from_numpy), max_size=3)
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.none()
)
_PT_KEYS = (
    "audio_codes",
    "mask",
    "codec",
    "frame_rate",
    "sample_rate",
    "codebook_size",
    "n_samples",
    "extra",
)


@_BUDGET
@given(changes=st.dictionaries(st.sampled_from(_PT_KEYS), _PT_VALUES, min_size=1, max_size=4))
def test_pt_fields_of_any_value(real_grid, changes):
    payload = {
        "audio_codes": torch.from_numpy(real_grid.codes.T.astype(np.int64)),
        "mask": torch.from_numpy(real_grid.mask.copy()),
        **real_grid.metadata(),
        **changes,
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    _load_within_budget(buf.getvalue(), ".pt")
