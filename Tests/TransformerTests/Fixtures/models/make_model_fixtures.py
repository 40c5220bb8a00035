#!/usr/bin/env python3
"""Makes the PyTorch reference fixtures for the Transformer tests.

Run from anywhere with a Python that has torch, transformers (5.x) and safetensors:

    python Tests/TransformerTests/Fixtures/models/make_model_fixtures.py

It writes, next to this script, one folder per tiny random LlamaForCausalLM checkpoint
(`save_pretrained`, deterministic seeds, CPU only) holding `config.json`, the weights, the
`generation_config.json` that transformers writes, and `expected.json` with reference float32 logits
and a greedy continuation. It also writes `../safetensors/python-mixed.safetensors` (written by the
Python `safetensors` library: F32, F16, BF16, F64, I64, I32, U8 tensors and metadata) and
`../safetensors/python-mixed.json` with the values a reader must return. The tests read only these
committed files; this script is not run by CI.

expected.json layout (all token ids are indices into the vocabulary):

    {
      "format": 1,
      "generated_by": "Tests/TransformerTests/Fixtures/models/make_model_fixtures.py",
      "torch_version": str, "transformers_version": str,
      "weights_dtype": "float32" | "bfloat16",   # dtype of the tensors in the safetensors file(s)
      "compute_dtype": "float32",                # logits were computed in float32; bfloat16 weights
                                                 # were upcast to float32 exactly before computing
      "attn_implementation": "eager",
      "note": str,                               # the same facts in words
      "cases": [
        {
          "name": str,
          "input_ids":      [[Int]],             # [batch][seq]
          "attention_mask": [[Int]],             # [batch][seq], 1 = real token, 0 = left padding
          "position_ids":   [[Int]],             # [batch][seq], passed explicitly to forward():
                                                 # cumsum(attention_mask) - 1, and 1 at padding
                                                 # (exactly what generate() uses)
          "logits": [[[Float] | null]]           # [batch][seq][vocab] float32 logits for every
                                                 # position (the prediction of the NEXT token after
                                                 # that position); null where attention_mask is 0
        }, ...
      ],
      "greedy": {
        "prompt_ids": [Int],                     # cases[0].input_ids[0], no padding
        "max_new_tokens": 8,
        "stop_tokens": [],                       # generation never stops early: 8 argmax steps
        "new_token_ids": [Int],                  # the 8 generated tokens (prompt excluded)
      }
    }

Case "single" is one unpadded sequence. Case "left_padded_batch" is a batch of two: row 0 is a
full-length sequence, row 1 is the "single" sequence left-padded with pad id 0, so its logits at the
real positions match case "single" (up to float rounding).
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

HERE = Path(__file__).resolve().parent
SAFETENSORS_DIR = HERE.parent / "safetensors"
PAD_ID = 0


def f32(value):
    """A float32 value as the shortest decimal that reads back as the same float32."""
    return float(str(np.float32(value)))


def reinitialise(model, seed, std):
    """Draws every parameter again so that logits are far from uniform; norms stay near 1."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator)
            if name.endswith("layernorm.weight") or name == "model.norm.weight":
                parameter.copy_(1.0 + 0.2 * noise)
            else:
                parameter.copy_(std * noise)


def make_cases(vocab_size, seed):
    generator = torch.Generator().manual_seed(seed)
    single = torch.randint(3, vocab_size, (1, 9), generator=generator)
    full = torch.randint(3, vocab_size, (1, 12), generator=generator)
    padding = 12 - single.shape[1]
    padded = torch.cat([torch.full((1, padding), PAD_ID), single], dim=1)
    padded_mask = torch.cat([torch.zeros(1, padding, dtype=torch.long), torch.ones_like(single)], dim=1)
    return [
        ("single", single, torch.ones_like(single)),
        ("left_padded_batch", torch.cat([full, padded]), torch.cat([torch.ones_like(full), padded_mask])),
    ]


def position_ids_for(mask):
    positions = mask.cumsum(-1) - 1
    return positions.masked_fill(mask == 0, 1)


def reference_logits(model, input_ids, mask):
    positions = position_ids_for(mask)
    with torch.no_grad():
        logits = model(input_ids=input_ids, attention_mask=mask, position_ids=positions).logits
    assert logits.dtype == torch.float32
    rows = []
    for b in range(input_ids.shape[0]):
        rows.append([
            [f32(v) for v in logits[b, t].tolist()] if mask[b, t] == 1 else None
            for t in range(input_ids.shape[1])
        ])
    return positions, rows


def greedy(model, prompt, steps):
    config = GenerationConfig(
        do_sample=False, max_new_tokens=steps, eos_token_id=None, pad_token_id=PAD_ID, bos_token_id=None
    )
    with torch.no_grad():
        output = model.generate(prompt, attention_mask=torch.ones_like(prompt), generation_config=config)
    new_tokens = output[0, prompt.shape[1]:].tolist()
    # The same continuation by hand: full forward, argmax of the last position, append.
    sequence = prompt.clone()
    for _ in range(steps):
        with torch.no_grad():
            next_id = model(input_ids=sequence).logits[0, -1].argmax()
        sequence = torch.cat([sequence, next_id.view(1, 1)], dim=1)
    assert sequence[0, prompt.shape[1]:].tolist() == new_tokens, "generate() disagrees with argmax loop"
    assert len(new_tokens) == steps
    return new_tokens


def to_old_rope_style(folder):
    """Rewrites config.json the way transformers 4.x wrote it: `rope_theta` at the top level,
    `rope_scaling: null`, `torch_dtype` instead of `dtype`, and no `head_dim`."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    rope = config.pop("rope_parameters")
    assert rope["rope_type"] == "default"
    config["rope_theta"] = rope["rope_theta"]
    config["rope_scaling"] = None
    config["torch_dtype"] = config.pop("dtype")
    config.pop("head_dim")
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def make_model(name, *, seed, std, weights_dtype=torch.float32, old_rope_style=False,
               max_shard_size=None, **config_values):
    folder = HERE / name
    shutil.rmtree(folder, ignore_errors=True)
    config = LlamaConfig(
        num_hidden_layers=2, max_position_embeddings=64, bos_token_id=1, eos_token_id=2,
        pad_token_id=PAD_ID, **config_values,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    reinitialise(model, seed, std)
    if config.tie_word_embeddings:
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    model = model.to(weights_dtype)
    if max_shard_size is None:
        model.save_pretrained(folder)
    else:
        model.save_pretrained(folder, max_shard_size=max_shard_size)
    if old_rope_style:
        to_old_rope_style(folder)

    # Everything below uses the files just written, read back and upcast to float32.
    reloaded = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    expected_theta = config_values.get("rope_theta", 10000.0)
    assert reloaded.config.rope_parameters["rope_theta"] == expected_theta
    cases = []
    for case_name, input_ids, mask in make_cases(config.vocab_size, seed + 1):
        positions, logits = reference_logits(reloaded, input_ids, mask)
        cases.append({
            "name": case_name,
            "input_ids": input_ids.tolist(),
            "attention_mask": mask.tolist(),
            "position_ids": positions.tolist(),
            "logits": logits,
        })
    single, padded = cases[0], cases[1]
    for t, row in enumerate(single["logits"][0]):
        shifted = padded["logits"][1][t + 12 - len(single["logits"][0])]
        assert np.allclose(row, shifted, atol=1e-5), "left padding changed the logits"
    prompt = torch.tensor(single["input_ids"])
    expected = {
        "format": 1,
        "generated_by": "Tests/TransformerTests/Fixtures/models/make_model_fixtures.py",
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "weights_dtype": str(weights_dtype).removeprefix("torch."),
        "compute_dtype": "float32",
        "attn_implementation": "eager",
        "note": (
            "logits[b][t] is the float32 next-token prediction after input_ids[b][t], from one forward "
            "pass over the whole row with the given attention_mask (causal, padding keys masked) and "
            "position_ids; null where attention_mask is 0. "
            + ("The bfloat16 weights were upcast exactly to float32 and all arithmetic was float32. "
               if weights_dtype == torch.bfloat16 else "Weights and arithmetic are float32. ")
            + "greedy: 8 argmax steps after prompt_ids, no stop tokens, KV cache as in generate()."
        ),
        "cases": cases,
        "greedy": {
            "prompt_ids": single["input_ids"][0],
            "max_new_tokens": 8,
            "stop_tokens": [],
            "new_token_ids": greedy(reloaded, prompt, 8),
        },
    }
    (folder / "expected.json").write_text(json.dumps(expected, separators=(",", ":")) + "\n")


def make_python_safetensors():
    SAFETENSORS_DIR.mkdir(exist_ok=True)
    tensors = {
        "f32.matrix": torch.tensor([[0.5, -1.25, 3.0], [1e-3, -7.75, 1e6]], dtype=torch.float32),
        "f16.vector": torch.tensor([65504.0, -0.0, 5.960464477539063e-08, 1.0 / 3.0, -2.5], dtype=torch.float16),
        "bf16.matrix": torch.tensor([[3.14159, -0.1], [256.5, 1e-20]], dtype=torch.bfloat16),
        "f64.scalar": torch.tensor(2.5, dtype=torch.float64),
        "i64.vector": torch.tensor([-7, 0, 123456789], dtype=torch.int64),
        "i32.vector": torch.tensor([42, -1], dtype=torch.int32),
        "f32.empty": torch.zeros((0, 4), dtype=torch.float32),
        "u8.bytes": torch.tensor([1, 2, 3], dtype=torch.uint8),
    }
    metadata = {"format": "pt", "source": "make_model_fixtures.py"}
    # The library keeps metadata in a hash map, so its key order (only) may change between runs.
    save_file(tensors, SAFETENSORS_DIR / "python-mixed.safetensors", metadata=metadata)
    dtype_names = {
        torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
        torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8",
    }
    expected = {
        "metadata": metadata,
        "tensors": {
            name: {
                "dtype": dtype_names[tensor.dtype],
                "shape": list(tensor.shape),
                "values": [f32(v) for v in tensor.to(torch.float32).flatten().tolist()],
            }
            for name, tensor in tensors.items()
        },
    }
    (SAFETENSORS_DIR / "python-mixed.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")


def main():
    torch.set_num_threads(1)
    common = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64)
    make_model("llama-mha-f32", seed=10, std=0.3, vocab_size=96, num_key_value_heads=4,
               rms_norm_eps=1e-5, **common)
    make_model("llama-gqa-f32", seed=20, std=0.3, vocab_size=80, num_key_value_heads=2, head_dim=16,
               rope_theta=500000.0, **common)
    make_model("llama-tied-oldrope-f32", seed=30, std=0.3, vocab_size=96, num_key_value_heads=4,
               tie_word_embeddings=True, rope_theta=100000.0, old_rope_style=True, **common)
    make_model("llama-bf16", seed=40, std=0.3, vocab_size=96, num_key_value_heads=2,
               weights_dtype=torch.bfloat16, **common)
    make_model("llama-sharded-f32", seed=50, std=0.3, vocab_size=64, num_key_value_heads=2,
               max_shard_size="40KB", hidden_size=32, num_attention_heads=4, intermediate_size=96)
    make_python_safetensors()

    total = 0
    for root in (HERE, SAFETENSORS_DIR):
        for dirpath, _, filenames in os.walk(root):
            for filename in filenames:
                if not filename.endswith(".py"):
                    total += os.path.getsize(os.path.join(dirpath, filename))
    print(f"total fixture size: {total} bytes ({total / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
