"""Ablations of the CUDA attention kernel: text edits that leave one stage out (benchmarks/attention_ablate.py).

Ablated kernels compute WRONG outputs: their times are differences to read, never results.
"""
from __future__ import annotations

# name -> (text in the rendered kernel, replacement, what the difference to the unedited time measures)
ABLATIONS = {
    "mask_as_full": ("kw_scores<D, BN, true>", "kw_scores<D, BN, false>",
                     "element mask (and score mod's tail handling) on partial tiles"),
    "no_store": ("if (in_range) *reinterpret_cast<uint4*>",
                 "if (in_range && a[0] == 0xffffffffu) *reinterpret_cast<uint4*>",
                 "the output store (the values stay live: the guard is never true)"),
    "one_tile": ("hi > lo ? (hi - lo + BN - 1) / BN : 0", "hi > lo ? 1 : 0",
                 "all key tiles after the first of every CTA tile"),
    "no_tiles": ("hi > lo ? (hi - lo + BN - 1) / BN : 0", "0",
                 "everything but launch, setup and storing zeros"),
}


def ablated(source: str, name: str) -> str:
    old, new, _ = ABLATIONS[name]
    if old not in source:
        raise SystemExit(f"ablation {name}: `{old}` is not in the rendered kernel (the template changed)")
    return source.replace(old, new).replace("name=\"kw_attention_", f"name=\"kw_ablate_{name}_")
