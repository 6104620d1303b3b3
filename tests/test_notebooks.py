"""Every notebook in notebooks/ runs top to bottom on the built-in codec and leaves nothing behind.

Notebooks are executed headless with nbclient in the repository's own ``notebooks/`` folder,
as a learner runs them, and the test checks that no file appeared in the repository: the
notebooks write their codes and recipes to a temporary scratch folder of their own.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-5]_*.ipynb"))


def _files(folder: Path) -> set[Path]:
    """Every file under ``folder`` (caches of Python and Jupyter aside)."""
    skip = {"__pycache__", ".ipynb_checkpoints"}
    return {p for p in folder.rglob("*") if p.is_file() and not skip & set(p.parts)}


def _untracked(paths: list[Path]) -> set[str]:
    """Untracked files (ignored ones too) that git sees under ``paths``, or an empty set without git."""
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all", "--ignored", "--", *map(str, paths)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return set()
    return {line[3:] for line in out.splitlines() if line[:2] in ("??", "!!")}


def test_the_teaching_notebooks_are_there() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_token_semantics",
        "03_prosody_editing",
        "04_teaching_rvq",
        "05_comparing_codecs",
    ]


def test_notebooks_are_committed_without_outputs() -> None:
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: a code cell has outputs"
                assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_leaves_no_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = path.parent
    watched = [folder, ROOT / ".qtok"]
    before_files, before_git = _files(folder), _untracked(watched)
    committed = path.read_bytes()
    nb = nbformat.read(path, as_version=4)
    monkeypatch.setenv("QTOK_CODEC", "builtin")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    # the "python3" kernel's argv starts with "python", which jupyter_client replaces with
    # this interpreter, so the kernel sees the same installed package as the tests
    client.execute(cwd=str(folder), env=dict(os.environ))
    errors = [
        f"{out.get('ename')}: {out.get('evalue')}"
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
    new_files = sorted(str(p.relative_to(ROOT)) for p in _files(folder) - before_files)
    assert not new_files, f"{path.name} left files in the repository: {new_files}"
    new_git = sorted(_untracked(watched) - before_git)
    assert not new_git, f"{path.name} left files in the repository: {new_git}"
    assert path.read_bytes() == committed, f"{path.name} was changed on disk by running it"
