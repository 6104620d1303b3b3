"""Read the README's two shell commands, so that CI runs exactly what a new user copies.

README.md holds the two commands in one ``bash`` block between ``<!-- commands: begin ...-->``
and ``<!-- commands: end -->``. Command 1 installs what running needs and ends with
``&& .venv/bin/qtok lab``; command 2 installs what the tests need and ends with
``&& .venv/bin/python -m pytest``. ``.ci/run`` runs command 1's install part, command 2's
install part and command 2's test part, in that order, as printed by::

    python3 scripts/readme_commands.py run-install | test-install | test

Standard library only: it runs before any virtual environment exists.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- commands: begin"
END = "<!-- commands: end -->"
LAUNCH = ".venv/bin/qtok lab"
TEST = ".venv/bin/python -m pytest"
PARTS = ("run-install", "run-launch", "test-install", "test")


class ReadmeCommandsError(ValueError):
    """The README's commands block is missing or not in the expected shape."""


def commands(text: str) -> list[str]:
    """The shell commands of the README's commands block, continuation lines joined.

    Parameters
    ----------
    text : str
        The whole README.

    Returns
    -------
    list of str
        One string per command, in README order; comment and blank lines dropped.
    """
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        msg = f"README has no {BEGIN} --> ... {END} block"
        raise ReadmeCommandsError(msg)
    block = re.search(r"```bash\n(.*?)```", text[start:end], flags=re.S)
    if block is None:
        msg = "the README's commands block has no ```bash fence"
        raise ReadmeCommandsError(msg)
    found: list[str] = []
    pending = ""
    for raw in block.group(1).splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        found.append(pending + line)
        pending = ""
    if pending:
        msg = "the README's last command ends with a line continuation"
        raise ReadmeCommandsError(msg)
    return found


def parts(text: str) -> dict[str, str]:
    """Command 1 split into install and launch, command 2 into install and test.

    Returns
    -------
    dict
        ``{"run-install", "run-launch", "test-install", "test"}`` -> shell text.
    """
    found = commands(text)
    if len(found) != 2:
        msg = f"the README's commands block holds {len(found)} commands; expected 2"
        raise ReadmeCommandsError(msg)
    run, test = found
    split: dict[str, str] = {}
    for (install_key, tail_key, tail), command in (
        (("run-install", "run-launch", LAUNCH), run),
        (("test-install", "test", TEST), test),
    ):
        head, sep, last = command.rpartition(" && ")
        if not sep or not last.startswith(tail):
            msg = f"README command {command!r} does not end with '&& {tail}'"
            raise ReadmeCommandsError(msg)
        split[install_key], split[tail_key] = head, last
    return split


def main(argv: list[str] | None = None) -> int:
    """Print one part of the README's commands (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in PARTS:
        print(f"usage: readme_commands.py {{{'|'.join(PARTS)}}}", file=sys.stderr)
        return 2
    try:
        print(parts((ROOT / "README.md").read_text(encoding="utf-8"))[argv[0]])
    except ReadmeCommandsError as exc:
        print(f"readme_commands.py: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
