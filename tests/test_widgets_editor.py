"""TokenEditor without a browser: traits and their validation, every toolbar action through its
Python entry point, rejected actions leaving the session unchanged, and the binary messages the
browser receives (sizes, dtypes, only what changed)."""

from __future__ import annotations

import numpy as np
import pytest
import traitlets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qtok_widgets import CodeGrid, EditSession, load_audio, load_codec
from qtok_widgets.errors import GridError, QtokError
from qtok_widgets.widgets import _wire, stats
from qtok_widgets.widgets.editor import TokenEditor


@pytest.fixture(scope="module")
def codec():
    return load_codec("builtin")


@pytest.fixture(scope="module")
def grid(codec, speech_path):
    return codec.encode(load_audio(speech_path))


@pytest.fixture(scope="module")
def other_grid(codec, data_dir):
    return codec.encode(load_audio(data_dir / "arctic_a0009.wav"))


class Wire:
    """Records what the editor sends to the browser (the messages still go to the comm)."""

    def __init__(self, editor: TokenEditor) -> None:
        self.messages: list[tuple[dict, list[bytes]]] = []
        send = editor.send

        def record(content, buffers=None):
            self.messages.append((content, [bytes(b) for b in buffers or []]))
            send(content, buffers)

        editor.send = record

    def of(self, kind: str) -> list[tuple[dict, list[bytes]]]:
        return [m for m in self.messages if m[0].get("type") == kind]


def browser_says(editor: TokenEditor, content: dict) -> None:
    """Deliver a custom message as if the browser had sent it."""
    editor._handle_custom_msg(content, [])


@pytest.fixture
def editor(grid, codec):
    ed = TokenEditor(grid, codec)
    yield ed
    ed.close()


def snapshot(session: EditSession) -> tuple[CodeGrid, int]:
    return session.grid, len(session.history)


# ---------------------------------------------------------------------------- traits


def test_describes_the_grid(editor, grid, codec):
    assert (editor.n_layers, editor.n_frames) == grid.shape
    assert editor.frame_rate == grid.frame_rate
    assert editor.sample_rate == grid.sample_rate
    assert editor.codebook_size == grid.codebook_size
    assert editor.codec_name == codec.name
    assert len(editor.layer_names) == grid.n_layers
    assert editor.grid == grid
    assert editor.original == grid
    assert editor.selection == {}


def test_every_trait_has_help():
    own = TokenEditor.class_own_traits()
    assert len(own) > 20
    missing = [name for name, trait in own.items() if not trait.help]
    assert missing == []


def test_builds_from_audio_and_path(codec, speech_path, grid):
    from_path = TokenEditor(speech_path, codec)
    assert from_path.grid == grid
    assert from_path.original_audio.sample_rate == codec.sample_rate
    from_audio = TokenEditor(load_audio(speech_path), codec)
    assert from_audio.grid == grid


def test_grid_source_finds_its_codec(grid):
    ed = TokenEditor(grid)
    assert ed.session.codec.name == grid.codec
    unknown = grid.replace(codec="no-such-codec")
    with pytest.raises(QtokError, match="no-such-codec"):
        TokenEditor(unknown)


def test_selection_accepts_slices_and_pairs(editor):
    editor.selection = {"frames": slice(3, 9), "layers": [0, 4]}
    assert editor.selection == {"frames": [3, 9], "layers": [0, 4]}
    editor.select(frames=range(5, 7), layers=2)
    assert editor.selection == {"frames": [5, 7], "layers": [2, 3]}
    editor.select(layers=slice(8, None))
    assert editor.selection == {"frames": [0, editor.n_frames], "layers": [8, editor.n_layers]}
    editor.select(seconds=(0.5, 1.0))
    assert editor.selection["frames"] == [6, 13]  # frames overlapping 0.5..1.0 s at 12.5 Hz
    editor.clear_selection()
    assert editor.selection == {}


@pytest.mark.parametrize(
    "bad",
    [
        {"frames": [5, 3], "layers": [0, 1]},
        {"frames": [0, 10**6], "layers": [0, 1]},
        {"frames": [0, 3], "layers": [0, 17]},
        {"frames": slice(0, 10, 2), "layers": [0, 1]},
        {"frames": [0, 3], "layers": [0, 1], "time": 1},
        {"frames": ["a", 3], "layers": [0, 1]},
    ],
)
def test_selection_rejects_bad_values(editor, bad):
    editor.select(frames=slice(1, 2))
    with pytest.raises(traitlets.TraitError):
        editor.selection = bad
    assert editor.selection == {"frames": [1, 2], "layers": [0, editor.n_layers]}


def test_other_traits_validate(editor):
    with pytest.raises(traitlets.TraitError):
        editor.alpha = 1.5
    with pytest.raises(traitlets.TraitError):
        editor.replace_code = editor.codebook_size
    with pytest.raises(traitlets.TraitError):
        editor.duplicate_times = 0
    with pytest.raises(traitlets.TraitError):
        editor.alpha = "half"
    with pytest.raises(traitlets.TraitError):
        editor.replace_code = 3.5
    editor.playhead = 1e9
    assert editor.playhead == pytest.approx(editor.n_frames / editor.frame_rate)


# ---------------------------------------------------------------------------- actions


def test_mask_unmask(editor):
    editor.select(frames=slice(10, 20), layers=slice(8, 16))
    assert editor.run_action("mask")
    assert editor.grid.mask[8:16, 10:20].all()
    assert editor.grid.n_masked == 80
    assert editor.session.history[-1]["op"] == "mask"
    assert editor.message.startswith("applied mask")
    assert editor.can_undo and not editor.can_redo
    editor.unmask()
    assert editor.grid.n_masked == 0
    assert len(editor.history_labels) == 2


def test_replace_through_action_args(editor):
    assert editor.run_action(
        "replace", {"selection": {"frames": [0, 4], "layers": [1, 2]}, "replace_code": 77}
    )
    assert (editor.grid.codes[1, 0:4] == 77).all()
    op = editor.session.history[-1]
    assert (op["op"], op["frames"], op["code"]) == ("replace", "0:4", 77)


def test_interpolate_neighbours_and_second_clip(editor, other_grid):
    editor.select(frames=slice(20, 26), layers=slice(4, 16))
    assert editor.run_action("interpolate", {"alpha": 1.0}), editor.message
    op = editor.session.history[-1]
    assert op["op"] == "interpolate" and op["target"] is None and op["alpha"] == 1.0
    editor.load_source(other_grid)
    assert editor.source_info
    before = editor.grid
    assert editor.run_action("interpolate", {"interpolate_target": "source", "alpha": 1.0}), editor.message
    assert editor.session.history[-1]["target"] is not None
    assert not np.array_equal(before.codes[4:, 20:26], editor.grid.codes[4:, 20:26])


def test_copy_paste_at_playhead(editor, grid):
    editor.select(frames=slice(0, 5), layers=slice(0, 16))
    editor.copy()
    assert "copied" in editor.clipboard_info
    assert editor.session.history == []  # copying edits nothing
    editor.playhead = 30 / editor.frame_rate
    assert editor.run_action("paste")
    assert np.array_equal(editor.grid.codes[:, 30:35], grid.codes[:, 0:5])
    assert editor.n_frames == grid.n_frames
    assert editor.run_action("paste", {"paste_mode": "insert"})
    assert editor.n_frames == grid.n_frames + 5
    assert editor.session.history[-1]["mode"] == "insert"


def test_paste_second_clip(editor, other_grid, grid):
    editor.load_source(other_grid)
    editor.playhead = 0.0
    editor.select(frames=slice(0, 1), layers=slice(0, 1))
    assert editor.run_action("paste_source", {"paste_mode": "insert"}), editor.message
    assert editor.n_frames == grid.n_frames + other_grid.n_frames
    assert np.array_equal(editor.grid.codes[0, : other_grid.n_frames], other_grid.codes[0])


def test_delete_and_duplicate_frames(editor, grid):
    editor.select(frames=slice(4, 8))
    assert editor.run_action("duplicate_frames", {"duplicate_times": 2})
    assert editor.n_frames == grid.n_frames + 8
    assert editor.session.history[-1]["times"] == 2
    editor.select(frames=slice(0, 10))
    assert editor.run_action("delete_frames")
    assert editor.n_frames == grid.n_frames - 2
    # the selection is kept inside the shorter grid
    assert editor.selection["frames"][1] <= editor.n_frames


def test_undo_redo_reset(editor, grid):
    editor.select(frames=slice(0, 3))
    editor.mask()
    editor.undo()
    assert editor.grid == grid and editor.can_redo
    editor.redo()
    assert editor.grid.n_masked == 3 * grid.n_layers
    assert editor.run_action("reset")
    assert editor.grid == grid
    assert editor.session.history[-1]["op"] == "reset"


def test_history_labels_follow_undo_redo_and_reset(editor):

    s = editor.session
    s.mask(frames=slice(0, 3))
    s.duplicate_frames(frames=slice(5, 7))
    s.undo()
    s.redo()
    s.undo()
    s.mask(frames=1)  # drops the redo stack
    s.reset()
    s.undo()
    assert editor.history_labels == [op.label() for op in s.operations]
    assert len(editor.history_labels) == 2
    assert editor.can_undo and editor.can_redo


def test_python_side_edits_show_in_editor(editor):
    editor.session.mask(frames=slice(0, 2), layers=0)
    assert len(editor.history_labels) == 1 and editor.history_labels[0].startswith("mask(frames=0:2")
    assert editor.can_undo


# ---------------------------------------------------------------------------- rejected actions


@pytest.mark.parametrize(
    ("name", "args", "needle"),
    [
        ("mask", {}, "select cells first"),
        ("delete_frames", {}, "select cells first"),
        (
            "replace",
            {"selection": {"frames": [0, 2], "layers": [0, 1]}, "replace_code": 99999},
            "replace_code",
        ),
        ("paste", {}, "nothing copied"),
        ("paste_source", {}, "no second clip"),
        ("undo", {}, "nothing to undo"),
        ("redo", {}, "nothing to redo"),
        ("explode", {}, "unknown action"),
        ("mask", {"selection": {"frames": [0, 10**7], "layers": [0, 1]}}, "selection"),
        ("mask", {"colour": "red"}, "unknown argument"),
        (
            "interpolate",
            {"selection": {"frames": [0, 2], "layers": [0, 1]}, "interpolate_target": "source"},
            "second clip",
        ),
    ],
)
def test_bad_actions_are_rejected_and_leave_the_session_unchanged(editor, name, args, needle):
    before = snapshot(editor.session)
    assert editor.run_action(name, args) is False
    assert editor.message_kind == "error"
    assert needle in editor.message
    assert snapshot(editor.session) == before


def test_splice_that_does_not_fit_is_reported(editor):
    editor.select(frames=slice(0, 20))
    editor.copy()
    editor.playhead = editor.n_frames / editor.frame_rate  # the end: 20 frames do not fit
    before = snapshot(editor.session)
    assert editor.run_action("paste", {"paste_mode": "replace"}) is False
    assert "does not fit" in editor.message
    assert snapshot(editor.session) == before


def test_larger_codebooks_travel_as_16_bit_cells():
    grid = CodeGrid(np.full((2, 3), 4000), "x", 12.5, 24000, 4096)
    ed = TokenEditor(session=EditSession(grid, None))
    wire = Wire(ed)
    browser_says(ed, {"type": "hello"})
    (content, buffers), *_ = wire.of("grid")
    assert content["bits"] == 16 and len(buffers[0]) == 2 * 6
    assert (decode_cells(buffers[0], 16, 6) == 4000).all()


def test_codebooks_above_32768_codes_travel_as_32_bit_cells():
    codes = np.array([[0, 69999, 40000], [32768, 1, 65535]])
    big = CodeGrid(codes, "x", 75.0, 24000, 70000)
    ed = TokenEditor(session=EditSession(big, None))
    wire = Wire(ed)
    browser_says(ed, {"type": "hello"})
    (content, buffers), *_ = wire.of("grid")
    assert content["bits"] == 32 and len(buffers[0]) == 4 * 6
    assert np.array_equal(decode_cells(buffers[0], 32, 6).reshape(2, 3), codes)
    ed.session.mask(frames=slice(1, 2), layers=[1])
    (patch, buffers), *_ = wire.of("patch")
    cells = decode_cells(buffers[0], 32, 2)
    assert patch["bits"] == 32 and cells.tolist() == [69999, 1 | _wire.MASK_BIT_32]


def test_a_codebook_the_wire_cannot_carry_is_refused_in_one_line():
    with pytest.raises(GridError) as err:
        _wire.pack_codes(np.zeros((1, 2), int), np.zeros((1, 2), bool), 2**31)
    assert str(err.value) == "the editor's wire carries codebooks of 1..1073741824 codes, got 2147483648"
    with pytest.raises(GridError, match=r"carries codes 0\.\.1073741823, got 1073741824"):
        _wire.pack_codes(np.array([[2**30]]), np.zeros((1, 1), bool))


# ---------------------------------------------------------------------------- the wire


def decode_cells(data: bytes, bits: int, n: int) -> np.ndarray:
    """Reference decoder of the wire format: uint16 with the mask in bit 15 (12, 16 bits), or uint32 (32 bits)."""
    if bits == 32:
        return np.frombuffer(data, "<u4")[:n].copy()
    if bits == 16:
        return np.frombuffer(data, "<u2")[:n].copy()
    raw = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.uint16)
    a = raw[:, 0] | ((raw[:, 1] & 0xF) << 8)
    b = (raw[:, 1] >> 4) | (raw[:, 2] << 4)
    v = np.empty(2 * raw.shape[0], np.uint16)
    v[0::2], v[1::2] = a, b
    v = v[:n]
    return (v & 0x7FF) | ((v & 0x800) << 4)


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_twelve_bit_cells_round_trip(n):
    rng = np.random.default_rng(n)
    codes = rng.integers(0, 2048, (2, n))
    mask = rng.random((2, n)) < 0.3
    packed = _wire.pack_codes(codes, mask)
    data = _wire.encode_cells(packed, 12)
    assert len(data) == 3 * -(-2 * n // 2)
    assert np.array_equal(decode_cells(data, 12, 2 * n), packed.reshape(-1))
    assert np.array_equal(decode_cells(_wire.encode_cells(packed, 16), 16, 2 * n), packed.reshape(-1))


def held(cells: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes and mask of reference-decoded cells (:func:`decode_cells`)."""
    if bits == 32:
        return cells & (_wire.MASK_BIT_32 - 1), (cells & _wire.MASK_BIT_32) != 0
    return cells & (_wire.MASK_BIT - 1), (cells & _wire.MASK_BIT) != 0


@pytest.mark.parametrize("n_layers", [8, 16, 32])
@pytest.mark.parametrize(("codebook_size", "bits"), [(1024, 12), (2048, 12), (65536, 32)])
def test_the_editor_wire_round_trips_any_shape(n_layers, codebook_size, bits):
    """Grid, then a masking patch and a length-changing patch, decode back to the session's grid."""
    rng = np.random.default_rng(n_layers + codebook_size)
    codes = rng.integers(0, codebook_size, (n_layers, 37))
    codes[0, :3] = [0, codebook_size - 1, codebook_size // 2]
    grid = CodeGrid(codes, "dac-24khz", 75.0, 24000, codebook_size)
    ed = TokenEditor(session=EditSession(grid, None), show_waveform=False)
    try:
        wire = Wire(ed)
        browser_says(ed, {"type": "hello"})
        (content, buffers), *_ = wire.of("grid")
        n = n_layers * 37
        assert content["bits"] == bits and len(buffers[0]) == {12: 3 * -(-n // 2), 32: 4 * n}[bits]
        got, masked = held(decode_cells(buffers[0], bits, n), bits)
        assert np.array_equal(got.reshape(grid.shape), codes) and not masked.any()
        ed.session.mask(frames=slice(4, 9), layers=range(n_layers // 2, n_layers))
        ed.session.replace(frames=slice(0, 2), layers=[n_layers - 1], code=codebook_size - 1)
        ed.session.delete_frames(frames=slice(30, 33))
        held_now = np.array(codes)
        held_mask = np.zeros(codes.shape, bool)
        for patch, buffers in wire.of("patch"):
            a, b = patch["start"], patch["stop"]
            cells, mask = held(decode_cells(buffers[0], patch["bits"], n_layers * (b - a)), patch["bits"])
            width = patch["n_frames"]
            held_now = np.concatenate(
                [held_now[:, :a], np.zeros((n_layers, b - a), int), held_now[:, b:width]], 1
            )
            held_mask = np.concatenate(
                [held_mask[:, :a], np.zeros((n_layers, b - a), bool), held_mask[:, b:width]], 1
            )
            held_now[:, a:b] = cells.reshape(n_layers, b - a)
            held_mask[:, a:b] = mask.reshape(n_layers, b - a)
        final = ed.session.grid
        assert final.n_frames == 34 and final.codes[n_layers - 1, 0] == codebook_size - 1
        assert np.array_equal(held_now, final.codes) and np.array_equal(held_mask, final.mask)
    finally:
        ed.close()


def test_first_view_gets_at_most_two_bytes_per_cell(editor, grid):
    wire = Wire(editor)
    browser_says(editor, {"type": "hello"})
    (content, buffers), *_ = wire.of("grid")
    assert content["same"] is True
    assert len(buffers) == 1
    n = grid.n_layers * grid.n_frames
    assert content["bits"] == 12  # 2048 codes: 1.5 bytes per cell
    assert len(buffers[0]) == 3 * -(-n // 2) <= 2 * n
    unpacked = decode_cells(buffers[0], content["bits"], n).reshape(grid.shape)
    assert np.array_equal(unpacked & 0x7FFF, grid.codes)
    # waveform envelopes for both versions, aligned to the frames
    envs = {c["which"]: b[0] for c, b in wire.of("envelope")}
    assert set(envs) == {"original", "edited"}
    assert len(envs["edited"]) == grid.n_frames * _wire.ENVELOPE_BINS_PER_FRAME * 2


def test_an_edit_sends_only_the_changed_frames(editor, grid):
    wire = Wire(editor)
    browser_says(editor, {"type": "hello"})
    wire.messages.clear()
    browser_says(
        editor,
        {
            "type": "action",
            "id": 7,
            "name": "mask",
            "args": {"selection": {"frames": [10, 15], "layers": [0, 16]}},
        },
    )
    (patch, buffers), *_ = wire.of("patch")
    assert (patch["start"], patch["stop"]) == (10, 15)
    assert len(buffers[0]) == 3 * grid.n_layers * 5 // 2
    cells = decode_cells(buffers[0], patch["bits"], grid.n_layers * 5).reshape(grid.n_layers, 5)
    assert (cells & _wire.MASK_BIT).all()
    (ack, _), *_ = wire.of("ack")
    assert ack == {"type": "ack", "id": 7, "ok": True, "message": editor.message}
    # the patch goes out before the ack, so the browser has repainted when it hears "done"
    kinds = [m[0]["type"] for m in wire.messages]
    assert kinds.index("patch") < kinds.index("ack")


def test_length_changes_send_the_tail_and_the_frame_map(editor, grid):
    wire = Wire(editor)
    browser_says(editor, {"type": "hello"})
    wire.messages.clear()
    editor.select(frames=slice(20, 30))
    editor.delete_frames()
    (patch, buffers), *_ = wire.of("patch")
    assert patch["n_frames"] == grid.n_frames - 10
    assert (patch["start"], patch["stop"]) == (20, grid.n_frames - 10)
    assert len(buffers[0]) == 3 * -(-grid.n_layers * (grid.n_frames - 30) // 2)
    assert patch["origin"] is True
    origin = np.frombuffer(buffers[1], "<i4")
    assert origin.size == grid.n_frames - 10
    assert origin[19] == 19 and origin[20] == 30


def test_play_requests_pcm(editor, codec):
    wire = Wire(editor)
    browser_says(editor, {"type": "audio", "which": "original"})
    browser_says(editor, {"type": "audio", "which": "edited"})
    pcm = {c["which"]: (c, b[0]) for c, b in wire.of("pcm")}
    content, data = pcm["edited"]
    assert content["sample_rate"] == codec.sample_rate
    samples = np.frombuffer(data, "<i2")
    assert samples.size == editor.grid.n_samples
    expected = codec.decode(editor.grid).samples
    assert np.abs(samples / 32767 - expected).max() < 1e-3
    # after an edit the browser, which holds edited PCM, gets the re-rendered part only
    browser_says(editor, {"type": "hello"})
    wire.messages.clear()
    editor.select(frames=slice(20, 24))
    editor.mask()
    (content, data), *_ = wire.of("pcm")
    spf = editor.grid.samples_per_frame
    part = np.frombuffer(data[0], "<i2")
    assert content["which"] == "edited" and content["n_samples"] == editor.grid.n_samples
    assert 0 < part.size < content["n_samples"]
    assert content["start"] <= 20 * spf < 24 * spf <= content["start"] + part.size
    patched = samples.copy()
    patched[content["start"] : content["start"] + part.size] = part
    assert np.abs(patched / 32767 - codec.decode(editor.grid).samples).max() < 1e-3


def test_audio_is_the_edited_render(editor, codec):
    editor.select(frames=slice(5, 15), layers=slice(0, 16))
    editor.mask()
    assert np.allclose(editor.audio.samples, codec.decode(editor.grid).samples, atol=1e-5)


# ---------------------------------------------------------------------------- helpers and figures


def test_stats_figures(editor, grid):
    entropy = stats.layer_entropy(grid)
    assert entropy.shape == (grid.n_layers,)
    assert (entropy > 0).all() and (entropy <= np.log2(grid.codebook_size) + 1e-9).all()
    use = stats.codebook_utilisation(grid)
    assert ((use > 0) & (use <= 1)).all()
    editor.select(frames=slice(0, 30))
    editor.mask()
    masked_entropy = stats.layer_entropy(editor.grid)
    assert (masked_entropy <= entropy + 1e-9).all()
    figs = editor.figures()
    assert set(figs) == {"histogram", "entropy", "waveform", "spectrogram"}
    assert figs["histogram"].data[0].z.shape[0] == grid.n_layers
    assert len(figs["spectrogram"].data) == 2


# ---------------------------------------------------------------------------- one resolver, one registry
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)  # select() only reads it
@given(t0=st.floats(0, 4.0), length=st.floats(0.001, 3.0))
def test_editor_and_session_pick_the_same_frames_for_any_seconds(editor, t0, length):
    t1 = min(t0 + length, editor.n_frames / editor.frame_rate)
    if t1 <= t0:
        return
    frames = editor.session.select(seconds=(t0, t1)).frames
    editor.select(seconds=(t0, t1))
    assert editor.selection["frames"] == [int(frames[0]), int(frames[-1]) + 1]


def test_select_seconds_0_to_0_56_is_frames_0_to_7(editor):
    editor.select(seconds=(0, 0.56))  # 0.56 s * 12.5 Hz = 7.000000000000001
    assert editor.selection["frames"] == [0, 7]
    editor.mask()
    assert editor.session.history[-1]["frames"] == "0:7"


def test_hello_sends_the_operations_the_toolbar_is_built_from(editor):
    wire = Wire(editor)
    browser_says(editor, {"type": "hello"})
    (msg, _), *_ = wire.of("ops")
    names = [spec["name"] for spec in msg["ops"]]
    # the core operations first; operations added later (prosody, ...) follow in registry order
    assert names[:7] == [
        "mask",
        "unmask",
        "replace",
        "interpolate",
        "randomize",
        "delete_frames",
        "duplicate_frames",
    ]
    kinds = [m[0]["type"] for m in wire.messages]
    assert kinds.index("grid") < kinds.index("ops")


def test_randomize_from_the_toolbar_is_recorded_and_undoable(editor, grid):
    sel = {"frames": [5, 25], "layers": [3, 5]}
    assert editor.run_action("randomize", {"selection": sel, "params": {"seed": 11}}), editor.message
    op = editor.session.history[-1]
    assert op == {"op": "randomize", "frames": "5:25", "layers": "3:5", "seed": 11}
    assert editor.history_labels[-1] == "randomize(frames=5:25, layers=3:5, seed=11)"
    assert editor.op_params["randomize"] == {"seed": 11}
    assert EditSession.from_json(editor.session.to_json(), grid).grid == editor.grid
    assert "session.randomize(frames=range(5, 25), layers=range(3, 5), seed=11)" in editor.session.to_python()
    assert editor.run_action("undo") and editor.grid == grid


def test_toolbar_params_mirror_the_older_traits(editor):
    editor.replace_code = 17
    assert editor.op_params["replace"]["code"] == 17
    editor.op_params = {**editor.op_params, "interpolate": {"alpha": 0.25, "target": "neighbours"}}
    assert editor.alpha == 0.25
    assert editor.run_action(
        "replace", {"selection": {"frames": [0, 2], "layers": [0, 1]}, "params": {"code": 9}}
    )
    assert editor.replace_code == 9 and editor.grid.codes[0, 0] == 9


@pytest.mark.parametrize(
    "content",
    [
        {"type": "action", "id": 1, "name": "mask", "args": [1, 2]},
        {"type": "action", "id": 2, "name": "mask", "args": "frames"},
        {"type": "action", "id": 3, "name": "mask", "args": 5},
        {"type": "action", "id": 4, "name": ["mask"], "args": {}},
        {"type": "action", "id": 5, "name": "replace", "args": {"params": [1]}},
        {"type": "action", "id": 6, "name": "replace", "args": {"params": {"code": "x"}}},
        {"type": "action", "id": 7, "name": "randomize", "args": {"params": {"seed": -1}}},
        {"type": "action", "id": 8, "name": "__init__", "args": {}},
        {"type": "action", "id": {"x": 1}, "name": "mask", "args": {"selection": {"frames": "a"}}},
    ],
)
def test_malformed_browser_actions_get_an_error_answer(editor, content):
    editor.select(frames=slice(0, 3), layers=slice(0, 2))
    wire = Wire(editor)
    grid = editor.grid
    browser_says(editor, content)
    (ack, _), *_ = wire.of("ack")
    assert ack["ok"] is False and ack["message"] and "\n" not in ack["message"]
    assert editor.message_kind == "error" and editor.grid is grid


# ---------------------------------------------------------------------------- daily use (issue 16)


def test_a_view_opened_later_gets_the_whole_edited_envelope(editor):
    """A reloaded tab (or a second view) holds no audio to patch: it gets the whole envelope."""
    wire = Wire(editor)
    browser_says(editor, {"type": "hello"})
    editor.select(frames=slice(20, 24))
    editor.mask()
    wire.messages.clear()
    browser_says(editor, {"type": "hello"})  # the second view
    (content, buffers), *_ = [m for m in wire.of("envelope") if m[0]["which"] == "edited"]
    assert content["start"] == 0
    assert len(buffers[0]) == editor.n_frames * content["bins"] * 2
    wire.messages.clear()
    editor.select(frames=slice(30, 32))
    editor.mask()  # then a patch, which both views can apply
    (content, buffers), *_ = wire.of("envelope")
    assert content["start"] > 0 and len(buffers[0]) < editor.n_frames * content["bins"] * 2


def test_without_the_waveform_strip_held_pcm_still_follows_edits(grid, codec):
    ed = TokenEditor(grid, codec, show_waveform=False, journal=False)
    wire = Wire(ed)
    browser_says(ed, {"type": "hello"})
    browser_says(ed, {"type": "audio", "which": "edited"})
    wire.messages.clear()
    ed.select(frames=slice(10, 14))
    ed.mask()
    (content, data), *_ = wire.of("pcm")
    assert 0 < len(data[0]) // 2 < content["n_samples"]
    assert wire.of("envelope") == []
    ed.close()


def test_paste_second_clip_at_any_playhead(editor, other_grid, grid):
    editor.load_source(other_grid)
    editor.select(frames=slice(0, 1), layers=slice(0, 4))
    editor.playhead = (grid.n_frames - 10) / editor.frame_rate
    assert editor.run_action("paste_source", {"paste_mode": "replace"}), editor.message
    assert editor.n_frames == grid.n_frames  # overwrite: what runs past the end is left out
    assert np.array_equal(editor.grid.codes[:4, -10:], other_grid.codes[:4, :10])
    assert np.array_equal(editor.grid.codes[4:, -10:], grid.codes[4:, -10:])
    # frames of the second clip chosen on its track
    editor.source_selection = [5, 8]
    editor.playhead = 2 / editor.frame_rate
    assert editor.run_action("paste_source", {"paste_mode": "replace"}), editor.message
    assert np.array_equal(editor.grid.codes[:4, 2:5], other_grid.codes[:4, 5:8])
    # at the end, the error is in the UI's words
    editor.playhead = editor.n_frames / editor.frame_rate
    assert editor.run_action("paste_source", {"paste_mode": "replace"}) is False
    assert "playhead is at the end" in editor.message and "insert" in editor.message
    assert "dst_start" not in editor.message
    with pytest.raises(traitlets.TraitError, match=rf"0\.\.{other_grid.n_frames}"):
        editor.source_selection = [0, other_grid.n_frames + 1]


def test_interpolate_toward_the_frames_chosen_on_the_second_clip(editor, other_grid):
    editor.load_source(other_grid)
    editor.source_selection = [3, 6]
    editor.select(frames=slice(10, 13), layers=slice(0, 16))
    assert editor.run_action("interpolate", {"params": {"alpha": 1.0, "target": "source"}}), editor.message
    op = editor.session.operations[-1]
    assert op.target_start == 3


def test_listen_layers_plays_the_first_layers_without_editing(editor, codec, grid):
    wire = Wire(editor)
    browser_says(editor, {"type": "hello"})
    browser_says(editor, {"type": "audio", "which": "edited"})
    wire.messages.clear()
    editor.listen_layers = range(4)
    assert editor.listen_layers == [0, 1, 2, 3]
    assert editor.session.history == [] and editor.grid == grid  # not an edit
    assert wire.of("pcm_drop") == [({"type": "pcm_drop", "which": "edited"}, [])]
    browser_says(editor, {"type": "audio", "which": "edited"})
    (_, data), *_ = wire.of("pcm")
    heard = np.frombuffer(data[0], "<i2") / 32767
    mask = np.zeros(grid.shape, bool)
    mask[4:] = True
    expected = codec.decode(grid.replace(mask=mask)).samples
    assert np.abs(heard - expected).max() < 1e-3
    assert np.abs(heard - codec.decode(grid).samples).max() > 1e-2  # and not the full grid
    assert editor.playback_audio() is editor.playback_audio()  # cached
    editor.listen_layers = None
    assert np.allclose(editor.playback_audio().samples, editor.audio.samples)
    editor.listen_layers = list(range(16))  # all layers is no listening view
    assert editor.listen_layers is None
    with pytest.raises(traitlets.TraitError, match=r"0\.\.15"):
        editor.listen_layers = [16]


def test_a_long_recording_plays_from_slices_decoded_on_demand(grid, codec):
    """Past PCM_WHOLE_MAX_S the browser gets PCM_SLICE_S seconds from where it plays, not the whole audio."""
    from qtok_widgets.widgets.editor import PCM_SLICE_S, PCM_WHOLE_MAX_S

    long = grid.with_codes(np.tile(grid.codes, (1, 21)))  # 84 s
    assert long.duration > PCM_WHOLE_MAX_S
    ed = TokenEditor(long, codec, show_waveform=False, journal=False)
    wire = Wire(ed)
    browser_says(ed, {"type": "hello"})
    browser_says(ed, {"type": "audio", "which": "edited", "at": 40.0})
    (content, data), *_ = wire.of("pcm")
    spf = long.samples_per_frame
    assert content["slice"] is True and content["n_samples"] == long.n_samples
    assert content["start"] == 500 * spf
    part = np.frombuffer(data[0], "<i2") / 32767
    assert part.size == int(PCM_SLICE_S * codec.sample_rate)
    whole = codec.decode(long).samples
    assert np.abs(part - whole[500 * spf : 500 * spf + part.size]).max() < 1e-3
    # an edit makes the held slice stale: the browser is told to ask again, nothing is decoded whole
    wire.messages.clear()
    ed.select(frames=slice(510, 512))
    ed.mask()
    assert [m[0]["type"] for m in wire.messages if m[0]["type"].startswith("pcm")] == ["pcm_drop"]
    assert ed.session.last_render is None  # no whole render for a view that holds a slice
    ed.close()


def test_a_long_recording_gets_the_waveform_of_the_window_in_view(grid, codec, monkeypatch):
    """Past WAVEFORM_AUTO_MAX_S the strip is not switched off: a zoomed-in view asks for its frames."""
    from qtok_widgets.widgets import editor as editor_module

    monkeypatch.setattr(editor_module, "WAVEFORM_AUTO_MAX_S", 60.0)  # an 84 s clip counts as long
    long = grid.with_codes(np.tile(grid.codes, (1, 21)))
    ed = TokenEditor(long, codec, journal=False)
    assert ed.show_waveform and ed.waveform_window_s == editor_module.WAVEFORM_WINDOW_MAX_S
    wire = Wire(ed)
    browser_says(ed, {"type": "hello"})
    assert wire.of("envelope") == []  # nothing decoded whole when the view opens
    browser_says(ed, {"type": "waveform", "start": 500, "stop": 600})
    got = {c["which"]: (c, b[0]) for c, b in wire.of("envelope")}
    assert set(got) == {"original", "edited"}
    content, data = got["edited"]
    assert content["window"] is True and content["start"] == 500 and content["n_frames"] == long.n_frames
    spf = long.samples_per_frame
    expected = _wire.envelope(codec.decode(long).samples[500 * spf : 600 * spf], spf, 100)
    assert np.abs(np.frombuffer(data, np.int8).astype(int) - expected.reshape(-1).astype(int)).max() <= 1
    wire.messages.clear()
    ed.select(frames=slice(510, 520))
    ed.mask()  # patches, but no whole render: the view asks for the edited window again
    assert wire.of("envelope") == [] and ed.session.last_render is None
    browser_says(ed, {"type": "waveform", "start": 500, "stop": 600, "which": "edited"})
    assert [c["which"] for c, _ in wire.of("envelope")] == ["edited"]
    ed.close()


def test_a_long_input_reports_encode_progress(codec, speech_path, monkeypatch):
    """An input of ENCODE_PROGRESS_MIN_S or more reports progress while it is encoded (a bar in
    the notebook; outside a kernel only the callback). The bound is lowered to keep this quick."""
    from qtok_widgets.widgets import editor as editor_module

    monkeypatch.setattr(editor_module, "ENCODE_PROGRESS_MIN_S", 1.0)
    seen: list[tuple[int, int]] = []
    grid, _, _ = TokenEditor._prepare(
        load_audio(speech_path), codec, progress=lambda done, total: seen.append((done, total))
    )
    assert seen and seen[-1][0] == seen[-1][1] == grid.n_frames
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
