"""Tests of EditSession: history, undo/redo, recipes, change events and incremental rendering."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qtok_widgets import CodeGrid, EditSession, load_audio, load_codec
from qtok_widgets.errors import EditError

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_grid(n_frames: int, seed: int = 0, *, codec: str = "builtin", short: int = 0) -> CodeGrid:
    """A grid of random codes with a few masked cells, last frame ``short`` samples short."""
    rng = np.random.default_rng(seed)
    return CodeGrid(
        rng.integers(0, 2048, size=(16, n_frames)),
        codec=codec,
        frame_rate=12.5,
        sample_rate=24000,
        codebook_size=2048,
        n_samples=n_frames * 1920 - short,
        mask=rng.random((16, n_frames)) < 0.1,
    )


def run_of(data, n: int) -> slice:
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(a + 1, n))
    return slice(a, b)


def random_op(session: EditSession, data, other: CodeGrid) -> None:
    """Apply one random valid op (no interpolate: that one needs a codec) through the public methods."""
    n = session.grid.n_frames
    layers = data.draw(st.one_of(st.none(), st.lists(st.integers(0, 15), min_size=1, max_size=4)))
    name = data.draw(
        st.sampled_from(
            [
                "mask",
                "unmask",
                "replace",
                "replace_code",
                "splice",
                "insert",
                "delete",
                "duplicate",
                "reset",
                "undo",
            ]
        )
    )
    if name == "mask":
        session.mask(run_of(data, n), layers)
    elif name == "unmask":
        session.unmask(run_of(data, n), layers)
    elif name == "replace":
        session.replace(run_of(data, n), layers, data.draw(st.integers(0, 2047)))
    elif name == "replace_code":
        frame = data.draw(st.integers(0, n - 1))
        session.replace_code(int(session.grid.codes[3, frame]), data.draw(st.integers(0, 2047)), layers)
    elif name == "splice":
        source = data.draw(st.sampled_from([other, session.original, session.grid]))
        k = data.draw(st.integers(1, min(n, source.n_frames)))
        start = data.draw(st.integers(0, source.n_frames - k))
        session.splice(source, range(start, start + k), data.draw(st.integers(0, n - k)), layers)
    elif name == "insert":
        k = data.draw(st.integers(1, 3))
        session.splice(other, list(range(k)), data.draw(st.integers(0, n)), layers, mode="insert")
    elif name == "delete" and n > 1:
        sl = run_of(data, n)
        session.delete_frames(range(sl.start, min(sl.stop, sl.start + n - 1)))
    elif name == "duplicate":
        session.duplicate_frames(run_of(data, n), times=data.draw(st.integers(1, 2)))
    elif name == "reset":
        session.reset()
    elif name == "undo" and session.can_undo:
        session.undo()


# ---------------------------------------------------------------------------- history
class TestHistory:
    def test_ops_are_recorded_in_canonical_json(self):
        grid, other = make_grid(30), make_grid(12, 1)
        s = EditSession(grid)
        s.mask(slice(3, 10), range(8, 16))
        s.unmask(frames=[4], layers=8)
        s.replace(seconds=(0.1, 0.3), layers=[2], code=7)
        s.replace_code(int(grid.codes[0, 0]), 1, layers=None)
        s.splice(other, slice(0, 4), 20, layers=[0, 1])
        s.delete_frames([0, 2])
        s.duplicate_frames("5:7", times=2)
        assert s.history == [
            {"op": "mask", "frames": "3:10", "layers": "8:16"},
            {"op": "unmask", "frames": [4], "layers": [8]},
            {"op": "replace", "frames": "1:4", "layers": [2], "code": 7},
            {"op": "replace_code", "old": int(grid.codes[0, 0]), "new": 1, "layers": None},
            {
                "op": "splice",
                "source": "grid1",
                "src_frames": "0:4",
                "dst_start": 20,
                "layers": "0:2",
                "mode": "replace",
            },
            {"op": "delete_frames", "frames": [0, 2]},
            {"op": "duplicate_frames", "frames": "5:7", "times": 2},
        ]
        json.dumps(s.history)
        # history hands out copies
        s.history[0]["frames"] = "0:1"
        assert s.history[0]["frames"] == "3:10"

    def test_last_selection_says_which_frames_seconds_used(self):
        s = EditSession(make_grid(40))
        assert s.select(seconds=(0.1, 0.3)).frames.tolist() == [1, 2, 3]
        s.mask(seconds=(0.1, 0.3), layers=[0])
        assert s.last_selection.frames.tolist() == [1, 2, 3] and s.last_selection.rounded
        assert s.last_selection.start_s == pytest.approx(0.08) and s.last_selection.stop_s == pytest.approx(
            0.32
        )
        assert s.history[-1]["frames"] == "1:4"

    def test_undo_redo_and_reset(self):
        grid = make_grid(20)
        s = EditSession(grid)
        assert not s.can_undo and not s.can_redo
        g1 = s.mask(slice(0, 5), [0])
        g2 = s.replace([7], [1], 5)
        assert s.undo() == g1 and s.can_redo
        assert s.redo() == g2 and not s.can_redo
        assert s.reset() == grid
        assert s.history[-1] == {"op": "reset"}
        assert s.undo() == g2  # reset is undoable
        s.undo()
        s.mask([9], [9])  # a new edit drops the redo stack
        assert not s.can_redo
        with pytest.raises(EditError, match="nothing to redo"):
            s.redo()
        s.undo()
        s.undo()
        with pytest.raises(EditError, match="nothing to undo"):
            s.undo()
        assert s.grid == grid

    @FAST
    @given(st.data())
    def test_undo_after_apply_restores_and_redo_replays(self, data):
        grid = make_grid(data.draw(st.integers(2, 25)), data.draw(st.integers(0, 99)), short=100)
        other = make_grid(8, 7)
        s = EditSession(grid)
        for _ in range(data.draw(st.integers(1, 8))):
            before, n_before = s.grid, len(s.history)
            random_op(s, data, other)
            op = s.history[-1] if len(s.history) > n_before else {"op": "reset"}
            if op["op"] != "reset" and "source" not in op:
                assert EditSession(before).apply(op) == s.grid  # the recorded op alone replays the step
        final, n_ops = s.grid, len(s.history)
        for _ in range(n_ops):
            s.undo()
        assert s.grid == grid
        for _ in range(n_ops):
            s.redo()
        assert s.grid == final

    def test_history_stores_deltas_not_grids(self):
        grid = make_grid(3750)  # 5 minutes at 12.5 Hz
        s = EditSession(grid)
        rng = np.random.default_rng(0)
        for _ in range(1000):
            s.replace([int(rng.integers(3750))], [int(rng.integers(16))], int(rng.integers(2048)))
        assert s.history_nbytes < 1000 * 64  # one cell each, not 240 kB per grid copy
        for _ in range(1000):
            s.undo()
        assert s.grid == grid


# ---------------------------------------------------------------------------- diff
class TestDiff:
    def test_same_length_is_cell_comparison(self):
        grid = make_grid(10)
        s = EditSession(grid)
        assert not s.diff().any()
        s.mask(slice(2, 4), [5])
        s.replace([8], [0], (int(grid.codes[0, 8]) + 1) % 2048)
        expected = np.zeros((16, 10), bool)
        expected[5, 2:4] = ~grid.mask[5, 2:4]
        expected[0, 8] = True
        assert np.array_equal(s.diff(), expected)

    def test_timing_edits_follow_frames_to_their_origin(self):
        grid = make_grid(10)
        s = EditSession(grid)
        s.delete_frames([1])
        assert s.diff().shape == (16, 9) and not s.diff().any()
        s.duplicate_frames([0], times=2)
        assert s.origin_frames().tolist() == [0, -1, -1, 2, 3, 4, 5, 6, 7, 8, 9]
        assert s.diff()[:, 1:3].all() and not s.diff()[:, [0, *range(3, 11)]].any()
        s.reset()
        assert s.origin_frames().tolist() == list(range(10)) and not s.diff().any()


# ---------------------------------------------------------------------------- recipes
class TestRecipes:
    @FAST
    @given(st.data())
    def test_recipe_and_python_replay_the_edits(self, data):
        grid = make_grid(data.draw(st.integers(2, 20)), data.draw(st.integers(0, 99)), short=7)
        other = make_grid(6, 5)
        s = EditSession(grid)
        for _ in range(data.draw(st.integers(0, 6))):
            random_op(s, data, other)
        text = s.to_json()
        replay = EditSession.from_json(text, grid)
        assert replay.grid == s.grid
        assert replay.history == s.history
        namespace = {"grid": grid, "codec": None}
        exec(s.to_python(), namespace)
        assert namespace["session"].grid == s.grid

    def test_recipe_embeds_other_grids_once(self, tmp_path):
        grid, other = make_grid(20), make_grid(9, 3)
        s = EditSession(grid)
        s.splice(other, [0, 1], 0)
        s.splice(other, [4], 10, layers=[3])
        s.splice(grid, [5], 6)  # the original is referred to, not embedded
        recipe = json.loads(s.to_json())
        assert list(recipe["grids"]) == ["grid1"]
        assert [op["source"] for op in recipe["ops"]] == ["grid1", "grid1", "original"]
        path = tmp_path / "recipe.json"
        path.write_text(s.to_json(indent=2))
        assert EditSession.from_json(path, grid).grid == s.grid
        assert EditSession.from_json(path.read_bytes(), grid).grid == s.grid

    def test_recipe_drops_grids_only_undone_ops_used(self):
        s = EditSession(make_grid(10))
        s.splice(make_grid(4, 1), [0], 0)
        s.undo()
        s.mask([0], [0])
        assert json.loads(s.to_json())["grids"] == {}

    def test_recipe_applies_to_another_clip_of_the_same_codec(self):
        s = EditSession(make_grid(30))
        s.mask(layers=range(8, 16))
        s.delete_frames("0:5")
        other = make_grid(12, 4)
        replay = EditSession.from_json(s.to_json(), other)
        assert replay.grid.n_frames == 7 and replay.grid.mask[8:].all()

    @pytest.mark.parametrize(
        ("recipe", "fragment"),
        [
            ("{not json", "recipe is not valid JSON"),
            ("[]", "must be a JSON object"),
            ({"format": "x", "version": 1, "ops": []}, "'format' must be 'qtok-recipe'"),
            ({"format": "qtok-recipe", "version": 9, "ops": []}, "unsupported recipe version 9"),
            ({"format": "qtok-recipe", "version": 1, "ops": {}}, "'ops' must be a list"),
            (
                {"format": "qtok-recipe", "version": 1, "grid": {"codec": "qwen3-12hz"}, "ops": []},
                "another codec",
            ),
            (
                {"format": "qtok-recipe", "version": 1, "ops": [{"op": "blur"}]},
                "recipe op 0 (blur): unknown op",
            ),
            (
                {
                    "format": "qtok-recipe",
                    "version": 1,
                    "ops": [{"op": "mask"}, {"op": "mask", "frames": [40]}],
                },
                "recipe op 1 (mask): frame 40 is out of range: frames must be in 0..29",
            ),
            (
                {"format": "qtok-recipe", "version": 1, "ops": [{"op": "mask", "frame": [1]}]},
                "unknown keys ['frame']",
            ),
            (
                {"format": "qtok-recipe", "version": 1, "ops": [{"op": "replace", "frames": [1]}]},
                "missing code",
            ),
            (
                {"format": "qtok-recipe", "version": 1, "ops": [{"op": "mask", "frames": {"a": 1}}]},
                "'frames' must be null, an int",
            ),
            (
                {
                    "format": "qtok-recipe",
                    "version": 1,
                    "ops": [{"op": "splice", "source": "grid7", "dst_start": 0}],
                },
                "source 'grid7' is not a known grid",
            ),
            (
                {"format": "qtok-recipe", "version": 1, "grids": {"g": {"codes": 3}}, "ops": []},
                "recipe grid 'g'",
            ),
        ],
    )
    def test_bad_recipes_are_refused(self, recipe, fragment):
        with pytest.raises(EditError) as info:
            EditSession.from_json(recipe if isinstance(recipe, str) else json.dumps(recipe), make_grid(30))
        assert fragment in str(info.value)
        assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- rejection
BAD_OPS = {
    "frame out of range": lambda s: s.mask(frames=[s.grid.n_frames]),
    "layer out of range": lambda s: s.unmask(layers=[16]),
    "code too large": lambda s: s.replace([0], [0], 2048),
    "code missing": lambda s: s.replace([0], [0]),
    "empty selection": lambda s: s.mask(frames=[]),
    "empty slice": lambda s: s.mask(frames=slice(3, 3)),
    "seconds past the end": lambda s: s.mask(seconds=(0.0, 99.0)),
    "frames and seconds": lambda s: s.mask(frames=[0], seconds=(0.0, 0.1)),
    "other codec": lambda s: s.splice(make_grid(5, codec="qwen3-12hz"), [0], 0),
    "splice past the end": lambda s: s.splice(s.grid, None, 1),
    "splice without dst": lambda s: s.splice(s.grid, [0]),
    "bad mode": lambda s: s.splice(s.grid, [0], 0, mode="mix"),
    "old code range": lambda s: s.replace_code(-1, 0),
    "delete all": lambda s: s.delete_frames(None),
    "duplicate times": lambda s: s.duplicate_frames([0], times=0),
    "interpolate without codec": lambda s: s.interpolate([1], [1]),
    "unknown op": lambda s: s.apply({"op": "blur"}),
    "op not a dict": lambda s: s.apply(["mask"]),
}


class TestRejection:
    @FAST
    @given(st.data(), st.sampled_from(sorted(BAD_OPS)))
    def test_bad_operations_leave_the_session_unchanged(self, data, bad):
        s = EditSession(make_grid(data.draw(st.integers(2, 15)), data.draw(st.integers(0, 99))))
        other = make_grid(5, 1)
        for _ in range(data.draw(st.integers(0, 4))):
            random_op(s, data, other)
        events = []
        s.on_change(lambda session, event: events.append(event))
        grid, history, redo = s.grid, s.history, s.redo_history
        with pytest.raises(EditError) as info:
            BAD_OPS[bad](s)
        assert isinstance(info.value, ValueError)
        assert "\n" not in str(info.value)
        assert s.grid is grid and s.history == history and s.redo_history == redo
        assert events == []

    def test_messages_name_the_valid_range(self):
        s = EditSession(make_grid(10))
        with pytest.raises(EditError, match=r"frames must be in 0\.\.9"):
            s.mask(frames=[10])
        with pytest.raises(EditError, match=r"codes must be in 0\.\.2047"):
            s.replace([0], [0], 5000)
        with pytest.raises(EditError, match=r"dst_start must be in 0\.\.5"):
            s.splice(s.grid, slice(0, 5), 8)

    def test_render_needs_a_codec(self):
        with pytest.raises(EditError, match="no codec"):
            EditSession(make_grid(3)).render()

    def test_session_needs_a_grid(self):
        with pytest.raises(EditError, match="needs a CodeGrid"):
            EditSession(np.zeros((16, 3)))


# ---------------------------------------------------------------------------- change events
class TestEvents:
    def test_callbacks_see_every_change(self):
        s = EditSession(make_grid(10))
        seen = []

        def listener(session, event):
            seen.append((event["kind"], event["op"]["op"], session.grid.n_frames))

        s.on_change(listener)
        s.on_change(listener)  # registering twice calls once
        s.mask([1], [1])
        s.delete_frames([0])
        s.undo()
        s.redo()
        s.reset()
        assert seen == [
            ("apply", "mask", 10),
            ("apply", "delete_frames", 9),
            ("undo", "delete_frames", 10),
            ("redo", "delete_frames", 9),
            ("reset", "reset", 10),
        ]
        s.off_change(listener)
        s.mask([2], [2])
        assert len(seen) == 5
        s.off_change(listener)  # unknown callbacks are ignored

    def test_a_failing_callback_does_not_silence_the_others(self):
        s = EditSession(make_grid(10))
        seen = []

        def broken(session, event):
            raise RuntimeError("listener bug")

        s.on_change(broken)
        s.on_change(lambda session, event: seen.append(event["kind"]))
        with pytest.raises(RuntimeError, match="listener bug"):
            s.mask([1], [1])
        assert seen == ["apply"] and s.history == [{"op": "mask", "frames": [1], "layers": [1]}]

    def test_events_carry_copies(self):
        s = EditSession(make_grid(10))
        s.on_change(lambda session, event: event["op"].update(frames="0:9"))
        s.mask([1], [1])
        assert s.history[0]["frames"] == [1]


# ---------------------------------------------------------------------------- with the built-in codec
@pytest.fixture(scope="module")
def builtin():
    return load_codec("builtin")


@pytest.fixture(scope="module")
def speech_grid(builtin, speech_path):
    return builtin.encode(load_audio(speech_path))


class TestBuiltinCodec:
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data())
    def test_incremental_render_equals_full_decode(self, builtin, speech_grid, data):
        s = EditSession(speech_grid, builtin)
        s.render()
        other = make_grid(8, 3, codec=speech_grid.codec)
        for _ in range(data.draw(st.integers(1, 3))):
            random_op(s, data, other)
            edited = s.render()
            full = builtin.decode(s.grid)
            assert edited.samples.shape == full.samples.shape == (s.grid.n_samples,)
            assert np.max(np.abs(edited.samples - full.samples), initial=0.0) <= 1e-4

    def test_single_frame_edit_redecodes_a_few_chunks(self, builtin, speech_grid):
        s = EditSession(speech_grid, builtin)
        s.render_original()
        s.replace([25], [3], 9)
        s.render()
        info = s.last_render
        assert 0 < info.decoded_frames <= 12 and info.reused_frames >= speech_grid.n_frames - 12
        assert s.render() is s.render() and s.last_render.cached
        assert np.max(np.abs(s.render().samples - builtin.decode(s.grid).samples)) <= 1e-4

    def test_masking_every_layer_gives_near_silence(self, builtin, speech_grid):
        s = EditSession(speech_grid, builtin)
        original = s.render_original().samples
        a, b = 15, 35
        s.mask(frames=slice(a, b))
        edited = s.render().samples
        spf = speech_grid.samples_per_frame
        inner = slice((a + 1) * spf, (b - 1) * spf)  # leave a frame for the cross-fades
        rms_orig = float(np.sqrt(np.mean(original[inner] ** 2)))
        rms_edit = float(np.sqrt(np.mean(edited[inner] ** 2)))
        assert rms_orig > 0.01
        assert rms_edit < 0.01 and rms_edit < 0.1 * rms_orig  # below -40 dBFS, 20 dB under the speech
        outside = slice(0, (a - 2) * spf)
        assert np.max(np.abs(edited[outside] - original[outside])) <= 1e-4

    def test_interpolate_reports_the_snapping_error(self, builtin, speech_grid):
        s = EditSession(speech_grid, builtin)
        result = s.interpolate(frames=slice(10, 14), layers=range(0, 8), alpha=1.0)
        assert result.grid is s.grid
        assert result.selection.frames.tolist() == [10, 11, 12, 13]
        changed = s.diff()
        assert not changed[8:].any() and not changed[:, :10].any() and not changed[:, 14:].any()
        # recompute the ideal point: the straight line between frames 9 and 14 in latent space
        tables = [builtin.embeddings(layer) for layer in range(8)]

        def latent(grid, frames):
            return sum(tables[layer][grid.codes[layer, frames]] for layer in range(8))

        w = np.arange(1, 5)[:, None] / 5.0
        ideal = (1 - w) * latent(speech_grid, [9]) + w * latent(speech_grid, [14])
        achieved = latent(s.grid, [10, 11, 12, 13])
        err = np.linalg.norm(ideal - achieved, axis=1)
        assert np.allclose(result.error, err, rtol=1e-3, atol=1e-3)
        assert np.allclose(result.relative_error, err / np.linalg.norm(ideal, axis=1), rtol=1e-3, atol=1e-4)
        # alpha 0 keeps the frames where they are (the codes already are a snapped point)
        s.undo()
        kept = s.interpolate(frames=slice(10, 14), layers=range(0, 8), alpha=0.0)
        assert np.all(kept.error <= np.linalg.norm(latent(speech_grid, [10, 11, 12, 13]), axis=1))

    def test_interpolate_toward_another_grid_replays_from_a_recipe(self, builtin, speech_grid, data_dir):
        target = builtin.encode(load_audio(data_dir / "arctic_a0009.wav"))
        s = EditSession(speech_grid, builtin)
        s.interpolate(seconds=(0.5, 1.0), layers=[0, 1, 2], target=target, alpha=0.7, target_start=3)
        op = s.history[0]
        assert op["frames"] == "6:13" and op["target"] == "grid1" and op["target_start"] == 3
        replay = EditSession.from_json(s.to_json(), speech_grid, builtin)
        assert replay.grid == s.grid
        namespace = {"grid": speech_grid, "codec": builtin}
        exec(s.to_python(), namespace)
        assert namespace["session"].grid == s.grid
        with pytest.raises(EditError, match="recipe op 0 \\(interpolate\\): interpolate needs a codec"):
            EditSession.from_json(s.to_json(), speech_grid)

    def test_interpolate_rejections(self, builtin, speech_grid):
        s = EditSession(speech_grid, builtin)
        with pytest.raises(EditError, match=r"alpha must be in 0\.\.1"):
            s.interpolate([3], [0], alpha=1.5)
        with pytest.raises(EditError, match="needs a target grid"):
            s.interpolate(None, [0])
        with pytest.raises(EditError, match="target_start must be in"):
            s.interpolate([3, 4], [0], target=speech_grid, target_start=speech_grid.n_frames - 1)
        assert not s.history


# ---------------------------------------------------------------------------- with the Qwen backend
@pytest.mark.slow
def test_qwen_render_restarts_from_checkpoints(tiny_qwen_dir):
    """Edits re-decode from the decoder-state checkpoint before them, within 1e-4 of a full decode."""
    codec = load_codec(str(tiny_qwen_dir))
    grid = make_grid(310, 11, codec=codec.name)
    s = EditSession(grid, codec)
    s.render_original()
    s.replace([303], [4], 17)
    s.mask([308], [0, 1])
    edited = s.render()
    assert s.last_render.decoded == [(300, 310)]  # the checkpoint at frame 300, to the end
    assert s.render_stats["checkpoints_used"] == 1 and s.render_stats["frames_decoded"] == 10
    assert np.max(np.abs(edited.samples - codec.decode(s.grid).samples)) <= 1e-4
    # an edit in the second chunk's 25-frame lead-in touches both chunks
    s.replace([280], [2], 5)
    assert codec.affected_frames(280, 281, 310) == (0, 310)
    s.undo()
    again = s.render()
    assert s.last_render.decoded == [] and np.array_equal(again.samples, edited.samples)


def test_history_memory_is_bounded():
    from qtok_widgets.history import History

    s = EditSession(make_grid(2000))
    s._history = History(max_bytes=1_000_000)
    with pytest.raises(EditError, match="past its 1 MB limit: save the edited grid"):
        for _ in range(100):
            s.duplicate_frames(None, times=1)
            s.delete_frames(f"0:{s.grid.n_frames // 2}")
    assert s.history_nbytes <= 1_000_000
    grid = s.grid
    s.undo()
    s.redo()
    assert s.grid == grid
