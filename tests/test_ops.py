"""Tests of the operation registry (qtok_widgets.ops): validation on construction, JSON and Python
round trips for every operation, randomize, and generated Python that never runs recipe text."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_session import FAST, make_grid, random_op

from qtok_widgets import EditSession, edits, ops
from qtok_widgets.errors import EditError


def test_registry_holds_every_operation_once():
    assert list(ops.OPS) == [
        "mask",
        "unmask",
        "replace",
        "replace_code",
        "splice",
        "interpolate",
        "randomize",
        "delete_frames",
        "duplicate_frames",
        "reset",
        # qtok_widgets.prosody, imported at the end of ops.py
        "pitch_shift",
        "gain",
        "time_stretch",
    ]
    for name, cls in ops.OPS.items():
        assert cls.name == name and dataclasses.is_dataclass(cls)


@pytest.mark.parametrize(
    ("build", "fragment"),
    [
        (
            lambda: ops.Replace(frames=[0], code=-1),
            "code -1 is out of range: code must be an int in 0..codebook_size - 1",
        ),
        (lambda: ops.Replace(frames=[0]), "replace is missing code"),
        (lambda: ops.Interpolate(alpha=1.5), "alpha 1.5 is out of range: alpha must be in 0..1"),
        (lambda: ops.Interpolate(alpha=float("nan")), "alpha must be in 0..1"),
        (lambda: ops.DuplicateFrames(frames=[0], times=65), "times must be an int in 1..64"),
        (lambda: ops.Splice(source="x; import os", dst_start=0), "grid name (a Python identifier"),
        (
            lambda: ops.Splice(source="original", dst_start=0, mode="mix"),
            "mode must be one of 'replace', 'insert'",
        ),
        (lambda: ops.Mask(frames={"a": 1}), "'frames' must be null, an int"),
        (lambda: ops.Randomize(seed=2**32), "seed 4294967296 is out of range"),
        (lambda: ops.from_json({"op": "blur"}), "unknown op 'blur'"),
        (lambda: ops.from_json(["mask"]), "an op must be a dict"),
        (lambda: ops.from_json({"op": "mask", "frame": 1}), "unknown keys ['frame']"),
    ],
)
def test_construction_validates_with_one_line(build, fragment):
    with pytest.raises(EditError) as info:
        build()
    assert fragment in str(info.value) and "\n" not in str(info.value)


@FAST
@given(st.data())
def test_every_recorded_op_round_trips_through_json(data):
    s = EditSession(make_grid(data.draw(st.integers(2, 20)), data.draw(st.integers(0, 99))))
    other = make_grid(6, 5)
    for _ in range(data.draw(st.integers(1, 6))):
        random_op(s, data, other)
    for op in s.operations:
        assert ops.from_json(json.loads(json.dumps(op.to_json()))) == op
        assert op.label().startswith(op.name)


def test_create_resolves_seconds_like_the_session():
    grid = make_grid(40)
    op = ops.Mask.create(grid, seconds=(0, 0.56), layers=[3])
    assert op.frames == "0:7"  # 0.56 s * 12.5 Hz = 7.000000000000001 frames: the tolerance keeps 7
    assert op.plan(grid).selection.rounded is False


def test_growth_is_bounded_by_the_duration_limit(monkeypatch):
    monkeypatch.setenv("QTOK_MAX_DURATION_S", "4")  # 50 frames at 12.5 Hz
    s = EditSession(make_grid(20))
    s.duplicate_frames("0:10", times=2)  # 40 frames: fine
    with pytest.raises(EditError, match="would grow the grid to 80 frames; an edit may leave at most 50"):
        s.duplicate_frames(None, times=1)
    assert s.grid.n_frames == 40


class TestRandomize:
    def test_draws_from_each_layers_own_codes_and_keeps_masks(self):
        grid = make_grid(60, 3)
        out = edits.randomize(grid, "10:30", [2, 9], seed=5)
        assert out.mask.tolist() == grid.mask.tolist()
        for layer in (2, 9):
            assert set(out.codes[layer, 10:30]) <= set(grid.codes[layer][~grid.mask[layer]])
        untouched = np.ones(grid.shape, bool)
        untouched[[2, 9], 10:30] = False
        assert (out.codes[untouched] == grid.codes[untouched]).all()

    def test_same_seed_same_codes_other_seed_other_codes(self):
        grid = make_grid(200, 1)
        a = edits.randomize(grid, None, [0], seed=1)
        assert a == edits.randomize(grid, None, [0], seed=1)
        assert a != edits.randomize(grid, None, [0], seed=2)

    def test_follows_the_layer_distribution(self):
        codes = np.zeros((16, 400), int)
        codes[4, :300] = 7  # layer 4: code 7 three times as often as code 9
        codes[4, 300:] = 9
        grid = make_grid(400).with_codes(codes, np.zeros((16, 400), bool))
        drawn = edits.randomize(grid, None, [4], seed=0).codes[4]
        assert set(drawn) == {7, 9} and 0.65 < np.mean(drawn == 7) < 0.85

    def test_session_records_the_seed_so_recipes_and_python_replay_it(self):
        grid = make_grid(30, 2)
        s = EditSession(grid)
        s.randomize("5:20", [1, 2])  # no seed given: one is chosen and recorded
        seed = s.history[0]["seed"]
        assert isinstance(seed, int) and 0 <= seed < 2**32
        assert EditSession.from_json(s.to_json(), grid).grid == s.grid
        namespace = {"grid": grid, "codec": None}
        exec(s.to_python(), namespace)
        assert namespace["session"].grid == s.grid
        s.undo()
        assert s.grid == grid


HOSTILE_NAMES = [
    "__import__('os').system('touch PWNED')",
    "x'] ; open('PWNED','w') #",
    'a"+open("PWNED","w").name+"',
    "grid1\nimport os",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_grid_names_are_refused_and_never_reach_code(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grid, other = make_grid(20), make_grid(8, 4)
    s = EditSession(grid)
    s.splice(other, [0, 1], 3)
    recipe = json.loads(s.to_json())
    recipe["grids"] = {name: recipe["grids"]["grid1"]}
    recipe["ops"][0]["source"] = name
    with pytest.raises(EditError) as info:
        EditSession.from_json(json.dumps(recipe), grid)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "PWNED").exists()


def test_generated_python_writes_names_as_string_literals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    grid = make_grid(20)
    other = make_grid(8, 4)
    s = EditSession(grid)
    s.splice(other, [0], 2)
    code = s.to_python()
    assert "grids['grid1']" in code
    namespace = {"grid": grid, "codec": None}
    exec(code, namespace)
    assert namespace["session"].grid == s.grid
    with pytest.raises(EditError, match="must name a Python variable"):
        s.to_python(grid="grid; open('PWNED', 'w')")
    assert not (tmp_path / "PWNED").exists()


def test_toolbar_specs_come_from_the_classes():
    grid = make_grid(10)
    specs = {cls.name: cls.toolbar_spec(grid) for cls in ops.OPS.values() if cls.selection}
    assert list(specs) == [
        "mask",
        "unmask",
        "replace",
        "interpolate",
        "randomize",
        "delete_frames",
        "duplicate_frames",
        "pitch_shift",
        "gain",
        "time_stretch",
    ]
    assert specs["replace"]["params"][0] | {"help": ""} == {
        "name": "code",
        "label": "",
        "help": "",
        "kind": "int",
        "default": 0,
        "min": 0,
        "max": 2047,
        "step": 1,
        "optional": False,
    }
    assert [p["name"] for p in specs["interpolate"]["params"]] == ["alpha", "target"]
    assert specs["randomize"]["params"][0]["optional"] is True
    assert specs["delete_frames"]["selection"] == "frames"


def test_qtok_edit_replays_a_randomize_recipe(tmp_path):
    from test_cli import ok, qtok

    from qtok_widgets import CodeGrid

    grid = make_grid(40, 9)
    codes = tmp_path / "codes.npz"
    grid.save(codes)
    s = EditSession(grid)
    s.randomize("0:30", "0:4", seed=123)
    recipe = tmp_path / "recipe.json"
    recipe.write_text(s.to_json())
    out = tmp_path / "edited.npz"
    ok(qtok("edit", codes, "--recipe", recipe, "-o", out, "--codec", "builtin"))
    assert CodeGrid.load(out) == s.grid
