#!/usr/bin/env bash
# Qwen 12 Hz decoding on a CUDA machine: library vs streaming decode (real-time factor, peak GPU
# memory), one-frame edits then render(), checkpoint memory. Released architecture, random
# weights (no download). Usage: benchmarks/gpu_qwen.sh [SECONDS] [N_EDITS] [OUT.json]
# Needs the venv with torch (CUDA build), transformers and qwen-tts (--no-deps), as in
# docs/qwen_backend.md. Writes the rows as JSON and prints them; record them in the docs.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_AUDIO="${1:-300}"
N_EDITS="${2:-9}"
OUT="${3:-gpu_qwen.json}"
PY="${PYTHON:-.venv/bin/python}"
CKPT="${QTOK_BENCH_QWEN_DIR:-/tmp/qtok_qwen_released}"
"$PY" - <<PYEOF
import torch
assert torch.cuda.is_available(), "no CUDA device: this script is for a GPU machine"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__)
from pathlib import Path
from qtok_widgets.codecs.qwen_random import build_random_checkpoint
if not (Path("$CKPT") / "config.json").is_file():
    build_random_checkpoint("$CKPT", "released", seed=0)
PYEOF
"$PY" -m benchmarks.bench_qwen --streaming "$CKPT" "$SECONDS_AUDIO" "$N_EDITS" --device cuda --json "$OUT"
echo "rows written to $OUT"
