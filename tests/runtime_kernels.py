"""A Triton kernel the runtime tests compile for sm_90 inside a sandboxed worker (no GPU needed)."""
from typing import Any

import triton.language as tl


def scale2_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2, mask=mask)


def compile_sm90(block: int) -> dict[str, Any]:
    """Compile through Triton's real NVIDIA pipeline (ptxas runs as a subprocess) for an H100."""
    from triton.runtime.jit import JITFunction

    from sm90 import compile_for_sm90

    compiled = compile_for_sm90(JITFunction(scale2_kernel),
                                {"x_ptr": "*fp32", "y_ptr": "*fp32", "n": "i32", "BLOCK": "constexpr"},
                                {"BLOCK": block}, warp_size=32)
    return {"stages": sorted(compiled.asm), "cubin_bytes": len(compiled.asm["cubin"])}
