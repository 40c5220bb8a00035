#!/bin/bash
# One benchmark sitting, as Documentation/Performance.md reports it: each of our benchmarks as the
# environment has it and with OPENBLAS_CORETYPE=Haswell forced, then PyTorch + PEFT, two rounds;
# then the serving curve by tenants. Run from the repository root after `swift build -c release`,
# on an otherwise idle machine:
#
#     PYTHON=/path/to/venv/bin/python ANCHORS=../shared/anchors Benchmarks/sitting.sh | tee sitting.log
set -euo pipefail
P=.build/release/peft
T=${PYTHON:-python3}
A=${ANCHORS:-../shared/anchors}
[ -x "$P" ] || { echo "build first: swift build -c release" >&2; exit 1; }
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
for round in 1 2; do
  echo "-- round $round serve"
  for m in base lora iapt prompt; do
    $P bench serve --config base --method $m --tenants 8 --json
    OPENBLAS_CORETYPE=Haswell $P bench serve --config base --method $m --tenants 8 --json | sed 's/^/HASWELL /'
  done
  $T "$A/torch_peft_serve.py" | sed 's/^/TORCH /'
done
for round in 1 2; do
  for config in small base; do
    echo "-- round $round train $config"
    $P bench train --config $config --method lora --json
    OPENBLAS_CORETYPE=Haswell $P bench train --config $config --method lora --json | sed 's/^/HASWELL /'
    $P bench train --config $config --method iapt --json
    $T "$A/torch_peft_train.py" $config lora | sed 's/^/TORCH /'
  done
done
echo "-- curve"
for t in 1 4 8 16 64; do
  for m in base lora iapt prompt; do
    $P bench serve --config base --method $m --tenants $t --batch $(( t > 8 ? t : 8 )) --json
  done
done
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
