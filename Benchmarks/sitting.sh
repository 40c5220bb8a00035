#!/bin/bash
# One benchmark sitting, as Documentation/Performance.md reports it: our benchmarks beside PyTorch +
# PEFT (and llama.cpp, when a build of it is given), alternating the sides over ROUNDS rounds, so
# that each side's best run can be taken. Never run in CI. From the repository root, after
# `swift build -c release --product peft`, on an otherwise idle machine:
#
#     PYTHON=/tmp/torch-ref/bin/python Benchmarks/sitting.sh | tee sitting.log
#
# PYTHON: a Python with torch, transformers and peft (Benchmarks/README.md); without it, only our side
#         runs. The SmolLM2 part runs when the model is there (Scripts/fetch-smollm2, or MODEL=...) and
#         HF names a Hugging Face folder of the same weights for PyTorch (Benchmarks/README.md says how
#         to write one); LLAMA_CPP names a folder with llama.cpp's `llama-batched-bench` and
#         `llama-quantize` (none of its code is in this repository), run on an F32 GGUF of the same
#         weights that the script writes once (F32_GGUF, default /tmp/smollm2-f32.gguf).
# PEFT: the binary (default .build/release/peft). PARTS: any of "train serve smollm2" (default: all three). ROUNDS: default 2.
set -euo pipefail
P=${PEFT:-.build/release/peft}
T=${PYTHON:-}
B=$(dirname "$0")
ROUNDS=${ROUNDS:-2}
PARTS=${PARTS:-train serve smollm2}
M=${MODEL:-.models/SmolLM2-135M-Instruct.Q4_1.gguf}
[ -x "$P" ] || { echo "build first: swift build -c release --product peft" >&2; exit 1; }
torch() { [ -n "$T" ] && "$T" "$@" 2>/dev/null | sed 's/^/TORCH /' || true; }
part() { [[ " $PARTS " == *" $1 "* ]]; }

echo "== $(date -u +%FT%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg), $(nproc) cores"
echo "== cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== flags: $(grep -o -w 'avx2\|fma\|avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "== OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}; $($P bench gemm --sizes 16 --seconds 0.05 | head -1)"
[ -n "$T" ] && echo "== $("$T" -c 'import torch, transformers, peft; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__, "cpu", torch.backends.cpu.get_cpu_capability())')"

if part smollm2 && [ -n "${LLAMA_CPP:-}" ] && [ -f "$M" ]; then
  F32=${F32_GGUF:-/tmp/smollm2-f32.gguf}
  [ -f "$F32" ] || "$LLAMA_CPP/llama-quantize" --allow-requantize "$M" "$F32" F32 > /dev/null
fi

for round in $(seq "$ROUNDS"); do
  if part train; then
    echo "-- round $round train"
    for shape in small base; do
      for method in lora iapt prompt prefix; do $P bench train --config $shape --method $method --json; done
      torch "$B/torch_train.py" $shape lora prompt prefix
    done
  fi
  if part serve; then
    echo "-- round $round serve"
    for method in base lora iapt prompt; do $P bench serve --config base --method $method --tenants 8 --json; done
    torch "$B/torch_serve.py"
  fi
  if part smollm2 && [ -f "$M" ]; then
    echo "-- round $round smollm2"
    for method in lora iapt prompt prefix; do $P bench train --model "$M" --method $method --steps 3 --no-peak --json; done
    $P bench train --model "$M" --method lora --steps 3 --no-peak --micro-batch 4 --json
    $P bench train --model "$M" --method lora --steps 3 --no-peak --lean --json
    [ -n "${HF:-}" ] && torch "$B/torch_train.py" --model "$HF" lora prompt prefix --steps 5
    for batch in 1 8; do
      $P bench serve --model "$M" --method base --tenants 1 --batch $batch --bandwidth --json
      [ -n "${HF:-}" ] && torch "$B/torch_decode.py" --model "$HF" --batch $batch
    done
    for method in lora iapt; do $P bench serve --model "$M" --method $method --tenants 8 --json; done
    [ -n "${HF:-}" ] && torch "$B/torch_serve.py" --model "$HF"
    if [ -n "${LLAMA_CPP:-}" ]; then
      "$LLAMA_CPP/llama-batched-bench" -m "${F32_GGUF:-/tmp/smollm2-f32.gguf}" -t 2 -c 4096 -npp 64 -ntg 32 -npl 1,8 2>/dev/null \
        | sed 's/^/LLAMA.CPP /'
    fi
  fi
done
echo "== $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
