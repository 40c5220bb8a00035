"""PyTorch + PEFT beside `peft bench serve`: greedy generation for a batch of requests on one frozen
LLaMA-shaped backbone, on the CPU, fp32: the base model alone, one LoRA adapter for the whole batch,
and a different LoRA adapter per request (PEFT's mixed batches, `adapter_names`). The case is
Benchmarks/shapes.json's "serve": 8 requests of 64 random prompt tokens, 32 new tokens each, 8
tenants, LoRA r 8 (alpha 16) on q, k, v and o. Prints one JSON line per case.

    python Benchmarks/torch_serve.py [--model DIR] [--threads N]

--model serves a Hugging Face folder instead of random weights of the case's shape. Needs torch,
transformers and peft (Benchmarks/README.md).
"""
import argparse, json, os, resource, statistics, time

import torch
from peft import LoraConfig, TaskType, get_peft_model
from transformers import LlamaConfig, LlamaForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--model"); parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
shapes = json.load(open(os.path.join(here, "shapes.json")))
case = shapes["serve"]
batch, tenants, prompt, new = case["batch"], case["tenants"], case["prompt_len"], case["new_tokens"]
if args.model:
    backbone = LlamaForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
else:
    shape = {k: v for k, v in shapes[case["config"]].items() if k not in ("batch", "seq")}
    backbone = LlamaForCausalLM(LlamaConfig(**shape)).eval()
tokens = torch.randint(0, backbone.config.vocab_size, (batch, prompt))


def seconds(model, **extra):
    def once():
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(input_ids=tokens, attention_mask=torch.ones_like(tokens), max_new_tokens=new,
                           min_new_tokens=new, do_sample=False, pad_token_id=0, **extra)
        return time.perf_counter() - start
    once()
    return statistics.median(once() for _ in range(3))


def report(name, elapsed, tenant_count):
    print(json.dumps({
        "impl": "pytorch+peft", "case": name, "batch": batch, "tenants": tenant_count, "prompt_len": prompt,
        "new_tokens": new, "seconds": round(elapsed, 3), "generated_tokens_per_s": round(batch * new / elapsed, 1),
        "threads": args.threads, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}),
        flush=True)


report("base", seconds(backbone), 1)
lora = lambda: LoraConfig(task_type=TaskType.CAUSAL_LM, r=8, lora_alpha=16, init_lora_weights=False,
                          target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
model = get_peft_model(backbone, lora(), adapter_name="t0")
for tenant in range(1, tenants):
    model.add_adapter(f"t{tenant}", lora())
model.eval()
report("lora-single", seconds(model), 1)
report("lora-mixed", seconds(model, adapter_names=[f"t{i % tenants}" for i in range(batch)]), tenants)
