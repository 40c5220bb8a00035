"""A plain PyTorch LLaMA forward with the IAPT and P-tuning v2 key/value prefixes.

Written from shared/docs/IAPT.md alone (no transformers code is used here), so that
`make_adapter_fixtures.py` can check it against `LlamaForCausalLM` and then use it for the
adapters PEFT does not have. Every function works on one sequence (no batch dimension) and in
the dtype of its inputs (float32 for the fixtures, float64 for the precision cross-checks).

Weights are the Hugging Face tensors by their checkpoint names, stored `[out, in]`.
"""

import math

import torch
import torch.nn.functional as F


class LlamaShape:
    """The numbers of a LLaMA `config.json` that the forward needs."""

    def __init__(self, config: dict):
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.kv_heads = config["num_key_value_heads"]
        self.head_dim = config.get("head_dim") or config["hidden_size"] // self.heads
        self.eps = config["rms_norm_eps"]
        rope = config.get("rope_parameters") or {}
        self.rope_theta = rope.get("rope_theta", config.get("rope_theta"))


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """x [n, d] -> weight * x / sqrt(mean(x^2) + eps), per row."""
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """[..., hd]: (x1, x2) -> (-x2, x1), the halves being the first and second hd/2 channels."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """x [heads, n, hd] at integer positions [n]; half-split RoPE, inv_freq_i = theta^(-2i/hd)."""
    hd = x.shape[-1]
    inv_freq = 1.0 / theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angles = positions.to(torch.float64)[:, None] * inv_freq[None, :]  # [n, hd/2]
    angles = torch.cat((angles, angles), dim=-1)  # [n, hd]
    return x * angles.cos().to(x.dtype) + rotate_half(x) * angles.sin().to(x.dtype)


def attention(w: dict, s: LlamaShape, l: int, x: torch.Tensor, positions: torch.Tensor,
              prefix: torch.Tensor | None) -> torch.Tensor:
    """Causal grouped-query self-attention of layer l.

    x [T, d] is the normalised input at `positions` [T]; prefix [m, d], if given, is the layer's
    prompt P_l *before* normalisation: it becomes m extra keys/values at positions 0..m-1 that
    every query attends to. Query head h reads key/value head h // (heads / kv_heads).
    Returns [T, d].
    """
    a = f"model.layers.{l}.self_attn."
    T = x.shape[0]
    q = (x @ w[a + "q_proj.weight"].T).view(T, s.heads, s.head_dim).transpose(0, 1)
    k = (x @ w[a + "k_proj.weight"].T).view(T, s.kv_heads, s.head_dim).transpose(0, 1)
    v = (x @ w[a + "v_proj.weight"].T).view(T, s.kv_heads, s.head_dim).transpose(0, 1)
    q, k = rope(q, positions, s.rope_theta), rope(k, positions, s.rope_theta)
    allowed = positions[None, :] <= positions[:, None]  # [T, T] causal
    if prefix is not None:
        m = prefix.shape[0]
        p = rms_norm(prefix, w[f"model.layers.{l}.input_layernorm.weight"], s.eps)
        kp = (p @ w[a + "k_proj.weight"].T).view(m, s.kv_heads, s.head_dim).transpose(0, 1)
        vp = (p @ w[a + "v_proj.weight"].T).view(m, s.kv_heads, s.head_dim).transpose(0, 1)
        kp = rope(kp, torch.arange(m), s.rope_theta)
        k, v = torch.cat((kp, k), dim=1), torch.cat((vp, v), dim=1)
        allowed = torch.cat((torch.ones(T, m, dtype=torch.bool), allowed), dim=1)
    group = s.heads // s.kv_heads
    k, v = k.repeat_interleave(group, dim=0), v.repeat_interleave(group, dim=0)
    scores = (q @ k.transpose(1, 2)) / math.sqrt(s.head_dim)  # [heads, T, m + T]
    scores = scores.masked_fill(~allowed, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v  # [heads, T, hd]
    return out.transpose(0, 1).reshape(T, s.heads * s.head_dim) @ w[a + "o_proj.weight"].T


def mlp(w: dict, l: int, x: torch.Tensor) -> torch.Tensor:
    """SwiGLU: down(silu(gate(x)) * up(x)), x [T, d]."""
    a = f"model.layers.{l}.mlp."
    gate, up = x @ w[a + "gate_proj.weight"].T, x @ w[a + "up_proj.weight"].T
    return (F.silu(gate) * up) @ w[a + "down_proj.weight"].T


def forward(w: dict, s: LlamaShape, tokens: list[int], virtual_tokens: torch.Tensor | None = None,
            prompts=None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits [T, vocab] at the T real tokens, and the per-layer prompts used.

    virtual_tokens [m, d] (prompt tuning): embeddings placed before the tokens, positions 0..m-1.
    prompts (P-tuning v2, IAPT): a function (layer l, H [T, d]) -> P_l [m, d], where H is the
    residual stream entering layer l at the real tokens (which already includes the effect of the
    prefixes of layers < l); P_l becomes layer l's key/value prefix at positions 0..m-1.
    Real tokens take positions m, m+1, ... in both cases (0, 1, ... without an adapter).
    """
    h = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    if virtual_tokens is not None:
        h = torch.cat((virtual_tokens, h), dim=0)
    first = 0 if virtual_tokens is None else virtual_tokens.shape[0]  # rows of h before the real tokens
    used = []
    for l in range(s.layers):
        prefix = None if prompts is None else prompts(l, h[first:])
        if prefix is not None:
            used.append(prefix)
        positions = torch.arange(h.shape[0]) + (0 if prefix is None else prefix.shape[0])
        n = f"model.layers.{l}."
        h = h + attention(w, s, l, rms_norm(h, w[n + "input_layernorm.weight"], s.eps), positions, prefix)
        h = h + mlp(w, l, rms_norm(h, w[n + "post_attention_layernorm.weight"], s.eps))
    h = rms_norm(h, w["model.norm.weight"], s.eps)
    return (h @ w["lm_head.weight"].T)[first:], used


def rational(x: torch.Tensor, numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    """Safe Padé unit: (a0 + a1 x + ... + ap x^p) / (1 + |b1 x + ... + bq x^q|), elementwise."""
    num = torch.zeros_like(x)
    for a in reversed(numerator):  # Horner
        num = num * x + a
    den = torch.zeros_like(x)
    for b in reversed(denominator):
        den = (den + b) * x
    return num / (1 + den.abs())


def fit_rational_gelu(p: int, q: int, lo: float, hi: float, points: int = 2001):
    """Linearised least-squares fit of exact (erf) GELU by a (p, q) rational on [lo, hi], float64.

    Minimises sum (P(x) - g(x) (1 + B(x)))^2 over `points` evenly spaced x. Returns the numerator
    [p + 1], the denominator [q], the smallest B(x) on the grid and the largest |R(x) - g(x)|.
    """
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    g = F.gelu(x)
    powers = x[:, None] ** torch.arange(p + 1)
    design = torch.cat((powers, -g[:, None] * powers[:, 1 : q + 1]), dim=1)
    coef = torch.linalg.lstsq(design, g[:, None], driver="gelsd").solution[:, 0]
    numerator, denominator = coef[: p + 1], coef[p + 1 :]
    b_min = (powers[:, 1 : q + 1] @ denominator).min().item()
    error = (rational(x, numerator, denominator) - g).abs().max().item()
    return numerator, denominator, b_min, error


def iapt_generator(gen: dict, config: dict, h: torch.Tensor, norm_weight: torch.Tensor, eps: float):
    """IAPT prompt generator of one layer. Returns (P [m, d], Z [m, r] the pooled, pre-activation rows).

    gen: this layer's tensors by their names after `...prompt_generator.`;
    h [k, d]: the residual stream entering the layer at the k instruction tokens.
      H = rms_norm(h) with the layer's input norm  (generator_input "normalized"; "residual": H = h)
      X = H W_down^T + b_down                      [k, r]
      self_attention pooling: A = softmax_over_k(X pool_queries^T) [k, m], Z = A^T X   [m, r]
      mean pooling:           Z_j = (1/k) sum_i X_i for every soft token j              [m, r]
      Z' = R(Z) (rational, one coefficient set per layer) or GELU(Z) (exact, erf form)
      P = Z' W_up^T + b_up                         [m, d]
    """
    m = config["num_virtual_tokens"]
    inputs = {"normalized": lambda: rms_norm(h, norm_weight, eps), "residual": lambda: h}
    x = inputs[config["generator_input"]]() @ gen["down_proj.weight"].T + gen["down_proj.bias"]
    if config["pooling"] == "self_attention":
        weights = torch.softmax(x @ gen["pool_queries"].T, dim=0)  # over the k positions
        z = weights.T @ x
    elif config["pooling"] == "mean":
        z = x.mean(dim=0, keepdim=True).expand(m, -1)
    else:
        raise ValueError(f"pooling {config['pooling']!r} has no reference implementation")
    if config["activation"] == "rational":
        activated = rational(z, gen["rational.numerator"], gen["rational.denominator"])
    elif config["activation"] == "gelu":
        activated = F.gelu(z)
    else:
        raise ValueError(f"activation {config['activation']!r} has no reference implementation")
    return activated @ gen["up_proj.weight"].T + gen["up_proj.bias"], z


def iapt_prompts(w: dict, s: LlamaShape, adapter: dict, config: dict, k: int, pooled: list | None = None):
    """The `prompts` callback of `forward` for an IAPT adapter (flat tensors by file key).

    The generator reads only the first k real tokens (the instruction). If `pooled` is a list,
    each layer's Z is appended to it.
    """
    if config.get("layers") is not None:
        raise ValueError("only layers: null (every layer) has a reference implementation")

    def prompts(l: int, h: torch.Tensor) -> torch.Tensor:
        name = f"base_model.model.model.layers.{l}.prompt_generator."
        gen = {key[len(name):]: t for key, t in adapter.items() if key.startswith(name)}
        p, z = iapt_generator(gen, config, h[:k], w[f"model.layers.{l}.input_layernorm.weight"], s.eps)
        if pooled is not None:
            pooled.append(z)
        return p

    return prompts


def ptuning2_prompts(prompt_embeddings: torch.Tensor, n: int):
    """The `prompts` callback for P-tuning v2: layer l's prompts are rows l*n .. l*n + n - 1."""
    return lambda l, h: prompt_embeddings[l * n : (l + 1) * n]
