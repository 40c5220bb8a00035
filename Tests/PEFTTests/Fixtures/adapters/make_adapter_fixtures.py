"""Writes the PyTorch reference fixtures for the Swift adapters (LoRA, prompt tuning, IAPT, P-tuning v2).

    /tmp/torch-ref/bin/python make_adapter_fixtures.py

Deterministic (every random tensor comes from its own seeded generator). It rewrites, beside this
file: base/, lora/, lora-rslora/, prompt/, iapt/, iapt-mean-gelu/, ptuning2/ and expected.json
(README.md describes them). LoRA and prompt-tuning logits come from PEFT itself; IAPT and P-tuning v2
logits from reference_forward.py, which is first checked against LlamaForCausalLM.

Every fixture is also recomputed a second, independent way and the script stops if they disagree:
  * base: reference_forward vs LlamaForCausalLM (float32, < 1e-5);
  * LoRA: PEFT vs reference_forward over weights merged from the saved files (float64);
  * prompt tuning: PEFT vs reference_forward with the saved embeddings prepended (float64);
  * IAPT, P-tuning v2: reference_forward vs LlamaForCausalLM fed the prefix as a key/value cache
    built with its own norm, projections and RoPE, and vs reference_forward in float64;
  * IAPT: the logits of the first k tokens equal those of the instruction alone (nothing leaks back).
"""

import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the fixtures folder

import json
import shutil
import warnings
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, PrefixTuningConfig, PromptTuningConfig, TaskType, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

import reference_forward as ref

HERE = Path(__file__).resolve().parent
BASE = HERE / "base"
BASE_NAME = "../base"  # recorded as base_model_name_or_path: relative to the adapter folder, informational
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODEL = dict(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, head_dim=8, rms_norm_eps=1e-5, rope_theta=10000.0,
             max_position_embeddings=64, tie_word_embeddings=False)
# (tokens, instruction length k): k = T and k < T, k = 1, the ids 0 and vocab - 1, a repeated id.
CASES = [
    ([5, 17, 42, 3, 88, 60, 21, 9], 8),
    ([1, 33, 70, 70, 12, 95, 0, 48, 27, 64, 11, 80], 12),
    ([1, 33, 70, 70, 12, 95, 0, 48, 27, 64, 11, 80], 5),
    ([90, 2, 57, 38, 14, 77, 66, 25, 49, 8], 1),
    ([0, 95, 44, 19, 83, 7, 52, 36, 61], 7),
]
PROMPTS_CASE = 2  # the case whose generated IAPT prompts go into expected.json
IAPT_RATIONAL_FIT = (-4.0, 4.0)
REFERENCE_IAPT = (
    "Layer l (every layer), H = residual stream entering layer l at the first k tokens (the instruction; "
    "for l = 0 the embeddings; it includes the effect of the prefixes of layers < l). "
    "X = RMSNorm_l(H) W_down^T + b_down [k, r] (RMSNorm_l = layer l's input_layernorm). "
    "Z = softmax(X pool_queries^T, over the k positions)^T X [m, r] (no scaling, no value projection). "
    "Z' = R_l(Z) elementwise, R(x) = (a0 + a1 x + ... + a5 x^5) / (1 + |b1 x + ... + b4 x^4|). "
    "P_l = Z' W_up^T + b_up [m, d]. Layer l's attention gets m extra keys/values "
    "K_p = RoPE(k_proj(RMSNorm_l(P_l))) at positions 0..m-1 and V_p = v_proj(RMSNorm_l(P_l)); real tokens "
    "are at positions m, m+1, ...; every real token attends to all m prefix slots and its causal past; "
    "the prefix slots are not queries. Logits are returned for the real tokens only.")
REFERENCE_IAPT_MEAN_GELU = (
    "As in iapt/, except: mean pooling, Z_j = (1/k) sum_{i<k} X_i for every soft token j = 0..m-1, so the "
    "m rows of Z (and of P_l) are identical and the m prefix keys differ only by their RoPE positions "
    "0..m-1; activation GELU in its exact form Z' = 0.5 Z (1 + erf(Z / sqrt 2)). No pool_queries and no "
    "rational tensors are stored, and rational_degrees is absent.")


def randn(shape, std: float, seed: int, mean: float = 0.0) -> torch.Tensor:
    """float32 N(mean, std^2) from its own seeded generator, so each tensor is stable on its own."""
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) * std + mean


def load_base() -> LlamaForCausalLM:
    """A fresh float32 copy of base/ (PEFT wraps models in place, so each use gets its own)."""
    return LlamaForCausalLM.from_pretrained(BASE, dtype=torch.float32, attn_implementation="eager").eval()


def make_base():
    """base/: a tiny GQA LLaMA, every weight redrawn N(0, 0.25^2), norm weights N(1, 0.2^2)."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(**MODEL))
    with torch.no_grad():
        for i, (name, p) in enumerate(sorted(model.named_parameters())):
            p.copy_(randn(p.shape, 0.2, 1000 + i, 1.0) if name.endswith("norm.weight") else randn(p.shape, 0.25, 1000 + i))
    model.save_pretrained(BASE)
    (BASE / "generation_config.json").unlink(missing_ok=True)


def make_lora(folder: str, seed: int, **options):
    """A PEFT LoRA adapter (r 4, alpha 8) with every lora_A and lora_B drawn N(0, 0.2^2)."""
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=8, lora_dropout=0.0,
                        init_lora_weights=False, **options)
    model = get_peft_model(load_base(), config)
    with torch.no_grad():
        for i, (name, p) in enumerate(sorted(model.named_parameters())):
            if "lora_" in name:
                p.copy_(randn(p.shape, 0.2, seed + i))
    model.peft_config["default"].base_model_name_or_path = BASE_NAME
    model.save_pretrained(HERE / folder)
    (HERE / folder / "README.md").unlink()  # PEFT's empty model card
    saved = HERE / folder / "adapter_config.json"  # PEFT writes target_modules from a set: fix the order
    config = json.loads(saved.read_text())
    config["target_modules"] = sorted(config["target_modules"])
    saved.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def make_prompt():
    """A PEFT prompt-tuning adapter: 5 virtual tokens drawn N(0, 0.3^2)."""
    model = get_peft_model(load_base(), PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=5))
    with torch.no_grad():
        embedding = model.prompt_encoder["default"].embedding.weight
        embedding.copy_(randn(embedding.shape, 0.3, 3000))
    model.peft_config["default"].base_model_name_or_path = BASE_NAME
    model.save_pretrained(HERE / "prompt")
    (HERE / "prompt" / "README.md").unlink()  # PEFT's empty model card


def make_prefix():
    """A PEFT prefix-tuning adapter: 3 virtual tokens, keys and values N(0, 0.5^2) (PEFT sizes them by
    the key/value heads: prompt_embeddings [3, layers * 2 * kv_heads * head_dim])."""
    model = get_peft_model(load_base(), PrefixTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=3))
    with torch.no_grad():
        embedding = model.prompt_encoder["default"].embedding.weight
        embedding.copy_(randn(tuple(embedding.shape), 0.5, 7000))
    model.config.name_or_path = BASE_NAME
    model.peft_config["default"].base_model_name_or_path = BASE_NAME
    model.save_pretrained(HERE / "prefix")
    (HERE / "prefix" / "README.md").unlink(missing_ok=True)


def hf_kv_logits(model: LlamaForCausalLM, tokens: list[int], embeddings: torch.Tensor) -> torch.Tensor:
    """LlamaForCausalLM's logits with prefix tuning's keys and values, read from `prompt_embeddings`
    ([m, layers * 2 * kv_width]: layer l's key at columns 2l·w.., its value at (2l+1)·w..) and handed
    to the model as a cache, unrotated, as they are; the model then places the tokens at m..."""
    cache = DynamicCache(config=model.config)
    m, heads, head_dim = embeddings.shape[0], MODEL["num_key_value_heads"], MODEL["head_dim"]
    width = heads * head_dim
    for l in range(MODEL["num_hidden_layers"]):
        k = embeddings[:, 2 * l * width:(2 * l + 1) * width].reshape(1, m, heads, head_dim).transpose(1, 2)
        v = embeddings[:, (2 * l + 1) * width:(2 * l + 2) * width].reshape(1, m, heads, head_dim).transpose(1, 2)
        cache.update(k.to(torch.float32), v.to(torch.float32), l)
    return model(input_ids=torch.tensor([tokens]), past_key_values=cache, use_cache=True).logits[0]


def write_adapter(folder: str, config: dict, tensors: dict):
    """adapter_config.json + adapter_model.safetensors in PEFT's layout."""
    (HERE / folder).mkdir()
    (HERE / folder / "adapter_config.json").write_text(json.dumps(config, indent=2) + "\n")
    save_file({k: t.contiguous() for k, t in tensors.items()}, HERE / folder / "adapter_model.safetensors",
              metadata={"format": "pt"})


def make_iapt(folder: str, pooling: str, activation: str, seed: int):
    """An IAPT adapter with random generators (m 4, r 8); rational coefficients are the GELU fit
    perturbed per layer: 5 % relative noise on every coefficient, N(0, 0.05^2) added to a0, and
    b1 (about 0 in the fit) set to (-1)^l 0.15 (1 + 0.2 N(0, 1)), which makes b1 x + ... + b4 x^4
    negative on about (-1.2, 0) at layer 0 and (0, 1.2) at layer 1, so the |.| of the safe form matters."""
    m, r, d, layers = 4, 8, MODEL["hidden_size"], MODEL["num_hidden_layers"]
    config = {"peft_type": "IAPT", "task_type": "CAUSAL_LM", "num_virtual_tokens": m, "bottleneck": r,
              "pooling": pooling, "activation": activation}
    if activation == "rational":
        config["rational_degrees"] = [5, 4]
        numerator, denominator, _, _ = ref.fit_rational_gelu(5, 4, *IAPT_RATIONAL_FIT)
        config["rational_init"] = {"function": "gelu", "interval": list(IAPT_RATIONAL_FIT), "points": 2001,
                                   "perturbation": "layer l: every coefficient x (1 + 0.05 N(0,1)), a0 + 0.05 N(0,1), "
                                                   "b1 = (-1)^l 0.15 (1 + 0.2 N(0,1))"}
    config.update({"generator_input": "normalized", "layers": None, "base_model_name_or_path": BASE_NAME,
                   "num_layers": layers, "token_dim": d, "inference_mode": True,
                   "reference_semantics": REFERENCE_IAPT if pooling == "self_attention" else REFERENCE_IAPT_MEAN_GELU})
    tensors = {}
    for l in range(layers):
        s, name = seed + 100 * l, f"base_model.model.model.layers.{l}.prompt_generator."
        tensors[name + "down_proj.weight"] = randn((r, d), 0.25, s + 1)
        tensors[name + "down_proj.bias"] = randn((r,), 0.1, s + 2)
        if pooling == "self_attention":
            tensors[name + "pool_queries"] = randn((m, r), 0.5, s + 3)
        if activation == "rational":
            noise_num, noise_den = randn((6,), 1.0, s + 4).double(), randn((4,), 1.0, s + 5).double()
            num = numerator * (1 + 0.05 * noise_num)
            den = denominator * (1 + 0.05 * noise_den)
            num[0] += 0.05 * noise_num[0]
            den[0] = (-1) ** l * 0.15 * (1 + 0.2 * noise_den[0])
            tensors[name + "rational.numerator"] = num.float()
            tensors[name + "rational.denominator"] = den.float()
        tensors[name + "up_proj.weight"] = randn((d, r), 0.25, s + 6)
        tensors[name + "up_proj.bias"] = randn((d,), 0.1, s + 7)
    write_adapter(folder, config, tensors)


def make_ptuning2():
    """A P-tuning v2 adapter: 3 prompts per layer drawn N(0, 0.5^2), row l*n + i = prompt i of layer l."""
    n, layers, d = 3, MODEL["num_hidden_layers"], MODEL["hidden_size"]
    config = {"peft_type": "P_TUNING_V2", "task_type": "CAUSAL_LM", "num_virtual_tokens": n, "num_layers": layers,
              "token_dim": d, "base_model_name_or_path": BASE_NAME, "inference_mode": True}
    write_adapter("ptuning2", config, {"prompt_embeddings": randn((layers * n, d), 0.5, 6000)})


def hf_prefix_logits(model: LlamaForCausalLM, tokens: list[int], prompts) -> torch.Tensor:
    """LlamaForCausalLM's logits with layer l's prompts P_l = prompts(l, H_l) as a key/value cache.

    The prefix keys/values are made with the model's own input norm, k/v projections and RoPE
    (positions 0..m-1); layer 0's before the forward (its H is the embeddings), the others from a
    pre-hook that sees the hidden states entering the layer. The model then places the tokens at m...
    """
    layers = model.model.layers
    cache = DynamicCache(config=model.config)

    def fill(l: int, h: torch.Tensor):
        p = prompts(l, h)
        x, attn = layers[l].input_layernorm(p)[None], layers[l].self_attn
        k = attn.k_proj(x).view(1, p.shape[0], -1, attn.head_dim).transpose(1, 2)
        v = attn.v_proj(x).view(1, p.shape[0], -1, attn.head_dim).transpose(1, 2)
        cos, sin = model.model.rotary_emb(x, torch.arange(p.shape[0])[None])
        _, k = apply_rotary_pos_emb(k, k, cos, sin)
        cache.update(k, v, l)

    ids = torch.tensor([tokens])
    fill(0, model.model.embed_tokens(ids)[0])
    hooks = [layers[l].register_forward_pre_hook(
        lambda module, args, kwargs, l=l: fill(l, (args[0] if args else kwargs["hidden_states"])[0]),
        with_kwargs=True) for l in range(1, len(layers))]
    try:
        return model(input_ids=ids, past_key_values=cache, use_cache=True).logits[0]
    finally:
        for hook in hooks:
            hook.remove()


def merged_lora_weights(weights: dict, folder: str) -> dict:
    """Base weights with W + s B A folded in from the saved LoRA files, s = alpha/r or alpha/sqrt(r)."""
    config = json.loads((HERE / folder / "adapter_config.json").read_text())
    r, alpha = config["r"], config["lora_alpha"]
    scale = alpha / r ** 0.5 if config.get("use_rslora") else alpha / r
    adapter = {k: t.double() for k, t in load_file(HERE / folder / "adapter_model.safetensors").items()}
    merged = dict(weights)
    for key, a in adapter.items():
        if key.endswith("lora_A.weight"):
            module = key[len("base_model.model."):-len(".lora_A.weight")]
            merged[module + ".weight"] = weights[module + ".weight"] + scale * adapter[key.replace("lora_A", "lora_B")] @ a
    return merged


def agree(what: str, a: torch.Tensor, b: torch.Tensor, tolerance: float) -> float:
    difference = (a.double() - b.double()).abs().max().item()
    if not difference < tolerance:
        sys.exit(f"FAILED: {what}: max abs difference {difference:.3g} >= {tolerance:g}")
    return difference


def rounded(x):
    """Nested lists with every float at 7 significant digits."""
    return [rounded(v) for v in x] if isinstance(x, list) else float(f"{x:.7g}")


def compact_json(value, indent: str = "") -> str:
    """JSON with one line per innermost list of numbers (one logits row per line)."""
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        inner = indent + " "
        return "[\n" + ",\n".join(inner + compact_json(v, inner) for v in value) + "\n" + indent + "]"
    if isinstance(value, dict):
        inner = indent + " "
        items = (inner + json.dumps(k) + ":" + compact_json(v, inner) for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    return json.dumps(value, separators=(",", ":"))


def main():
    torch.set_grad_enabled(False)
    # PEFT looks for the base's config at base_model_name_or_path (relative to the adapter, not the cwd).
    warnings.filterwarnings("ignore", message="Could not find a config file")
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated")
    outputs = ["base", "lora", "lora-rslora", "prompt", "prefix", "iapt", "iapt-mean-gelu", "ptuning2"]
    for folder in outputs:
        shutil.rmtree(HERE / folder, ignore_errors=True)
    make_base()
    make_lora("lora", 2000, target_modules=LORA_TARGETS)
    make_lora("lora-rslora", 2100, target_modules=["q_proj", "v_proj"], use_rslora=True)
    make_prompt()
    make_prefix()
    make_iapt("iapt", "self_attention", "rational", 4000)
    make_iapt("iapt-mean-gelu", "mean", "gelu", 5000)
    make_ptuning2()

    shape = ref.LlamaShape(json.loads((BASE / "config.json").read_text()))
    w32 = load_file(BASE / "model.safetensors")
    w64 = {k: t.double() for k, t in w32.items()}
    hf = load_base()
    runs, report = {}, {}

    def record(name: str, adapter, logits_of, check):
        """Store logits_of(tokens, k) for every case; check(tokens, k, logits) returns a max difference."""
        cases, worst = [], 0.0
        for tokens, k in CASES:
            logits = logits_of(tokens, k)
            assert logits.shape == (len(tokens), MODEL["vocab_size"]) and logits.dtype == torch.float32
            worst = max(worst, check(tokens, k, logits))
            cases.append({"tokens": tokens, "instruction_length": k, "logits": rounded(logits.tolist())})
        runs[name], report[name] = {"adapter": adapter, "cases": cases}, worst

    # The self-check: the plain forward reproduces LlamaForCausalLM.
    record("base", None, lambda t, k: hf(input_ids=torch.tensor([t])).logits[0],
           lambda t, k, x: agree("reference_forward vs LlamaForCausalLM (float32)", ref.forward(w32, shape, t)[0], x, 1e-5))
    self_check_64 = max(agree("reference_forward float64 vs LlamaForCausalLM", ref.forward(w64, shape, t)[0],
                              hf(input_ids=torch.tensor([t])).logits[0], 1e-5) for t, _ in CASES)

    for folder in ["lora", "lora-rslora"]:
        peft_model = PeftModel.from_pretrained(load_base(), HERE / folder).eval()
        merged = merged_lora_weights(w64, folder)
        record(folder, folder, lambda t, k: peft_model(input_ids=torch.tensor([t])).logits[0],
               lambda t, k, x: agree(f"{folder}: PEFT vs merged reference", ref.forward(merged, shape, t)[0], x, 1e-5))

    peft_model = PeftModel.from_pretrained(load_base(), HERE / "prompt").eval()
    virtual = load_file(HERE / "prompt" / "adapter_model.safetensors")["prompt_embeddings"].double()
    record("prompt", "prompt", lambda t, k: peft_model(input_ids=torch.tensor([t])).logits[0, -len(t):],
           lambda t, k, x: agree("prompt: PEFT vs reference with virtual tokens at 0..m-1",
                                 ref.forward(w64, shape, t, virtual_tokens=virtual)[0], x, 1e-5))

    peft_model = PeftModel.from_pretrained(load_base(), HERE / "prefix").eval()
    prefix = load_file(HERE / "prefix" / "adapter_model.safetensors")["prompt_embeddings"]
    record("prefix", "prefix", lambda t, k: peft_model(input_ids=torch.tensor([t])).logits[0],
           lambda t, k, x: agree("prefix: PEFT vs LlamaForCausalLM with the saved keys and values as its cache",
                                 hf_kv_logits(hf, t, prefix), x, 1e-5))

    generated = {}
    for folder in ["iapt", "iapt-mean-gelu", "ptuning2"]:
        config = json.loads((HERE / folder / "adapter_config.json").read_text())
        a32 = load_file(HERE / folder / "adapter_model.safetensors")
        a64 = {key: t.double() for key, t in a32.items()}
        if folder == "ptuning2":
            prompts = lambda w, a, k: ref.ptuning2_prompts(a["prompt_embeddings"], config["num_virtual_tokens"])
        else:
            prompts = lambda w, a, k: ref.iapt_prompts(w, shape, a, config, k)

        def check(t, k, x):
            hf_side = agree(f"{folder}: reference vs LlamaForCausalLM with a key/value prefix",
                            hf_prefix_logits(hf, t, prompts(w32, a32, k)), x, 1e-5)
            return max(hf_side, agree(f"{folder}: float32 vs float64",
                                      ref.forward(w64, shape, t, prompts=prompts(w64, a64, k))[0], x, 1e-5))

        record(folder, folder, lambda t, k: ref.forward(w32, shape, t, prompts=prompts(w32, a32, k))[0], check)
        if folder.startswith("iapt"):
            for tokens, k in CASES:  # positions < k see only the instruction: identical to running it alone
                agree(f"{folder}: instruction rows independent of the response (float64)",
                      ref.forward(w64, shape, tokens, prompts=prompts(w64, a64, k))[0][:k],
                      ref.forward(w64, shape, tokens[:k], prompts=prompts(w64, a64, k))[0], 1e-12)
            tokens, k = CASES[PROMPTS_CASE]
            pooled = []
            _, used = ref.forward(w32, shape, tokens, prompts=ref.iapt_prompts(w32, shape, a32, config, k, pooled))
            generated[folder] = {"adapter": folder, "tokens": tokens, "instruction_length": k,
                                 "pooled": rounded([z.tolist() for z in pooled]),
                                 "prompts": rounded([p.tolist() for p in used])}
            if folder == "iapt":
                negative = sum(int((torch.stack([z ** j for j in range(1, 5)], -1)
                                    @ a32[f"base_model.model.model.layers.{l}.prompt_generator.rational.denominator"]
                                    < 0).sum()) for l, z in enumerate(pooled))
                print(f"iapt: {negative} of {sum(z.numel() for z in pooled)} pooled values of case {PROMPTS_CASE} "
                      "have a negative denominator polynomial (the |.| matters)")

    expected = {"format_version": 1, "model": "base", "vocab_size": MODEL["vocab_size"],
                "runs": runs, "generated_prompts": generated}
    (HERE / "expected.json").write_text(compact_json(expected) + "\n")

    numerator, denominator, b_min, error = ref.fit_rational_gelu(5, 4, *IAPT_RATIONAL_FIT)
    print(f"GELU fit (5, 4) on {list(IAPT_RATIONAL_FIT)}: max error {error:.3g}, min B {b_min:.3g}")
    x = torch.linspace(*IAPT_RATIONAL_FIT, 2001, dtype=torch.float64)
    adapter = load_file(HERE / "iapt" / "adapter_model.safetensors")
    for l in range(MODEL["num_hidden_layers"]):
        key = f"base_model.model.model.layers.{l}.prompt_generator.rational."
        r = ref.rational(x, adapter[key + "numerator"].double(), adapter[key + "denominator"].double())
        print(f"iapt layer {l}: max |R - GELU| on {list(IAPT_RATIONAL_FIT)} = {(r - torch.nn.functional.gelu(x)).abs().max():.3g}")
    print(f"self-check, LlamaForCausalLM (float32) vs reference_forward: float32 {report['base']:.3g}, float64 {self_check_64:.3g}")
    for name, worst in report.items():
        if name != "base":
            print(f"{name}: max abs difference to its independent recomputation {worst:.3g}")
    total = 0
    for entry in sorted(outputs) + ["expected.json"]:
        path = HERE / entry
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
        total += size
        print(f"{size:>9,d}  {entry}")
    print(f"{total:>9,d}  total written")


if __name__ == "__main__":
    main()
