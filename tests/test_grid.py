"""Tests of qtok_widgets.grid and grid_io: file round trips, validation, the Qwen layout, safe loading
and hostile files that must stay small."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import re
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib import format as npy_format
from test_audio import _finishes_within  # one thread-with-a-deadline helper for both loaders

from qtok_widgets.errors import AudioFileNotFoundError, GridError, QtokError
from qtok_widgets.grid import CODE_DTYPE, CodeGrid
from qtok_widgets.grid_io import CODES_SUFFIXES, codes_format, max_frames


def _grid(n_frames: int = 40, *, seed: int = 0, masked: bool = True) -> CodeGrid:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2048, size=(16, n_frames))
    mask = np.zeros((16, n_frames), bool)
    if masked:
        mask[3, 5:9] = True
        mask[:, n_frames - 1] = True
    return CodeGrid(
        codes,
        codec="builtin",
        frame_rate=12.5,
        sample_rate=24000,
        codebook_size=2048,
        n_samples=n_frames * 1920 - 700,
        mask=mask,
    )


# ------------------------------------------------------------------ the object


def test_properties():
    grid = _grid(50)
    assert grid.shape == (16, 50)
    assert grid.n_layers == 16 and grid.n_frames == 50
    assert grid.samples_per_frame == 1920
    assert grid.duration == pytest.approx((50 * 1920 - 700) / 24000)
    assert grid.bitrate == pytest.approx(2200.0)
    assert grid.n_masked == 4 + 16
    assert grid.codes.dtype == CODE_DTYPE
    assert not grid.codes.flags.writeable and not grid.mask.flags.writeable
    np.testing.assert_allclose(grid.frame_times()[:3], [0.0, 0.08, 0.16])
    assert "shape=[16, 50]" in repr(grid)


def test_grid_copies_and_freezes_its_input():
    codes = np.zeros((16, 4), np.int64)
    grid = CodeGrid(codes, codec="builtin", frame_rate=12.5, sample_rate=24000, codebook_size=2048)
    codes[0, 0] = 7
    assert grid.codes[0, 0] == 0
    with pytest.raises(ValueError, match="read-only"):
        grid.codes[0, 0] = 1
    assert grid.n_samples == 4 * 1920


def test_with_codes_and_unmasked():
    grid = _grid(10)
    longer = grid.with_codes(np.zeros((16, 12), np.int64))
    assert longer.n_samples == 12 * 1920 and longer.codec == "builtin"
    same = grid.with_codes(grid.codes, mask=grid.mask)
    assert same == grid
    assert grid.unmasked().n_masked == 0
    assert grid.unmasked() != grid


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("suffix", [".pt", ".npz", ".json"])
def test_save_load_round_trip_keeps_codes_mask_and_metadata(tmp_path, suffix):
    grid = _grid(37)
    path = grid.save(tmp_path / f"codes{suffix}")
    back = CodeGrid.load(path)
    assert back == grid
    assert back.metadata() == grid.metadata()
    np.testing.assert_array_equal(back.mask, grid.mask)
    assert CodeGrid.from_bytes(path.read_bytes()) == grid  # format sniffed from content
    assert CodeGrid.from_bytes(grid.to_bytes(suffix), suffix) == grid


@pytest.mark.parametrize("suffix", [".pt", ".npz", ".json"])
def test_empty_grid_round_trips(tmp_path, suffix):
    grid = CodeGrid(
        np.zeros((16, 0), np.int64), codec="builtin", frame_rate=12.5, sample_rate=24000, codebook_size=2048
    )
    assert CodeGrid.load(grid.save(tmp_path / f"e{suffix}")) == grid


def test_pt_file_uses_the_qwen_layout(tmp_path):
    grid = _grid(20)
    obj = torch.load(grid.save(tmp_path / "c.pt"), weights_only=True)
    assert obj["audio_codes"].dtype == torch.int64
    assert tuple(obj["audio_codes"].shape) == (20, 16)  # [n_frames, n_layers]
    np.testing.assert_array_equal(obj["audio_codes"].numpy().T, grid.codes)
    assert obj["codec"] == "builtin"


def test_json_file_is_readable(tmp_path):
    grid = _grid(6)
    data = json.loads(grid.save(tmp_path / "c.json").read_text())
    assert data["format"] == "qtok-codes"
    assert data["shape"] == [16, 6]
    assert [3, 5] in data["masked"]


@pytest.mark.parametrize("suffix", [".wav", ".txt", ""])
def test_save_refuses_unknown_suffix(tmp_path, suffix):
    with pytest.raises(GridError, match=r"use one of \.pt, \.npz, \.json"):
        _grid(3).save(tmp_path / f"codes{suffix}")


# ------------------------------------------------------------------ the Qwen layouts


def _save_pt(path: Path, obj: object) -> Path:
    torch.save(obj, path)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda c: {"audio_codes": c},  # what qwen_tts's encode returns, one item
        lambda c: {"audio_codes": [c]},  # a one-item batch list
        lambda c: {"audio_codes": c[None]},  # [1, T, 16]
        lambda c: c,  # bare [T, 16]
        lambda c: c[None],  # bare [1, T, 16]
        lambda c: c.T.contiguous(),  # bare [16, T]
    ],
    ids=["dict", "dict-list", "dict-batch", "bare", "bare-batch", "bare-layer-major"],
)
def test_qwen_layouts_load(tmp_path, make):
    rng = np.random.default_rng(1)
    codes = torch.from_numpy(rng.integers(0, 2048, size=(30, 16)))  # [T, Q] LongTensor
    grid = CodeGrid.load(_save_pt(tmp_path / "q.pt", make(codes)))
    assert grid.shape == (16, 30)
    np.testing.assert_array_equal(grid.codes, codes.numpy().T)
    assert grid.codec == "qwen3-12hz"
    assert grid.frame_rate == 12.5 and grid.sample_rate == 24000 and grid.codebook_size == 2048
    assert grid.n_samples == 30 * 1920
    assert grid.n_masked == 0


def test_qwen_batch_of_two_is_refused(tmp_path):
    codes = torch.zeros((2, 30, 16), dtype=torch.long)
    with pytest.raises(GridError, match="hold 2 items; save one item per file"):
        CodeGrid.load(_save_pt(tmp_path / "b.pt", {"audio_codes": codes}))


# ------------------------------------------------------------------ validation


def _make(codes, **kw):
    args = {"codec": "builtin", "frame_rate": 12.5, "sample_rate": 24000, "codebook_size": 2048, **kw}
    return CodeGrid(codes, **args)


@pytest.mark.parametrize("shape", [(16,), (2, 16, 4), ()])
def test_wrong_shape(shape):
    with pytest.raises(GridError, match=r"codes must have shape \(n_layers, n_frames\)"):
        _make(np.zeros(shape, np.int64))


def test_float_codes_are_refused():
    with pytest.raises(GridError, match="codes must be integers, got dtype float32"):
        _make(np.full((16, 3), 1.5, np.float32))


@pytest.mark.parametrize(("value", "where"), [(2048, "layer 2, frame 1"), (-1, "layer 2, frame 1")])
def test_code_out_of_range_names_the_range(value, where):
    codes = np.zeros((16, 3), np.int64)
    codes[2, 1] = value
    with pytest.raises(
        GridError, match=rf"code {value} at {where} is out of range: codes must be in 0\.\.2047"
    ) as info:
        _make(codes)
    assert isinstance(info.value, QtokError)


def test_smaller_codebook_range_is_named():
    with pytest.raises(GridError, match=r"codes must be in 0\.\.1023"):
        _make(np.full((16, 2), 1500), codebook_size=1024)


def test_other_bad_fields():
    codes = np.zeros((16, 3), np.int64)
    with pytest.raises(GridError, match="mask shape"):
        _make(codes, mask=np.zeros((16, 4), bool))
    with pytest.raises(GridError, match="mask must be boolean"):
        _make(codes, mask=np.full((16, 3), 0.5))
    with pytest.raises(GridError, match="frame_rate must be a positive number"):
        _make(codes, frame_rate=0.0)
    with pytest.raises(GridError, match="sample_rate must be a positive integer"):
        _make(codes, sample_rate=-1)
    with pytest.raises(GridError, match="codebook_size must be a positive integer"):
        _make(codes, codebook_size=0)
    with pytest.raises(GridError, match=r"n_samples 99999 must be in 0\.\.5760"):
        _make(codes, n_samples=99999)


def test_float_tensor_in_pt_is_refused(tmp_path):
    path = _save_pt(tmp_path / "f.pt", {"audio_codes": torch.zeros((10, 16), dtype=torch.float32)})
    with pytest.raises(GridError, match=r"codes must be an integer tensor, got dtype torch\.float32"):
        CodeGrid.load(path)


def test_out_of_range_in_pt_names_file_and_range(tmp_path):
    codes = torch.zeros((10, 16), dtype=torch.long)
    codes[4, 0] = 5000
    path = _save_pt(tmp_path / "r.pt", {"audio_codes": codes})
    with pytest.raises(
        GridError, match=r"r\.pt: code 5000 at layer 0, frame 4 is out of range: codes must be in 0\.\.2047"
    ):
        CodeGrid.load(path)


def test_unexpected_keys_in_pt(tmp_path):
    path = _save_pt(tmp_path / "k.pt", {"audio_codes": torch.zeros((3, 16), dtype=torch.long), "extra": 1})
    with pytest.raises(GridError, match=r"unexpected keys \['extra'\]"):
        CodeGrid.load(path)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(AudioFileNotFoundError, match=r"absent\.pt: no such file"):
        CodeGrid.load(tmp_path / "absent.pt")
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(GridError, match=r"junk\.pt: not a readable \.pt file"):
        CodeGrid.load(bad)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(GridError, match=r"empty\.npz: empty file \(0 bytes\)"):
        CodeGrid.load(empty)
    with pytest.raises(GridError, match=r"codes\.wav: unsupported codes format '\.wav'"):
        CodeGrid.load(_save_pt(tmp_path / "codes.wav", {}))
    with pytest.raises(GridError, match="not a codes file"):
        CodeGrid.from_bytes(b"RIFF....WAVE")


# ------------------------------------------------------------------ loading never runs code


class _Planted:
    """Unpickling this object would create a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


class _PlantedShell:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("planted", [_Planted, _PlantedShell])
def test_pt_with_code_on_load_is_refused_and_never_runs(tmp_path, planted):
    marker = tmp_path / "pwned"
    payload = {"audio_codes": torch.zeros((4, 16), dtype=torch.long), "codec": planted(marker)}
    path = tmp_path / "evil.pt"
    torch.save(payload, path)
    # the payload is real: a plain unpickler would run it
    with zipfile.ZipFile(path) as zf:
        data_pkl = next(n for n in zf.namelist() if n.endswith("data.pkl"))
        assert b"touch" in zf.read(data_pkl) or b"system" in zf.read(data_pkl)
    with pytest.raises(
        GridError, match=r"evil\.pt: refused: the \.pt file holds objects other than tensors"
    ) as info:
        CodeGrid.load(path)
    assert "\n" not in str(info.value)
    assert not marker.exists()
    with pytest.raises(GridError, match="refused"):
        CodeGrid.from_bytes(path.read_bytes())
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
def test_plain_pickle_named_pt_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "old.pt"
    path.write_bytes(pickle.dumps(_Planted(marker)))
    with pytest.raises(GridError):
        CodeGrid.load(path)
    assert not marker.exists()


def test_npz_with_object_array_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    np.savez(buf, codes=np.array([[_Planted(marker)]], dtype=object))
    path = tmp_path / "evil.npz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(GridError, match=r"evil\.npz: refused: the \.npz file holds pickled objects"):
        CodeGrid.load(path)
    assert not marker.exists()


def test_npz_float_and_extra_arrays_are_refused(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, codes=np.zeros((16, 3), np.float32))
    with pytest.raises(GridError, match="codes must be integers, got dtype float32"):
        CodeGrid.load(path)
    np.savez(path, codes=np.zeros((16, 3), np.int64), script=np.array("x"))
    with pytest.raises(GridError, match=r"unexpected arrays \['script'\]"):
        CodeGrid.load(path)


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([["1", "2"]] * 16, "'codes' must contain only integers"),
        ([[1.0, 2.0]] * 16, "'codes' must contain only integers"),
        ([[1.5, 2]] * 16, "'codes' must contain only integers"),
        ([[True, 2]] * 16, "'codes' must contain only integers"),
        ("0 1 2", "'codes' must be a list of layers"),
        ([[1, 2], [3]] + [[1, 2]] * 14, "every layer must have the same number of frames"),
    ],
)
def test_json_with_strings_or_floats_is_refused(tmp_path, codes, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"codes": codes, "codec": "builtin"}))
    with pytest.raises(GridError, match=message):
        CodeGrid.load(path)


def test_json_bad_metadata_and_syntax(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"codes": [[1, 2]] * 16, "sample_rate": "24000"}))
    with pytest.raises(GridError, match="'sample_rate' must be int, got str"):
        CodeGrid.load(path)
    path.write_text(json.dumps({"codes": [[1, 2]] * 16, "masked": [[99, 0]]}))
    with pytest.raises(GridError, match=r"'masked' must list \[layer, frame\] pairs inside the grid"):
        CodeGrid.load(path)
    path.write_text('{"codes": [[1, 2]')
    with pytest.raises(GridError, match=r"m\.json: not valid JSON codes"):
        CodeGrid.load(path)
    path.write_text("[1, 2, 3]")
    with pytest.raises(GridError, match="expected a JSON object with 'codes'"):
        CodeGrid.load(path)


# ------------------------------------------------------------------ hostile files stay small


def test_codes_suffixes_are_one_list_and_resolve_paths():
    assert CODES_SUFFIXES == (".pt", ".npz", ".json")
    assert codes_format("speech.NPZ") == ".npz"
    with pytest.raises(
        GridError, match=r"clip\.wav: unsupported codes format '\.wav'; use one of \.pt, \.npz, \.json"
    ):
        codes_format("clip.wav")


def _small(fn):
    """Run ``fn`` (which must raise GridError) and return ``(error, peak traced MB)``; numpy and
    Python allocations are traced, so an array sized from a hostile header would show."""
    tracemalloc.start()
    try:
        with pytest.raises(GridError) as info:
            fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    assert "\n" not in str(info.value)
    return info.value, peak


def _write_npy_member(zf: zipfile.ZipFile, name: str, dtype: str, shape: tuple[int, ...], fill: int = 0):
    """Write a ``.npy`` member of ``shape`` without holding its data in memory."""
    with zf.open(name, "w", force_zip64=True) as out:
        npy_format.write_array_header_1_0(out, {"descr": dtype, "fortran_order": False, "shape": shape})
        left = math.prod(shape) * np.dtype(dtype).itemsize
        chunk = bytes([fill]) * (1 << 20)
        while left:
            out.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))


def test_npz_of_160_million_zero_codes_is_refused_by_its_expanded_size(tmp_path):
    # the report's file: 16 x 10 million int16 zeros, deflated to about 310 kB
    path = tmp_path / "zeros.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _write_npy_member(zf, "codes.npy", "<i2", (16, 10_000_000))
    assert path.stat().st_size < 400_000
    error, peak_mb = _small(lambda: CodeGrid.load(path))
    assert re.search(
        r"zeros\.npz: the \.npz archive expands to 305\.2 MB, above the limit of 80\.0 MB", str(error)
    )
    assert peak_mb < 5


def test_npz_header_with_too_many_frames_is_refused_before_reading(tmp_path):
    path = tmp_path / "long.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        _write_npy_member(zf, "codes.npy", "|u1", (16, 100_000))  # 8000 s at 12.5 Hz
    error, peak_mb = _small(lambda: CodeGrid.load(path))
    assert re.search(
        r"long\.npz: codes have 100000 frames \(8000\.0 s at 12\.5 Hz\), above the limit of 45000 frames "
        r"\(3600 s; max_duration_s= or QTOK_MAX_DURATION_S\)",
        str(error),
    )
    assert peak_mb < 1  # the 1.6 MB of codes were never read
    # the same limit as audio: raising it admits the file
    assert CodeGrid.load(path, max_duration_s=8000).shape == (16, 100_000)


def test_npz_header_must_match_its_entry_size(tmp_path):
    path = tmp_path / "lies.npz"
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("codes.npy", "w") as out:
            npy_format.write_array_header_1_0(
                out, {"descr": "<i8", "fortran_order": False, "shape": (16, 40_000)}
            )
            out.write(bytes(16 * 8))
    with pytest.raises(
        GridError, match=r"array 'codes\.npy' declares shape \(16, 40000\) of int64 \(5120000 bytes\)"
    ):
        CodeGrid.load(path)


def test_npz_with_too_many_layers_or_a_list_as_metadata(tmp_path):
    path = tmp_path / "layers.npz"
    np.savez(path, codes=np.zeros((65, 3), np.int16))
    with pytest.raises(
        GridError, match=r"layers\.npz: codes have 65 layers, above the limit: n_layers must be in 1\.\.64"
    ):
        CodeGrid.load(path)
    np.savez(path, codes=np.zeros((16, 3), np.int16), frame_rate=np.array([12.5, 25.0]))
    with pytest.raises(GridError, match=r"'frame_rate' must be a single number, got shape \(2,\)"):
        CodeGrid.load(path)


def test_zip_with_other_compression_or_a_lying_size_is_refused(tmp_path):
    grid = _grid(8)
    path = tmp_path / "bz.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_BZIP2) as zf:
        zf.writestr("codes.npy", _npy_bytes(grid.codes))
    with pytest.raises(
        GridError, match=r"uses compression method 12; only stored and deflated entries are read"
    ):
        CodeGrid.load(path)
    # a central directory that claims 4 GB for a few compressed bytes
    data = bytearray(grid.to_bytes(".npz"))
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    with pytest.raises(
        GridError, match=r"claims 4294967280 bytes from \d+ compressed bytes, more than its compression"
    ):
        CodeGrid.from_bytes(bytes(data), ".npz")


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _deflated_pt(path: Path, n_frames: int, n_layers: int = 16) -> Path:
    """A .pt file of an ``[n_frames, n_layers]`` int64 zero tensor with deflated entries, written
    without holding the tensor's bytes in memory (its skeleton from torch.save under skip_data)."""
    skeleton = path.with_suffix(".skeleton")
    with torch.serialization.skip_data():
        torch.save({"audio_codes": torch.empty(n_frames, n_layers, dtype=torch.int64)}, skeleton)
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(skeleton) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            with dst.open(info.filename, "w", force_zip64=True) as out:
                if re.search(r"/data/\d+$", info.filename):
                    left = info.file_size
                    while left:
                        out.write(zeros[: min(left, len(zeros))])
                        left -= min(left, len(zeros))
                else:
                    out.write(src.read(info))
    skeleton.unlink()
    return path


def test_pt_holding_a_deflated_160_mb_tensor_is_refused_by_its_size(tmp_path):
    path = _deflated_pt(tmp_path / "big.pt", 1_250_000)
    assert path.stat().st_size < 200_000
    error, peak_mb = _small(lambda: CodeGrid.load(path))
    assert re.search(
        r"big\.pt: the \.pt archive expands to 152\.6 MB, above the limit of 80\.0 MB", str(error)
    )
    assert peak_mb < 5
    # a small one of the same making is a real torch file and loads
    assert CodeGrid.load(_deflated_pt(tmp_path / "small.pt", 40)).shape == (16, 40)


def test_pt_with_too_many_frames_is_refused(tmp_path):
    path = _save_pt(tmp_path / "long.pt", {"audio_codes": torch.zeros((45_001, 16), dtype=torch.int16)})
    with pytest.raises(
        GridError, match=r"long\.pt: codes have 45001 frames \(3600\.1 s at 12\.5 Hz\), above the limit"
    ):
        CodeGrid.load(path)
    assert CodeGrid.load(path, max_duration_s=3601).n_frames == 45_001


def test_legacy_pickle_pt_is_refused_before_loading(tmp_path):
    path = tmp_path / "old.pt"
    torch.save(
        {"audio_codes": torch.zeros((4, 16), dtype=torch.long)}, path, _use_new_zipfile_serialization=False
    )
    with pytest.raises(
        GridError, match=r"old\.pt: not a readable \.pt file: not a torch zip archive \(a pickle"
    ):
        CodeGrid.load(path)


def _json(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "codes.json"
    path.write_text(text)
    return path


_BASE = {
    "codes": [[1, 2, 3]] * 16,
    "codec": "builtin",
    "frame_rate": 12.5,
    "sample_rate": 24000,
    "codebook_size": 2048,
}


def test_json_claiming_a_huge_codebook_is_refused(tmp_path):
    path = _json(tmp_path, json.dumps({**_BASE, "codebook_size": 2**31}))
    assert path.stat().st_size < 2000
    error, peak_mb = _small(lambda: CodeGrid.load(path))
    assert "codes.json: codebook_size 2147483648 is out of range: it must be in 1..1048576" in str(error)
    assert peak_mb < 1
    with pytest.raises(
        GridError, match=r"codebook_size 2147483648 is above the limit: it must be in 1\.\.1048576"
    ):
        _make(np.zeros((16, 2), np.int64), codebook_size=2**31)


def test_json_nested_100k_deep_is_refused_without_recursion(tmp_path):
    path = _json(tmp_path, '{"codes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(
        GridError, match=r"codes\.json: JSON codes are nested 100001 deep, above the limit of 8"
    ):
        CodeGrid.load(path)
    # brackets inside strings do not count
    assert (
        CodeGrid.load(_json(tmp_path, json.dumps({**_BASE, "codec": "[[[[[[[[[[[[x"}))).codec
        == "[[[[[[[[[[[[x"
    )


@pytest.mark.parametrize("where", ["code", "codebook_size", "n_samples", "masked"])
def test_json_integer_of_400_digits_is_refused(tmp_path, where):
    huge = "9" * 400
    obj = {**_BASE, "masked": [[0, 0]]}
    text = json.dumps(obj)
    text = {
        "code": text.replace("[1, 2, 3]", f"[1, 2, {huge}]", 1),
        "codebook_size": text.replace("2048", huge),
        "n_samples": text[:-1] + f', "n_samples": {huge}}}',
        "masked": text.replace("[[0, 0]]", f"[[0, {huge}]]"),
    }[where]
    with pytest.raises(
        GridError, match=r"codes\.json: JSON codes hold a number of 400 digits, above the limit of 19"
    ):
        CodeGrid.load(_json(tmp_path, text))


def test_dict_with_a_huge_integer_is_refused_by_name():
    with pytest.raises(
        GridError, match=r"code of 401 digits at layer 0, frame 2 is out of range: codes must be in 0\.\.2047"
    ):
        CodeGrid.from_dict({**_BASE, "codes": [[1, 2, 10**400]] * 16})


@pytest.mark.parametrize(
    ("masked", "message"),
    [
        (5, r"'masked' must be a list of \[layer, frame\] pairs, got int"),
        ("0,0", r"'masked' must be a list of \[layer, frame\] pairs, got str"),
        ([[0]], r"'masked' must list \[layer, frame\] pairs inside the grid, got \[0\]"),
        (
            [[0, True]],
            r"'masked' must list \[layer, frame\] pairs inside the grid, got \[0, true\]|got \[0, True\]",
        ),
        ([5], r"'masked' must list \[layer, frame\] pairs inside the grid, got 5"),
    ],
)
def test_json_masked_of_the_wrong_type(tmp_path, masked, message):
    with pytest.raises(GridError, match=message):
        CodeGrid.load(_json(tmp_path, json.dumps({**_BASE, "masked": masked})))


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_numbers_are_refused(tmp_path, constant):
    text = json.dumps(_BASE).replace("12.5", constant)
    with pytest.raises(
        GridError, match=rf"JSON number {constant} is not allowed in codes; numbers must be finite"
    ):
        CodeGrid.load(_json(tmp_path, text))


def test_json_with_too_many_lists_is_refused_before_parsing(tmp_path):
    text = json.dumps({**_BASE, "masked": "X"}).replace('"X"', "[" + ",".join(["[]"] * (2**20)) + "]")
    error, peak_mb = _small(lambda: CodeGrid.load(_json(tmp_path, text)))
    assert re.search(r"JSON codes hold 10485\d\d lists and objects, above the limit of 1048576", str(error))
    assert peak_mb < 40  # parsing them would take about 60 MB


def test_metadata_out_of_range_is_refused(tmp_path):
    for changes, message in [
        ({"sample_rate": 10**12}, r"sample_rate 1000000000000 is out of range: it must be in 1\.\.768000"),
        ({"frame_rate": 1e308}, r"frame_rate 1e\+308 Hz is above sample_rate 24000 Hz"),
        ({"n_samples": [1]}, r"'n_samples' must be int, got list"),
        ({"codec": "x" * 1000}, r"'codec' is a name of 1000 characters, above the limit of 200"),
    ]:
        with pytest.raises(GridError, match=message):
            CodeGrid.load(_json(tmp_path, json.dumps({**_BASE, **changes})))
    codes = np.zeros((16, 3), np.int64)
    with pytest.raises(
        GridError, match=r"n_samples must be a whole number of samples in 0\.\.5760, got \[1\]"
    ):
        _make(codes, n_samples=[1])
    with pytest.raises(GridError, match=r"sample_rate 1000000 Hz is above the limit"):
        _make(codes, sample_rate=1_000_000)


@pytest.mark.parametrize(("suffix", "cap_mb"), [(".json", "16.0"), (".npz", "80.0"), (".pt", "80.0")])
def test_oversized_file_is_refused_from_its_size(tmp_path, suffix, cap_mb):
    path = tmp_path / f"huge{suffix}"
    with open(path, "wb") as fh:
        fh.truncate(100 * 2**20)  # sparse: nothing is written, and nothing may be read
    error, peak_mb = _small(lambda: CodeGrid.load(path))
    assert f"huge{suffix}: codes file is 100.0 MB, above the limit of {cap_mb} MB for {suffix} files" in str(
        error
    )
    assert peak_mb < 1
    with pytest.raises(GridError, match=rf"codes file is 100\.0 MB, above the limit of {cap_mb} MB"):
        CodeGrid.from_bytes(bytes(100 * 2**20), suffix)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_at_once(tmp_path):
    fifo = tmp_path / "codes.npz"
    os.mkfifo(fifo)
    error = _finishes_within(5, lambda: CodeGrid.load(fifo))
    assert isinstance(error, GridError)
    assert (
        str(error)
        == f"{fifo}: is a FIFO (named pipe), not a regular file; only regular files are read as a codes file"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_symlink_to_dev_zero_is_refused_at_once(tmp_path):
    link = tmp_path / "codes.pt"
    link.symlink_to("/dev/zero")
    error = _finishes_within(5, lambda: CodeGrid.load(link))
    assert isinstance(error, GridError)
    assert "codes.pt: is a character device, not a regular file" in str(error)
    with pytest.raises(GridError, match="is a directory, not a codes file"):
        CodeGrid.load(tmp_path)


@pytest.mark.parametrize("suffix", [".pt", ".npz", ".json"])
def test_truncated_and_flipped_files_give_one_grid_error(suffix):
    grid = _grid(40)
    data = grid.to_bytes(suffix)
    cuts = [1, 3, len(data) // 4, len(data) // 2, len(data) - 2]  # JSON ends in "}\n"
    for n in cuts:
        with pytest.raises(GridError, match=r"^damaged: ") as info:
            CodeGrid.from_bytes(data[:n], suffix, source="damaged")
        assert "\n" not in str(info.value)
    refused = 0
    for pos in range(0, len(data), max(1, len(data) // 80)):
        flipped = bytearray(data)
        flipped[pos] ^= 0x5A
        try:
            back = CodeGrid.from_bytes(bytes(flipped), suffix, source="damaged")
        except GridError as exc:
            refused += 1
            assert "\n" not in str(exc) and str(exc).startswith("damaged: ")
            continue
        if suffix != ".json":  # zip entries carry CRCs: a flip that passes changed no data
            assert back == grid, f"flip at byte {pos} changed the grid silently"
    assert refused >= 20


def test_max_frames_follows_the_audio_duration_limit(monkeypatch):
    assert max_frames(12.5) == 45_000
    assert max_frames(12.5, max_duration_s=10) == 125
    monkeypatch.setenv("QTOK_MAX_DURATION_S", "60")
    assert max_frames(75.0) == 4500
    with pytest.raises(QtokError, match=r"max_duration_s must be a finite number of seconds > 0, got nan"):
        max_frames(12.5, max_duration_s=float("nan"))
    with pytest.raises(GridError, match="frame_rate must be a positive number of Hz"):
        max_frames(float("inf"))
