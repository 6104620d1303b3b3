"""Real-browser tests of TokenEditor in JupyterLab."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_fixtures_run_a_notebook(jupyterlab, page, run_notebook_in_lab, kernel_exec):
    path = jupyterlab.write_notebook("smoke.ipynb", ["x = 6 * 7", "print(x)"])
    run_notebook_in_lab(page, jupyterlab, path)
    assert kernel_exec(page, "print(x + 1)").strip() == "43"
    assert page.relevant_errors() == []
