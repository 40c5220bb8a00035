"""PyTorch + PEFT beside `peft bench train`: one fine-tuning step (forward, backward, AdamW) of
transformers' LlamaForCausalLM on the CPU, fp32, with the settings `peft bench train` uses for each
method. Random tokens, next-token cross-entropy at every position (`labels=x`), the median of the
steps after two warm-up steps. Prints one JSON line per method, with the process's peak RSS so far.

    python Benchmarks/torch_train.py SHAPE [METHOD ...] [--steps N] [--threads N]
    python Benchmarks/torch_train.py --model DIR [METHOD ...] [--batch 16] [--seq 128]

SHAPE is a key of Benchmarks/shapes.json (random weights of that shape); --model loads a
Hugging Face folder instead. METHOD: full, lora (r 8, alpha 16 on q and v), prompt (20 virtual
tokens), prefix (4 virtual tokens). Needs torch, transformers and peft (Benchmarks/README.md).
"""
import argparse, json, os, resource, statistics, time

import torch
from peft import LoraConfig, PrefixTuningConfig, PromptTuningConfig, TaskType, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

METHODS = ("full", "lora", "prompt", "prefix")
here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("words", nargs="*", help="SHAPE then METHODs, or METHODs with --model")
parser.add_argument("--model"); parser.add_argument("--batch", type=int); parser.add_argument("--seq", type=int)
parser.add_argument("--steps", type=int, default=8); parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
words = list(args.words)
if args.model:
    shape, name = None, os.path.basename(os.path.normpath(args.model))
    batch, seq = args.batch or 16, args.seq or 128
else:
    if not words or words[0] in METHODS:
        parser.error("name a shape of Benchmarks/shapes.json, or give --model DIR")
    shape = dict(json.load(open(os.path.join(here, "shapes.json")))[words[0]])
    name = words.pop(0)
    batch, seq = args.batch or shape.pop("batch"), args.seq or shape.pop("seq")
    shape.pop("batch", None); shape.pop("seq", None)
methods = words or list(METHODS)
if any(m not in METHODS for m in methods):
    parser.error(f"methods are {', '.join(METHODS)}")
if args.steps < 3:
    parser.error("--steps must be at least 3 (two are warm-up)")
torch.set_num_threads(args.threads)
torch.manual_seed(0)

for method in methods:
    if args.model:
        model = LlamaForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa")
    else:
        model = LlamaForCausalLM(LlamaConfig(**shape, attn_implementation="sdpa"))
    if method == "lora":
        model = get_peft_model(model, LoraConfig(
            task_type=TaskType.CAUSAL_LM, r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
    elif method == "prompt":
        model = get_peft_model(model, PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=20))
    elif method == "prefix":
        model = get_peft_model(model, PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=4))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-3)
    tokens = torch.randint(0, model.config.vocab_size, (batch, seq))
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = model(input_ids=tokens, labels=tokens).loss
        loss.backward(); optimizer.step(); optimizer.zero_grad()
        times.append(time.perf_counter() - start)
    step = statistics.median(times[2:])
    print(json.dumps({
        "impl": "pytorch+peft", "config": name, "method": method, "trainable": sum(p.numel() for p in trainable),
        "batch": batch, "seq": seq, "step_s": round(step, 4), "tokens_per_s": round(batch * seq / step, 1),
        "threads": args.threads, "torch": torch.__version__,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
    del model, optimizer
