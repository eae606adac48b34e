"""The `inductor` template family: any problem Inductor compiles into Triton kernels alone, without an LLM.

Pipeline: generate.py (a subprocess: the problem's forward traced and compiled by Inductor, its output
module's source and each kernel's launch configs; on a CPU through fake_driver.py) -> export.py (the
self-contained candidate; interpreter_math.py for kernels the Triton interpreter runs). family.py
registers the family; importing this package registers it.
"""
from kernelwright.agents.templates.inductor import family  # noqa: F401 - registers the family
