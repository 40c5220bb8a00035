#!/usr/bin/env python3
"""Summarises a log of Benchmarks/two-builds.sh: each side's best per benchmark, the after/before
ratio, and each build's ratio to PyTorch + PEFT where the anchor measures the same work
(serving: our IAPT and LoRA tenants against PEFT's lora-mixed; training: LoRA per config)."""
import json, sys

best = {}
for line in open(sys.argv[1]):
    tag, _, rest = line.partition(" ")
    if tag not in ("BEFORE", "AFTER", "TORCH") or not rest.startswith("{"):
        continue
    r = json.loads(rest)
    if "generated_tokens_per_s" in r:
        name = f"serve {r.get('config', 'base')} {r.get('method') or r.get('case')} b{r['batch']} t{r['tenants']}"
        rate = r["generated_tokens_per_s"]
    else:
        name = f"train {r['config']} {r['method']} {r['batch']}x{r['seq']}"
        rate = r["tokens_per_s"]
    key = (tag, name)
    best[key] = max(best.get(key, 0), rate)

anchor = {"serve base lora b8 t8": "serve base lora-mixed b8 t8", "serve base iapt b8 t8": "serve base lora-mixed b8 t8"}
names = sorted({n for t, n in best if t != "TORCH"})
print("| work | before | after | after / before | PyTorch | before / PyTorch | after / PyTorch |")
print("|---|---|---|---|---|---|---|")
for n in names:
    b, a = best.get(("BEFORE", n)), best.get(("AFTER", n))
    t = best.get(("TORCH", anchor.get(n, n)))
    cell = lambda x: f"{x:.1f}" if x else "–"
    ratio = lambda x, y: f"{x / y:.2f}×" if x and y else "–"
    print(f"| {n} | {cell(b)} | {cell(a)} | {ratio(a, b)} | {cell(t)} | {ratio(b, t)} | {ratio(a, t)} |")
