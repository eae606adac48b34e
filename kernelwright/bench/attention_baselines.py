"""Baselines for the attention benchmark: FlexAttention (Triton and FLASH backends), FlashAttention-4,
SDPA, torch.compile'd and eager references.

Each builder returns a zero-argument callable that computes the attention output on prepared
inputs, or raises `Skip` with the reason (not applicable, not installed, would not fit in memory).
FlexAttention's FLASH backend and FlashAttention-4 need the `flash-attn-4` and `nvidia-cutlass-dsl`
wheels (scripts/pack_fa4.sh here, scripts/fa4_setup.sh on the GPU host).
"""
from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import torch
import torch.nn.functional as F

# the naive reference materialises fp32 (B, H, S, S) scores several times over
NAIVE_LIMIT_BYTES = 12 * 2**30


class Skip(Exception):
    """A baseline does not apply to this variant or shape; the message says why."""


def flex(module: ModuleType, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
         tensors: tuple[torch.Tensor, ...] = (), backend: str | None = None) -> Callable[[], torch.Tensor]:
    """torch.compile'd flex_attention with the problem's own score_mod and a block mask from mask_mod.
    `tensors`: what score_mod reads after its five arguments (captured by FlexAttention's score_mod).
    `backend`: None for Flex's default (Triton), "FLASH" for its FlashAttention-4 (CuTe DSL) backend."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    if backend == "FLASH" and not fa4_installed():
        raise Skip(f"FlexAttention's FLASH backend needs flash-attn-4: {FA4_MISSING}")
    options = {"kernel_options": {"BACKEND": backend}} if backend else {}
    # past dynamo's recompile limit, flex_attention silently runs its unfused eager form (a GPU bench
    # of several variants in one process timed that, ~100 ms, as "Flex"): make it an error instead
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    compiled = torch.compile(flex_attention)
    score_mod = getattr(module, "score_mod", None)
    if score_mod is not None and tensors:
        problem_mod = score_mod

        def score_mod(score, b, h, q_idx, kv_idx):  # type: ignore[no-redef]
            return problem_mod(score, b, h, q_idx, kv_idx, *tensors)

    mask_mod = getattr(module, "mask_mod", None)
    seq = q.shape[2]
    block_mask = None
    if mask_mod is not None:
        block_mask = create_block_mask(mask_mod, None, None, seq, seq, device=q.device)
    return lambda: compiled(q, k, v, score_mod=score_mod, block_mask=block_mask, **options)


FA4_MISSING = "not installed (scripts/pack_fa4.sh, then scripts/fa4_setup.sh on the GPU host)"


def fa4_installed() -> bool:
    """Whether FlashAttention-4's CuTe DSL interface imports."""
    try:
        import flash_attn.cute  # noqa: F401
    except Exception:  # noqa: BLE001 - ImportError, or a CUDA / CuTe DSL library that fails to load
        return False
    return True


def fa4(variant: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> Callable[[], torch.Tensor]:
    """FlashAttention-4's own flash_attn_func, for plain and causal attention. It takes (B, S, H, D) with any
    strides but the last: the call gets transposed views (no copy, so gradients reach q, k and v) and
    returns its output viewed back as (B, H, S, D)."""
    if variant not in ("plain", "causal"):
        raise Skip("FlashAttention-4's flash_attn_func is compared for plain and causal only")
    if not fa4_installed():
        raise Skip(f"flash-attn-4 {FA4_MISSING}")
    from flash_attn.cute import flash_attn_func

    causal = variant == "causal"
    return lambda: flash_attn_func(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                   causal=causal)[0].transpose(1, 2)


def sdpa(variant: str, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> Callable[[], torch.Tensor]:
    """PyTorch's fused scaled_dot_product_attention, for the variants it expresses natively."""
    if variant not in ("plain", "causal"):
        raise Skip("SDPA has no fused form of this score/mask modification")
    causal = variant == "causal"
    return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def _naive_fits(q: torch.Tensor) -> None:
    batch, heads, seq, _ = q.shape
    need = batch * heads * seq * seq * 4
    if need > NAIVE_LIMIT_BYTES:
        raise Skip(f"naive reference needs {need / 2**30:.0f} GiB per score tensor (limit "
                   f"{NAIVE_LIMIT_BYTES / 2**30:.0f})")


def naive_eager(module: ModuleType, init: list, q: torch.Tensor, k: torch.Tensor,
                v: torch.Tensor) -> Callable[[], torch.Tensor]:
    """The problem's own reference Model, eager."""
    _naive_fits(q)
    model = module.Model(*init)
    return lambda: model(q, k, v)


def naive_compiled(module: ModuleType, init: list, q: torch.Tensor, k: torch.Tensor,
                   v: torch.Tensor) -> Callable[[], torch.Tensor]:
    """torch.compile of the problem's reference Model."""
    _naive_fits(q)
    model = torch.compile(module.Model(*init))
    return lambda: model(q, k, v)
