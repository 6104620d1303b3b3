"""What crash safety costs: edits with and without the journal, side by side, and restoring.

On a 5-minute grid (16 x 3750, random codes; no codec needed), the same sequence of
single-cell edits (replace, mask, undo, redo in turn) is made three ways in one run, rounds
interleaved so that machine load hits all of them alike: without a journal, with a journal
(each event written and ``fsync``-ed before it counts), and with a journal whose size bound
is small enough that it is compacted during the run. Rows give the median time per edit, the
ratio to no journal, the journal's bytes per event, and the time to restore the session from
the journal (replaying every event).

``--quick`` makes 100 edits instead of 600.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from qtok_widgets import CodeGrid, EditSession


def _grid(n_frames: int) -> CodeGrid:
    rng = np.random.default_rng(0)
    return CodeGrid(rng.integers(0, 2048, (16, n_frames)), "builtin", 12.5, 24000, 2048)


def _edit(session: EditSession, i: int) -> None:
    kind = i % 4
    if kind == 0:
        session.replace([i % session.grid.n_frames], [i % 16], i % 2048)
    elif kind == 1:
        session.mask([(7 * i) % session.grid.n_frames], [(3 * i) % 16])
    elif kind == 2:
        session.undo()
    else:
        session.redo()


def run(quick: bool = False) -> list[dict]:
    n_edits = 100 if quick else 600
    grid = _grid(3750)
    rounds = 3
    times: dict[str, list[float]] = {"no journal": [], "journal": [], "journal, compacted": []}
    sizes: dict[str, int] = {}
    restore_s: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            for case in times:
                path = Path(tmp) / f"{r}-{case.replace(' ', '_').replace(',', '')}.jsonl"
                kwargs = {}
                if case != "no journal":
                    kwargs["journal"] = path
                if case == "journal, compacted":
                    kwargs["journal_max_bytes"] = 8_000
                session = EditSession(grid, **kwargs)
                t0 = time.perf_counter()
                for i in range(n_edits):
                    _edit(session, i)
                times[case].append((time.perf_counter() - t0) / n_edits)
                if case != "no journal":
                    session.close()
                    sizes[case] = path.stat().st_size
                    t0 = time.perf_counter()
                    back = EditSession(grid, journal=path)
                    restore_s[case] = time.perf_counter() - t0
                    assert back.grid == session.grid and back.history == session.history
                    back.close()
    base = statistics.median(times["no journal"])
    rows = []
    for case, values in times.items():
        per_edit = statistics.median(values)
        row = {
            "case": case,
            "edits": n_edits,
            "median_ms_per_edit": round(per_edit * 1000, 3),
            "ratio_vs_no_journal": round(per_edit / base, 2),
        }
        if case in sizes:
            row["journal_bytes"] = sizes[case]
            row["bytes_per_event"] = round(sizes[case] / n_edits, 1)
            row["restore_s"] = round(restore_s[case], 3)
        rows.append(row)
    return rows
