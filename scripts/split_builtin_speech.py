"""Split a folder of real speech by speaker into the built-in codec's training and validation sides.

Reads the folder's ``manifest.csv`` (columns ``dest``, ``dataset``, ``subset``, ``speaker``,
``sex``, ``duration_s``, as in the project's shared speech corpus) and writes one row per file:
its side, dataset, subset, speaker, sex, path inside the folder, duration and whether it is the
speaker's evaluation clip (``eval``, validation side only: the first file of 3-10 s in name
order, else the speaker's first file, which the benchmark cuts to 10 s).

Which speaker goes where (seeded):

* every speaker that earlier choices were measured on stays on the validation side: the
  speakers of VCTK, LJ Speech and LibriSpeech test-other (``benchmarks/pitch_trackers.py``)
  and CMU ARCTIC aew (``benchmarks/bench_prosody.py``);
* of each remaining dataset and sex, ``--validation-share`` of the speakers, drawn at random,
  go to validation, the rest to training.

No speaker is on both sides. The clips in ``tests/data`` are never in the folder's training
side (their speakers 1320, 3575, p240 are not in the corpus; ARCTIC is validation only).

Usage (the committed split)::

    python scripts/split_builtin_speech.py --corpus ../shared/speech --seed 0 \
        --out benchmarks/builtin_speech_split.csv
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

#: (dataset, subset or None for all) whose speakers are always validation.
ALWAYS_VALIDATION = {
    ("VCTK", None),
    ("LJSpeech-1.1", None),
    ("LibriSpeech", "test-other"),
    ("CMU ARCTIC", None),
}
FIELDS = ["side", "dataset", "subset", "speaker", "sex", "file", "duration_s", "eval"]


def split(rows: list[dict[str, str]], share: float, seed: int) -> list[dict[str, str]]:
    """Rows of ``manifest.csv`` -> split rows (see :data:`FIELDS`), sorted by side and file."""
    speakers: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        speakers.setdefault((row["dataset"], row["speaker"]), row)
    side: dict[tuple[str, str], str] = {}
    strata: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for key, row in sorted(speakers.items()):
        if (row["dataset"], None) in ALWAYS_VALIDATION or (
            row["dataset"],
            row["subset"],
        ) in ALWAYS_VALIDATION:
            side[key] = "validation"
        else:
            strata.setdefault((row["dataset"], row["sex"]), []).append(key)
    rng = np.random.default_rng(seed)
    for stratum in sorted(strata):
        keys = strata[stratum]
        n_val = round(share * len(keys))
        chosen = set(rng.permutation(len(keys))[:n_val].tolist())
        for i, key in enumerate(keys):
            side[key] = "validation" if i in chosen else "train"
    out = []
    eval_done: set[tuple[str, str]] = set()
    by_file = sorted(rows, key=lambda r: r["dest"])
    first_file = {}
    for row in by_file:
        first_file.setdefault((row["dataset"], row["speaker"]), row["dest"])
    for row in by_file:
        key = (row["dataset"], row["speaker"])
        duration = float(row["duration_s"])
        is_eval = False
        if side[key] == "validation" and key not in eval_done:
            fits = [
                r
                for r in by_file
                if (r["dataset"], r["speaker"]) == key and 3.0 <= float(r["duration_s"]) <= 10.0
            ]
            pick = fits[0]["dest"] if fits else first_file[key]
            if row["dest"] == pick:
                is_eval = True
                eval_done.add(key)
        out.append(
            {
                "side": side[key],
                "dataset": row["dataset"],
                "subset": row["subset"],
                "speaker": row["speaker"],
                "sex": row["sex"],
                "file": row["dest"],
                "duration_s": f"{duration:.3f}",
                "eval": "1" if is_eval else "0",
            }
        )
    out.sort(key=lambda r: (r["side"] != "train", r["file"]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder with manifest.csv")
    parser.add_argument("--validation-share", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    manifest = args.corpus / "manifest.csv"
    if not manifest.is_file():
        print(f"{manifest}: no such file (want the speech folder's manifest.csv)", file=sys.stderr)
        return 2
    if not 0.0 < args.validation_share < 1.0:
        print(f"--validation-share must be between 0 and 1, got {args.validation_share}", file=sys.stderr)
        return 2
    with open(manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = split(rows, args.validation_share, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    for name in ("train", "validation"):
        rows_side = [r for r in out if r["side"] == name]
        minutes = sum(float(r["duration_s"]) for r in rows_side) / 60
        n_spk = len({(r["dataset"], r["speaker"]) for r in rows_side})
        print(f"{name}: {len(rows_side)} files, {n_spk} speakers, {minutes:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
