"""Tests of qtok_widgets.grid: file round trips, validation, the Qwen layout, and safe loading."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from qtok_widgets.errors import AudioFileNotFoundError, GridError, QtokError
from qtok_widgets.grid import CODE_DTYPE, CodeGrid


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
