"""Tests of the pure edit functions and selections (qtok_widgets.edits, qtok_widgets.selection)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qtok_widgets import CodeGrid, edits
from qtok_widgets.errors import EditError
from qtok_widgets.selection import frames_from_seconds, resolve_indices, select, spec_to_json

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_grid(n_frames: int, seed: int = 0, *, codec: str = "builtin", masked: float = 0.0, short: int = 0):
    """A grid of random codes (as a codec would emit), some cells masked, last frame ``short`` samples short."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2048, size=(16, n_frames))
    mask = rng.random((16, n_frames)) < masked
    return CodeGrid(
        codes,
        codec=codec,
        frame_rate=12.5,
        sample_rate=24000,
        codebook_size=2048,
        n_samples=n_frames * 1920 - short,
        mask=mask,
    )


grids = st.builds(
    make_grid,
    n_frames=st.integers(2, 40),
    seed=st.integers(0, 2**16),
    masked=st.sampled_from([0.0, 0.3]),
    short=st.integers(0, 1919),
)


def runs(n: int):
    """Strategy for a ``(start, stop)`` run inside ``0..n``."""
    return st.tuples(st.integers(0, n - 1), st.integers(1, n)).map(lambda t: (min(t), max(t[0] + 1, t[1])))


# ---------------------------------------------------------------------------- selections
class TestResolveIndices:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            (None, [0, 1, 2, 3, 4, 5]),
            (3, [3]),
            (np.int64(2), [2]),
            (slice(1, 4), [1, 2, 3]),
            (slice(None, None, 2), [0, 2, 4]),
            (range(5, 1, -2), [5, 3]),
            ([4, 0, 4], [4, 0, 4]),
            ((1, 2), [1, 2]),
            (np.array([5, 1]), [5, 1]),
            (np.array([True, False, False, False, False, True]), [0, 5]),
            ("2:5", [2, 3, 4]),
            ("0:6:3", [0, 3]),
            ("4", [4]),
            (":2", [0, 1]),
        ],
    )
    def test_forms(self, spec, expected):
        assert resolve_indices(spec, 6).tolist() == expected

    @pytest.mark.parametrize(
        ("spec", "fragment"),
        [
            (6, "frame 6 is out of range: frames must be in 0..5"),
            (-1, "frame -1 is out of range: frames must be in 0..5"),
            ([0, 9], "frame 9 is out of range"),
            (slice(2, 7), "bounds must be in 0..6"),
            (slice(-2, None), "bounds must be in 0..6"),
            (slice(4, 2), "empty frame selection"),
            ([], "empty frame selection: choose at least one frame in 0..5"),
            (slice(0, 4, -1), "step must be positive"),
            ("a:b", "cannot read frames from 'a:b'"),
            (1.5, "cannot read frames"),
            (True, "not a bool"),
            (np.array([True, False]), "shape (6,)"),
            ({"a": 1}, "cannot read frames"),
        ],
    )
    def test_rejects(self, spec, fragment):
        with pytest.raises(EditError) as info:
            resolve_indices(spec, 6)
        assert fragment in str(info.value)
        assert "\n" not in str(info.value)

    def test_layer_messages_name_layers(self):
        with pytest.raises(EditError, match=r"layer 16 is out of range: layers must be in 0\.\.15"):
            resolve_indices(16, 16, "layer")

    @FAST
    @given(st.lists(st.integers(0, 29), min_size=1, max_size=12))
    def test_canonical_form_round_trips(self, indices):
        spec = spec_to_json(np.array(indices), 30)
        assert spec is None or isinstance(spec, (str, list))
        assert resolve_indices(spec, 30).tolist() == indices

    def test_canonical_forms(self):
        assert spec_to_json(np.arange(16), 16) is None
        assert spec_to_json(np.arange(3, 9), 16) == "3:9"
        assert spec_to_json(np.array([2, 4, 6]), 16) == "2:7:2"
        assert spec_to_json(np.array([2, 4]), 16) == [2, 4]
        assert spec_to_json(np.array([5]), 16) == [5]
        assert spec_to_json(np.array([3, 1, 2]), 16) == [3, 1, 2]


class TestSeconds:
    def test_rounds_outwards_to_whole_frames(self):
        grid = make_grid(40)
        sel = select(grid, seconds=(0.1, 0.3))  # 1.25 .. 3.75 frames
        assert sel.frames.tolist() == [1, 2, 3]
        assert sel.rounded
        assert sel.start_s == pytest.approx(0.08)
        assert sel.stop_s == pytest.approx(0.32)

    def test_exact_boundaries_are_kept(self):
        sel = select(make_grid(40), seconds=(0.08, 0.24))
        assert sel.frames.tolist() == [1, 2]
        assert not sel.rounded

    def test_short_span_inside_one_frame(self):
        assert frames_from_seconds((0.81, 0.82), 40, 12.5).tolist() == [10]

    def test_to_the_end(self):
        assert frames_from_seconds((3.0, 3.2), 40, 12.5).tolist() == [37, 38, 39]

    @pytest.mark.parametrize(
        ("seconds", "fragment"),
        [
            ((0.0, 3.3), "runs past the end"),
            ((1.0, 1.0), "not a time span"),
            ((-0.1, 1.0), "not a time span"),
            ((float("nan"), 1.0), "not a time span"),
            ("abc", "seconds must be a pair"),
            ((1.0,), "seconds must be a pair"),
        ],
    )
    def test_rejects(self, seconds, fragment):
        with pytest.raises(EditError) as info:
            select(make_grid(40), seconds=seconds)
        assert fragment in str(info.value)
        assert "3.2 s" in str(info.value) or fragment == "seconds must be a pair"

    def test_not_with_frames(self):
        with pytest.raises(EditError, match="either frames= or seconds="):
            select(make_grid(40), frames=[1], seconds=(0.0, 0.5))


# ---------------------------------------------------------------------------- cell edits
class TestMask:
    @FAST
    @given(grids, st.data())
    def test_mask_sets_only_the_selected_cells(self, grid, data):
        before_codes, before_mask = grid.codes.copy(), grid.mask.copy()
        a, b = data.draw(runs(grid.n_frames))
        layers = data.draw(st.lists(st.integers(0, 15), min_size=1, max_size=5))
        out = edits.mask(grid, slice(a, b), layers)
        expected = before_mask.copy()
        expected[np.ix_(layers, range(a, b))] = True
        assert np.array_equal(out.mask, expected)
        assert np.array_equal(out.codes, before_codes)
        assert out.n_samples == grid.n_samples
        # the input is untouched
        assert np.array_equal(grid.mask, before_mask) and np.array_equal(grid.codes, before_codes)

    def test_unmask_restores_codes_losslessly(self):
        grid = make_grid(10)
        masked = edits.mask(grid, layers=[0, 15])
        assert masked.n_masked == 20
        assert edits.unmask(masked) == grid

    def test_mask_by_seconds(self):
        out = edits.mask(make_grid(40), layers=[3], seconds=(0.1, 0.3))
        assert np.flatnonzero(out.mask[3]).tolist() == [1, 2, 3]
        assert out.n_masked == 3


class TestReplace:
    def test_replace_sets_code_keeps_mask(self):
        grid = make_grid(10, masked=0.5)
        out = edits.replace(grid, slice(2, 5), [1, 7], 2047)
        assert (out.codes[np.ix_([1, 7], range(2, 5))] == 2047).all()
        changed = out.codes != grid.codes
        changed[np.ix_([1, 7], range(2, 5))] = False
        assert not changed.any()
        assert np.array_equal(out.mask, grid.mask)

    @pytest.mark.parametrize(
        ("code", "fragment"), [(2048, "codes must be in 0..2047"), (-1, "0..2047"), (1.0, "int")]
    )
    def test_bad_code(self, code, fragment):
        with pytest.raises(EditError) as info:
            edits.replace(make_grid(5), None, None, code)
        assert fragment in str(info.value)

    def test_replace_code_is_search_and_replace(self):
        grid = make_grid(30, seed=3)
        old = int(grid.codes[4, 7])
        out = edits.replace_code(grid, old, 5, layers=range(0, 10))
        hits = grid.codes == old
        hits[10:] = False
        assert hits.any()
        assert (out.codes[hits] == 5).all()
        assert np.array_equal(out.codes[~hits], grid.codes[~hits])

    def test_replace_code_with_no_match_changes_nothing(self):
        grid = CodeGrid(np.zeros((16, 4)), "builtin", 12.5, 24000, 2048)
        assert edits.replace_code(grid, 9, 3) == grid


# ---------------------------------------------------------------------------- splice
class TestSplice:
    def test_replace_mode_copies_codes_and_mask(self):
        grid, source = make_grid(20, 1), make_grid(15, 2, masked=0.4)
        out = edits.splice(grid, source, slice(3, 8), 10, layers=[8, 9])
        assert np.array_equal(out.codes[8:10, 10:15], source.codes[8:10, 3:8])
        assert np.array_equal(out.mask[8:10, 10:15], source.mask[8:10, 3:8])
        rest = np.ones(grid.shape, bool)
        rest[8:10, 10:15] = False
        assert np.array_equal(out.codes[rest], grid.codes[rest])
        assert out.shape == grid.shape

    def test_insert_mode_adds_frames_with_other_layers_masked(self):
        grid, source = make_grid(20, 1, short=100), make_grid(15, 2)
        out = edits.splice(grid, source, [4, 2], 5, layers=[0, 1], mode="insert")
        assert out.n_frames == 22
        assert out.n_samples == grid.n_samples + 2 * 1920
        assert np.array_equal(out.codes[:, 5:7], source.codes[:, [4, 2]])
        assert not out.mask[0:2, 5:7].any() and out.mask[2:, 5:7].all()
        assert np.array_equal(out.codes[:, :5], grid.codes[:, :5])
        assert np.array_equal(out.codes[:, 7:], grid.codes[:, 5:])

    def test_insert_at_the_end_makes_whole_frames(self):
        grid = make_grid(5, short=1000)
        out = edits.splice(grid, grid, [0], 5, mode="insert")
        assert out.n_samples == 6 * 1920

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"src_frames": slice(0, 5), "dst_start": 18}, "dst_start must be in 0..15"),
            ({"src_frames": slice(0, 5), "dst_start": -1}, "dst_start must be in 0..15"),
            ({"src_frames": [3], "dst_start": 21, "mode": "insert"}, "must be in 0..20"),
            ({"src_frames": [30], "dst_start": 0}, "frame 30 is out of range: frames must be in 0..24"),
            ({"src_frames": [1], "dst_start": 0, "mode": "overwrite"}, "'replace', 'insert'"),
            ({"src_frames": [1], "dst_start": 0, "layers": [16]}, "layers must be in 0..15"),
            ({"src_frames": [1], "dst_start": 1.0}, "dst_start must be an int"),
        ],
    )
    def test_rejects(self, kwargs, fragment):
        with pytest.raises(EditError) as info:
            edits.splice(make_grid(20), make_grid(25, 5), **kwargs)
        assert fragment in str(info.value)

    @pytest.mark.parametrize(
        "other",
        [
            make_grid(10, codec="qwen3-12hz"),
            make_grid(10).replace(frame_rate=25.0, n_samples=None),
            make_grid(10).replace(codebook_size=4096),
        ],
    )
    def test_refuses_other_codecs(self, other):
        with pytest.raises(EditError, match="must match the grid's 'builtin'"):
            edits.splice(make_grid(10), other, [0], 0)

    @FAST
    @given(grids, grids, st.data())
    def test_splice_then_inverse_splice_restores(self, grid, source, data):
        source = source.replace(codec=grid.codec)
        k = data.draw(st.integers(1, min(grid.n_frames, source.n_frames)))
        src_start = data.draw(st.integers(0, source.n_frames - k))
        dst = data.draw(st.integers(0, grid.n_frames - k))
        layers = data.draw(st.lists(st.integers(0, 15), min_size=1, max_size=16, unique=True))
        out = edits.splice(grid, source, range(src_start, src_start + k), dst, layers)
        back = edits.splice(out, grid, range(dst, dst + k), dst, layers)
        assert back == grid
        inserted = edits.splice(grid, source, range(src_start, src_start + k), dst, layers, mode="insert")
        assert edits.delete_frames(inserted, range(dst, dst + k)) == grid


# ---------------------------------------------------------------------------- timing edits
class TestTiming:
    def test_delete_frames(self):
        grid = make_grid(10, short=500)
        out = edits.delete_frames(grid, [2, 5, 5])
        assert out.n_frames == 8
        assert np.array_equal(out.codes, np.delete(grid.codes, [2, 5], axis=1))
        assert out.n_samples == grid.n_samples - 2 * 1920  # the short last frame is still last

    def test_delete_last_frame_drops_its_shortfall(self):
        out = edits.delete_frames(make_grid(10, short=500), [9])
        assert out.n_samples == 9 * 1920

    def test_delete_by_seconds(self):
        out = edits.delete_frames(make_grid(40), seconds=(0.1, 0.3))
        assert out.n_frames == 37

    def test_cannot_delete_everything(self):
        with pytest.raises(EditError, match="cannot delete all 4 frames"):
            edits.delete_frames(make_grid(4), None)

    @FAST
    @given(grids, st.lists(st.integers(0, 39), min_size=1, max_size=6), st.integers(1, 3))
    def test_duplicate_frames_repeats_in_place(self, grid, picks, times):
        picks = [p % grid.n_frames for p in picks]
        out = edits.duplicate_frames(grid, picks, times=times)
        counts = np.ones(grid.n_frames, int)
        counts[np.unique(picks)] += times
        assert np.array_equal(out.codes, np.repeat(grid.codes, counts, axis=1))
        assert np.array_equal(out.mask, np.repeat(grid.mask, counts, axis=1))
        assert out.n_frames == grid.n_frames + times * len(set(picks))

    @pytest.mark.parametrize("times", [0, 65, 1.5, True])
    def test_duplicate_times_range(self, times):
        with pytest.raises(EditError, match=r"times must be an int in 1\.\.64"):
            edits.duplicate_frames(make_grid(4), [0], times=times)


def test_a_span_starting_within_float_noise_of_the_end_selects_the_last_frame():
    # 3.9999999999999996 s * 12.5 Hz rounds up to frame 50 of 50; it must stay in range
    assert frames_from_seconds((3.9999999999999996, 4.0), 50, 12.5).tolist() == [49]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"seconds": (0, 1e308)}, "runs past the end of the grid"),
        ({"seconds": (0, float("inf"))}, "is not a time span"),
        ({"seconds": ("a", 1)}, "seconds must be a pair"),
        ({"frames": 10**400}, "out of range: frames must be in 0..9"),
        ({"frames": [10**30]}, "cannot read frames"),
        ({"layers": -(10**40)}, "out of range: layers must be in 0..15"),
    ],
)
def test_absurd_numbers_are_named_not_overflowed(kwargs, fragment):
    with pytest.raises(EditError) as info:
        edits.mask(make_grid(10), **kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)
