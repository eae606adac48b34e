"""The candidate contract, stated with this problem's own names, and one correct example to imitate.

Small models copy what they see: they paste the problem's metadata into their file, read sizes
from its module constants and call `@triton.jit` functions directly. So the contract names this
problem's constants and metadata, and the prompt shows one kernel that passed the verifier: the
run's best (the offline seed first of all), else a minimal generic file.
"""
from __future__ import annotations

import ast

from kernelwright.agents import prompts as P
from kernelwright.agents.coder import CodeRequest
from kernelwright.verifier.problem import METADATA_KEYS


def problem_names(source: str) -> tuple[list[str], list[str]]:
    """(size constants, metadata names) assigned at the problem file's top level, in file order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return [], []
    sizes, metadata = [], []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in (t for t in targets if isinstance(t, ast.Name)):
                if target.id in METADATA_KEYS:
                    metadata.append(target.id)
                elif isinstance(node.value, ast.Constant) and type(node.value.value) is int:
                    sizes.append(target.id)
    return sizes, metadata


def contract(request: CodeRequest) -> str:
    """The output contract (last in the prompt), naming the problem's constants and metadata."""
    sizes, metadata = problem_names(request.problem_source)
    return P.OUTPUT_CONTRACT.format(
        launch_rule=P.LAUNCH_RULES.get(request.backend, P.LAUNCH_RULES["triton"]),
        size_names=f" ({', '.join(sizes)})" if sizes else "",
        metadata_names=f" ({', '.join(metadata)})" if metadata else "",
    )


def example(request: CodeRequest, shown: str | None) -> str:
    """The example block: a note when the kernel shown is the verified best, else the best, else generic."""
    best = (request.best_source or "").strip()
    if best and shown is not None and shown.strip() == best:
        return P.EXAMPLE_SHOWN
    if best:
        return P.EXAMPLE_VERIFIED.format(source=best)
    return P.EXAMPLE_GENERIC if request.backend == "triton" else ""
