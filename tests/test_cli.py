"""Tests of the ``qtok`` command line, run as a real subprocess on the real clips.

Every command goes through ``python -m qtok_widgets``; ``--json`` must print exactly one JSON
object on stdout, and every user error must exit 2 with one ``qtok: error:`` line on stderr
and no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qtok_widgets.audio import load_audio
from qtok_widgets.grid import CodeGrid

ROOT = Path(__file__).resolve().parent.parent


def qtok(
    *args: object, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run ``python -m qtok_widgets ARGS...`` and return the finished process (text mode)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("QTOK_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "qtok_widgets", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return proc


def one_json_object(proc: subprocess.CompletedProcess) -> dict:
    ok(proc)
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def builtin_available(speech_path) -> None:
    """Skip when the built-in codec's trained tables are not in this checkout."""
    from qtok_widgets.codecs import load_codec
    from qtok_widgets.errors import QtokError

    try:
        clip = load_audio(speech_path)
        load_codec("builtin").encode(load_audio(clip.samples[:8000], sample_rate=clip.sample_rate))
    except (ImportError, QtokError) as exc:
        pytest.skip(f"built-in codec not available here: {exc}")


@pytest.fixture(scope="session")
def encoding(builtin_available, speech_path, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """arctic_a0007 encoded once with the built-in codec to .pt, and the finished process."""
    out = tmp_path_factory.mktemp("cli") / "a0007.pt"
    return out, ok(qtok("encode", speech_path, "-o", out, "--codec", "builtin"))


@pytest.fixture(scope="session")
def encoded(encoding) -> Path:
    """The .pt file of :func:`encoding`."""
    return encoding[0]


# ------------------------------------------------------------------ encode


def test_encode_prints_the_codes_like_the_step_by_step_view(encoding):
    path, proc = encoding
    grid = CodeGrid.load(path)
    assert grid.shape == (16, 50)  # 4.0 s at 12.5 frames/s
    assert grid.codec == "builtin"
    text = proc.stdout
    assert text.splitlines()[0].endswith(f"-> {path}")
    assert "codes shape: [16, 50]" in text
    assert "duration:    4.00 s" in text
    assert "device:      cpu" in text
    layer_lines = [line for line in text.splitlines() if line.strip().startswith("layer")]
    assert len(layer_lines) == 16
    first = ", ".join(str(c) for c in grid.codes[0, :5])
    last = ", ".join(str(c) for c in grid.codes[0, -5:])
    assert f"layer  0: [{first}, ..., {last}]" in text
    assert proc.stderr.count("encoding") <= 4  # progress goes to stderr


def test_encode_json_is_one_object(builtin_available, data_dir, tmp_path):
    out = tmp_path / "codes.json"
    clip = data_dir / "arctic_a0009.wav"  # 3.095 s
    data = one_json_object(qtok("encode", clip, "-o", out, "--codec", "builtin", "--json"))
    assert data["shape"] == [16, 39]
    assert data["duration_s"] == pytest.approx(3.095)
    assert data["device"] == "cpu"
    assert data["codec"] == "builtin"
    assert data["output"] == str(out)
    assert len(data["first_codes"]) == 16 and all(len(row) == 5 for row in data["first_codes"])
    assert "files" not in data  # one input: its fields at the top level
    grid = CodeGrid.load(out)
    assert grid.codes[:, :5].tolist() == data["first_codes"]
    assert grid.codes[:, -5:].tolist() == data["last_codes"]


def test_encode_several_inputs_into_a_folder(builtin_available, data_dir, tmp_path):
    folder = tmp_path / "codes"
    clip_paths = [data_dir / "arctic_a0009.wav", data_dir / "p240_00000.mp3"]  # 16 kHz WAV, 24 kHz MP3
    data = one_json_object(
        qtok("encode", *clip_paths, "-o", folder, "--format", "npz", "--codec", "builtin", "--json")
    )
    assert len(data["files"]) == len(clip_paths)
    for path, entry in zip(clip_paths, data["files"], strict=True):
        target = folder / (path.stem + ".npz")
        assert entry["output"] == str(target)
        grid = CodeGrid.load(target)
        assert grid.shape == tuple(entry["shape"])
        assert grid.n_frames == int(np.ceil(load_audio(path).duration * 12.5 - 1e-9))


# ------------------------------------------------------------------ decode, info


def test_decode_writes_24khz_audio_of_the_input_length(encoded, tmp_path):
    out = tmp_path / "decoded.wav"
    proc = ok(qtok("decode", encoded, "-o", out))  # codec taken from the codes file
    assert "sample rate: 24000 Hz" in proc.stdout
    assert "duration:    4.00 s" in proc.stdout
    audio = load_audio(out)
    assert audio.sample_rate == 24000
    assert audio.n_samples == 96000
    data = one_json_object(qtok("decode", encoded, "-o", out, "--json", "--codec", "builtin"))
    assert data["sample_rate"] == 24000
    assert data["duration_s"] == pytest.approx(4.0)
    assert data["shape"] == [16, 50]
    assert data["decode_s"] > 0


def test_info_reports_bitrate_mask_and_usage(encoded, tmp_path):
    grid = CodeGrid.load(encoded)
    mask = np.zeros(grid.shape, bool)
    mask[8:, 10:20] = True
    masked = grid.replace(mask=mask).save(tmp_path / "masked.json")
    data = one_json_object(qtok("info", masked, "--json"))
    assert data["codec"] == "builtin"
    assert data["shape"] == [16, 50]
    assert data["bitrate_bps"] == pytest.approx(2200.0)
    assert data["n_masked"] == 80
    assert len(data["layers"]) == 16
    for row in data["layers"]:
        assert 1 <= row["distinct"] <= 50
        assert 0.0 <= row["entropy_bits"] <= np.log2(row["distinct"]) + 1e-9
        assert row["masked"] == (10 if row["layer"] >= 8 else 0)
    layer0 = grid.codes[0]
    assert data["layers"][0]["distinct"] == len(set(layer0.tolist()))
    text = ok(qtok("info", masked)).stdout
    assert "bitrate:      2200 bit/s" in text
    assert "masked cells: 80 of 800" in text


def test_common_options_work_before_the_command(encoded, speech_path, tmp_path):
    after = one_json_object(qtok("info", encoded, "--json"))
    before = one_json_object(qtok("--json", "info", encoded))
    assert before == after
    # -q before the command silences progress and log lines as it does after it
    proc = ok(qtok("-q", "--codec", "builtin", "encode", speech_path, "-o", tmp_path / "a.npz"))
    assert proc.stderr == ""
    assert CodeGrid.load(tmp_path / "a.npz") == CodeGrid.load(encoded)
    noisy = ok(qtok("--codec", "builtin", "encode", speech_path, "-o", tmp_path / "b.npz"))
    assert "codec builtin" in noisy.stderr


# ------------------------------------------------------------------ roundtrip


def test_roundtrip_json_has_the_required_keys(builtin_available, speech_path, tmp_path):
    out = tmp_path / "rt.wav"
    data = one_json_object(qtok("roundtrip", speech_path, "-o", out, "--codec", "builtin", "--json"))
    for key in ("shape", "duration_s", "snr_db", "encode_s", "decode_s", "lsd_db", "mcd_db", "stoi"):
        assert key in data, key
    assert data["shape"] == [16, 50]
    assert data["duration_s"] == pytest.approx(4.0)
    assert data["output_duration_s"] == pytest.approx(4.0)
    assert data["peak_gpu_mb"] is None  # CPU
    # a resynthesising codec: intelligible and spectrally close, whatever the waveform SNR
    assert data["stoi"] > 0.5
    assert data["lsd_db"] < 20.0
    assert load_audio(out).sample_rate == 24000
    short = speech_path.with_name("arctic_a0009.wav")
    text = ok(qtok("roundtrip", short, "--codec", "builtin")).stdout
    for label in (
        "SNR:",
        "log-spectral distance:",
        "mel-cepstral distortion:",
        "STOI:",
        "PESQ-WB:",
        "encode time:",
    ):
        assert label in text
    assert "codes shape:     [16, 39]" in text


def test_roundtrip_of_a_clip_too_short_for_stoi_notes_it(builtin_available, speech_path, tmp_path):
    clip = load_audio(speech_path)
    short = clip.samples[: int(0.025 * clip.sample_rate)]  # 25 ms: STOI's library cannot score it
    path = tmp_path / "short.wav"
    load_audio(short, sample_rate=clip.sample_rate).save(path)
    text = ok(qtok("roundtrip", path, "--codec", "builtin")).stdout
    assert "STOI:                    n/a" in text
    assert "note: STOI needs more than 0.4 s of speech; the clip is 0.025 s" in text
    data = one_json_object(qtok("roundtrip", path, "--codec", "builtin", "--json", "--no-pesq"))
    assert data["stoi"] is None
    assert data["lsd_db"] is not None
    assert any("STOI" in note for note in data["metric_notes"])


def test_file_names_the_output_encoding_cannot_show(encoded, speech_path, tmp_path):
    """A non-UTF-8 file name under PYTHONIOENCODING=utf-8: the work is done and reported."""
    name = os.fsdecode(os.fsencode(tmp_path) + b"/a\xff.npz")  # surrogate-escaped, as in sys.argv
    env = {"PYTHONIOENCODING": "utf-8"}
    proc = ok(qtok("encode", speech_path, "-o", name, "--codec", "builtin", env=env))
    assert proc.stdout.splitlines()[0].endswith("a\\udcff.npz")
    assert "layer 15: [" in proc.stdout  # the whole report, after the name
    assert CodeGrid.load(name) == CodeGrid.load(encoded)
    info = ok(qtok("info", name, env=env))
    assert "masked cells: 0 of 800" in info.stdout
    assert json.loads(ok(qtok("info", name, "--json", env=env)).stdout)["input"] == name


@pytest.mark.slow
@pytest.mark.parametrize("codec", ["builtin", "tiny-qwen"])
def test_roundtrip_every_clip(request, clip_paths, tmp_path, codec):
    if codec == "builtin":
        request.getfixturevalue("builtin_available")
        name = "builtin"
    else:
        name = request.getfixturevalue("tiny_qwen_dir")
    folder = tmp_path / "decoded"
    data = one_json_object(
        qtok("roundtrip", *clip_paths, "--codec", name, "-o", folder, "--json", "--no-pesq")
    )
    assert len(data["files"]) == len(clip_paths)
    for path, entry in zip(clip_paths, data["files"], strict=True):
        duration = load_audio(path).duration
        assert entry["input"] == str(path)
        assert entry["shape"] == [16, int(np.ceil(duration * 12.5 - 1e-9))], path.name
        assert entry["output_duration_s"] == pytest.approx(duration, abs=1 / 24000), path.name
        assert entry["encode_s"] > 0 and entry["decode_s"] > 0
        assert entry["lsd_db"] is not None and entry["mcd_db"] is not None
        decoded = load_audio(folder / (path.stem + ".wav"))
        assert decoded.sample_rate == 24000
        assert decoded.duration == pytest.approx(duration, abs=1 / 24000)


@pytest.mark.slow
def test_tiny_qwen_codes_decode_and_inspect(tiny_qwen_dir, speech_path, tmp_path):
    from qtok_widgets.codecs import load_codec
    from qtok_widgets.codecs.qwen import find_local_checkpoint

    # encoded here (the roundtrip sweep runs the encode command); decoded by the command
    clip = load_audio(speech_path.with_name("arctic_a0009.wav"))  # the shortest clip: 3.1 s
    codes = load_codec(tiny_qwen_dir).encode(clip).save(tmp_path / "q.pt")
    out = tmp_path / "q.wav"
    if find_local_checkpoint() is None:  # the codes name the Qwen hub checkpoint, not cached here
        proc = qtok("decode", codes, "-o", out)
        assert proc.returncode == 2
        assert "pass --codec NAME|PATH" in proc.stderr
    data = one_json_object(qtok("decode", codes, "-o", out, "--codec", tiny_qwen_dir, "--json"))
    assert data["codec"] == "qwen3-12hz"
    assert data["shape"] == [16, 39]
    assert data["sample_rate"] == 24000
    assert load_audio(out).n_samples == clip.resample(24000).n_samples
    info = one_json_object(qtok("info", codes, "--json"))
    assert info["codec"] == "qwen3-12hz" and info["shape"] == [16, 39]


# ------------------------------------------------------------------ edit


def _recipe(grid: CodeGrid, path: Path) -> Path:
    from qtok_widgets.session import EditSession

    session = EditSession(grid)
    session.mask(frames="10:20", layers="8:16")
    session.replace(frames="30:32", layers=0, code=7)
    path.write_text(session.to_json())
    return path


def test_edit_to_codes_and_to_audio(encoded, tmp_path):
    grid = CodeGrid.load(encoded)
    recipe = _recipe(grid, tmp_path / "recipe.json")
    out = tmp_path / "edited.npz"
    data = one_json_object(qtok("edit", encoded, "--recipe", recipe, "-o", out, "--json"))
    assert data["n_masked"] == 80
    edited = CodeGrid.load(out)
    assert edited.n_masked == 80
    assert edited.mask[8:, 10:20].all()
    assert (edited.codes[0, 30:32] == 7).all()
    np.testing.assert_array_equal(edited.codes[1:], grid.codes[1:])
    wav = tmp_path / "edited.wav"
    proc = ok(qtok("edit", encoded, "--recipe", recipe, "-o", wav))
    assert "masked cells: 0 -> 80" in proc.stdout
    audio = load_audio(wav)
    assert audio.sample_rate == 24000 and audio.n_samples == 96000


# ------------------------------------------------------------------ lab


def test_lab_dry_run_builds_the_jupyterlab_command(tmp_path):
    notebook = tmp_path / "mine.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    data = one_json_object(
        qtok("lab", notebook, "--no-browser", "--dry-run", "--json", "--", "--port", "9999")
    )
    cmd = data["command"]
    assert cmd[1:4] == ["-m", "jupyterlab", "--ServerApp.jpserver_extensions=qtok_widgets=True"]
    assert f"--ServerApp.root_dir={tmp_path.resolve()}" in cmd
    assert "--LabApp.default_url=/lab/tree/mine.ipynb" in cmd
    assert "--no-browser" in cmd
    assert cmd[-2:] == ["--port", "9999"]
    default = one_json_object(qtok("lab", "--dry-run", "--json"))
    quickstart = ROOT / "notebooks" / "01_quickstart.ipynb"
    if quickstart.exists():
        assert default["notebook"] == str(quickstart)
        assert "--LabApp.default_url=/lab/tree/notebooks/01_quickstart.ipynb" in default["command"]
    else:
        assert default["notebook"] is None
    assert "--no-browser" not in default["command"]


# ------------------------------------------------------------------ user errors


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n" * 50)
    strings = tmp_path / "strings.json"
    strings.write_text(json.dumps({"codes": [["1", "2"]] * 16}))
    bad_recipe = tmp_path / "bad_recipe.json"
    bad_recipe.write_text('{"format": "qtok-recipe", "ops": [')
    return {"text": text, "strings": strings, "bad_recipe": bad_recipe}


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["encode", "{tmp}/absent.wav"], "absent.wav: no such file"),
        (["encode", "{text}"], "unreadable or unsupported audio container"),
        (["encode", "{speech}", "-o", "{tmp}/out.txt"], "use one of .pt, .npz, .json"),
        (["encode", "{speech}", "{speech}", "-o", "{tmp}/dir"], "would both be written to"),
        (["decode", "{tmp}/absent.pt", "-o", "{tmp}/x.wav"], "absent.pt: no such file"),
        (["decode", "{strings}", "-o", "{tmp}/x.mp3"], "use one of .wav, .flac, .ogg"),
        (["info", "{strings}"], "'codes' must contain only integers"),
        (["info", "{text}"], "unsupported codes format '.wav'"),
        (
            ["roundtrip", "{speech}", "--codec", "nosuchcodec"],
            "unknown codec 'nosuchcodec': use one of builtin",
        ),
        (["edit", "{strings}", "--recipe", "{tmp}/none.json", "-o", "{tmp}/e.pt"], "no such recipe file"),
        (["edit", "{strings}", "--recipe", "{bad_recipe}", "-o", "{tmp}/e.pt"], "recipe is not valid JSON"),
        (
            ["edit", "{strings}", "--recipe", "{bad_recipe}", "-o", "{tmp}/e.mp3"],
            "cannot write an edit as '.mp3'",
        ),
        (["lab", "{tmp}/absent.ipynb", "--dry-run"], "absent.ipynb: no such notebook"),
        (["decode", "{strings}", "-o", "{tmp}/missing/x.wav"], "folder {tmp}/missing does not exist"),
        (["decode", "{strings}", "-o", "{tmp}/dir.wav"], "is a folder; -o needs a file name"),
        (["edit", "{strings}", "--recipe", "{bad_recipe}", "-o", "{tmp}/no/e.wav"], "does not exist"),
        (["edit", "{strings}", "--recipe", "{bad_recipe}", "-o", "{tmp}/dir.wav"], "is a folder"),
    ],
)
def test_user_errors_exit_2_with_one_line(tmp_path, speech_path, argv, needle):
    files = {**_bad_files(tmp_path), "tmp": tmp_path, "speech": speech_path}
    (tmp_path / "dir.wav").mkdir()
    args = [a.format(**files) for a in argv]
    needle = needle.format(**files)
    # half of the cases with --json: errors never reach stdout either way
    extra = ["--json"] if len(needle) % 2 else []
    proc = qtok(*args, *extra)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("qtok: error:")]
    assert len(lines) == 1, proc.stderr
    assert needle in lines[0]
    assert proc.stdout == ""


def test_limit_from_environment_is_a_user_error(speech_path):
    proc = qtok("encode", speech_path, "--codec", "builtin", env={"QTOK_MAX_DURATION_S": "1"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("qtok: error:")
    assert "above the limit of 1 s" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_edit_op_names_recipe_and_op(encoded, tmp_path):
    recipe = tmp_path / "far.json"
    recipe.write_text(
        json.dumps({"format": "qtok-recipe", "version": 1, "ops": [{"op": "mask", "frames": "500:600"}]})
    )
    proc = qtok("edit", encoded, "--recipe", recipe, "-o", tmp_path / "e.pt")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()[-1:]
    assert line.startswith(f"qtok: error: {recipe}: recipe op 0 (mask):")


@pytest.mark.parametrize("argv", [[], ["encode"], ["frobnicate"], ["info", "x.pt", "--bogus"]])
def test_usage_errors_exit_2(argv):
    proc = qtok(*argv)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "usage: qtok" in proc.stderr
    assert proc.stdout == ""


def test_help_and_version():
    proc = ok(qtok("--help"))
    for command in ("encode", "decode", "roundtrip", "info", "edit", "lab"):
        assert command in proc.stdout
    assert ok(qtok("--version")).stdout.startswith("qtok_widgets ")
    assert "--json" in ok(qtok("roundtrip", "--help")).stdout


# ---------------------------------------------------------------------------- --layers


@pytest.fixture(scope="module")
def tiny_dac(tmp_path_factory) -> Path:
    """A tiny seeded random-weight DAC 24 kHz checkpoint (32 layers x 1024 codes, 75 Hz)."""
    pytest.importorskip("transformers")
    from qtok_widgets.codecs.hf import build_random_checkpoint

    return build_random_checkpoint(tmp_path_factory.mktemp("cli_dac") / "dac24", "dac", "tiny", seed=0)


def test_layers_encodes_what_load_codec_with_n_layers_encodes(tiny_dac, speech_path, tmp_path):
    from qtok_widgets.codecs import load_codec

    out = tmp_path / "dac8.npz"
    data = one_json_object(
        qtok("encode", speech_path, "-o", out, "--codec", tiny_dac, "--layers", 8, "--json")
    )
    assert data["shape"] == [8, 300] and len(data["first_codes"]) == 8
    expected = load_codec(tiny_dac, device="cpu", n_layers=8).encode(load_audio(speech_path))
    got = CodeGrid.load(out)
    assert got.n_layers == 8 and np.array_equal(got.codes, expected.codes)
    # all 32 layers without --layers: the first 8 are the same codes (residual quantizers)
    full = one_json_object(qtok("encode", speech_path, "--codec", tiny_dac, "--json"))
    assert full["shape"] == [32, 300] and full["first_codes"][:8] == data["first_codes"]
    # roundtrip encodes and decodes with the same K
    trip = one_json_object(
        qtok("roundtrip", speech_path, "--codec", tiny_dac, "--layers", 2, "--no-pesq", "--json")
    )
    assert trip["shape"] == [2, 300] and trip["output_duration_s"] == 4.0


@pytest.mark.parametrize(
    ("codec", "layers", "line"),
    [
        ("dac", "40", "n_layers=40 is not available for dac-24khz: use one of 1..32"),
        ("dac", "0", "n_layers=0 is not available for dac-24khz: use one of 1..32"),
        ("dac", "eight", "--layers takes a whole number of layers, got 'eight'"),
        ("builtin", "8", "codec 'builtin' has a fixed number of layers (16): n_layers must be 16, got 8"),
    ],
)
def test_an_invalid_layer_count_exits_2_naming_the_choices(tiny_dac, speech_path, codec, layers, line):
    name = tiny_dac if codec == "dac" else codec
    for command in ("encode", "roundtrip"):
        proc = qtok(command, speech_path, "--codec", name, "--layers", layers)
        assert proc.returncode == 2 and proc.stdout == "", proc.stderr
        assert proc.stderr.strip().splitlines()[-1] == f"qtok: error: {line}"
        assert "Traceback" not in proc.stderr


def test_layers_equal_to_a_fixed_count_is_accepted(builtin_available, speech_path):
    data = one_json_object(qtok("encode", speech_path, "--codec", "builtin", "--layers", 16, "--json"))
    assert data["shape"] == [16, 50]
