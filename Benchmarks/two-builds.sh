#!/bin/bash
# Two builds of `peft` in one sitting, alternated round by round with PyTorch + PEFT, each side's
# best kept: shows that a change kept the speed (or what it cost). From the repository root:
#
#     PYTHON=/path/to/venv/bin/python MODEL=.models/SmolLM2-135M-Instruct.Q4_1.gguf \
#         Benchmarks/two-builds.sh OLD/.build/release/peft .build/release/peft | tee two-builds.log
#     python3 Benchmarks/summarize-two-builds.py two-builds.log
#
# Lines are `BEFORE`, `AFTER` or `TORCH`, then the benchmark's JSON. MODEL (optional) adds the
# SmolLM2 shapes: decoding at batch 1 and 8, and a LoRA training step.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 BEFORE_PEFT AFTER_PEFT" >&2; exit 1; }
T=${PYTHON:-python3}
B=$(dirname "$0")
ROUNDS=${ROUNDS:-2}
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
run() {  # run TAG PEFT: every benchmark of the sitting with one build
  local tag=$1 p=$2
  for m in lora iapt; do $p bench serve --config base --method $m --tenants 8 --json | sed "s/^/$tag /"; done
  $p bench train --config small --method lora --json | sed "s/^/$tag /"
  $p bench train --config small --method iapt --json | sed "s/^/$tag /"
  $p bench train --config base --method lora --json | sed "s/^/$tag /"
  if [ -n "${MODEL:-}" ]; then
    for b in 1 8; do $p bench serve --model "$MODEL" --method base --tenants 1 --batch $b --json | sed "s/^/$tag /"; done
    $p bench train --model "$MODEL" --method lora --steps 4 --no-peak --json | sed "s/^/$tag /"
  fi
}
for round in $(seq "$ROUNDS"); do
  echo "-- round $round"
  if (( round % 2 )); then run BEFORE "$1"; run AFTER "$2"; else run AFTER "$2"; run BEFORE "$1"; fi
  "$T" "$B/torch_serve.py" | sed 's/^/TORCH /'
  for config in small base; do "$T" "$B/torch_train.py" $config lora | sed 's/^/TORCH /'; done
done
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
