#!/bin/bash
# One sitting on SmolLM2-135M-Instruct, ours beside PyTorch + PEFT, as Documentation/Performance.md
# reports it: training steps per method (16 x 128 tokens), then decoding at batch 1 and 8 with the
# time to first token (prefill of 64 tokens), then multi-tenant serving; two rounds, alternating the
# two sides. Run from the repository root after `swift build -c release` and Scripts/fetch-smollm2,
# on an otherwise idle machine, with a Hugging Face folder of the same weights for PyTorch
# (Tests/PEFTTests/Fixtures/smollm2/make_smollm2_fixtures.py --save-folder DIR writes one):
#
#     PYTHON=/path/to/venv/bin/python ANCHORS=../shared/anchors HF=DIR Benchmarks/smollm2-sitting.sh | tee smollm2.log
set -euo pipefail
P=.build/release/peft
T=${PYTHON:-python3}
A=${ANCHORS:-../shared/anchors}
M=${MODEL:-$(Scripts/fetch-smollm2)}
HF=${HF:?HF must name a Hugging Face folder of the same model}
[ -x "$P" ] || { echo "build first: swift build -c release" >&2; exit 1; }
rss() { /usr/bin/time -f "peak_rss_kb %M" "$@" 2>&1; }
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg) $(grep -o 'avx512[a-z]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for round in 1 2; do
  echo "-- round $round train"
  for m in lora prompt prefix iapt; do
    rss $P bench train --model "$M" --method $m --steps 4 --no-peak --json
  done
  rss $P bench train --model "$M" --method lora --steps 4 --no-peak --lean --json
  rss $T "$A/torch_peft_train.py" --model "$HF" lora prompt prefix --steps 6 | sed 's/^/TORCH /'
  echo "-- round $round decode"
  for b in 1 8; do
    $P bench serve --model "$M" --method base --tenants 1 --batch $b --json
    $T Benchmarks/torch_decode.py --model "$HF" --batch $b | sed 's/^/TORCH /'
  done
  echo "-- round $round serve"
  for m in lora iapt; do $P bench serve --model "$M" --method $m --tenants 8 --json; done
  $T "$A/torch_peft_serve.py" --model "$HF" | sed 's/^/TORCH /'
done
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
