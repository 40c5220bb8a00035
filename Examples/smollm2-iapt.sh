#!/usr/bin/env bash
# Fine-tunes IAPT on a real model, SmolLM2-135M-Instruct from its GGUF file, with the command-line
# tool: writes the task suite's sentiment data, measures the base model, trains IAPT in the model's
# chat template, measures again on test instructions worded as in no training example, and answers
# one review. Run Scripts/fetch-smollm2 first. Everything goes to $OUT (default /tmp/swift-peft-smollm2).
#
#     Examples/smollm2-iapt.sh [extra peft train options, e.g. --epochs 8]
set -euo pipefail
cd "$(dirname "$0")/.."
model=.models/SmolLM2-135M-Instruct.Q4_1.gguf
[[ -f $model ]] || { echo "no $model: run Scripts/fetch-smollm2 first" >&2; exit 1; }
out=${OUT:-/tmp/swift-peft-smollm2}
swift build -c release --product peft >&2
peft=.build/release/peft

$peft tasks --out "$out/tasks" --tasks sentiment --train 400 --dev 20 --test 50
test="$out/tasks/test-unseen.jsonl"
echo "== SmolLM2-135M-Instruct alone, exact match on 50 reviews with unseen instruction wordings"
$peft eval --model $model --data "$test" --template chat --max-new-tokens 4
echo "== Fine-tuning IAPT"
rm -rf "$out/iapt"  # this script's adapter from an earlier run: peft train refuses to overwrite it
$peft train --model $model --method iapt --data "$out/tasks/train.jsonl" --template chat \
    --batch-size 8 --learning-rate 1e-3 --epochs 5 --out "$out/iapt" "$@"
echo "== With IAPT"
$peft eval --model $model --adapter "$out/iapt" --data "$test" --template chat --max-new-tokens 4
echo "== An answer"
$peft generate --model $model --adapter "$out/iapt" --chat --max-new-tokens 4 \
    --prompt $'Tell the tone of this review.\nThe soup was cold and the waiter was rude.'
