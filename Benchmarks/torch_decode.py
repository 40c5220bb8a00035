"""PyTorch + transformers beside `peft bench serve --model ... --method base`: greedy generation of a
pretrained Hugging Face folder on the CPU, fp32, at a chosen batch, with the time to the first token
(prefill) measured apart from the whole generation. Random prompt tokens, as the anchors use.

    python Benchmarks/torch_decode.py --model DIR [--batch 1] [--prompt-len 64] [--new-tokens 32] [--threads 2]

Prints one JSON line: generated tokens/s over the whole generation and the median prefill time.
"""
import argparse, json, resource, statistics, time

import torch
from transformers import LlamaForCausalLM

p = argparse.ArgumentParser()
p.add_argument("--model", required=True); p.add_argument("--batch", type=int, default=1)
p.add_argument("--prompt-len", type=int, default=64); p.add_argument("--new-tokens", type=int, default=32)
p.add_argument("--threads", type=int, default=2); p.add_argument("--repeats", type=int, default=3)
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(0)
model = LlamaForCausalLM.from_pretrained(a.model, dtype=torch.float32).eval()
x = torch.randint(0, model.config.vocab_size, (a.batch, a.prompt_len))


def generate(new_tokens):
    t0 = time.perf_counter()
    with torch.no_grad():
        model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=new_tokens,
                       min_new_tokens=new_tokens, do_sample=False, pad_token_id=0)
    return time.perf_counter() - t0


generate(a.new_tokens)
whole = statistics.median(generate(a.new_tokens) for _ in range(a.repeats))
first = statistics.median(generate(1) for _ in range(a.repeats))
print(json.dumps({"impl": "pytorch+transformers", "batch": a.batch, "prompt_len": a.prompt_len, "new_tokens": a.new_tokens,
                  "generated_tokens_per_s": round(a.batch * a.new_tokens / whole, 1), "ttft_ms": round(first * 1000, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}), flush=True)
