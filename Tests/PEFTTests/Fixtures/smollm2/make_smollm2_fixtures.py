"""Reference outputs of transformers on SmolLM2-135M-Instruct loaded from its GGUF file.

    /tmp/torch-ref/bin/python make_smollm2_fixtures.py [GGUF] [--save-folder DIR]

GGUF defaults to the repository's model cache (Scripts/fetch-smollm2 puts it there). Writes
expected.json beside this script: token ids, greedy continuations (plain and with the chat template)
and logits at every position of a prompt (ids 0..511 and each row's top 20), all from
transformers' own GGUF loader, which dequantises to float32 and undoes llama.cpp's Q/K permutation.
--save-folder also writes the model as a Hugging Face folder (float32, with its tokenizer), for the
PyTorch anchors and for our folder-path checks.
"""
import argparse, json, os, sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "../../../.."))
parser = argparse.ArgumentParser()
parser.add_argument("gguf", nargs="?", default=os.path.join(root, ".models/SmolLM2-135M-Instruct.Q4_1.gguf"))
parser.add_argument("--save-folder")
args = parser.parse_args()
folder, name = os.path.split(os.path.abspath(args.gguf))

torch.manual_seed(0)
tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
model.eval()
if args.save_folder:
    # A model loaded from GGUF refuses save_pretrained; the same weights in a plain model do not.
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(model.state_dict())
    plain.save_pretrained(args.save_folder)
    tokenizer.save_pretrained(args.save_folder)


def greedy(ids, new_tokens):
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=new_tokens, do_sample=False,
                             pad_token_id=tokenizer.eos_token_id)
    return out[0, len(ids):].tolist()


plain_prompt = "The capital of France is"
plain_ids = tokenizer(plain_prompt)["input_ids"]
plain_new = greedy(plain_ids, 12)

messages = [{"role": "user", "content": "What is the capital of France?"}]
chat_text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
chat_ids = tokenizer(chat_text, add_special_tokens=False)["input_ids"]
chat_new = greedy(chat_ids, 24)

logit_prompt = "Instruction: add 12 and 30.\nAnswer:"
logit_ids = tokenizer(logit_prompt)["input_ids"]
with torch.no_grad():
    logits = model(torch.tensor([logit_ids])).logits[0]
top = torch.topk(logits, 20, dim=-1)

expected = {
    "source": name,
    "transformers": __import__("transformers").__version__,
    "torch": torch.__version__,
    "bos_token_id": tokenizer.bos_token_id,
    "eos_token_id": tokenizer.eos_token_id,
    "plain": {"prompt": plain_prompt, "ids": plain_ids, "generated": plain_new,
              "text": tokenizer.decode(plain_new, skip_special_tokens=True)},
    "chat": {"messages": messages, "rendered": chat_text, "ids": chat_ids, "generated": chat_new,
             "text": tokenizer.decode(chat_new, skip_special_tokens=True)},
    "logits": {"prompt": logit_prompt, "ids": logit_ids,
               "first_512": [[round(v, 6) for v in row[:512].tolist()] for row in logits],
               "top_ids": top.indices.tolist(),
               "top_values": [[round(v, 6) for v in row] for row in top.values.tolist()]},
}
with open(os.path.join(here, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(json.dumps({k: expected[k] for k in ("plain", "chat")}, ensure_ascii=False, indent=1)[:3000])
