"""docs/cli.md shows what the `qtok` commands print today (scripts/make_cli_docs.py)."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _make_cli_docs():
    spec = importlib.util.spec_from_file_location("make_cli_docs", ROOT / "scripts" / "make_cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_cli_docs = _make_cli_docs()


@pytest.mark.slow
def test_cli_docs_are_up_to_date():
    doc = make_cli_docs.DOC.read_text(encoding="utf-8")
    regenerated = make_cli_docs.render(doc, make_cli_docs.generate())
    old, new = make_cli_docs.mask_volatile(doc), make_cli_docs.mask_volatile(regenerated)
    diff = "\n".join(
        difflib.unified_diff(old.splitlines(), new.splitlines(), "docs/cli.md", "now", lineterm="")
    )
    assert old == new, f"docs/cli.md is out of date; run python scripts/make_cli_docs.py\n{diff}"


def test_every_example_block_of_the_page_is_generated():
    doc = make_cli_docs.DOC.read_text(encoding="utf-8")
    names = [m.group("name") for m in make_cli_docs.BLOCK.finditer(doc)]
    assert sorted(names) == sorted(make_cli_docs.EXAMPLES)
    for name, commands in make_cli_docs.EXAMPLES.items():
        block = next(m.group("body") for m in make_cli_docs.BLOCK.finditer(doc) if m.group("name") == name)
        assert [line[2:] for line in block.splitlines() if line.startswith("$ ")] == commands


def test_render_refuses_a_page_whose_blocks_do_not_match():
    with pytest.raises(make_cli_docs.CliDocsError, match=r"has example blocks \['encode'\]"):
        make_cli_docs.render("<!-- cli-example: encode -->\n```\n```\n<!-- /cli-example -->\n", {})


def test_mask_volatile_masks_times_root_and_float_tails_only():
    text = (
        "qtok: running as root, so JupyterLab gets --allow-root\n"
        "python -m jupyterlab --no-browser --allow-root --port 9999\n"
        "  encode time:     2.65 s\n"
        '{"encode_s": 2.0840742320000345, "snr_db": -2.866507635547916, "lag_ms": -1.6875}\n'
        "  codes shape: [16, 50]\n"
    )
    assert make_cli_docs.mask_volatile(text) == (
        "python -m jupyterlab --no-browser --port 9999\n"
        "  encode time:     # s\n"
        '{"encode_s": #, "snr_db": -2.867, "lag_ms": -1.6875}\n'
        "  codes shape: [16, 50]\n"
    )
    # what is not volatile still differs
    assert make_cli_docs.mask_volatile("shape: [16, 50]") != make_cli_docs.mask_volatile("shape: [16, 51]")


def test_elided_code_lines_become_one_ellipsis():
    lines = [
        "a.wav -> a.npz",
        "  first and last 5 codes of each layer:",
        "  layer  0: [1, 2]",
        "  layer 15: [3]",
        "b",
    ]
    assert make_cli_docs._elide_codes(lines) == ["a.wav -> a.npz", "  ...", "b"]
