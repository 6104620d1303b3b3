#!/usr/bin/env bash
# Rebuild the two synthetic takes of one sentence shipped in qtok_widgets/data/examples/.
# Take B is the same voice, slower (duration x1.25) and higher (F0 mean 106 -> 143 Hz), so the
# prosody-editing notebook has two takes whose timing and pitch differ while the words match.
# Needs Debian's festival and festvox-kallpc16k.
set -euo pipefail
out=${1:-qtok_widgets/data/examples}
text=$(mktemp)
echo "The quick brown fox jumps over the lazy dog." >"$text"
text2wave -eval '(voice_kal_diphone)' "$text" -o "$out/fox_take_a.wav"
text2wave -eval '(voice_kal_diphone)' -eval "(Parameter.set 'Duration_Stretch 1.25)" \
  -eval "(set! int_lr_params '((target_f0_mean 140) (target_f0_std 30) (model_f0_mean 170) (model_f0_std 34)))" \
  "$text" -o "$out/fox_take_b.wav"
rm -f "$text"
