"""Synthesise the training corpus of the built-in codec with the speech synthesisers Debian ships.

The built-in codec's codebooks are trained on synthetic speech only, so that every real
recording in ``tests/data`` stays unseen and can measure quality honestly. This script writes
invented English sentences (a seeded grammar over a few hundred words) and speaks them with
festival (``kal_diphone``, ``ked_diphone``, ``cmu_us_slt_arctic_hts``, at several speaking rates)
and espeak-ng (several accents x voice variants x pitch x rate). Output: one WAV per paragraph
of 3-6 sentences, at the synthesiser's own rate, plus ``corpus.tsv`` listing file, voice and
text.

Needs the Debian packages ``festival``, ``festvox-kallpc16k``, ``festvox-kdlpc16k``,
``festvox-us-slt-hts`` and ``espeak-ng``.

Usage::

    nice -n 5 .venv/bin/python scripts/make_builtin_corpus.py --out build/builtin_corpus \
        --paragraphs 1200 --jobs 2 --seed 0
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FESTIVAL_VOICES = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]
ESPEAK_ACCENTS = [
    "en-us",
    "en-gb",
    "en-gb-scotland",
    "en-gb-x-rp",
    "en-029",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd",
]
ESPEAK_VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2"]

NAMES = "Anna Bob Carla David Emma Frank Grace Henry Iris Jack Karen Leo Maria Nathan Olivia Peter Rachel Sam Tina Victor Wendy Yusuf Zoe".split()
NOUNS = (
    "apple boat bridge bucket camera candle castle chair cloud coffee corner cousin desk doctor door dragon "
    "engine farmer feather forest garden glass guitar hammer harbour horse island jacket journey kettle kitchen "
    "ladder lamp letter library machine market meadow mirror mountain needle ocean orange painter pencil pillow "
    "planet pocket puzzle rabbit river rocket saddle sailor school shadow shoulder silver soldier spoon station "
    "stone summer table teacher thunder ticket tower train treasure valley village violin wagon window winter "
    "wizard yellow zebra voice picture answer number question morning evening weather problem story season"
).split()
ADJS = (
    "old new quiet loud bright dark heavy light quick slow warm cold gentle strange small huge happy tired "
    "careful curious broken golden hidden honest empty busy lonely lucky narrow purple rough smooth sharp soft"
).split()
VERBS = (
    "carried painted opened found watched followed measured repaired borrowed cleaned pushed pulled visited "
    "described remembered ignored noticed explained covered delivered lifted dropped washed counted chose "
    "bought sold kept showed gave took brought caught threw heard"
).split()
ADVS = "quickly slowly carefully quietly suddenly happily rarely always never often yesterday tonight again".split()
PLACES = "near the station|across the river|behind the old tower|in the kitchen|under the bridge|at the market|by the window|on the mountain|inside the library|along the harbour".split(
    "|"
)
QWORDS = "Why|When|Where|How|Who".split("|")
NUMBERS = "two three four seven eleven twelve twenty thirty fifty a hundred".split()


def sentence(rng: random.Random) -> str:
    """One invented sentence from a small grammar."""
    n1, n2 = rng.choice(NOUNS), rng.choice(NOUNS)
    kind = rng.randrange(7)
    if kind == 0:
        return f"{rng.choice(NAMES)} {rng.choice(VERBS)} the {rng.choice(ADJS)} {n1} {rng.choice(PLACES)}."
    if kind == 1:
        return f"{rng.choice(QWORDS)} did {rng.choice(NAMES)} say that the {n1} was so {rng.choice(ADJS)}?"
    if kind == 2:
        return f"The {n1} and the {rng.choice(ADJS)} {n2} were {rng.choice(ADVS)} {rng.choice(VERBS)} by {rng.choice(NAMES)}."
    if kind == 3:
        return f"We {rng.choice(VERBS)} {rng.choice(NUMBERS)} {n1}s, but {rng.choice(NAMES)} {rng.choice(ADVS)} {rng.choice(VERBS)} the {n2}."
    if kind == 4:
        return f"Please tell {rng.choice(NAMES)} to bring the {rng.choice(ADJS)} {n1} before {rng.choice(['noon', 'dinner', 'Monday', 'the storm', 'dawn'])}."
    if kind == 5:
        return f"It is {rng.choice(ADJS)} and {rng.choice(ADJS)} {rng.choice(PLACES)}, said the {n1}."
    return f"{rng.choice(NAMES)}, have you {rng.choice(VERBS)} my {n1} {rng.choice(PLACES)}?"


def paragraph(rng: random.Random) -> str:
    """Three to six sentences."""
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def speak(job: dict[str, str], out_dir: Path) -> Path | None:
    """Synthesise one paragraph; return the WAV path, or None when the synthesiser failed."""
    wav = out_dir / f"{job['id']}.wav"
    if wav.exists() and wav.stat().st_size > 1000:
        return wav
    if job["engine"] == "festival":
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
            fh.write(job["text"])
            txt = fh.name
        cmd = [
            "text2wave",
            "-eval",
            f"(voice_{job['voice']})",
            "-eval",
            f"(Parameter.set 'Duration_Stretch {job['stretch']})",
            txt,
            "-o",
            str(wav),
        ]
    else:
        txt = None
        cmd = [
            "espeak-ng",
            "-v",
            job["voice"],
            "-p",
            job["pitch"],
            "-s",
            job["speed"],
            "-w",
            str(wav),
            job["text"],
        ]
    try:
        proc = subprocess.run(cmd, capture_output=True, check=False, timeout=120)
    finally:
        if txt:
            Path(txt).unlink(missing_ok=True)
    if proc.returncode != 0 or not wav.exists():
        return None
    return wav


def plan(n_paragraphs: int, seed: int) -> list[dict[str, str]]:
    """The list of synthesis jobs: half festival, half espeak-ng, with seeded voice settings."""
    rng = random.Random(seed)
    jobs = []
    for i in range(n_paragraphs):
        text = paragraph(rng)
        if i % 2 == 0:
            voice = FESTIVAL_VOICES[(i // 2) % len(FESTIVAL_VOICES)]
            jobs.append(
                {
                    "id": f"p{i:05d}",
                    "engine": "festival",
                    "voice": voice,
                    "stretch": f"{rng.uniform(0.85, 1.3):.2f}",
                    "text": text,
                }
            )
        else:
            voice = f"{rng.choice(ESPEAK_ACCENTS)}+{rng.choice(ESPEAK_VARIANTS)}"
            jobs.append(
                {
                    "id": f"p{i:05d}",
                    "engine": "espeak",
                    "voice": voice,
                    "pitch": str(rng.randint(20, 80)),
                    "speed": str(rng.randint(130, 185)),
                    "text": text,
                }
            )
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/builtin_corpus"))
    parser.add_argument("--paragraphs", type=int, default=1200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for tool in ("text2wave", "espeak-ng"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found: install festival and espeak-ng")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = plan(args.paragraphs, args.seed)
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda j: speak(j, args.out), jobs))
    with open(args.out / "corpus.tsv", "w", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t")
        writer.writerow(["file", "engine", "voice", "text"])
        for job, wav in zip(jobs, results, strict=True):
            if wav is not None:
                writer.writerow([wav.name, job["engine"], job["voice"], job["text"]])
    ok = sum(r is not None for r in results)
    print(f"{ok}/{len(jobs)} paragraphs written to {args.out}")


if __name__ == "__main__":
    main()
