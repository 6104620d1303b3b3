"""Tests of Delta (qtok_widgets.delta): apply/revert, compactness and which frames changed."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_edits import FAST, grids, make_grid, runs

from qtok_widgets import CodeGrid, edits, ops
from qtok_widgets.delta import Delta, plan_cells

op_names = st.sampled_from(
    ["mask", "unmask", "replace", "replace_code", "splice", "insert", "delete", "duplicate", "randomize"]
)


def plan(grid: CodeGrid, name: str, data) -> Delta:
    a, b = data.draw(runs(grid.n_frames))
    layers = data.draw(st.lists(st.integers(0, 15), min_size=1, max_size=4))
    if name in ("mask", "unmask"):
        cls = ops.Mask if name == "mask" else ops.Unmask
        return cls.create(grid, slice(a, b), layers).plan(grid)
    if name == "replace":
        return ops.Replace.create(grid, slice(a, b), layers, data.draw(st.integers(0, 2047))).plan(grid)
    if name == "replace_code":
        return ops.ReplaceCode.create(grid, int(grid.codes[layers[0], a]), 0, layers).plan(grid)
    if name == "splice":
        return ops.Splice.create(grid, grid, slice(a, b), 0, layers).plan(grid)
    if name == "insert":
        dst = data.draw(st.integers(0, grid.n_frames))
        return ops.Splice.create(grid, grid, slice(a, b), dst, layers, "insert").plan(grid)
    if name == "randomize":
        return ops.Randomize.create(grid, slice(a, b), layers, data.draw(st.integers(0, 99))).plan(grid)
    if name == "delete" and grid.n_frames > 1:
        return ops.DeleteFrames.create(grid, slice(a, min(b, a + grid.n_frames - 1))).plan(grid)
    return ops.DuplicateFrames.create(grid, slice(a, b), data.draw(st.integers(1, 2))).plan(grid)


def differing_frames(a: CodeGrid, b: CodeGrid) -> list[int]:
    """Frames of ``b`` whose column differs from ``a`` (all from the first difference on a length change)."""
    m = min(a.n_frames, b.n_frames)
    diff = np.flatnonzero(((a.codes[:, :m] != b.codes[:, :m]) | (a.mask[:, :m] != b.mask[:, :m])).any(axis=0))
    if a.n_frames == b.n_frames:
        return diff.tolist()
    first = int(diff[0]) if diff.size else m
    return list(range(first, b.n_frames))


class TestDelta:
    @FAST
    @given(grids, st.lists(op_names, min_size=1, max_size=6), st.data())
    def test_revert_undoes_apply(self, grid, names, data):
        states, deltas = [grid], []
        for name in names:
            delta = plan(states[-1], name, data)
            deltas.append(delta)
            states.append(delta.apply(states[-1]))
        for delta, before in zip(reversed(deltas), reversed(states[:-1]), strict=True):
            assert delta.revert(states[-1]) == before
            states.pop()

    @FAST
    @given(grids, op_names, st.data())
    def test_changed_frames_cover_every_changed_column_both_ways(self, grid, name, data):
        delta = plan(grid, name, data)
        after = delta.apply(grid)
        for before, now in ((grid, after), (after, grid)):
            covered = {f for a, b in delta.changed_frames(now.n_frames) for f in range(a, b)}
            assert set(differing_frames(before, now)) <= covered
            if not delta.changes_length:  # exact for cell edits
                assert covered == set(differing_frames(before, now))

    def test_cell_deltas_hold_only_changed_cells(self):
        grid = make_grid(3000)
        delta = ops.Replace.create(grid, [1500], [4], (int(grid.codes[4, 1500]) + 1) % 2048).plan(grid)
        assert delta.n_cells == 1
        assert delta.nbytes < 100
        assert delta.changed_frames(3000) == [(1500, 1501)]
        masked = edits.mask(grid, [7], [2])
        noop = ops.Mask.create(masked, [7], [2]).plan(masked)
        assert noop.n_cells == 0 and noop.changed_frames(3000) == []

    def test_last_write_wins_for_repeated_cells(self):
        grid = make_grid(5)
        delta = plan_cells(grid, [1, 1], [2, 2], [10, 20], [False, True])
        out = delta.apply(grid)
        assert out.codes[1, 2] == 20 and out.mask[1, 2]
