"""Praat's pitch tracker against WORLD's Harvest: agreement (gross pitch errors) and speed.

Neither tracker is ground truth, so the figures are how often they disagree:

* GPE: of the frames both call voiced, the share whose F0 differ by more than 20 %;
* voicing disagreement (VDE): the share of all frames one calls voiced and the other not;
* speed: seconds of computing per minute of audio, one thread.

Each is measured with one pass over a fixed 60..500 Hz range and with the speaker-adaptive
second pass (``two_pass=True``, :func:`qtok_widgets.analysis.pitch`).

The validation set (where the choice is made) is chosen by speaker from a folder of real speech
such as the project's shared corpus (``--validation DIR``, its ``manifest.csv``): speakers of
VCTK, LJ Speech and LibriSpeech test-other, leaving out every speaker of the test set. The test
set is ``tests/data`` (CMU ARCTIC a0007/a0009, LibriSpeech 1320 and 3575, VCTK p240), reported
only after the choice.

    python benchmarks/pitch_trackers.py --validation ../shared/speech --out benchmarks/results/pitch_trackers.json
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from qtok_widgets.analysis import pitch
from qtok_widgets.audio import load_audio

ROOT = Path(__file__).resolve().parents[1]
TEST_SPEAKERS = {"1320", "3575", "p240", "bdl", "aew"}
VALIDATION_SUBSETS = {("VCTK", None), ("LJ Speech", None), ("LibriSpeech", "test-other")}


def validation_files(folder: Path, max_per_speaker: int) -> list[Path]:
    per_speaker: dict[str, list[Path]] = {}
    with open(folder / "manifest.csv", newline="") as f:
        for row in csv.DictReader(f):
            subset = (row["dataset"], row["subset"] or None)
            if (row["dataset"], None) not in VALIDATION_SUBSETS and subset not in VALIDATION_SUBSETS:
                continue
            if row["speaker"] in TEST_SPEAKERS:
                continue
            per_speaker.setdefault(row["speaker"], []).append(folder / row["dest"])
    return [p for files in per_speaker.values() for p in sorted(files)[:max_per_speaker]]


def compare(files: list[Path], two_pass: bool) -> dict[str, float]:
    seconds = {"praat": 0.0, "harvest": 0.0}
    audio_s = 0.0
    both = gross = disagree = total = 0
    for path in files:
        audio = load_audio(path)
        audio_s += audio.duration
        tracks = {}
        for method in seconds:
            t0 = time.perf_counter()
            _, tracks[method] = pitch(audio, method=method, two_pass=two_pass)
            seconds[method] += time.perf_counter() - t0
        a, b = tracks["praat"], tracks["harvest"]
        va, vb = ~np.isnan(a), ~np.isnan(b)
        sel = va & vb
        both += int(sel.sum())
        gross += int((np.abs(a[sel] - b[sel]) > 0.2 * b[sel]).sum())
        disagree += int((va != vb).sum())
        total += a.size
    return {
        "files": len(files),
        "minutes": audio_s / 60,
        "gpe_percent": 100 * gross / max(both, 1),
        "vde_percent": 100 * disagree / max(total, 1),
        "praat_s_per_min": seconds["praat"] / (audio_s / 60),
        "harvest_s_per_min": seconds["harvest"] / (audio_s / 60),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validation", type=Path, required=True, help="folder with manifest.csv")
    parser.add_argument("--per-speaker", type=int, default=2, help="validation files per speaker")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pitch_trackers.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    val_files = validation_files(args.validation, args.per_speaker)
    test_files = sorted(p for p in (ROOT / "tests" / "data").iterdir() if p.suffix in (".wav", ".mp3"))
    results = {"machine": platform.platform(), "processor": platform.processor() or platform.machine()}
    rows = []
    for name, files in (("validation", val_files), ("test", test_files)):
        for two_pass in (False, True):
            key = f"{name}, {'two-pass' if two_pass else 'one pass'}"
            results[key] = compare(files, two_pass)
            rows.append(key)
    print(
        f"{'set':<22}{'files':>6}{'min':>7}{'GPE %':>8}{'VDE %':>8}{'praat s/min':>13}{'harvest s/min':>15}"
    )
    for key in rows:
        r = results[key]
        print(
            f"{key:<22}{r['files']:>6}{r['minutes']:>7.2f}{r['gpe_percent']:>8.2f}{r['vde_percent']:>8.2f}"
            f"{r['praat_s_per_min']:>13.2f}{r['harvest_s_per_min']:>15.2f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
