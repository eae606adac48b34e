"""The `lowered` template family: any PyTorch problem lowered to Triton kernels without an LLM.

Pipeline: capture.py (problem -> symbolic aten graph) -> generalize.py (constant-dependent
literals -> run-time sizes / constructor arguments) -> emit.py (nodes -> fused pointwise kernels
(pointwise.py, pointwise_ops.py), reductions (reduce.py), scans (scan.py), views (views.py),
dense-op wrappers (dense_*.py)) -> render.py (the self-contained candidate). family.py registers
the family; importing this package registers it.
"""
from kernelwright.agents.templates.lowered import family  # noqa: F401 - registers the family
