"""Checks LoRA and prompt-tuning adapters written by the Swift package against PEFT itself.

Usage (from anywhere):

    /tmp/torch-ref/bin/python check_swift_adapters.py [--base DIR] [--tolerance 1e-4] [FOLDER ...]

FOLDER defaults to swift-lora and swift-prompt beside this script; --base defaults to base/ beside it.
Each FOLDER is what the Swift side wrote:

    adapter_config.json, adapter_model.safetensors   a PEFT LoRA or prompt-tuning adapter for the base
    expected.json   {"cases": [{"tokens": [Int], "logits": [[Float]]}, ...]}: the logits Swift computed,
                    one row per token (virtual tokens excluded), like one run of ../expected.json
                    ("instruction_length" may be present; LoRA and prompt tuning ignore it)

For each FOLDER it reports:
  * the tensor names and shapes against those PEFT expects for that adapter_config.json (PEFT itself
    only warns about a missing or misnamed tensor and keeps its own initialisation, so this is checked
    first and separately);
  * the largest |logit difference| between PEFT (PeftModel.from_pretrained over the base, float32;
    for prompt tuning the last T rows) and the Swift logits, per case and overall.

Exit status: 0 when every folder matches within the tolerance; 1 when a key or shape differs or a
difference exceeds the tolerance; 2 when a folder or file is missing or unreadable.
"""

import sys

sys.dont_write_bytecode = True

import argparse
import json
import warnings
from pathlib import Path

import torch
from peft import PeftConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from safetensors import safe_open
from transformers import LlamaForCausalLM

HERE = Path(__file__).resolve().parent


def load_base(base: Path) -> LlamaForCausalLM:
    return LlamaForCausalLM.from_pretrained(base, dtype=torch.float32, attn_implementation="eager").eval()


def check_folder(folder: Path, base: Path, tolerance: float) -> bool:
    """Prints the comparison for one Swift adapter folder; True when it passes."""
    config = PeftConfig.from_pretrained(folder)
    wanted = {k: tuple(t.shape) for k, t in get_peft_model_state_dict(get_peft_model(load_base(base), config)).items()}
    with safe_open(folder / "adapter_model.safetensors", "pt") as f:
        found = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    problems = [f"missing tensor {k} {list(s)}" for k, s in sorted(wanted.items()) if k not in found]
    problems += [f"unexpected tensor {k}" for k in sorted(found) if k not in wanted]
    problems += [f"tensor {k}: shape {list(found[k])}, PEFT expects {list(s)}"
                 for k, s in sorted(wanted.items()) if k in found and found[k] != s]
    print(f"{folder.name}: {config.peft_type.value}, {len(found)} tensors")
    if problems:
        for problem in problems:
            print(f"  KEY ERROR: {problem}")
        print("  FAIL: the tensors are not PEFT's (logits not compared)")
        return False

    model = PeftModel.from_pretrained(load_base(base), folder).eval()
    cases = json.loads((folder / "expected.json").read_text())["cases"]
    worst = 0.0
    with torch.no_grad():
        for i, case in enumerate(cases):
            tokens, swift = case["tokens"], torch.tensor(case["logits"], dtype=torch.float64)
            peft_logits = model(input_ids=torch.tensor([tokens])).logits[0, -len(tokens):].double()
            if swift.shape != peft_logits.shape:
                problems.append(f"case {i}: logits shape {list(swift.shape)}, expected {list(peft_logits.shape)}")
                print(f"  case {i}: SHAPE ERROR {problems[-1]}")
                continue
            difference = (swift - peft_logits).abs().max().item() if swift.isfinite().all() else float("inf")
            worst = max(worst, difference)
            print(f"  case {i}: {len(tokens)} tokens, max |swift - peft| = {difference:.3g}")
    passed = not problems and bool(cases) and worst <= tolerance
    print(f"  {'PASS' if passed else 'FAIL'}: max abs difference {worst:.3g} over {len(cases)} cases "
          f"(tolerance {tolerance:g})")
    return passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[HERE / "swift-lora", HERE / "swift-prompt"])
    parser.add_argument("--base", type=Path, default=HERE / "base")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Could not find a config file")  # base_model_name_or_path
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated")
    warnings.filterwarnings("ignore", message="The PEFT config's `base_model_name_or_path` was renamed")

    needed = [args.base / "config.json"] + [f / name for f in args.folders
                                            for name in ("adapter_config.json", "adapter_model.safetensors",
                                                         "expected.json")]
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        print("missing: " + ", ".join(missing), file=sys.stderr)
        return 2
    results = []
    for folder in args.folders:
        try:
            results.append(check_folder(folder, args.base, args.tolerance))
        except (OSError, ValueError, KeyError, TypeError) as error:  # unreadable JSON, safetensors or config
            print(f"{folder.name}: cannot be read: {error}", file=sys.stderr)
            return 2
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
