#!/usr/bin/env bash
# Data-parallel training on this machine: tokens/s of one process against `mpirun -np 2` at the same
# global batch, the all-reduce's share of a step, and a model of the speed-up on 2–64 machines
# from the measured step time and gradient size (Documentation/DataParallelTraining.md).
#
#   Benchmarks/mpi-scaling.sh [--model PATH] [--method lora] [--steps 20] [--batch 8] [--rounds 2]
#                             [--bandwidth-gbit 10] [--latency-us 50]
#
# Each round runs one process (--batch-size B --gradient-accumulation 2) and then two ranks
# (--batch-size B each), alternating; each side's best round is kept. The model of N machines keeps
# each rank's micro-batch (so the global batch grows with N) and adds a ring all-reduce of the
# adapter's gradients: 2 (N−1)/N × bytes / bandwidth + 2 (N−1) × latency per step.
# Build first: swift build -c release --product peft. Never run in CI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
peft="${PEFT:-$root/.build/release/peft}"
model="$root/Examples/BundledBase" method=lora steps=20 batch=8 rounds=2 bandwidth=10 latency=50 template=compact
while (($#)); do
    case "$1" in
        --model) model="$2"; template=chat; shift 2 ;;
        --method) method="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --bandwidth-gbit) bandwidth="$2"; shift 2 ;;
        --latency-us) latency="$2"; shift 2 ;;
        *) echo "mpi-scaling.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[[ -x "$peft" ]] || { echo "mpi-scaling.sh: build first: swift build -c release --product peft" >&2; exit 1; }
work="$(mktemp -d /tmp/peft-mpi-scaling.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$peft" tasks --out "$work/data" --train 200 --dev 10 --test 10 >/dev/null

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; AVX-512: $(grep -o 'avx512[a-z]*' /proc/cpuinfo | sort -u | tr '\n' ' ' || true)"
echo "model: $model, method $method, $steps steps of $((2 * batch)) examples"
common=(--model "$model" --method "$method" --data "$work/data/train.jsonl" --template "$template" --max-steps "$steps"
        --learning-rate 1e-3 --json)
field() { tr -d ' \n' < "$1" | grep -o "\"$2\":[0-9.e-]*" | head -1 | cut -d: -f2; }
best_one=0 best_two=0 communication=0 wall_two=0 wall_one=0
for round in $(seq "$rounds"); do
    rm -rf "$work/one" "$work/two"
    "$peft" train "${common[@]}" --batch-size "$batch" --gradient-accumulation 2 --out "$work/one" > "$work/one.json" 2>/dev/null
    mpirun --allow-run-as-root --oversubscribe -np 2 "$peft" train "${common[@]}" --batch-size "$batch" --out "$work/two" \
        > "$work/two.json" 2>/dev/null
    one=$(field "$work/one.json" tokens_per_second) two=$(field "$work/two.json" tokens_per_second)
    printf 'round %d: one process %.0f tokens/s, two ranks %.0f tokens/s (all-reduce %.3f s of %.1f s)\n' \
        "$round" "$one" "$two" "$(field "$work/two.json" communication_seconds)" "$(field "$work/two.json" wall_seconds)"
    if awk "BEGIN{exit !($one > $best_one)}"; then best_one=$one wall_one=$(field "$work/one.json" wall_seconds); fi
    if awk "BEGIN{exit !($two > $best_two)}"; then
        best_two=$two communication=$(field "$work/two.json" communication_seconds) wall_two=$(field "$work/two.json" wall_seconds)
    fi
done
trainable=$("$peft" inspect --adapter "$work/two" 2>/dev/null | sed -n 's/^trainable params: \([0-9]*\).*/\1/p' || true)
[[ -n "$trainable" ]] || { echo "mpi-scaling.sh: could not read the adapter's parameter count" >&2; exit 1; }
bytes=$(( trainable * 4 ))
awk -v one="$best_one" -v two="$best_two" -v comm="$communication" -v wall="$wall_two" -v wall1="$wall_one" -v steps="$steps" \
    -v bytes="$bytes" -v trainable="$trainable" -v bandwidth="$bandwidth" -v latency="$latency" 'BEGIN {
    printf "\nbest: one process %.0f tokens/s, two ranks %.0f tokens/s (×%.2f); all-reduce %.1f %% of the two ranks\x27 time (%.1f ms a step)\n",
        one, two, two / one, 100 * comm / wall, 1000 * comm / steps
    step = wall1 / steps / 2          # one micro-batch of the single process: a rank\x27s compute on its own 2 cores
    printf "model: a rank\x27s step %.2f s on its machine, %d trainable parameters (%.1f MB of gradients), ring all-reduce at %s Gbit/s, %s us latency\n",
        step, trainable, bytes / 1e6, bandwidth, latency
    printf "| machines | all-reduce per step | speed-up | efficiency |\n|---:|---:|---:|---:|\n"
    split("1 2 4 8 16 32 64", machines, " ")
    for (i = 1; i <= 7; i++) {
        n = machines[i]
        reduce = n > 1 ? 2 * (n - 1) / n * bytes / (bandwidth * 1e9 / 8) + 2 * (n - 1) * latency * 1e-6 : 0
        printf "| %d | %.1f ms | %.1f× | %.1f %% |\n", n, 1000 * reduce, n * step / (step + reduce), 100 * step / (step + reduce)
    }
}'
