"""Every notebook in notebooks/ runs top to bottom on the built-in codec without an error.

Notebooks are executed headless with nbclient in a temporary copy of the folder, so files
they write (codes, recipes) land there and not in the repository.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_five_notebooks() -> None:
    names = [p.stem for p in NOTEBOOKS]
    assert names == [
        "01_quickstart",
        "02_token_semantics",
        "03_prosody_editing",
        "04_teaching_rvq",
        "05_comparing_codecs",
    ]


def test_notebooks_are_committed_without_outputs() -> None:
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{path.name}: a code cell has outputs"
                assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "notebooks"
    shutil.copytree(path.parent, work)
    nb = nbformat.read(work / path.name, as_version=4)
    monkeypatch.setenv("QTOK_CODEC", "builtin")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
    )
    # the "python3" kernel's argv starts with "python", which jupyter_client replaces with
    # this interpreter, so the kernel sees the same installed package as the tests
    client.execute(cwd=str(work), env=dict(os.environ))
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors
