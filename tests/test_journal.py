"""Tests of the edit journal (qtok_widgets.journal): nothing acknowledged is lost when the process
dies, a cut-short last line, another grid's journal, the lock between processes, compaction, a
failed write leaving the session as it was, and TokenEditor's offer to restore."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_session import make_grid

from qtok_widgets import EditSession
from qtok_widgets.journal import Journal, JournalError, fingerprint, read_journal, remove_old_journals

ROOT = Path(__file__).resolve().parent.parent


def edit_a_lot(s: EditSession, other) -> None:
    s.mask("3:10", "8:16")
    s.replace("0:4", [2], 7)
    s.splice(other, [0, 1, 2], 12, layers=[0, 1])
    s.delete_frames([5])
    s.randomize("10:20", [4], seed=3)
    s.undo()
    s.duplicate_frames("2:4", times=2)
    s.undo()
    s.redo()
    s.undo()  # leaves one op to redo


def test_a_new_session_restores_everything_including_redo(tmp_path):
    grid, other = make_grid(30), make_grid(9, 4)
    path = tmp_path / "j.jsonl"
    s = EditSession(grid, journal=path)
    edit_a_lot(s, other)
    s.close()
    back = EditSession(grid, journal=path)
    assert back.restored == 10 and not back.restored_truncated
    assert back.grid == s.grid
    assert back.history == s.history and back.redo_history == s.redo_history
    back.redo()  # and it keeps journaling
    back.close()
    assert EditSession(grid, journal=path).history == back.history


def test_a_cut_short_last_line_restores_every_complete_event(tmp_path):
    grid = make_grid(20)
    path = tmp_path / "j.jsonl"
    s = EditSession(grid, journal=path)
    s.mask("0:5")
    s.replace("6:8", None, 3)
    s.close()
    data = path.read_bytes()
    path.write_bytes(data[:-17])  # the crash hit in the middle of the last line
    back = EditSession(grid, journal=path)
    assert back.restored == 1 and back.restored_truncated
    assert back.history == [s.history[0]]


def test_a_journal_of_another_grid_is_refused_and_never_applied(tmp_path):
    path = tmp_path / "j.jsonl"
    s = EditSession(make_grid(20, 1), journal=path)
    s.mask("0:5")
    s.close()
    other = make_grid(20, 2)
    with pytest.raises(JournalError, match="written for another source grid; it is never applied"):
        EditSession(other, journal=path)
    assert read_journal(path, make_grid(20, 1)).n_edits == 1


def test_a_damaged_line_in_the_middle_is_an_error(tmp_path):
    grid = make_grid(20)
    path = tmp_path / "j.jsonl"
    s = EditSession(grid, journal=path)
    s.mask("0:5")
    s.mask("6:9")
    s.close()
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1][:10]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(JournalError, match="line 2 of the journal is damaged"):
        EditSession(grid, journal=path)


def test_a_second_process_gets_a_clear_error_not_interleaved_writes(tmp_path):
    grid = make_grid(20)
    path = tmp_path / "j.jsonl"
    codes = tmp_path / "g.npz"
    grid.save(codes)
    s = EditSession(grid, journal=path)
    s.mask("0:5")
    code = textwrap.dedent(
        f"""
        from qtok_widgets import CodeGrid, EditSession
        from qtok_widgets.errors import QtokError
        try:
            EditSession(CodeGrid.load({str(codes)!r}), journal={str(path)!r})
        except QtokError as exc:
            print("refused:", exc)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "refused:" in out.stdout and "open in another process" in out.stdout
    s.mask("6:8")
    s.close()
    assert read_journal(path, grid).n_edits == 2


def test_the_same_process_hands_the_journal_over(tmp_path):
    grid = make_grid(20)
    path = tmp_path / "j.jsonl"
    first = EditSession(grid, journal=path)
    first.mask("0:3")
    second = EditSession(grid, journal=path)  # a re-run notebook cell
    assert second.restored == 1 and first.journal is None
    second.mask("4:6")
    first.mask("8:9")  # no longer journaled
    second.close()
    assert EditSession(grid, journal=path).history == second.history


def test_the_journal_stays_bounded_by_compaction(tmp_path):
    grid, other = make_grid(40), make_grid(30, 4)
    path = tmp_path / "j.jsonl"
    s = EditSession(grid, journal=path, journal_max_bytes=20_000)
    for i in range(200):
        s.replace(f"{i % 40}:{i % 40 + 1}", [i % 16], i)
        if i % 50 == 0:
            s.splice(other, "0:20", 0)
    s.undo()
    s.undo()
    assert path.stat().st_size < 20_000 + 2_000  # one event past the bound at most
    s.close()
    back = EditSession(grid, journal=path)
    assert back.grid == s.grid and back.history == s.history and back.redo_history == s.redo_history


def test_a_failed_write_leaves_the_session_as_it_was(tmp_path):
    grid = make_grid(20)
    s = EditSession(grid, journal=tmp_path / "j.jsonl")
    s.mask("0:2")
    full = os.open("/dev/full", os.O_WRONLY)  # every write fails with ENOSPC
    real, s.journal._fd = s.journal._fd, full
    try:
        before, history = s.grid, s.history
        with pytest.raises(JournalError, match=r"cannot write the journal .*the edit was not made"):
            s.mask("5:9")
        with pytest.raises(JournalError):
            s.undo()
        assert s.grid is before and s.history == history
    finally:
        s.journal._fd = real
        os.close(full)
    s.close()


def test_old_journals_are_cleaned_up(tmp_path):
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    old.write_text("{}\n")
    new.write_text("{}\n")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    assert remove_old_journals(tmp_path) == [old]
    assert new.exists()


KILLED = textwrap.dedent(
    """
    import sys
    from qtok_widgets import CodeGrid, EditSession
    grid = CodeGrid.load(sys.argv[1])
    s = EditSession(grid, journal=sys.argv[2])
    for i in range(100000):
        s.replace(f"{i % grid.n_frames}:{i % grid.n_frames + 1}", [i % 16], i % 2048)
        print("ack", i + 1, flush=True)  # the edit is acknowledged only after the journal's fsync
    """
)


def test_sigkill_in_the_middle_loses_nothing_acknowledged(tmp_path):
    grid = make_grid(50, 3)
    codes, path = tmp_path / "g.npz", tmp_path / "j.jsonl"
    grid.save(codes)
    acked = 0
    with subprocess.Popen(
        [sys.executable, "-c", KILLED, str(codes), str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as proc:
        try:
            while acked < 150:
                line = proc.stdout.readline()
                assert line, "the editing process ended early"
                acked = int(line.split()[1])
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    back = EditSession(grid, journal=path)
    assert back.restored >= acked
    expected = EditSession(grid)
    for i in range(back.restored):
        expected.replace(f"{i % 50}:{i % 50 + 1}", [i % 16], i % 2048)
    assert back.grid == expected.grid


def test_fingerprint_tells_grids_apart():
    assert fingerprint(make_grid(20, 1)) == fingerprint(make_grid(20, 1))
    assert fingerprint(make_grid(20, 1)) != fingerprint(make_grid(20, 2))


def test_journal_header_names_the_source(tmp_path):
    grid = make_grid(10)
    j = Journal(tmp_path / "j.jsonl", grid)
    j.close()
    header = json.loads((tmp_path / "j.jsonl").read_text().splitlines()[0])
    assert header["format"] == "qtok-journal" and header["source"] == fingerprint(grid)


@pytest.mark.slow
def test_a_killed_kernel_loses_no_editor_edit_and_the_next_editor_offers_them(
    tmp_path, speech_path, monkeypatch
):
    """A real Jupyter kernel edits with a TokenEditor, is killed with SIGKILL, and a new kernel
    running the same cell is offered the edits and restores them."""
    from jupyter_client.manager import start_new_kernel

    monkeypatch.delenv("QTOK_JOURNAL_DIR", raising=False)  # the default: beside the notebook

    def run(kc, code: str) -> str:
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))

        reply = kc.execute_interactive(code, timeout=180, output_hook=hook)
        assert reply["content"]["status"] == "ok", "".join(out)
        return "".join(out)

    cell = f"from qtok_widgets import TokenEditor\neditor = TokenEditor({str(speech_path)!r}, 'builtin')\n"
    km, kc = start_new_kernel(cwd=str(tmp_path))
    try:
        run(kc, cell)
        run(
            kc,
            "editor.select(frames=slice(0, 8), layers=slice(8, 16)); assert editor.run_action('mask')\n"
            "assert editor.run_action('randomize', {'selection': {'frames': [10, 20], 'layers': [0, 2]}})\n"
            "assert editor.run_action('undo') and editor.run_action('redo')\n"
            "editor.grid.save('expected.npz'); print(len(editor.session.history))",
        )
    finally:
        km.signal_kernel(signal.SIGKILL)  # no clean-up runs in the kernel
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    journals = list((tmp_path / ".qtok" / "journals").glob("*.jsonl"))
    assert len(journals) == 1 and journals[0].name.startswith(speech_path.stem)
    km, kc = start_new_kernel(cwd=str(tmp_path))
    try:
        offer = run(kc, cell + "print(editor.restore_offer)")
        assert "4 edits from" in offer and "were saved for this clip" in offer
        restored = run(
            kc,
            "from qtok_widgets import CodeGrid\nprint(editor.restore(), editor.grid == CodeGrid.load('expected.npz'))",
        )
        assert restored.split() == ["4", "True"]
    finally:
        km.shutdown_kernel(now=True)
        kc.stop_channels()


@pytest.fixture(scope="module")
def codec():
    from qtok_widgets import load_codec

    return load_codec("builtin")


@pytest.fixture(scope="module")
def speech_grid(codec, speech_path):
    from qtok_widgets import load_audio

    return codec.encode(load_audio(speech_path))


class TestEditorJournal:
    def test_offer_restore_discard(self, speech_grid, codec, tmp_path):
        from qtok_widgets import TokenEditor

        grid = speech_grid
        path = tmp_path / "clip.jsonl"
        first = TokenEditor(grid, codec, journal=path)
        first.select(frames=slice(0, 4), layers=slice(0, 2))
        first.mask()
        first.replace(5)
        second = TokenEditor(grid, codec, journal=path)  # the cell is run again
        assert second.restore_offer.startswith("2 edits from") and "press Restore" in second.message
        second.select(frames=slice(9, 10), layers=slice(0, 1))
        second.mask()
        assert not second.run_action("restore") and "press Reset first" in second.message
        assert second.run_action("reset") and second.run_action("restore"), second.message
        assert second.grid == first.grid and second.restore_offer == ""
        assert not second.run_action("restore") and "nothing to restore" in second.message
        third = TokenEditor(grid, codec, journal=path, restore=True)
        assert third.grid == second.grid and third.session.restored == 4  # mask, reset, the 2 restored
        fourth = TokenEditor(grid, codec, journal=path)
        assert fourth.run_action("discard_saved") and fourth.restore_offer == ""
        fifth = TokenEditor(grid, codec, journal=path)
        assert fifth.restore_offer == "" and fifth.grid == grid
        assert TokenEditor(grid, codec, journal=False).journal is None
