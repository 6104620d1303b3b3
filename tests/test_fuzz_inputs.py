"""Fuzzing the inputs users and browsers hand the editing core: recipes (as bytes and as JSON
structures) and the widget's message handler. Whatever arrives, the only error is a one-line
QtokError, memory stays bounded, and the session is left as it was."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_session import make_grid

from qtok_widgets import EditSession
from qtok_widgets.errors import QtokError

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def base():
    grid, other = make_grid(24, 1), make_grid(10, 2)
    s = EditSession(grid)
    s.mask("2:6", "8:16")
    s.replace([3], [1], 9)
    s.replace_code(int(grid.codes[0, 0]), 4)
    s.splice(other, "0:4", 10, layers=[0, 1])
    s.splice(other, [1, 2], 3, mode="insert")
    s.randomize("0:5", [2], seed=4)
    s.delete_frames([7])
    s.duplicate_frames("1:3", times=2)
    s.reset()
    s.undo()
    return grid, json.loads(s.to_json())


def _replay(text, grid) -> None:
    try:
        EditSession.from_json(text, grid)
    except QtokError as exc:
        assert "\n" not in str(exc)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@FUZZ
@given(st.data())
def test_mutated_recipe_bytes_give_only_qtok_errors(base, data):
    grid, recipe = base
    raw = bytearray(json.dumps(recipe).encode())
    for _ in range(data.draw(st.integers(1, 6))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, len(raw) - 1))
        if kind == "flip":
            raw[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del raw[pos:]
            if not raw:
                raw = bytearray(b"{")
        elif kind == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del raw[pos : pos + data.draw(st.integers(1, 16))]
            if not raw:
                raw = bytearray(b"[")
    _replay(bytes(raw), grid)


@FUZZ
@given(st.data())
def test_recipes_with_any_value_anywhere_give_only_qtok_errors(base, data):
    grid, recipe = base
    recipe = json.loads(json.dumps(recipe))
    paths = [p for p in _paths(recipe) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = recipe
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = data.draw(json_values)
        paths = [p for p in _paths(recipe) if p]
    _replay(json.dumps(recipe), grid)


def test_hostile_recipes_stay_small(base):
    grid, _ = base
    grow = [{"op": "duplicate_frames", "frames": None if i % 2 else "0:1", "times": 64} for i in range(40)]
    deep: object = 0
    for _ in range(100_000):
        deep = [deep]
    cases = [
        {"format": "qtok-recipe", "version": 1, "ops": grow},
        {"format": "qtok-recipe", "version": 1, "ops": [{"op": "mask", "frames": int("9" * 400)}]},
        {"format": "qtok-recipe", "version": 1, "ops": [{"op": "randomize", "seed": 2**64}]},
    ]
    texts = [json.dumps(c) for c in cases] + [
        '{"format": "qtok-recipe", "a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    ]
    tracemalloc.start()
    try:
        for text in texts:
            with pytest.raises(QtokError) as info:
                EditSession.from_json(text, grid)
            assert "\n" not in str(info.value)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20


class _Recorder:
    def __init__(self, editor):
        self.sent = []
        original = editor.send

        def record(content, buffers=None):
            self.sent.append(content)
            original(content, buffers)

        editor.send = record


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    message=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"type": st.sampled_from(["action", "audio", "waveform", "hello", "other"])},
            optional={
                "id": json_values,
                "name": st.one_of(
                    st.sampled_from(["mask", "replace", "randomize", "paste", "undo", "restore"]), json_values
                ),
                "args": st.one_of(
                    json_values,
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "selection": json_values,
                            "params": json_values,
                            "playhead": json_values,
                            "paste_mode": json_values,
                        },
                    ),
                ),
                "which": json_values,
            },
        ),
    )
)
def test_the_widget_answers_any_message_without_raising(editor_for_fuzz, message):
    editor = editor_for_fuzz
    rec = _Recorder(editor)
    editor._handle_custom_msg(message, [])
    if isinstance(message, dict) and message.get("type") == "action":
        acks = [m for m in rec.sent if m.get("type") == "ack"]
        assert len(acks) == 1 and isinstance(acks[0]["ok"], bool)
        if not acks[0]["ok"]:
            assert editor.message_kind == "error" and "\n" not in editor.message


@pytest.fixture(scope="module")
def editor_for_fuzz():
    from qtok_widgets import TokenEditor

    grid = make_grid(40, 5)
    editor = TokenEditor(session=EditSession(grid), show_waveform=False)
    yield editor
    editor.close()
