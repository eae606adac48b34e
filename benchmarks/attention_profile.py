"""Run one attention implementation once inside an NVTX range, for Nsight Compute.

    ncu --nvtx --nvtx-include "profile/" -c 1 --section SpeedOfLight \\
        python benchmarks/attention_profile.py plain --impl ours --config-index 0

Compilation and warm-up happen before the range, so ncu sees exactly the timed kernel.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.verifier.problem import load_problem

from kernelwright.bench import attention_baselines as baselines
from kernelwright.bench.attention import import_candidate, make_inputs, overrides_for

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--impl", choices=["ours", "flex", "sdpa"], default="ours")
    parser.add_argument("--config-index", type=int, default=0)
    parser.add_argument("--seq", type=int, default=4096)
    parser.add_argument("--head-dim", type=int, default=128)
    args = parser.parse_args()
    problem = load_problem(PROBLEMS / f"{args.variant}.py")
    module = problem.module(overrides_for(args.variant, 4, 16, args.seq, args.head_dim))
    (q, k, v), init = make_inputs(module)
    if args.impl == "ours":
        family = AttentionFamily()
        request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                              metadata=problem.metadata, strategy="tune_launch_config")
        config = family.configs(request, head_dim=args.head_dim)[args.config_index]
        print("config", config)
        model = import_candidate(family.render(request, config), f"kw_prof_{args.variant}").ModelNew(*init)
        fn = lambda: model(q, k, v)  # noqa: E731
    elif args.impl == "flex":
        fn = baselines.flex(module, q, k, v)
    else:
        fn = baselines.sdpa(args.variant, q, k, v)
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    torch.cuda.nvtx.range_push("profile")
    fn()
    torch.cuda.nvtx.range_pop()
    torch.cuda.synchronize()


if __name__ == "__main__":
    main()
