"""README.md works as written: its two commands keep the shape .ci/run relies on, its
Python snippet runs on the shipped example clips, and `qtok lab` works as root."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI_RUN = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _readme_commands():
    spec = importlib.util.spec_from_file_location("readme_commands", ROOT / "scripts" / "readme_commands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


readme_commands = _readme_commands()
PARTS = readme_commands.parts(README)


def pip_calls(command: str) -> list[list[str]]:
    """The argument lists of each `.venv/bin/pip install` in a `&&` chain."""
    calls = []
    for step in command.split(" && "):
        words = step.split()
        if words[:2] == [".venv/bin/pip", "install"]:
            calls.append([w.strip("'\"") for w in words[2:]])
    return calls


def torch_pin(command: str) -> tuple[str, list[str]]:
    """The `torch==X` that a command installs, and that pip call's arguments."""
    for call in pip_calls(command):
        pins = [w for w in call if w.startswith("torch==")]
        if pins:
            return pins[0], call
    msg = f"no pinned torch in {command!r}"
    raise AssertionError(msg)


# ------------------------------------------------------------------ the two commands


def test_command_1_installs_only_what_running_needs_and_opens_the_quickstart():
    install = PARTS["run-install"]
    assert install.startswith("python3 -m venv .venv && ")
    calls = pip_calls(install)
    assert calls[-1] == ["-e", "."], "command 1 installs the package with no extra"
    assert "[" not in install and "qwen" not in install
    assert PARTS["run-launch"] == ".venv/bin/qtok lab"


def test_command_2_installs_the_dev_extra_and_qwen_tts_without_deps_then_runs_every_test():
    calls = pip_calls(PARTS["test-install"])
    assert ["-e", ".[dev]"] in calls
    qwen = [call for call in calls if any(w.startswith("qwen-tts==") for w in call)]
    assert len(qwen) == 1 and "--no-deps" in qwen[0]
    assert PARTS["test"] == ".venv/bin/python -m pytest", "no test selection: every test runs"


def test_qwen_tts_version_is_the_one_the_code_and_tests_name():
    (pin,) = re.findall(r"qwen-tts==[\w.]+", PARTS["test-install"])
    from qtok_widgets.codecs import _qwen_import

    assert pin in _qwen_import.INSTALL_HINT
    assert pin in (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")


def test_both_commands_take_the_cpu_build_of_one_torch_release_that_pyproject_admits():
    pins = {name: torch_pin(PARTS[name]) for name in ("run-install", "test-install")}
    assert len({pin for pin, _ in pins.values()}) == 1, pins
    for _pin, call in pins.values():
        # in the same pip call, so the +cpu wheel (a higher version than PyPI's) wins
        assert call[call.index("--extra-index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    pinned = Version(next(iter(pins.values()))[0].split("==")[1])
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (torch,) = [Requirement(r) for r in re.findall(r'^\s*"(torch[<>=!~ ][^"]*)",', pyproject, flags=re.M)]
    assert pinned in torch.specifier, f"torch {pinned} is outside pyproject's {torch.specifier}"
    for name in ("run-install", "test-install"):
        steps = PARTS[name].split(" && ")
        first_torch = next(i for i, s in enumerate(steps) if "torch==" in s)
        first_project = next(i for i, s in enumerate(steps) if " -e " in s)
        assert first_torch < first_project, "torch must be installed before the project pulls its own"


def test_ci_runs_the_readme_commands_as_written():
    for part in ("run-install", "test-install", "test"):
        assert f"python3 scripts/readme_commands.py {part}" in CI_RUN
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_commands.py"), "test-install"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == PARTS["test-install"] + "\n"
    bad = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_commands.py"), "launch"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_readme_commands_block_shape_errors_are_one_line():
    with pytest.raises(readme_commands.ReadmeCommandsError, match="no <!-- commands: begin"):
        readme_commands.parts("# no block here\n")
    one = "<!-- commands: begin -->\n```bash\n# 1. only one\npython3 -m venv .venv \\\n  && .venv/bin/qtok lab\n```\n<!-- commands: end -->\n"
    assert readme_commands.commands(one) == ["python3 -m venv .venv && .venv/bin/qtok lab"]
    with pytest.raises(readme_commands.ReadmeCommandsError, match="holds 1 commands; expected 2"):
        readme_commands.parts(one)
    wrong = one.replace("# 1. only one\n", "echo hi && make test\n")
    with pytest.raises(
        readme_commands.ReadmeCommandsError, match=re.escape("does not end with '&& .venv/bin/qtok lab'")
    ):
        readme_commands.parts(wrong)


def test_readme_names_the_compiler_packages_for_the_c_extensions():
    # pyworld and pesq have no Linux wheels on PyPI: pip compiles them
    assert "build-essential" in README and "python3-dev" in README
    assert "pyworld" in README and "pesq" in README


def test_lab_as_root_passes_allow_root_and_says_so(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "qtok_widgets", "lab", "--dry-run", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    command = json.loads(proc.stdout)["command"]
    if os.geteuid() == 0:
        assert command.count("--allow-root") == 1
        assert proc.stderr.strip() == "qtok: running as root, so JupyterLab gets --allow-root"
    else:
        assert "--allow-root" not in command and "root" not in proc.stderr
    given = subprocess.run(
        [sys.executable, "-m", "qtok_widgets", "lab", "--dry-run", "--json", "--", "--allow-root"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert json.loads(given.stdout)["command"].count("--allow-root") == 1


# ------------------------------------------------------------------ the Python snippet


def readme_snippet() -> str:
    """The first ```python block under the README's "Python in a dozen lines" heading."""
    section = README[README.index("## Python in a dozen lines") :]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match is not None
    return match.group(1)


@pytest.mark.slow
def test_readme_python_snippet_runs_as_written(tmp_path):
    from qtok_widgets import CodeGrid
    from qtok_widgets.examples import example_path

    snippet = readme_snippet()
    assert "example_path(" in snippet
    env = {**os.environ, "QTOK_CODEC": "builtin"}
    proc = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    grid = CodeGrid.load(tmp_path / "codes.pt")
    assert grid.codec == "builtin" and grid.shape[0] == 16
    assert abs(grid.duration - _duration(example_path("fox_take_a"))) <= 1 / grid.frame_rate
    recipe = json.loads((tmp_path / "recipe.json").read_text())
    assert [op["op"] for op in recipe["ops"]] == ["mask", "splice"], "undo then redo keeps both edits"


def _duration(path: Path) -> float:
    import soundfile

    info = soundfile.info(str(path))
    return info.frames / info.samplerate
