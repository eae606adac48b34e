"""Time the CUDA attention kernel with one stage left out, to place time inside it without counters.

    python benchmarks/attention_ablate.py document_causal --config '{"BLOCK_N": 128, "STAGES": 2}'

Each ablation edits the rendered CUDA source (see ABLATIONS), builds it with load_inline and
times it with do_bench next to the unedited kernel. Ablated kernels compute WRONG outputs: their
times are differences to read, never results. The unedited kernel is checked against the reference.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
from pathlib import Path

import torch
from kernelwright.agents.templates.attention.render_cuda import render_cuda_candidate
from kernelwright.agents.templates.attention.spec import parse_spec
from kernelwright.verifier.problem import load_problem

from kernelwright.bench.attention import bench, check, import_candidate, make_inputs, overrides_for
from kernelwright.bench.attention_ablations import ABLATIONS, ablated

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"


def _build(job: tuple[str, str]) -> str:
    """Child process: build one source with load_inline (the parent then finds it in the cache)."""
    source, name = job
    import_candidate(source, name)
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant")
    parser.add_argument("--config", type=json.loads, default={"BLOCK_N": 128, "STAGES": 2})
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--heads", type=int, default=16)
    parser.add_argument("--seq", type=int, default=4096)
    parser.add_argument("--head-dim", type=int, default=128)
    parser.add_argument("--ablations", nargs="*", default=list(ABLATIONS), choices=list(ABLATIONS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    problem = load_problem(PROBLEMS / f"{args.variant}.py")
    module = problem.module(overrides_for(args.variant, args.batch, args.heads, args.seq, args.head_dim))
    (q, k, v), init = make_inputs(module)
    config = {"BACKEND": "cuda", **args.config}
    base = render_cuda_candidate(problem.source, parse_spec(problem.source), config, problem.name)
    names = ["unedited", *args.ablations]
    sources = {name: base if name == "unedited" else ablated(base, name) for name in names}
    jobs = [(sources[name], f"kw_ablate_{args.variant}_{name}") for name in names]
    with concurrent.futures.ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_build, jobs))  # the builds dominate: run them side by side
    rows = []
    for (source, module_name), name in zip(jobs, names):
        model = import_candidate(source, module_name).ModelNew(*init)
        row = {"ablation": name, "ms": bench(lambda: model(q, k, v))}  # noqa: B023 - called in this iteration
        if name == "unedited":
            row["check"] = check(model(q, k, v), module.Model(*init).cuda()(q, k, v))
        rows.append(row)
    base_ms = rows[0]["ms"]
    print(f"{args.variant} B={args.batch} H={args.heads} S={args.seq} D={args.head_dim} config={config} "
          f"on {torch.cuda.get_device_name()}; unedited check: {rows[0]['check']}")
    for row in rows:
        what = ABLATIONS[row["ablation"]][2] if row["ablation"] in ABLATIONS else ""
        print(f"  {row['ablation']:<13} {row['ms']:.4f} ms  (unedited - this = {base_ms - row['ms']:+.4f} ms: {what})")
    if args.out:
        args.out.write_text(json.dumps({"variant": args.variant, "config": config, "shape": vars(args) | {"out": None},
                                        "gpu": torch.cuda.get_device_name(), "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
