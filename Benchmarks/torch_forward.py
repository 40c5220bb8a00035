"""Reference for `peft bench forward`: a no-gradient forward pass of transformers' LlamaForCausalLM
(fp32, CPU, logits at every position) on the shapes of Benchmarks/shapes.json. Prints one JSON line.

usage: python torch_forward.py CONFIG [--threads N] [--steps N] [--configs PATH]
CONFIG is "small" or "base". Run it beside `swift run -c release peft bench forward --config CONFIG --json`
in one sitting (same machine, same thread count) and compare the ratio, not absolute numbers.
Needs torch and transformers (Benchmarks/README.md); never used by the tests.
"""
import argparse, json, os, statistics, time
import torch
from transformers import LlamaConfig, LlamaForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("config")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--steps", type=int, default=8)
p.add_argument("--configs", default=os.path.join(here, "shapes.json"))
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
c = dict(json.load(open(a.configs))[a.config])
B, T = c.pop("batch"), c.pop("seq")
model = LlamaForCausalLM(LlamaConfig(**c, attn_implementation="sdpa")).eval()
x = torch.randint(0, c["vocab_size"], (B, T))
times = []
with torch.no_grad():
    for step in range(a.steps + 2):
        t0 = time.perf_counter()
        model(input_ids=x)
        if step >= 2:
            times.append(time.perf_counter() - t0)
med = statistics.median(times)
print(json.dumps({"impl": "pytorch", "bench": "forward", "config": a.config, "batch": B, "seq": T,
                  "step_s": round(med, 4), "tokens_per_s": round(B * T / med, 1)}), flush=True)
