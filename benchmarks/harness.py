"""Tiny benchmark harness: time callables, name the machine, print a table, write JSON.

Every ``benchmarks/bench_*.py`` module defines ``run(quick: bool) -> list[dict]`` returning one
row per case; :func:`measure` gives the timing fields of a row. Ratios that a report quotes
are computed from rows measured side by side in the same run (these machines are shared
and noisy), never across runs.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine_info() -> dict[str, Any]:
    """CPU model, core count, memory, Python/torch versions and GPU name (if any)."""
    info: dict[str, Any] = {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["mem_gb"] = round(int(mem) / 2**20, 1)
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    try:
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        pass
    return info


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1) -> dict[str, Any]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Returns
    -------
    dict
        ``median_s``, ``min_s``, ``max_s``, ``repeats``, ``peak_rss_mb`` and ``result`` (the
        last return value of ``fn``, not written to JSON).
    """
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "repeats": len(times),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "result": result,
    }


def report(name: str, rows: list[dict[str, Any]], *, command: str | None = None) -> Path:
    """Print ``rows`` as a table and write them with machine info to ``results/<name>.json``."""
    clean = [{k: v for k, v in row.items() if k != "result"} for row in rows]
    keys: list[str] = []
    for row in clean:
        keys.extend(k for k in row if k not in keys)
    cells = [[_fmt(row.get(k, "")) for k in keys] for row in clean]
    widths = [max(len(k), *(len(c[i]) for c in cells)) if cells else len(k) for i, k in enumerate(keys)]
    print(f"\n## {name}")
    print("  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True)))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "command": command or "python " + " ".join(sys.argv),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine_info(),
        "rows": clean,
    }
    out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"(written to {out})")
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
