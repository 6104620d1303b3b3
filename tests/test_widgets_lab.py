"""CodecLab from Python: the three modes, progress, errors in place, saving and the editor hand-off.

The widget runs its work on a background thread; these tests drive it through the same methods
its buttons call and wait on the returned futures. The codec is the real built-in one.
"""

from __future__ import annotations

import datetime
import threading

import numpy as np
import pytest

from qtok_widgets import CodecLab, CodeGrid, load_audio, load_codec
from qtok_widgets.audio import Audio

TIMEOUT_S = 120


@pytest.fixture(scope="module")
def codec():
    return load_codec("builtin")


@pytest.fixture
def lab(codec):
    widget = CodecLab(codec)
    yield widget
    widget.close()


def _upload(data: bytes, name: str) -> tuple[dict, ...]:
    return (
        {
            "name": name,
            "type": "",
            "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.timezone.utc),
        },
    )


def test_codec_loads_on_first_use_only():
    lab = CodecLab("builtin")
    try:
        assert lab._codec is None
        assert "loads on first use" in lab._codec_label.value
    finally:
        lab.close()


def test_every_trait_has_help():
    from qtok_widgets.widgets.lab import _Download

    own = {name: trait for name, trait in CodecLab.class_traits().items() if name in CodecLab.__dict__}
    assert own, "CodecLab declares traits"
    for name, trait in {**own, "downloads": _Download.class_traits()["downloads"]}.items():
        assert trait.help, f"trait {name!r} has no help="


def test_roundtrip_from_path(lab, speech_path, speech_roundtrip):
    progress: list[float] = []
    lab.observe(lambda change: progress.append(change["new"]), "progress")
    rt = lab.roundtrip(str(speech_path)).result(TIMEOUT_S)
    grid, reference = speech_roundtrip
    assert rt.grid == grid
    assert np.array_equal(rt.reconstructed.samples, reference.samples)
    assert lab.grid == grid
    assert lab.result is rt
    assert lab.busy is False
    assert lab.error == ""
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    # both players hold WAV bytes; the numbers are on screen
    assert bytes(lab._rt_original.value[:4]) == b"RIFF"
    assert load_audio(bytes(lab._rt_reconstructed.value)).n_samples == grid.n_samples
    info = lab._rt_info.value
    assert f"[16, {grid.n_frames}]" in info
    assert "Reconstruction SNR" in info and "Log-spectral distance" in info
    assert "4.00 s" in info
    assert "Encode / decode" in info
    assert set(rt.metrics) >= {"snr_db", "lsd_db", "mcd_db"}
    # waveforms: original, reconstructed, and both overlaid
    assert [trace.name for trace in lab._figure.data] == [
        "original",
        "reconstructed",
        "original (overlay)",
        "reconstructed (overlay)",
    ]
    assert lab.status.startswith(f"encode + decode: [16, {grid.n_frames}] codes")


def test_roundtrip_from_upload(lab, data_dir, codec):
    path = data_dir / "p240_00000.mp3"
    lab._upload.value = _upload(path.read_bytes(), path.name)
    assert "p240_00000.mp3" in lab._source_label.value
    rt = lab.roundtrip().result(TIMEOUT_S)
    assert rt.grid == codec.encode(load_audio(path))


def test_second_roundtrip_updates_the_same_figure(lab, clip_paths):
    lab.roundtrip(str(clip_paths[0])).result(TIMEOUT_S)
    figure = lab._figure
    lab.roundtrip(str(clip_paths[1])).result(TIMEOUT_S)
    assert lab._figure is figure
    assert lab._rt_plot.children == (figure,)


def test_step_encode_preview_and_save(lab, speech_path, speech_roundtrip, tmp_path):
    grid, _ = speech_roundtrip
    got = lab.encode(speech_path).result(TIMEOUT_S)
    assert got[0] == grid
    assert "cpu" in lab._enc_info.value
    assert f"[16, {grid.n_frames}]" in lab._enc_info.value
    first = ", ".join(map(str, grid.codes[3, :5]))
    last = ", ".join(map(str, grid.codes[3, -5:]))
    assert f"<tr><td>3</td><td>{first}</td><td>…</td><td>{last}</td></tr>" in lab._enc_preview.value
    assert not lab._save_button.disabled
    written = lab.save_codes(tmp_path / "speech.pt")
    assert CodeGrid.load(written) == grid
    sent = []
    lab._download.send = lambda content, buffers=None: sent.append((content, buffers))
    assert lab.save_codes() is None
    assert sent[0][0]["name"] == "arctic_a0007.pt"
    assert CodeGrid.from_bytes(bytes(sent[0][1][0]), ".pt") == grid


def test_step_decode_upload_and_download(lab, speech_roundtrip):
    grid, reference = speech_roundtrip
    lab._codes_upload.value = _upload(grid.to_bytes(".pt"), "speech.pt")
    grid_out, audio, _ = lab.decode().result(TIMEOUT_S)
    assert grid_out == grid
    assert np.array_equal(audio.samples, reference.samples)
    assert lab.decoded is audio
    assert "24000 Hz" in lab._dec_info.value
    assert f"{grid.n_samples / 24000:.2f} s" in lab._dec_info.value
    sent = []
    lab._download.send = lambda content, buffers=None: sent.append((content, buffers))
    lab.download_wav()
    assert sent[0][0] == {"type": "download", "name": "output.wav", "mime": "audio/wav"}
    assert load_audio(bytes(sent[0][1][0])).n_samples == grid.n_samples


@pytest.mark.parametrize("fmt", [".npz", ".json"])
def test_step_decode_other_formats(lab, speech_roundtrip, fmt):
    grid, reference = speech_roundtrip
    _, audio, _ = lab.decode(grid.to_bytes(fmt)).result(TIMEOUT_S)
    assert np.array_equal(audio.samples, reference.samples)


def test_errors_show_in_place(lab, tmp_path):
    with pytest.raises(Exception, match="no such file"):
        lab.roundtrip(str(tmp_path / "missing.wav")).result(TIMEOUT_S)
    assert "no such file" in lab.error
    assert "no such file" in lab._errors["roundtrip"].value
    assert lab._errors["roundtrip"].layout.display == "block"
    assert lab.busy is False
    assert all(not b.disabled for b in lab._actions)

    lab._upload.value = _upload(b"this is text, not audio", "notes.wav")
    with pytest.raises(Exception, match="unreadable or unsupported audio"):
        lab.encode().result(TIMEOUT_S)
    assert lab.error.startswith("encode failed: notes.wav: unreadable or unsupported audio")

    lab._codes_upload.value = _upload(b"PK\x03\x04 broken", "codes.pt")
    lab._click(lab.decode)
    assert "codes.pt" in lab.error

    lab._click(lab.download_wav)
    assert lab.error == "nothing decoded yet: decode a codes file first"
    lab._click(lab.open_in_editor)
    assert lab.error == "no codes yet: encode an input or decode a codes file first"


def test_no_input_message(lab):
    lab._click(lab.roundtrip)
    with pytest.raises(Exception, match="no input"):
        lab.wait(TIMEOUT_S)
    assert lab.error == "encode + decode failed: no input: upload an audio file or type a path or URL first"


def test_stays_usable_while_working(lab, clip_paths):
    # a longer input: all clips one after the other
    pieces = [load_audio(p, target_rate=24000).samples for p in clip_paths]
    long_audio = Audio(np.concatenate(pieces), 24000, "all clips")
    started = threading.Event()
    lab.observe(lambda change: started.set() if change["new"] else None, "busy")
    future = lab.roundtrip(long_audio)
    assert started.wait(5)
    # the kernel thread is free: the tabs switch, inputs change, a second action is refused in place
    lab._tabs.selected_index = 2
    assert lab._tabs.selected_index == 2
    lab._path.value = "elsewhere.wav"
    if not future.done():
        lab._click(lab.encode)
        assert lab.error == "busy: wait for the running action to finish"
        assert lab._rt_button.disabled
    rt = future.result(TIMEOUT_S)
    assert rt.original.duration == pytest.approx(long_audio.duration)
    assert not lab._rt_button.disabled


def test_open_in_editor(lab, speech_path, speech_roundtrip):
    from qtok_widgets import TokenEditor

    lab.encode(speech_path).result(TIMEOUT_S)
    editor = lab.open_in_editor()
    assert isinstance(editor, TokenEditor)
    assert editor.session.grid == speech_roundtrip[0]
    assert lab._editor_area.children == (editor,)


def _beside(lab, tab: str):
    """The error box of a tab, and the row of controls it sits under."""
    children = lab._tabs.children[("roundtrip", "encode", "decode").index(tab)].children
    box = lab._errors[tab]
    return box, children.index(box)


def test_a_failed_upload_takes_down_the_previous_results(lab, speech_path):
    lab.roundtrip(str(speech_path)).result(TIMEOUT_S)
    assert lab._rt_players.layout.display == "flex" and "SNR" in lab._rt_info.value
    lab._upload.value = _upload(b"this is text, not audio", "notes.wav")
    # the players and numbers of the previous clip are gone at once, not labelled with the new name
    assert lab._rt_players.layout.display == "none" and lab._rt_info.value == ""
    assert lab.result is None
    with pytest.raises(Exception, match="unreadable"):
        lab.roundtrip().result(TIMEOUT_S)
    assert lab._rt_players.layout.display == "none" and lab._rt_plot.layout.display == "none"
    box, index = _beside(lab, "roundtrip")
    assert index == 1  # right under the upload and the button
    assert "notes.wav" in box.value and box.layout.display == "block"


def test_a_failed_decode_leaves_no_player_and_no_download(lab, speech_roundtrip):
    grid, _ = speech_roundtrip
    lab.decode(grid).result(TIMEOUT_S)
    assert not lab._wav_button.disabled and lab._dec_audio.layout.display == "block"
    lab._codes_upload.value = _upload(b"PK\x03\x04 broken", "codes.pt")
    lab._click(lab.decode, "decode")
    assert lab._wav_button.disabled and lab._dec_audio.layout.display == "none"
    assert lab.decoded is None
    box, index = _beside(lab, "decode")
    assert index == 1 and "codes.pt" in box.value


def test_times_and_snr_read_right():
    from qtok_widgets.widgets.lab import _seconds, _snr_note

    assert [_seconds(v) for v in (2.345, 0.1, 0.038, 0.0004, 0.0)] == [
        "2.35 s",
        "0.10 s",
        "38 ms",
        "0.4 ms",
        "< 0.1 ms",
    ]
    assert "0.00 s" not in {_seconds(v) for v in np.linspace(0, 0.2, 101)}
    builtin = load_codec("builtin")
    assert "meaningless" in _snr_note(builtin) and "phase" in _snr_note(builtin)
