"""``python -m qtok_widgets``: the same as the ``qtok`` command (see :mod:`qtok_widgets.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
