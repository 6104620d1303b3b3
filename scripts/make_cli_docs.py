"""Regenerate the example sessions in docs/cli.md by running the real ``qtok`` commands.

Each example block in docs/cli.md sits between ``<!-- cli-example: NAME -->`` and
``<!-- /cli-example -->``; this script runs the commands of :data:`EXAMPLES` with the
built-in codec, in an empty folder holding copies of the clips shipped in
``qtok_widgets/data/examples`` and the seeded tiny random-weight checkpoints of
:data:`CHECKPOINTS` (for ``--layers``, which the built-in codec does not take), and writes
what they print (stdout and stderr, in order) into those blocks. The prose around them is
left alone.

    python scripts/make_cli_docs.py           # rewrite docs/cli.md
    python scripts/make_cli_docs.py --check   # exit 1 and show a diff when it is out of date

Timings differ from run to run, ``--allow-root`` appears only when run as root, and the last
digits of full-precision floats follow library versions, so ``--check`` (and
tests/test_cli_docs.py) compares with those masked (:func:`mask_volatile`).
Paths are shown shortened: ``~/work`` is the scratch folder, ``~/qtok_widgets`` the clone.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "cli.md"
CLIPS = ("arctic_a0007", "arctic_a0009", "fox_take_b")
SHOWN_WORK, SHOWN_ROOT = "~/work", "~/qtok_widgets"
SHOWN_PYTHON = f"{SHOWN_ROOT}/.venv/bin/python"

#: checkpoint folder in the scratch folder -> (backend, preset) of
#: :func:`qtok_widgets.codecs.hf.build_random_checkpoint`, seed 0: a tiny DAC 24 kHz (32 layers)
CHECKPOINTS = {"dac24": ("dac", "tiny")}

#: example name -> the commands it shows, run in order in one scratch folder ("recipe" is the
#: recipe file written by ``write_recipe``). Commands under "errors" must exit 2, all others 0.
EXAMPLES: dict[str, list[str]] = {
    "encode": ["qtok encode arctic_a0007.wav -o a0007.pt --codec builtin"],
    "encode-many": ["qtok encode arctic_a0009.wav fox_take_b.wav -o codes/ --format npz --codec builtin -q"],
    "decode": ["qtok decode a0007.pt -o a0007_decoded.wav"],
    "roundtrip": ["qtok roundtrip arctic_a0007.wav -o a0007_roundtrip.wav --codec builtin"],
    "roundtrip-json": ["qtok roundtrip arctic_a0007.wav --codec builtin --json"],
    "layers": ["qtok encode arctic_a0007.wav -o a0007_dac8.pt --codec dac24 --layers 8"],
    "info": ["qtok info a0007.pt"],
    "recipe": [],
    "edit": [
        "qtok edit a0007.pt --recipe recipe.json -o a0007_edited.pt",
        "qtok edit a0007.pt --recipe recipe.json -o a0007_edited.wav -q",
    ],
    "codecs": ["qtok codecs"],
    "lab": ["qtok lab --dry-run", "qtok lab my.ipynb --no-browser --dry-run -- --port 9999"],
    "errors": [
        "qtok encode missing.wav",
        "qtok info arctic_a0007.wav",
        "qtok decode a0007.pt -o out.mp3",
        "qtok roundtrip arctic_a0007.wav --codec qwen",
        "qtok encode arctic_a0007.wav --codec dac24 --layers 40",
        "qtok encode arctic_a0007.wav --codec builtin --layers 8",
    ],
}
#: examples whose per-layer code lines are shown as one "..." line, to keep them short
ELIDE_CODES = {"encode-many", "layers"}

BLOCK = re.compile(r"(<!-- cli-example: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /cli-example -->)", re.S)
ROOT_LINE = "qtok: running as root, so JupyterLab gets --allow-root"


class CliDocsError(RuntimeError):
    """A command did not exit as its example says, or docs/cli.md lacks a block."""


def write_recipe(work: Path) -> str:
    """Write ``recipe.json`` (saved by a real EditSession on ``a0007.pt``) and return its text.

    The recipe masks the eight finest layers over frames 10-19 and sets layer 0 to code 7
    on frames 30-31.
    """
    from qtok_widgets import CodeGrid, EditSession, load_codec

    session = EditSession(CodeGrid.load(work / "a0007.pt"), load_codec("builtin"))
    session.mask(frames=range(10, 20), layers=range(8, 16))
    session.replace(frames=range(30, 32), layers=[0], code=7)
    text = session.to_json(indent=2)
    (work / "recipe.json").write_text(text + "\n", encoding="utf-8")
    return text


def _elide_codes(lines: list[str]) -> list[str]:
    """Replace each run of "first and last 5 codes" / "layer N:" lines by one "  ..." line."""
    out: list[str] = []
    for line in lines:
        if re.match(r"\s+(first and last \d+ codes|layer +\d+: \[)", line):
            if not out or out[-1] != "  ...":
                out.append("  ...")
        else:
            out.append(line)
    return out


def run_command(command: str, work: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run one displayed ``qtok ...`` command in ``work``; its exit status and shown output."""
    argv = shlex.split(command)
    proc = subprocess.run(
        [sys.executable, "-m", "qtok_widgets", *argv[1:]],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    text = proc.stdout.replace(sys.executable, SHOWN_PYTHON)
    text = text.replace(str(work), SHOWN_WORK).replace(str(ROOT), SHOWN_ROOT)
    return proc.returncode, text.rstrip("\n")


def generate() -> dict[str, str]:
    """Run every example; example name -> the text of its block (fence included)."""
    blocks: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="qtok-cli-docs-") as tmp:
        work = Path(tmp).resolve()
        from qtok_widgets.examples import example_path

        for name in CLIPS:
            shutil.copy(example_path(name), work / f"{name}.wav")
        from qtok_widgets.codecs.hf import build_random_checkpoint

        for folder, (backend, preset) in CHECKPOINTS.items():
            build_random_checkpoint(work / folder, backend, preset, seed=0)
        (work / "my.ipynb").write_text(
            json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8"
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith("QTOK_")}
        # an empty Hugging Face cache: the qwen example fails the same way on every machine
        env.update(HF_HOME=str(work / ".hf"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        for name, commands in EXAMPLES.items():
            if name == "recipe":
                blocks[name] = "```json\n" + write_recipe(work) + "\n```\n"
                continue
            shown: list[str] = []
            for command in commands:
                status, output = run_command(command, work, env)
                expected = 2 if name == "errors" else 0
                if status != expected:
                    msg = f"`{command}` exited {status}, expected {expected}:\n{output}"
                    raise CliDocsError(msg)
                lines = output.splitlines()
                shown += [f"$ {command}", *(_elide_codes(lines) if name in ELIDE_CODES else lines)]
            blocks[name] = "```\n" + "\n".join(shown) + "\n```\n"
    return blocks


def render(doc: str, blocks: dict[str, str]) -> str:
    """``doc`` with every example block replaced by its generated text."""
    names = [m.group("name") for m in BLOCK.finditer(doc)]
    if sorted(names) != sorted(blocks):
        msg = f"docs/cli.md has example blocks {names}; the script makes {sorted(blocks)}"
        raise CliDocsError(msg)
    return BLOCK.sub(lambda m: m.group(1) + blocks[m.group("name")] + m.group(4), doc)


def mask_volatile(text: str) -> str:
    """``text`` with what changes from run to run or between machines masked.

    Timings become ``#``; ``--allow-root`` and the line saying so (root only) go; numbers
    printed with six or more decimals (``--json``'s full floats, whose last digits follow
    the numerical libraries' versions) are compared at four significant digits.
    """
    text = re.sub(r"(\btime:\s+)[\d.]+ s", r"\1# s", text)
    text = re.sub(r'("(?:encode|decode|elapsed)_s": )[-\d.e]+', r"\1#", text)
    text = re.sub(r"-?\d+\.\d{6,}(?:e-?\d+)?", lambda m: f"{float(m.group()):.4g}", text)
    text = "\n".join(line for line in text.splitlines() if line != ROOT_LINE) + "\n"
    return text.replace(" --allow-root", "")


def main(argv: list[str] | None = None) -> int:
    """Rewrite docs/cli.md, or with ``--check`` report whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 if stale")
    args = parser.parse_args(argv)
    doc = DOC.read_text(encoding="utf-8")
    new = render(doc, generate())
    if not args.check:
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
        return 0
    old_masked, new_masked = mask_volatile(doc), mask_volatile(new)
    if old_masked == new_masked:
        print(f"{DOC.relative_to(ROOT)} is up to date (times masked)")
        return 0
    diff = difflib.unified_diff(
        old_masked.splitlines(), new_masked.splitlines(), "docs/cli.md", "regenerated", lineterm=""
    )
    print("\n".join(diff))
    print("docs/cli.md is out of date: run python scripts/make_cli_docs.py", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
