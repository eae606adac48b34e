"""The attention family: FlexAttention-style `score_mod` / `mask_mod` problems to Triton or CUDA.

`family` matches and renders; `spec` reads the problem; `translate_*` turn the mods into kernel
code; `render_*` fill the kernel texts of `kernel_*`; `ptx`, `host_cuda` and `poly_exp2` are the
CUDA backend's PTX helpers, host launcher and polynomial exp2.
"""
from kernelwright.agents.templates.attention import family  # noqa: F401 - registers the family
