"""Draft word labels for the example clips: Festival's word timings, moved onto real recordings by DTW.

Festival (Debian's festival + festvox-kallpc16k) synthesises each transcript with the same
diphone voice that made the fox takes and reports where each word starts and ends. For the two
synthetic takes those times are exact (the script regenerates the shipped files bit for bit).
For a recording, the synthetic version is aligned to it by dynamic time warping over
mean-normalised log-mel frames (10 ms), and each word boundary is carried over the path.
The result is a draft: docs/editor.md says how the shipped labels were checked by hand.

    python scripts/align_example_labels.py OUT_DIR
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from qtok_widgets.analysis import spectrogram
from qtok_widgets.audio import load_audio

EXAMPLES = Path(__file__).resolve().parents[1] / "qtok_widgets" / "data" / "examples"
CLIPS = {
    "arctic_a0007": "And you always want to see it in the superlative degree.",
    "arctic_a0009": "He turned sharply, and faced Gregson across the table.",
    "fox_take_a": "The quick brown fox jumps over the lazy dog.",
    "fox_take_b": "The quick brown fox jumps over the lazy dog.",
}
TAKE_B = (
    "(Parameter.set 'Duration_Stretch 1.25)\n"
    "(set! int_lr_params '((target_f0_mean 140) (target_f0_std 30) (model_f0_mean 170) (model_f0_std 34)))\n"
)
SCHEME = """(voice_kal_diphone)
{extra}
(set! u (utt.synth (Utterance Text "{text}")))
(utt.save.wave u "{wav}")
(mapcar (lambda (w) (format t "%s %f %f\\n" (item.name w)
   (item.feat w "R:SylStructure.daughter1.daughter1.R:Segment.p.end")
   (item.feat w "R:SylStructure.daughtern.daughtern.R:Segment.end")))
 (utt.relation.items utt 'Word))
"""


def festival_words(text: str, wav: Path, extra: str = "") -> list[tuple[float, float, str]]:
    script = SCHEME.format(extra=extra, text=text, wav=wav).replace(
        "utt.relation.items utt", "utt.relation.items u"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".scm", delete=False) as f:
        f.write(script)
    out = subprocess.run(["festival", "-b", f.name], capture_output=True, text=True, check=True).stdout
    words = []
    for line in out.splitlines():
        name, start, end = line.split()
        words.append((float(start), float(end), name))
    return words


def features(path: Path) -> np.ndarray:
    _, _, db = spectrogram(load_audio(path, target_rate=16000), n_mels=40)
    db = np.maximum(db, db.max() - 60.0)
    return (db - db.mean(axis=1, keepdims=True)).T


def dtw_path(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    acc = np.full((len(a) + 1, len(b) + 1), np.inf)
    acc[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    i, j, path = len(a), len(b), []
    while i > 0 and j > 0:
        path.append((i - 1, j - 1))
        step = int(np.argmin([acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]]))
        i, j = (i - 1, j - 1) if step == 0 else (i - 1, j) if step == 1 else (i, j - 1)
    return np.array(path[::-1])


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in CLIPS.items():
        synth = out / f"{name}.festival.wav"
        words = festival_words(text, synth, TAKE_B if name == "fox_take_b" else "")
        if not name.startswith("fox"):
            path = dtw_path(features(synth), features(EXAMPLES / f"{name}.wav"))

            def carry(t: float, path: np.ndarray = path) -> float:
                hits = path[path[:, 0] == round(t * 100)]
                return float(hits[:, 1].mean()) / 100 if hits.size else t

            words = [(round(carry(s), 3), round(carry(e), 3), w) for s, e, w in words]
        (out / f"{name}.words.json").write_text(json.dumps(words, indent=1))
        print(name, words)


if __name__ == "__main__":
    main(sys.argv[1])
