#!/usr/bin/env python3
"""Makes the GGUF fixtures for the Transformer tests (GGUFDequantizationTests, GGUFModelTests).

Run from anywhere with a Python that has numpy, torch, transformers (5.x) and gguf (gguf-py):

    python Tests/TransformerTests/Fixtures/gguf/make_gguf_fixtures.py

It writes, next to this script:

- `quants.gguf`: one small tensor per ggml type the package dequantises, named by the type
  (`F32`, `F16`, `BF16`, `Q4_0`, `Q4_1`, `Q5_0`, `Q5_1`, `Q8_0`: random normal values quantised with
  `gguf.quants.quantize`; `Q4_K`, `Q5_K`, `Q6_K`: random bytes with sane f16 scales, as gguf-py
  has no quantiser for them), and `quants-expected.f32`: `gguf.quants.dequantize` of each tensor,
  little-endian float32, concatenated in the order of `quants.json`, which lists each tensor's
  name, PyTorch-order shape and first element's index in the .f32 file.
- `tiny-llama-f32.gguf` (tied embeddings, every tensor F32) and `tiny-llama-quant.gguf` (untied,
  a mix of Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 weights, F32 norms): a random LLaMA (2 layers, width 32,
  4 heads of 8, 2 key/value heads, MLP 64, vocabulary 100) written as llama.cpp's
  `convert_hf_to_gguf.py` does: its tensor names, and the rows of `attn_q` / `attn_k` permuted by
  its `LlamaModel.permute`. Each file carries a minimal `gpt2` tokenizer (byte-level printable
  ASCII plus three merges) so that transformers' GGUF loader accepts it.
  `tiny-llama-logits.json` holds, for each file, the float32 logits transformers computes for
  `TOKENS` after `AutoModelForCausalLM.from_pretrained(folder, gguf_file=...)` (eager attention).
  For the F32 file the script also checks those logits against the Hugging Face model built
  from the unpermuted weights (max |Δ| is printed).
- `smollm2-samples.json`, only when `.models/SmolLM2-135M-Instruct.Q4_1.gguf` is present (see
  `Scripts/fetch-smollm2`): values at seeded random indices of a few of its tensors, dequantised
  with `gguf.GGUFReader` + `gguf.quants.dequantize`, in the file's storage order (`[ne1, ne0]`),
  and of `blk.0.attn_q.weight` / `blk.0.attn_k.weight` after transformers'
  `LlamaTensorProcessor._reverse_permute_weights` (Hugging Face row order); and transformers'
  logits for `SMOLLM2_TOKENS` from that GGUF at 40 sampled token ids, with each position's argmax.

The tests read only these committed files; this script is not run by CI.
"""

import importlib.metadata
import json
import os
from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType as Q
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM
from transformers.modeling_gguf_pytorch_utils import LlamaTensorProcessor

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
SMOLLM2 = REPO / ".models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
ROPE_THETA = 10000.0
TOKENS = [1, 17, 42, 99, 0, 63, 5, 77]
SMOLLM2_TOKENS = [1, 504, 3458, 314, 253, 1230, 28, 9843]  # arbitrary ids below 49152


def quant_fixtures():
    """quants.gguf, quants-expected.f32 and quants.json."""
    rng = np.random.default_rng(1234)
    writer = gguf.GGUFWriter(str(HERE / "quants.gguf"), arch="quants")
    manifest, expected = [], []

    def add(name, qtype, raw, shape):
        values = gguf.quants.dequantize(raw, qtype).astype(np.float32).reshape(shape)
        writer.add_tensor(name, raw, raw_dtype=qtype)
        manifest.append({"name": name, "shape": list(shape), "first": sum(e.size for e in expected)})
        expected.append(values.ravel())

    for name, qtype in [("F32", Q.F32), ("F16", Q.F16), ("BF16", Q.BF16), ("Q4_0", Q.Q4_0), ("Q4_1", Q.Q4_1),
                        ("Q5_0", Q.Q5_0), ("Q5_1", Q.Q5_1), ("Q8_0", Q.Q8_0)]:
        shape = (8, 64)
        data = (rng.standard_normal(shape) * rng.uniform(0.01, 3, size=(8, 1))).astype(np.float32)
        data[0, :4] = [0, -0.0, 1e-6, -65000]  # zero, signed zero, an f16 subnormal, near f16's max
        raw = data if qtype == Q.F32 else gguf.quants.quantize(data, qtype)
        add(name, qtype, raw, shape)

    # K-quants: random bytes with f16 scales in [1e-4, 0.1] (no NaN or infinity).
    for name, qtype, scale_offsets in [("Q4_K", Q.Q4_K, [0, 2]), ("Q5_K", Q.Q5_K, [0, 2]), ("Q6_K", Q.Q6_K, [208])]:
        rows, per_row = 4, 1  # 4 × 256 elements
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, size=(rows * per_row, type_size), dtype=np.uint8)
        for offset in scale_offsets:
            scales = rng.uniform(1e-4, 0.1, size=rows * per_row).astype(np.float16)
            raw[:, offset:offset + 2] = scales.view(np.uint8).reshape(-1, 2)
        add(name, qtype, raw.reshape(rows, per_row * type_size), (rows, per_row * block_size))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    np.concatenate(expected).astype("<f4").tofile(HERE / "quants-expected.f32")
    with open(HERE / "quants.json", "w") as file:
        json.dump({"generated_by": "Tests/TransformerTests/Fixtures/gguf/make_gguf_fixtures.py",
                   "gguf_version": importlib.metadata.version("gguf"),
                   "tensors": manifest}, file, indent=1)


def permute(weights, n_head, n_head_kv):
    """convert_hf_to_gguf.py's LlamaModel.permute: interleave the two halves of each head's rows."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def tiny_tokenizer():
    """A minimal byte-level gpt2 tokenizer: printable ASCII (space as "Ġ"), three merges, 100 tokens."""
    characters = ["Ġ" if c == " " else c for c in map(chr, range(32, 127))]
    merges = ["Ġ t", "h e", "i n"]
    tokens = ["<|endoftext|>", "<pad>"] + characters + [m.replace(" ", "") for m in merges]
    tokens += [f"<extra_{i}>" for i in range(100 - len(tokens))]
    types = [3, 3] + [1] * (len(tokens) - 2)  # control, then normal
    return tokens, types, merges


def tiny_model_fixtures():
    config = LlamaConfig(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-5, rope_theta=ROPE_THETA,
                         max_position_embeddings=128, tie_word_embeddings=False, bos_token_id=0, eos_token_id=0,
                         pad_token_id=1, attn_implementation="eager")
    torch.manual_seed(7)
    reference = LlamaForCausalLM(config).float().eval()
    with torch.no_grad():
        for name, parameter in reference.named_parameters():
            if "norm" in name:
                parameter.copy_(1 + 0.2 * torch.randn_like(parameter))
            else:
                parameter.normal_(0, 0.15)
    hf = {name: tensor.numpy().astype(np.float32) for name, tensor in reference.state_dict().items()}
    tokens, types, merges = tiny_tokenizer()
    logits = {}

    variants = {
        "tiny-llama-f32.gguf": dict(tied=True, types={}),
        "tiny-llama-quant.gguf": dict(tied=False, types={
            "token_embd": Q.Q8_0, "output": Q.Q4_1, "attn_q": Q.Q8_0, "attn_k": Q.Q4_0, "attn_v": Q.Q5_0,
            "attn_output": Q.Q5_1, "ffn_gate": Q.Q4_0, "ffn_up": Q.Q4_1, "ffn_down": Q.Q8_0}),
    }
    for file_name, variant in variants.items():
        writer = gguf.GGUFWriter(str(HERE / file_name), arch="llama")
        writer.add_name("tiny-llama")
        writer.add_context_length(config.max_position_embeddings)
        writer.add_embedding_length(config.hidden_size)
        writer.add_block_count(config.num_hidden_layers)
        writer.add_feed_forward_length(config.intermediate_size)
        writer.add_head_count(config.num_attention_heads)
        writer.add_head_count_kv(config.num_key_value_heads)
        writer.add_layer_norm_rms_eps(config.rms_norm_eps)
        writer.add_rope_freq_base(ROPE_THETA)
        writer.add_rope_dimension_count(config.hidden_size // config.num_attention_heads)
        writer.add_vocab_size(config.vocab_size)
        writer.add_file_type(0 if not variant["types"] else 7)
        writer.add_tokenizer_model("gpt2")
        writer.add_token_list(tokens)
        writer.add_token_types(types)
        writer.add_token_merges(merges)
        writer.add_bos_token_id(0)
        writer.add_eos_token_id(0)
        writer.add_pad_token_id(1)

        def put(gguf_name, array, kind):
            qtype = variant["types"].get(kind, Q.F32)
            raw = array if qtype == Q.F32 else gguf.quants.quantize(array, qtype)
            writer.add_tensor(gguf_name, raw, raw_dtype=qtype)

        put("token_embd.weight", hf["model.embed_tokens.weight"], "token_embd")
        for i in range(config.num_hidden_layers):
            p = f"model.layers.{i}."
            put(f"blk.{i}.attn_norm.weight", hf[p + "input_layernorm.weight"], "norm")
            put(f"blk.{i}.attn_q.weight", permute(hf[p + "self_attn.q_proj.weight"], 4, 4), "attn_q")
            put(f"blk.{i}.attn_k.weight", permute(hf[p + "self_attn.k_proj.weight"], 4, 2), "attn_k")
            put(f"blk.{i}.attn_v.weight", hf[p + "self_attn.v_proj.weight"], "attn_v")
            put(f"blk.{i}.attn_output.weight", hf[p + "self_attn.o_proj.weight"], "attn_output")
            put(f"blk.{i}.ffn_norm.weight", hf[p + "post_attention_layernorm.weight"], "norm")
            put(f"blk.{i}.ffn_gate.weight", hf[p + "mlp.gate_proj.weight"], "ffn_gate")
            put(f"blk.{i}.ffn_up.weight", hf[p + "mlp.up_proj.weight"], "ffn_up")
            put(f"blk.{i}.ffn_down.weight", hf[p + "mlp.down_proj.weight"], "ffn_down")
        put("output_norm.weight", hf["model.norm.weight"], "norm")
        if not variant["tied"]:
            put("output.weight", hf["lm_head.weight"], "output")
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

        loaded = AutoModelForCausalLM.from_pretrained(
            str(HERE), gguf_file=file_name, dtype=torch.float32, attn_implementation="eager").eval()
        assert loaded.config.tie_word_embeddings == variant["tied"], file_name
        with torch.no_grad():
            out = loaded(torch.tensor([TOKENS])).logits[0].float()
        logits[file_name] = out.tolist()
        if variant["tied"]:
            with torch.no_grad():
                reference.lm_head.weight = reference.model.embed_tokens.weight
                direct = reference(torch.tensor([TOKENS])).logits[0]
            print(f"{file_name}: max |Δlogit| transformers-from-GGUF vs the unpermuted model = "
                  f"{(direct - out).abs().max().item():.3g}")

    with open(HERE / "tiny-llama-logits.json", "w") as file:
        json.dump({"generated_by": "Tests/TransformerTests/Fixtures/gguf/make_gguf_fixtures.py",
                   "torch_version": torch.__version__, "transformers_version": transformers.__version__,
                   "tokens": TOKENS, "logits": logits}, file)


def smollm2_samples():
    if not SMOLLM2.exists():
        print(f"{SMOLLM2} is absent: smollm2-samples.json not regenerated (run Scripts/fetch-smollm2)")
        return
    reader = gguf.GGUFReader(str(SMOLLM2))
    tensors = {t.name: t for t in reader.tensors}
    rng = np.random.default_rng(2024)
    samples = []

    def sample(name, values, count=60):
        rows, columns = values.shape
        row_ids = rng.integers(0, rows, size=count)
        column_ids = rng.integers(0, columns, size=count)
        samples.append({"tensor": name, "type": tensors[name.split("#")[0]].tensor_type.name,
                        "rows": row_ids.tolist(), "columns": column_ids.tolist(),
                        "values": [float(v) for v in values[row_ids, column_ids]]})

    def storage(name):
        t = tensors[name]
        return gguf.quants.dequantize(t.data, t.tensor_type).reshape(int(t.shape[1]), int(t.shape[0]))

    for name in ["token_embd.weight", "blk.0.ffn_down.weight", "blk.29.ffn_gate.weight", "blk.0.attn_q.weight"]:
        sample(name, storage(name))
    processor = LlamaTensorProcessor(config={"num_attention_heads": 9, "num_key_value_heads": 3})
    for name, hf_name in [("blk.0.attn_q.weight", "model.layers.0.self_attn.q_proj.weight"),
                          ("blk.0.attn_k.weight", "model.layers.0.self_attn.k_proj.weight")]:
        unpermuted = processor.process(storage(name), name).weights
        sample(name + "#" + hf_name, unpermuted)
    model = AutoModelForCausalLM.from_pretrained(
        str(SMOLLM2.parent), gguf_file=SMOLLM2.name, dtype=torch.float32, attn_implementation="eager").eval()
    with torch.no_grad():
        logits = model(torch.tensor([SMOLLM2_TOKENS])).logits[0].float()
    vocabulary = rng.choice(logits.shape[1], size=40, replace=False).tolist()
    with open(HERE / "smollm2-samples.json", "w") as file:
        json.dump({"generated_by": "Tests/TransformerTests/Fixtures/gguf/make_gguf_fixtures.py",
                   "torch_version": torch.__version__, "transformers_version": transformers.__version__,
                   "file": SMOLLM2.name, "file_size": os.path.getsize(SMOLLM2),
                   "note": "tensor 'gguf_name' is in storage order [ne1, ne0]; 'gguf_name#hf_key' is the "
                           "Hugging Face weight after transformers' reverse permutation; logits are "
                           "transformers' (float32, eager) for 'tokens' at every position, for the "
                           "token ids 'vocabulary', with each position's argmax",
                   "samples": samples, "tokens": SMOLLM2_TOKENS, "vocabulary": vocabulary,
                   "logits": logits[:, vocabulary].tolist(), "argmax": logits.argmax(dim=1).tolist()}, file)


if __name__ == "__main__":
    quant_fixtures()
    tiny_model_fixtures()
    smollm2_samples()
    for path in sorted(HERE.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes")
