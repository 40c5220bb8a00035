"""Writes expected.json: what transformers and tokenizers make of the bundled base model.

Run from the repository root with the reference venv (see Benchmarks/README.md):

    python Tests/TransformerTests/Fixtures/bundled-base/make_bundled_base_fixture.py

It loads Examples/BundledBase with AutoTokenizer and LlamaForCausalLM (bf16 weights, computed in
float32) and records, for a few texts, the token ids, the logits at every position, and the greedy
continuation of 8 tokens. BundledBaseTests checks the Swift side against them.
"""
import json
import pathlib

import torch
import transformers
from transformers import AutoTokenizer, LlamaForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[4]
FOLDER = ROOT / "Examples" / "BundledBase"
TEXTS = [
    "Ada is a baker from Brindle.",
    "12 plus 7 is",
    "The review said the coffee was wonderful, and",
    "Because Omar stayed up very late,",
]


def main():
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(FOLDER)
    model = LlamaForCausalLM.from_pretrained(FOLDER, dtype=torch.float32).eval()
    cases = []
    for text in TEXTS:
        ids = tokenizer(text).input_ids
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0]
            generated = model.generate(torch.tensor([ids]), max_new_tokens=8, do_sample=False,
                                       eos_token_id=None, pad_token_id=tokenizer.pad_token_id)[0, len(ids):]
        cases.append({"text": text, "ids": ids, "last_logits": [round(v, 5) for v in logits[-1].tolist()],
                      "argmax": logits.argmax(-1).tolist(),
                      "greedy": generated.tolist(), "decoded": tokenizer.decode(ids)})
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "cases": cases}
    (pathlib.Path(__file__).parent / "expected.json").write_text(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
