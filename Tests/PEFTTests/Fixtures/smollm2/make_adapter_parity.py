"""PEFT's logits for adapters our `peft train` wrote over SmolLM2-135M-Instruct's GGUF.

    /tmp/torch-ref/bin/python make_adapter_parity.py [GGUF]

The adapters in lora/ and prompt/ beside this script were trained by (from the repository root):

    peft train --model .models/SmolLM2-135M-Instruct.Q4_1.gguf --method lora --rank 4 --lora-layers 0,14,29 \
        --data TASKS/sentiment/train.jsonl --template chat --max-steps 12 --batch-size 4 --learning-rate 1e-2 \
        --seed 3 --out Tests/PEFTTests/Fixtures/smollm2/lora
    peft train ... --method prompt --virtual-tokens 8 --learning-rate 3e-2 ... --out .../prompt

(TASKS from `peft tasks --out TASKS`). This script loads each with PEFT (`PeftModel.from_pretrained`)
over transformers' model from the same GGUF and writes adapter-logits.json: for a chat prompt, the
logits at every position for ids 0..63 and each row's top 10 (expected.json keeps the base
model's the same way).
"""
import json, os, sys

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "../../../.."))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".models/SmolLM2-135M-Instruct.Q4_1.gguf")
folder, name = os.path.split(os.path.abspath(path))
tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
messages = [{"role": "user", "content": "Tell the tone of this review.\nThe soup was cold and the waiter rude."}]
ids = tokenizer(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                add_special_tokens=False)["input_ids"]
result = {"ids": ids, "peft": __import__("peft").__version__, "transformers": __import__("transformers").__version__}
for adapter in ("lora", "prompt"):
    base = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model = PeftModel.from_pretrained(base, os.path.join(here, adapter)).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    logits = logits[-len(ids):]  # prompt tuning's virtual tokens come first
    top = torch.topk(logits, 10, dim=-1)
    result[adapter] = {"first_64": [[round(v, 6) for v in row[:64].tolist()] for row in logits],
                       "top_ids": top.indices.tolist(),
                       "top_values": [[round(v, 6) for v in row] for row in top.values.tolist()]}
with open(os.path.join(here, "adapter-logits.json"), "w") as f:
    json.dump(result, f)
    f.write("\n")
print("wrote adapter-logits.json for", len(ids), "tokens")
