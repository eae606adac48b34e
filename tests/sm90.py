"""The one way tests compile a Triton kernel for an H100 (sm_90) on a machine without a GPU.

Triton's real NVIDIA pipeline (ptxas included) runs for `GPUTarget("cuda", 90, 64)`. Call it in a
process that never imported triton in interpreter mode: TRITON_INTERPRET=1 patches triton.language.
`API_MISSING` is the exit code scripts use when this triton lays its compiler API out differently.
"""
from __future__ import annotations

from typing import Any

import triton

API_MISSING = 3


def compile_for_sm90(fn: Any, signature: dict[str, str], constexprs: dict[str, Any] | None = None,
                     attrs: dict | None = None, options: dict[str, Any] | None = None, warp_size: int = 64) -> Any:
    """triton.compile one @triton.jit function for sm_90; returns the compiled kernel (asm, metadata)."""
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    return triton.compile(ASTSource(fn, signature, constexprs or {}, attrs or {}),
                          target=GPUTarget("cuda", 90, warp_size), options=options or {})


def report(row: dict[str, Any], compile_call: Any) -> bool:
    """Compile by `compile_call()`, print `row` as one JSON line with `wgmma` (tensor-core MMA in the
    PTX) and `error` (None, or the failure's last words); True when it compiled."""
    import json

    try:
        row.update(wgmma="wgmma" in compile_call().asm["ptx"], error=None)
    except Exception as exc:  # noqa: BLE001 - reported per kernel
        row["error"] = f"{type(exc).__name__}: {str(exc)[-400:]}"
    print(json.dumps(row), flush=True)
    return row["error"] is None
