"""Run every benchmark module (or those named) and write results/*.json.

Usage::

    python -m benchmarks.run                 # all, full size
    python -m benchmarks.run --quick         # all, small sizes (a smoke run)
    python -m benchmarks.run audio editing   # only bench_audio.py and bench_editing.py
    python -m benchmarks.run corpus          # bench_corpus.py: Ray encode 1 vs 2 workers, DuckDB stats
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from .harness import report

HERE = Path(__file__).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmark names (bench_<name>.py); default all")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    available = sorted(p.stem[len("bench_") :] for p in HERE.glob("bench_*.py"))
    names = args.names or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {available}", file=sys.stderr)
        return 2
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        rows = module.run(quick=args.quick)
        report(name, rows, command="python -m benchmarks.run " + name + (" --quick" if args.quick else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
