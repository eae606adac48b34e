"""Dense matrix products for the `lowered` family: aten mm, addmm, bmm, baddbmm.

What a captured graph contains: ``nn.Linear`` becomes ``addmm(bias, x2d, permute(w))`` (``mm``
without bias; a 3-D input is viewed to 2-D around it), ``torch.matmul`` on 3-D/4-D tensors
becomes ``expand`` + ``view`` + ``bmm`` (``mm`` when one side is 2-D), ``einsum`` becomes ``bmm``.
Matrix-vector products decompose to ``mul`` + ``sum`` and are not handled here.

How: one batched kernel computes ``C[b] = alpha * A[b] @ B[b] + beta * I[b]`` for any strides
(transposed operands, broadcast batch with stride 0, a bias expanded with zero strides). Each
program owns a BLOCK_M x BLOCK_N tile of one batch, the tiles of a batch ordered in GROUP_M-tall
column groups for L2 reuse, and walks K in BLOCK_K steps with masked loads (0 adds nothing).
Accumulation is fp32: fp16/bf16 operands use tensor cores; float32 operands as the config's ``fp32_dot``
says: "tf32x3" (three TF32 tensor-core products, near float32's precision: ~2**-21 per product), "ieee"
(CUDA-core FMAs) or "tf32" (one TF32 product, only where ``torch.backends.cuda.matmul.allow_tf32`` lets
eager's cuBLAS do the same; off by default, and TF32 misses the default fp32 tolerance; else "ieee").
On the CPU (the Triton interpreter, whose bf16 dot is wrong) tiles are upcast to fp32 before the dot.
When few tiles would cover a long K (tall-skinny outputs), K is split over SPLIT_K programs writing
fp32 partials, and a second kernel adds them in a fixed order (deterministic, no atomics) and applies the epilogue.
Contract: see ``WRAPPERS`` (aten packet name -> (wrapper, every function the wrapper uses)).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl
from kernelwright.agents.templates.lowered.runtime import kw_fp32_dot


@triton.jit
def _kw_mm_kernel(a_ptr, b_ptr, c_ptr, bias_ptr, ws_ptr, M, N, K, K_PER, tiles_m, tiles_n, batch,
                  s_ab, s_am, s_ak, s_bb, s_bk, s_bn, s_cb, s_cm, s_cn, s_ib, s_im, s_in, alpha, beta,
                  HAS_BIAS: tl.constexpr, SPLIT: tl.constexpr, UPCAST: tl.constexpr, FP32_DOT: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):
    pid = tl.program_id(0)
    pid_k = tl.program_id(1)
    tiles = tiles_m * tiles_n
    bid = pid // tiles
    tile = pid % tiles
    group = GROUP_M * tiles_n
    first_m = (tile // group) * GROUP_M
    rows_in_group = tl.minimum(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (tile % group) % rows_in_group
    pid_n = (tile % group) // rows_in_group

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)
    k_lo = pid_k * K_PER
    k_hi = tl.minimum(K, k_lo + K_PER)
    bid64 = bid.to(tl.int64)  # batch offsets may pass 2**31 elements
    a_ptrs = a_ptr + bid64 * s_ab + offs_m[:, None] * s_am + (k_lo + offs_k)[None, :] * s_ak
    b_ptrs = b_ptr + bid64 * s_bb + (k_lo + offs_k)[:, None] * s_bk + offs_n[None, :] * s_bn
    m_ok = offs_m < M
    n_ok = offs_n < N
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k0 in range(k_lo, k_hi, BLOCK_K):
        k_ok = k0 + offs_k < k_hi
        a = tl.load(a_ptrs, mask=m_ok[:, None] & k_ok[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=k_ok[:, None] & n_ok[None, :], other=0.0)
        if UPCAST:
            a = a.to(tl.float32)
            b = b.to(tl.float32)
        acc = tl.dot(a, b, acc, input_precision=FP32_DOT)
        a_ptrs += BLOCK_K * s_ak
        b_ptrs += BLOCK_K * s_bk
    mask = m_ok[:, None] & n_ok[None, :]
    if SPLIT:  # raw fp32 partial; _kw_mm_reduce_kernel adds the slices and applies the epilogue
        ws_ptrs = ws_ptr + ((pid_k * batch + bid64) * M + offs_m[:, None]) * N + offs_n[None, :]
        tl.store(ws_ptrs, acc, mask=mask)
    else:
        acc = acc * alpha
        if HAS_BIAS:
            bias = tl.load(bias_ptr + bid64 * s_ib + offs_m[:, None] * s_im + offs_n[None, :] * s_in, mask=mask,
                           other=0.0)
            acc += beta * bias.to(tl.float32)
        c_ptrs = c_ptr + bid64 * s_cb + offs_m[:, None] * s_cm + offs_n[None, :] * s_cn
        tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _kw_mm_reduce_kernel(ws_ptr, c_ptr, bias_ptr, M, N, total, n_split, s_cb, s_cm, s_cn, s_ib, s_im, s_in,
                         alpha, beta, HAS_BIAS: tl.constexpr, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < total
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for s in range(n_split):  # fixed order: the result does not depend on scheduling
        acc += tl.load(ws_ptr + s * total + offs, mask=ok, other=0.0)
    bid = offs // (M * N)
    m = (offs // N) % M
    n = offs % N
    acc = acc * alpha
    if HAS_BIAS:
        acc += beta * tl.load(bias_ptr + bid * s_ib + m * s_im + n * s_in, mask=ok, other=0.0).to(tl.float32)
    tl.store(c_ptr + bid * s_cb + m * s_cm + n * s_cn, acc.to(c_ptr.dtype.element_ty), mask=ok)


def _kw_mm_launch(a, b, bias, out, alpha, beta, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, SPLIT_K, num_warps, num_stages,
                  fp32_dot):
    """out[b] = alpha * a[b] @ b[b] + beta * bias[b] for 3-D views (any strides); None = picked from the shapes."""
    nb, M, K = a.shape
    N = b.shape[2]
    if out.numel() == 0:
        return out
    on_cpu = a.device.type == "cpu"  # the Triton interpreter: fp32 tiles, small blocks
    dot = kw_fp32_dot(a.dtype, on_cpu, fp32_dot, torch.backends.cuda.matmul.allow_tf32)
    half = a.element_size() <= 2 and not on_cpu
    wide = half or dot != "ieee"  # tensor cores take bigger tiles
    cap = 32 if on_cpu else 128 if wide else 64
    BLOCK_M = BLOCK_M or max(16, min(cap, triton.next_power_of_2(M)))
    BLOCK_N = BLOCK_N or max(16, min(cap, triton.next_power_of_2(N)))
    BLOCK_K = BLOCK_K or max(16, min(cap // 2 if half else 32, triton.next_power_of_2(K)))
    num_warps = num_warps or (8 if BLOCK_M * BLOCK_N >= 128 * 128 else 4)
    tiles_m = triton.cdiv(M, BLOCK_M)
    tiles_n = triton.cdiv(N, BLOCK_N)
    tiles = nb * tiles_m * tiles_n
    if SPLIT_K is None:  # few output tiles over a long K: spread K over about two waves of 132 SMs
        SPLIT_K = min(triton.cdiv(264, tiles), K // 1024, 32) if tiles < 66 and K >= 4096 else 1
    SPLIT_K = max(1, SPLIT_K)
    k_per = triton.cdiv(triton.cdiv(max(K, 1), SPLIT_K), BLOCK_K) * BLOCK_K
    n_split = triton.cdiv(max(K, 1), k_per)
    has_bias = bias is not None and beta != 0
    bias = bias if has_bias else out
    ws = torch.empty((n_split, nb, M, N), device=a.device, dtype=torch.float32) if n_split > 1 else out
    _kw_mm_kernel[(tiles, n_split)](
        a, b, out, bias, ws, M, N, K, k_per, tiles_m, tiles_n, nb,
        a.stride(0), a.stride(1), a.stride(2), b.stride(0), b.stride(1), b.stride(2),
        out.stride(0), out.stride(1), out.stride(2), bias.stride(0), bias.stride(1), bias.stride(2),
        float(alpha), float(beta), HAS_BIAS=has_bias, SPLIT=n_split > 1, UPCAST=on_cpu, FP32_DOT=dot,
        BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, GROUP_M=GROUP_M, num_warps=num_warps,
        num_stages=num_stages)
    if n_split > 1:
        total = nb * M * N
        _kw_mm_reduce_kernel[(triton.cdiv(total, 1024),)](
            ws, out, bias, M, N, total, n_split, out.stride(0), out.stride(1), out.stride(2),
            bias.stride(0), bias.stride(1), bias.stride(2), float(alpha), float(beta), HAS_BIAS=has_bias,
            BLOCK=1024, num_warps=4)
    return out


def kw_mm(self, mat2, *, BLOCK_M=None, BLOCK_N=None, BLOCK_K=None, GROUP_M=8, SPLIT_K=None, num_warps=None,
          num_stages=3, fp32_dot="ieee"):
    """aten.mm: (M, K) @ (K, N)."""
    out = torch.empty((self.shape[0], mat2.shape[1]), device=self.device, dtype=self.dtype)
    _kw_mm_launch(self.unsqueeze(0), mat2.unsqueeze(0), None, out.unsqueeze(0), 1.0, 0.0,
                  BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, SPLIT_K, num_warps, num_stages, fp32_dot)
    return out


def kw_addmm(self, mat1, mat2, *, beta=1, alpha=1, BLOCK_M=None, BLOCK_N=None, BLOCK_K=None, GROUP_M=8,
             SPLIT_K=None, num_warps=None, num_stages=3, fp32_dot="ieee"):
    """aten.addmm: beta * self + alpha * (mat1 @ mat2), self broadcast to (M, N)."""
    M, N = mat1.shape[0], mat2.shape[1]
    out = torch.empty((M, N), device=mat1.device, dtype=mat1.dtype)
    _kw_mm_launch(mat1.unsqueeze(0), mat2.unsqueeze(0), self.expand(M, N).unsqueeze(0), out.unsqueeze(0), alpha,
                  beta, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, SPLIT_K, num_warps, num_stages, fp32_dot)
    return out


def kw_bmm(self, mat2, *, BLOCK_M=None, BLOCK_N=None, BLOCK_K=None, GROUP_M=8, SPLIT_K=None, num_warps=None,
           num_stages=3, fp32_dot="ieee"):
    """aten.bmm: (B, M, K) @ (B, K, N); batch strides may be 0 (expanded operands)."""
    out = torch.empty((self.shape[0], self.shape[1], mat2.shape[2]), device=self.device, dtype=self.dtype)
    _kw_mm_launch(self, mat2, None, out, 1.0, 0.0, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, SPLIT_K, num_warps,
                  num_stages, fp32_dot)
    return out


def kw_baddbmm(self, batch1, batch2, *, beta=1, alpha=1, BLOCK_M=None, BLOCK_N=None, BLOCK_K=None, GROUP_M=8,
               SPLIT_K=None, num_warps=None, num_stages=3, fp32_dot="ieee"):
    """aten.baddbmm: beta * self + alpha * (batch1 @ batch2), self broadcast to (B, M, N)."""
    nb, M, N = batch1.shape[0], batch1.shape[1], batch2.shape[2]
    out = torch.empty((nb, M, N), device=batch1.device, dtype=batch1.dtype)
    _kw_mm_launch(batch1, batch2, self.expand(nb, M, N), out, alpha, beta, BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M,
                  SPLIT_K, num_warps, num_stages, fp32_dot)
    return out


_KW_MM_HELPERS = (kw_fp32_dot, _kw_mm_launch, _kw_mm_kernel, _kw_mm_reduce_kernel)
WRAPPERS = {
    "mm": (kw_mm, _KW_MM_HELPERS),
    "addmm": (kw_addmm, _KW_MM_HELPERS),
    "bmm": (kw_bmm, _KW_MM_HELPERS),
    "baddbmm": (kw_baddbmm, _KW_MM_HELPERS),
}
