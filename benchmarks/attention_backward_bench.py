"""Attention forward + backward on the GPU (issue 17, item 1): kernelwright's training kernels against
FlexAttention and SDPA, each timed as one forward + backward (triton.testing.do_bench, median).

For each variant and shape: render the attention family's training candidates (its first Triton
forward config with the first --backward-configs entries of render_backward.BACKWARD_CONFIGS), check
their q / k / v (and parameter) gradients against the problem's reference at a small ragged shape,
then time forward + backward of each candidate (the fastest correct one is the row's; where
FlexAttention's gradients miss the same check, "correct" means within FLEX_SLACK x Flex's error), of
torch.compile'd flex_attention with the problem's score_mod and block mask (Triton and FLASH backends;
speedups stated against the faster, x_flex_best), of FlashAttention-4 and SDPA (plain and causal).
TFLOP/s count 3.5x the forward's unmasked pairs (2 matmuls forward, 5 back).
Writes attention_backward_bench.json to --out and prints a table last.

    python benchmarks/attention_backward_bench.py --out $OUT          # every variant, B=4 H=16 S=4096 D=128 bf16
    python benchmarks/attention_backward_bench.py --variants causal softcap --seq 1024 16384
    python benchmarks/attention_backward_bench.py --backward-configs 3      # also time the other backward tiles
"""
from __future__ import annotations

import argparse
import json
import traceback
from pathlib import Path
from typing import Any

import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily

from kernelwright.bench import attention_baselines as baselines
from kernelwright.bench.attention import (
    CHECK_B,
    CHECK_H,
    CHECK_SEQ,
    FLEX_SLACK,
    VARIANTS,
    bench,
    check,
    environment,
    fmt,
    import_candidate,
    overrides_for,
    problem_for,
    with_ratios,
    within_flex,
)

PROBLEMS = Path(__file__).resolve().parents[1] / "problems" / "attention"
# alibi_learned: score_mod reads the Model's slopes, whose gradient is part of every timed backward
BACKWARD_VARIANTS = [*VARIANTS, "alibi_learned"]
GRAD_TOL = 6e-2  # bf16 gradients: P and dS are rounded to bf16 before their products (tests/test_attention_backward.py)


def training_candidates(family: AttentionFamily, problem: Any, variant: str, count: int) -> list[tuple[Any, dict]]:
    """The family's first `count` training configs (the first forward config with each backward config)."""
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description=problem.description,
                          metadata={**problem.metadata, "backward": True}, strategy="first_draft", device="cuda")
    return [(import_candidate(family.render(request, config), f"kw_train_{variant}_{i}"), config)
            for i, config in enumerate(family.configs(request)[:count])]


def inputs(module: Any) -> tuple[list[torch.Tensor], torch.Tensor]:
    torch.manual_seed(0)
    qkv = [x.cuda().requires_grad_() for x in module.get_inputs()]
    return qkv, torch.randn_like(qkv[0])


def forward_backward(forward: Any, leaves: list[torch.Tensor], grad: torch.Tensor) -> Any:
    """One forward + backward to `leaves` (q, k, v and the model's parameters); autograd.grad, so nothing
    accumulates across repetitions."""
    return lambda: torch.autograd.grad(forward(), leaves, grad)


def models(candidate: Any, module: Any) -> tuple[Any, Any]:
    """The candidate's ModelNew holding the reference Model's parameters, and that Model, on the GPU."""
    init = list(module.get_init_inputs())
    reference = module.Model(*init).cuda()
    ours = candidate.ModelNew(*init).cuda()
    ours.load_state_dict(reference.state_dict())
    return ours, reference


def gradient_check(candidate: Any, problem: Any, variant: str, dim: int, seq: int = CHECK_SEQ) -> dict[str, Any]:
    """Our gradients and FlexAttention's, each against the problem's reference Model (float32 inside)."""
    module = problem.module(overrides_for(variant, CHECK_B, CHECK_H, seq, dim))
    qkv, grad = inputs(module)
    ours, reference = models(candidate, module)
    params = list(reference.parameters())
    expected = forward_backward(lambda: reference(*qkv), qkv + params, grad)()
    names = ["dq", "dk", "dv"] + [f"d{n}" for n, _ in reference.named_parameters()]

    def judged(got: Any) -> dict[str, Any]:
        found = {}
        for name, o, r in zip(names, got, expected):  # parameter gradients sum over every pair: scaled tolerance
            tol = GRAD_TOL * (1.0 if name in ("dq", "dk", "dv") else float(r.abs().max()) + 1.0)
            found[name] = check(o, r, tol, GRAD_TOL)
        return found

    found = judged(forward_backward(lambda: ours(*qkv), qkv + list(ours.parameters()), grad)())
    out = {"grad_check": found, "grads_ok": all(f["ok"] for f in found.values())}
    try:  # the same check of Flex: whether a miss is ours or any bf16 flash backward's
        flex = judged(forward_backward(baselines.flex(module, *qkv, tensors=tuple(params)), qkv + params, grad)())
        out.update(flex_grad_check=flex, flex_grads_ok=all(f["ok"] for f in flex.values()),
                   grads_within_flex=within_flex(found, flex))
    except Exception as exc:  # noqa: BLE001 - reported beside ours, never the end of the row
        out["flex_grad_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return out


def measure(family: AttentionFamily, variant: str, args: argparse.Namespace, seq: int) -> dict[str, Any]:
    problem = problem_for(PROBLEMS, variant, args.dtype)
    row: dict[str, Any] = {"variant": variant, "B": args.batch, "H": args.heads, "S": seq, "D": args.dim}
    torch._dynamo.reset()  # a fresh cache per variant: flex's recompiles would otherwise hit the limit
    module = problem.module(overrides_for(variant, args.batch, args.heads, seq, args.dim))
    qkv, grad = inputs(module)
    tried = []  # each backward config: its gradient check and time; the fastest correct one is the row's
    for candidate, config in training_candidates(family, problem, variant, args.backward_configs):
        entry = {"config": config, **gradient_check(candidate, problem, variant, args.dim, args.check_seq)}
        model, reference = models(candidate, module)
        entry["ms"] = bench(forward_backward(lambda m=model: m(*qkv), qkv + list(model.parameters()), grad))
        tried.append(entry)
    best = min((t for t in tried if t.get("grads_within_flex", t["grads_ok"])), key=lambda t: t["ms"],
               default=tried[0])
    row.update({k: v for k, v in best.items() if k.startswith(("flex_grad", "grads_within"))})
    row.update(config=best["config"], grad_check=best["grad_check"], grads_ok=best["grads_ok"],
               kernelwright_ms=best["ms"], backward_configs=[{"backward": t["config"].get("BACKWARD"), "ms": t["ms"],
                                                             "grads_ok": t["grads_ok"]} for t in tried])
    params = list(reference.parameters())
    pairs = float(module.unmasked_pairs(seq, "cuda")) if hasattr(module, "unmasked_pairs") else float(seq * seq)
    row["kernelwright_tflops"] = 3.5 * 4 * args.batch * args.heads * args.dim * pairs / row["kernelwright_ms"] / 1e9
    builders = {"flex": lambda: baselines.flex(module, *qkv, tensors=tuple(params)),
                "flex_flash": lambda: baselines.flex(module, *qkv, tensors=tuple(params), backend="FLASH"),
                "fa4": lambda: baselines.fa4(variant, *qkv), "sdpa": lambda: baselines.sdpa(variant, *qkv)}
    for name, build in builders.items():
        try:
            leaves = qkv + (params if name.startswith("flex") else [])
            row[f"{name}_ms"] = bench(forward_backward(build(), leaves, grad))
        except baselines.Skip as skip:
            row[f"{name}_skipped"] = str(skip)
        except Exception as exc:  # noqa: BLE001 - a baseline that fails is reported, the row stays
            row[f"{name}_error"] = f"{type(exc).__name__}: {exc}"[:300]
    return with_ratios(row, 1.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=BACKWARD_VARIANTS, default=BACKWARD_VARIANTS)
    parser.add_argument("--seq", nargs="+", type=int, default=[4096])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--dim", type=int, choices=[64, 128], default=128)
    parser.add_argument("--dtype", choices=["bf16", "fp16"], default="bf16")
    parser.add_argument("--backward-configs", type=int, default=1,
                        help="time the first N training configs (each backward config of render_backward."
                             "BACKWARD_CONFIGS with the first forward config) and report the fastest correct one")
    parser.add_argument("--check-seq", type=int, default=CHECK_SEQ,
                        help=f"sequence length of the gradient check (default {CHECK_SEQ}; B={CHECK_B}, H={CHECK_H})")
    parser.add_argument("--out", default="bench_out")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        parser.error("needs a CUDA GPU (FlexAttention and the timings run there)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    family, rows = AttentionFamily(), []
    for variant in args.variants:
        for seq in args.seq:
            try:
                rows.append(measure(family, variant, args, seq))
            except Exception as exc:  # noqa: BLE001 - one variant's failure must not lose the others
                rows.append({"variant": variant, "S": seq, "error": f"{type(exc).__name__}: {exc}"[:500],
                             "trace": traceback.format_exc()[-2000:]})
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "trace"}), flush=True)
            (out / "attention_backward_bench.json").write_text(json.dumps({"env": environment(), "rows": rows},
                                                                          indent=1))
    print("\n| variant | S | grads ok (Flex's) | kernelwright ms | TFLOP/s | Flex ms (Triton) | Flex ms (FLASH) | "
          "x best Flex | FA4 ms | x FA4 | SDPA ms | x SDPA |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        grads = f"{r.get('grads_ok', r.get('error', '-'))} ({r.get('flex_grads_ok', '-')})"
        if r.get("grads_ok") is False and r.get("grads_within_flex"):
            grads += f", within {FLEX_SLACK:g}x Flex's error"
        print(f"| {r['variant']} | {r['S']} | {grads} | "
              f"{fmt(r, 'kernelwright_ms')} | {fmt(r, 'kernelwright_tflops', 0)} | {fmt(r, 'flex_ms')} | "
              f"{fmt(r, 'flex_flash_ms')} | {fmt(r, 'x_flex_best', 2)} vs {r.get('flex_best', '-')} | "
              f"{fmt(r, 'fa4_ms')} | {fmt(r, 'x_fa4', 2)} | {fmt(r, 'sdpa_ms')} | {fmt(r, 'x_sdpa', 2)} |")


if __name__ == "__main__":
    main()
