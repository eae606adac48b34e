"""One problem, one process: the offline template coder's candidates for a KernelBench-format problem,
verified on the CPU (shrunken shapes) or the GPU (full sizes, timed). benchmarks/kernelbench_offline.py
runs `child` in a process per problem and reads the one marked JSON line it prints.
"""
from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

MARK = "KW_OFFLINE_RESULT "
GPU_MEMORY_FLAG = "gpu_memory"  # verdict flag: the verification did not fit in the GPU's memory (verifier/memory.py)
MAX_CPU_ELEMENTS = 1 << 22  # input elements of one CPU trial above which the verifier has not shrunk
CATEGORY_RULES = [  # file-name inference, first match wins (KernelBench names: 23_Softmax, 1_Conv2D_ReLU_...)
    ("attention", r"attention|attn|sdpa"),
    ("conv_transpose", r"conv_?transpose|transposed_conv|deconv"),
    ("conv", r"conv"),
    ("matmul", r"matmul|gemm|bmm|matrix|linear|_mm_|einsum|tensor_matrix"),
    ("pooling", r"pool"),
    ("loss", r"loss|hinge|kl_?div|triplet|cross_?entropy|mse|huber"),
    ("scan", r"cumsum|cumprod|scan"),
    ("norm", r"norm"),
    ("reduction", r"softmax|reduc|sum|mean|max|min|argm|prod|logsumexp"),
    ("elementwise", (r"elementwise|relu|gelu|sigmoid|tanh|swish|selu|elu|softplus|softsign|mish|hardsigmoid|"
                     r"hardswish|clamp|scal|add|mul|div|sub")),
]


def category_of(path: Path, problem: Any = None) -> str:
    """The problem's category: kernelwright.tools.opgraph.analyze_problem when present, else its file name.
    A fused forward is named by its leading op class too ("fused conv", "fused matmul"): level 2 is all fused."""
    if problem is not None:
        try:
            from kernelwright.tools.opgraph import analyze_problem, category_label

            value = category_label(analyze_problem(problem))
            if value:
                return str(value)
        except Exception:  # noqa: BLE001, S110 - missing or failing analysis: fall back to the name
            pass
    name = re.sub(r"^\d+_", "", path.stem).lower()
    return next((cat for cat, pattern in CATEGORY_RULES if re.search(pattern, name)), "other")


def cpu_elements(problem: Any) -> int:
    """Input elements of one CPU trial at the shapes the verifier would use (built on the meta device)."""
    import torch

    from kernelwright.verifier.inputs import base_overrides, make_inputs

    inputs = make_inputs(problem, base_overrides(problem, small=True), seed=0, device="meta")
    return sum(x.numel() for x in inputs if isinstance(x, torch.Tensor))


def verifier_shrinks(problem: Any) -> bool:
    import importlib.util

    return (bool(problem.metadata.get("small_shape"))
            or importlib.util.find_spec("kernelwright.verifier.shrink") is not None)


def one_line(text: Any) -> str:
    lines = [ln.strip() for ln in str(text or "").splitlines() if ln.strip()]
    return (lines[0] if lines else "")[:300]


def solve_direct(problem: Any, configs: int, workdir: str, device: str = "cpu",
                 families: tuple[str, ...] | None = None, tune_s: float = 0.0,
                 report: Any = None) -> dict[str, Any]:
    """The template coder's first `configs` configurations, each verified on `device`.
    `families` limits the coder to those template families (default: all, in priority order).

    On the CPU: shrunken shapes, no timing; stop at the first correct. On cuda: the problem's sizes, timed
    against the baselines; with `tune_s` > 0 the walk goes on after the first correct configuration while
    less than `tune_s` seconds have passed and keeps the fastest correct one (as the graph's tuning does).
    `report(record)` is called with the record so far after every correct configuration, so a caller that
    is cut off still has the best verified one."""
    import kernelwright
    from kernelwright.agents.coder import CodeRequest
    from kernelwright.agents.template_coder import TemplateCoder

    tried: list[dict[str, Any]] = []  # every config walked, in order
    coder, out = TemplateCoder(only=families), {"attempts": 0, "walk": tried}
    best: dict[str, Any] | None = None
    start = time.monotonic()
    for index in range(configs):
        if best is not None and (device == "cpu" or time.monotonic() - start >= tune_s):
            break
        request = CodeRequest(problem_source=problem.source, problem_name=problem.name,
                              description=problem.description, metadata=problem.metadata,
                              strategy="first_draft" if index == 0 else "tune_launch_config",
                              tried=list(tried), device=device, artifacts_dir=workdir)
        result = coder.generate(request)
        if result.source is None:
            if index == 0:
                out.update(status="no_template", reason=one_line(result.error))
            break
        if best is None:
            out.update(family=result.meta.get("template"), config=result.meta.get("config"))
        if (device == "cpu" and index == 0 and not verifier_shrinks(problem)
                and (n := cpu_elements(problem)) > MAX_CPU_ELEMENTS):
            return {**out, "status": "no_cpu_shapes", "cpu_elements": n,
                    "reason": f"verifier has no CPU shapes ({n:,} input elements; verifier/shrink.py missing)"}
        verdict = kernelwright.verify(problem, result.source, device=device, timing=device != "cpu")
        out["attempts"] = index + 1
        why = "" if verdict.correct else one_line(verdict.summary())
        step = {**result.meta, "status": verdict.status}  # the coder's `tried` and the record's `walk`
        if verdict.correct and verdict.timing:
            step["median_ms"] = verdict.timing.median_ms
        elif why:
            step["reason"] = why[:160]
        tried.append(step)
        if best is None:
            out.update(status=verdict.status, stage=verdict.stage, rule=verdict.rule, reason=why)
        if GPU_MEMORY_FLAG in verdict.flags:  # the GPU's memory decided, not the candidate: no config fares better
            if best is None:
                out["status"] = "gpu_memory"
            break
        if not verdict.correct:
            continue
        found = {"family": result.meta.get("template"), "config": result.meta.get("config"),
                 "config_index": index,  # its position in the walk (`walk`), not in the family's list
                 "status": verdict.status, "stage": verdict.stage, "rule": verdict.rule, "reason": ""}
        if device != "cpu":
            found.update(median_ms=verdict.timing.median_ms if verdict.timing else None,
                         timing_meaningful=verdict.timing_meaningful,
                         speedup_eager=verdict.speedups.get("eager"),
                         speedup_compile=verdict.speedups.get("compile"))
        if best is None or faster(found, best):
            best = found
            out.update(best)
            if report is not None:
                report(out)
    return out


def faster(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether verified record `a` ran faster than `b` (a record without a timing never wins)."""
    return a.get("median_ms") is not None and (b.get("median_ms") is None or a["median_ms"] < b["median_ms"])


def solve_graph(problem: Any, iterations: int, workdir: str) -> dict[str, Any]:
    """The whole offline loop: run_graph with the template coder on the CPU."""
    import kernelwright

    if not verifier_shrinks(problem) and (n := cpu_elements(problem)) > MAX_CPU_ELEMENTS:
        return {"status": "no_cpu_shapes", "cpu_elements": n, "reason": f"verifier has no CPU shapes ({n:,} elements)"}
    result = kernelwright.run_graph(problem, iterations=iterations, coder="template", device="cpu", fanout=1,
                                    artifacts_dir=workdir, verify_options={"timing": False})
    history = result.history
    best = next((a for a in history if a.id == result.best_attempt), None) if result.solved else None
    last = best or (history[-1] if history else None)
    out = {"attempts": len(history), "family": (last.meta or {}).get("template") if last else None,
           "config": (last.meta or {}).get("config") if last else None}
    if result.solved:
        return {**out, "status": "correct", "reason": ""}
    if last is None:
        return {**out, "status": "no_template", "reason": one_line(result.error or result.stop_reason)}
    return {**out, "status": last.status, "reason": one_line(last.summary or result.error)}


def marked(stdout: str | None) -> dict[str, Any] | None:
    """The last marked JSON record a problem process printed (`child`), or None."""
    lines = [ln[len(MARK):] for ln in (stdout or "").splitlines() if ln.startswith(MARK)]
    return json.loads(lines[-1]) if lines else None


def child(path: str, configs: int, graph: int | None, device: str, families: tuple[str, ...] | None = None,
          tune_s: float = 0.0) -> None:
    """Solve one problem and print marked JSON lines, the last one final (the parent reads the last it got:
    one printed after each better verified configuration survives a harness timeout)."""
    from kernelwright.verifier.problem import LoadError, load_problem

    t0 = time.time()
    record: dict[str, Any] = {}

    def emit(found: dict[str, Any]) -> None:
        print(MARK + json.dumps({**record, **found, "seconds": round(time.time() - t0, 1)}, default=str), flush=True)

    try:
        problem = load_problem(path)
    except LoadError as exc:
        record = {"status": "load_error", "reason": one_line(exc), "category": category_of(Path(path))}
    else:
        record["category"] = category_of(Path(path), problem)
        with tempfile.TemporaryDirectory(prefix="kw_offline_") as workdir:
            record.update(solve_graph(problem, graph, workdir) if graph
                          else solve_direct(problem, configs, workdir, device, families, tune_s, report=emit))
    emit({})
