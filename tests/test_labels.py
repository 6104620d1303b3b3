"""Labels: every format read, bad files named in one line, and labels carried through timing edits."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from qtok_widgets.examples import EXAMPLES_DIR, list_examples
from qtok_widgets.grid import CodeGrid
from qtok_widgets.labels import Labels, LabelsError, label_format, load_labels
from qtok_widgets.session import EditSession

TWO_TIERS = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 1.5
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "words"
        xmin = 0
        xmax = 1.5
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.4
            text = ""
        intervals [2]:
            xmin = 0.4
            xmax = 0.9
            text = "naïve"
        intervals [3]:
            xmin = 0.9
            xmax = 1.5
            text = "café"
    item [2]:
        class = "IntervalTier"
        name = "phones"
        xmin = 0
        xmax = 1.5
        intervals: size = 2
        intervals [1]:
            xmin = 0.4
            xmax = 0.6
            text = "n"
        intervals [2]:
            xmin = 0.6
            xmax = 0.9
            text = "aɪ"
"""


def grid_of(n_frames: int = 40, frame_rate: float = 10.0) -> CodeGrid:
    rng = np.random.default_rng(0)
    return CodeGrid(
        rng.integers(0, 64, (4, n_frames)).astype(np.int32),
        codec="builtin",
        frame_rate=frame_rate,
        sample_rate=16000,
        codebook_size=64,
        n_samples=round(n_frames * 16000 / frame_rate),
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le-bom", "utf-16-be-bom"])
def test_textgrid_with_two_tiers_in_any_encoding(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "clip.TextGrid"
    if encoding == "utf-16-le-bom":
        path.write_bytes(b"\xff\xfe" + TWO_TIERS.encode("utf-16-le"))
    elif encoding == "utf-16-be-bom":
        path.write_bytes(b"\xfe\xff" + TWO_TIERS.encode("utf-16-be"))
    else:
        path.write_text(TWO_TIERS, encoding=encoding)
    labels = load_labels(path)
    assert labels.names == ["words", "phones"]
    assert labels.tiers["words"] == ((0.4, 0.9, "naïve"), (0.9, 1.5, "café"))
    assert labels.tiers["phones"][1] == (0.6, 0.9, "aɪ")


def test_textgrid_round_trip(tmp_path: Path) -> None:
    labels = load_labels(tmp_path.joinpath("a.TextGrid").write_text(TWO_TIERS) and tmp_path / "a.TextGrid")
    out = labels.to_textgrid(tmp_path / "b.TextGrid", duration_s=2.0)
    again = load_labels(out)
    assert again.tiers == labels.tiers
    assert "xmax = 2" in out.read_text()


def test_webvtt_and_srt(tmp_path: Path) -> None:
    vtt = tmp_path / "a.vtt"
    vtt.write_text(
        "WEBVTT\n\n00:00.500 --> 00:01.250\n<v Ann>hello there\n\n1\n00:00:02.000 --> 00:00:03.5\nbye\n"
    )
    assert load_labels(vtt).tiers == {"subtitles": ((0.5, 1.25, "hello there"), (2.0, 3.5, "bye"))}
    srt = tmp_path / "a.srt"
    srt.write_text(
        "1\r\n00:00:01,000 --> 00:00:02,040\r\nfirst line\r\nsecond\r\n\r\n2\r\n01:00:00,000 --> 01:00:01,000\r\nlate\r\n"
    )
    assert load_labels(srt).tiers["subtitles"] == ((1.0, 2.04, "first line second"), (3600.0, 3601.0, "late"))


def test_ctm(tmp_path: Path) -> None:
    ctm = tmp_path / "a.ctm"
    ctm.write_text(";; comment\nutt1 1 0.10 0.25 hello 0.98\nutt1 1 0.40 0.30 world\n")
    assert load_labels(ctm).tiers == {"words": ((0.1, 0.35, "hello"), (0.4, pytest.approx(0.7), "world"))}


def test_json_forms_and_python_lists(tmp_path: Path) -> None:
    labels = Labels({"words": ((0.0, 0.5, "a"), (0.5, 1.0, "b")), "notes": ((0.2, 0.3, "breath"),)})
    path = tmp_path / "l.json"
    path.write_text(json.dumps(labels.to_json()))
    assert load_labels(path) == labels
    path.write_text(
        json.dumps([{"start": 0, "end": 0.5, "text": "a", "tier": "words"}, [0.5, 1.0, "b", "words"]])
    )
    assert load_labels(path).tiers == {"words": ((0.0, 0.5, "a"), (0.5, 1.0, "b"))}
    assert load_labels([(0.0, 0.5, "a"), (0.5, 1.0, "b")]).tiers == {
        "words": ((0.0, 0.5, "a"), (0.5, 1.0, "b"))
    }
    assert load_labels({"words": [(0, 1, "x")]}).tiers == {"words": ((0.0, 1.0, "x"),)}
    assert load_labels(labels) is labels


def test_format_from_content_when_the_suffix_says_nothing(tmp_path: Path) -> None:
    path = tmp_path / "labels.txt"
    path.write_text(TWO_TIERS)
    assert label_format(path, TWO_TIERS) == "textgrid"
    assert load_labels(path).names == ["words", "phones"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "a.TextGrid",
            'File type = "ooTextFile"\nObject class = "TextGrid"\nxmin = 0\nxmax = oops\n',
            "TextGrid",
        ),
        ("a.vtt", "00:00.500 --> 00:01.250\nhi\n", "must start with WEBVTT"),
        ("a.srt", "just text\n", "no cues"),
        ("a.ctm", "utt 1 zero 0.2 word\n", "line 1: start and duration must be numbers"),
        ("a.json", "{not json", "not JSON"),
        ("a.json", '[[0.5, 0.2, "backwards"]]', "need 0 <= start_s <= end_s"),
        ("a.json", "[[0, 1]]", "each label must be [start_s, end_s, text]"),
        ("a.lab", "hello", "unknown label format"),
    ],
)
def test_bad_files_give_one_line(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(LabelsError) as info:
        load_labels(path)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="no such label file"):
        load_labels(tmp_path / "nope.TextGrid")
    with pytest.raises(LabelsError, match="directory"):
        load_labels(tmp_path)
    with pytest.raises(LabelsError, match="cannot read labels from int"):
        load_labels(3)


def test_find_by_text_tier_and_occurrence() -> None:
    labels = load_labels(
        [(0, 1, "the", "words"), (1, 2, "dog", "words"), (2, 3, "The", "words"), (0, 0.5, "dh", "phones")]
    )
    assert labels.find("the") == (0.0, 1.0, "the")
    assert labels.find("dog.", occurrence=0) == (1.0, 2.0, "dog")
    assert labels.find("dh", tier="phones") == (0.0, 0.5, "dh")
    with pytest.raises(LabelsError, match=r"occurrence must be in 0\.\.0"):
        labels.find("the", occurrence=1)
    with pytest.raises(LabelsError, match="no label 'cat' in any tier"):
        labels.find("cat")
    with pytest.raises(LabelsError, match="no tier named 'x'"):
        labels.find("dog", tier="x")


def test_labels_follow_delete_duplicate_and_insert() -> None:
    grid = grid_of()  # 40 frames at 10 Hz: 4.0 s
    labels = load_labels(
        {"words": [(0.0, 0.5, "a"), (0.5, 1.05, "b"), (1.5, 2.0, "c")], "notes": [(3.0, 3.5, "n")]}
    )
    session = EditSession(grid, labels=labels)
    assert session.labels == labels

    session.delete_frames(frames="2:4")  # 0.2-0.4 s, inside "a": "a" shrinks, the rest moves 0.2 s earlier
    words = session.labels.tiers["words"]
    assert [w[2] for w in words] == ["a", "b", "c"]
    assert np.allclose([w[:2] for w in words], [(0.0, 0.3), (0.3, 0.85), (1.3, 1.8)])
    assert session.labels.tiers["notes"][0][:2] == pytest.approx((2.8, 3.3))

    session.duplicate_frames(
        frames=5, times=2
    )  # frame 5 is original frame 7, inside "b": "b" stretches 0.2 s
    words = session.labels.tiers["words"]
    assert words[1][:2] == pytest.approx((0.3, 1.05))
    assert words[2][:2] == pytest.approx((1.5, 2.0))

    session.splice(grid, src_frames="0:3", dst_start=0, mode="insert")  # 0.3 s inserted at the start
    assert session.labels.tiers["words"][0][:2] == pytest.approx((0.3, 0.6))

    session.delete_frames(frames="18:25")  # everything of "c" (now 1.8-2.3 s) is gone
    assert [w[2] for w in session.labels.tiers["words"]] == ["a", "b"]

    for _ in range(4):
        session.undo()
    assert session.labels == labels
    session.redo()
    assert session.labels.tiers["words"][0][:2] == pytest.approx((0.0, 0.3))
    session.reset()
    assert session.labels == labels


def test_follow_one_delta_equals_the_session() -> None:
    grid = grid_of()
    labels = load_labels([(0.05, 0.55, "a"), (0.55, 1.25, "b"), (2.0, 3.9, "c")])
    session = EditSession(grid, labels=labels)
    session.duplicate_frames(frames=[3, 9], times=3)
    from qtok_widgets import ops

    delta = ops.DuplicateFrames.create(grid, [3, 9], 3).plan(grid)
    followed = labels.follow(delta, grid.n_frames, grid.frame_rate, grid.sample_rate)
    ours, theirs = followed.tier("words"), session.labels.tier("words")
    assert [w[2] for w in ours] == [w[2] for w in theirs] == ["a", "b", "c"]
    assert np.allclose([w[:2] for w in ours], [w[:2] for w in theirs])
    assert ours[0][:2] == pytest.approx((0.05, 0.85))  # frame 3 repeated three more times: +0.3 s


def test_select_by_label_equals_the_seconds_resolution() -> None:
    grid = grid_of(n_frames=50, frame_rate=12.5)
    labels = load_labels(EXAMPLES_DIR / "arctic_a0009.TextGrid")
    session = EditSession(grid, labels=labels)
    for start, end, word in labels.tier("words"):
        by_label = session.select(label=word)
        by_seconds = session.select(seconds=(start, end))
        assert np.array_equal(by_label.frames, by_seconds.frames), word
    with pytest.raises(LabelsError, match="no label"):
        session.select(label="zebra")


@pytest.mark.parametrize("name", list_examples())
def test_example_clips_have_word_labels(name: str) -> None:
    from qtok_widgets.audio import load_audio

    labels = load_labels(EXAMPLES_DIR / f"{name}.TextGrid")
    words = labels.tier("words")
    duration = load_audio(EXAMPLES_DIR / f"{name}.wav").duration
    assert len(words) >= 9
    assert all(0 <= s < e <= duration for s, e, _ in words)
    assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(words))


def test_editor_selects_a_label_and_shows_labels_that_follow_edits() -> None:
    from qtok_widgets import TokenEditor, load_codec

    path = EXAMPLES_DIR / "fox_take_a.wav"
    editor = TokenEditor(path, load_codec("builtin"), labels=path.with_suffix(".TextGrid"), journal=False)
    try:
        start, end, _ = editor.labels.find("fox")
        expected = editor.session.select(seconds=(start, end)).frames
        assert editor.select(label="fox")["frames"] == [int(expected[0]), int(expected[-1]) + 1]
        assert editor.selection["layers"] == [0, editor.n_layers]
        assert editor.label_tiers["words"][3] == [1.0, 1.532, "fox"]
        editor.delete_frames()  # all of "fox": the label is gone, the next word moves up
        words = [w[2] for w in editor.label_tiers["words"]]
        assert "fox" not in words and words[3] == "jumps"
        editor.undo()
        assert editor.label_tiers["words"][3][2] == "fox"
        with pytest.raises(LabelsError, match="no label 'cat'"):
            editor.select(label="cat")
    finally:
        editor.close()


def test_time_map_moves_kept_frames_and_spreads_a_stretch() -> None:
    from qtok_widgets.labels import time_map

    # frames 3..5 replaced by four new ones (a stretch by 4/3): they spread across the four
    origin = np.array([0, 1, 2, -1, -1, -1, -1, 6, 7])
    assert np.allclose(time_map(origin, [0.0, 2.5, 3.0, 4.5, 6.0, 7.5, 8.0]), [0, 2.5, 3, 5, 7, 8.5, 9])
    # frame 1 duplicated: it spans two frames; deleting frames 2..3 sends them to the next kept frame
    assert np.allclose(time_map(np.array([0, 1, -1, 2]), [1.5, 2.0, 2.5, 3.0], 3), [2.0, 3.0, 3.5, 4.0])
    assert np.allclose(time_map(np.array([0, 1, 4]), [1.0, 2.0, 3.5, 4.5]), [1.0, 2.0, 2.0, 2.5])


def test_labels_follow_a_time_stretch_proportionally() -> None:
    from qtok_widgets import load_audio, load_codec

    codec = load_codec("builtin")
    grid = codec.encode(load_audio(EXAMPLES_DIR / "arctic_a0009.wav"))
    labels = load_labels(EXAMPLES_DIR / "arctic_a0009.TextGrid")
    session = EditSession(grid, codec, labels=labels)
    words = labels.tier("words")
    start, end, _ = words[2]
    fa, fb = round(start * grid.frame_rate), round(end * grid.frame_rate)
    session.time_stretch(frames=f"{fa}:{fb}", factor=1.5)
    k_new = max(1, round((fb - fa) * 1.5))
    after = session.labels.tier("words")
    assert [w[2] for w in after] == [w[2] for w in words]  # no word lost inside the stretch
    stretched = after[2]
    # the word's frames now last k_new frames instead of fb - fa; the parts outside keep their length
    expected = (end - start) + (k_new - (fb - fa)) / grid.frame_rate
    assert stretched[1] - stretched[0] == pytest.approx(expected, abs=1.5 / grid.frame_rate)
    shift = (k_new - (fb - fa)) / grid.frame_rate
    assert after[-1][:2] == pytest.approx((words[-1][0] + shift, words[-1][1] + shift), abs=1e-6)
