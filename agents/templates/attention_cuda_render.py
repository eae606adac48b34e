"""Assemble the sm_90a attention kernel's CUDA source from the translated mods and bounds.

`cuda_source(...)` returns one translation unit with `extern "C"` entry points
``kw_attn_fwd_d64`` and ``kw_attn_fwd_d128`` (one per supported head dimension) plus
``kw_probe_d128``, a one-tile check of the wgmma / TMA layouts used by benchmarks/attention_cuda_check.py.
`smem_bytes(head_dim, block_n, stages)` is the dynamic shared memory a launch needs.
"""
from __future__ import annotations

from kernelwright.agents.templates.attention_cuda_kernel import (
    BOUNDS_CAUSAL,
    BOUNDS_DOCUMENTS,
    BOUNDS_WINDOW,
    KERNEL,
)
from kernelwright.agents.templates.attention_cuda_ptx import DTYPES, HELPERS, pack_source, wgmma_source

HEAD_DIMS = (64, 128)
THREADS = 384
BLOCK_M = 128

_ENTRY = '''
extern "C" __global__ void __launch_bounds__(384, 1)
kw_attn_fwd_d@@D@@(const uint8_t* __restrict__ maps, kw_t* __restrict__ out, float sm_scale,
                   int Z, int NUM_HEADS, int N_CTX @@PARAM_DECLS@@) {
    kw_attn_fwd<@@D@@, @@BN@@>(maps, out, sm_scale, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
}
'''

PROBE = '''
// One 64 x 128 x 128 step of the consumer's work, with its layouts: s_out = Q[:64] K^T (fp32),
// o_out = rne(s_out) V. Launch with 128 threads, one block, maps for 128-row q / k / v tiles.
extern "C" __global__ void __launch_bounds__(128, 1)
kw_probe_d128(const uint8_t* __restrict__ maps, float* __restrict__ s_out, float* __restrict__ o_out,
              float* __restrict__ o_alt) {
    uint8_t* smem = kw_smem_raw + ((1024 - (kw_smem(kw_smem_raw) & 1023)) & 1023);
    uint8_t* q = smem;
    uint8_t* k = smem + 32768;
    uint8_t* v = smem + 65536;
    uint64_t* bar = reinterpret_cast<uint64_t*>(smem + 98304);
    if (threadIdx.x == 0) {
        kw_mbar_init(bar, 1);
        kw_fence_barrier_init();
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        kw_fence_tensormap(maps);
        kw_fence_tensormap(maps + 128);
        kw_fence_tensormap(maps + 256);
        kw_mbar_expect_tx(bar, 3 * 32768);
        for (int p = 0; p < 2; ++p) {
            kw_tma_load_3d(q + p * 16384, maps, 64 * p, 0, 0, bar);
            kw_tma_load_3d(k + p * 16384, maps + 128, 64 * p, 0, 0, bar);
            kw_tma_load_3d(v + p * 16384, maps + 256, 64 * p, 0, 0, bar);
        }
    }
    kw_mbar_wait(bar, 0);
    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, t4 = lane % 4, row0 = 16 * warp + lane / 4;
    float s[64], o[64];
    uint32_t p[32];
    for (int x = 0; x < 64; ++x) o[x] = 0.f;
    kw_wgmma_fence();
    kw_qk<128, 128>(s, q, k);
    kw_wgmma_commit();
    kw_wgmma_wait<0>();
    for (int j = 0; j < 16; ++j)
        for (int i = 0; i < 2; ++i)
            for (int e = 0; e < 2; ++e) s_out[(row0 + 8 * i) * 128 + 8 * j + 2 * t4 + e] = s[4 * j + 2 * i + e];
    for (int x = 0; x < 32; ++x) p[x] = kw_pack2(s[2 * x], s[2 * x + 1]);
    kw_wgmma_fence();
    kw_pv<128, 128>(o, p, v);
    kw_wgmma_commit();
    kw_wgmma_wait<0>();
    for (int j = 0; j < 16; ++j)
        for (int i = 0; i < 2; ++i)
            for (int e = 0; e < 2; ++e) o_out[(row0 + 8 * i) * 128 + 8 * j + 2 * t4 + e] = o[4 * j + 2 * i + e];
    // the same product with V's descriptor offsets swapped (LBO 1024, SBO one panel): tells which reading holds
    for (int x = 0; x < 64; ++x) o[x] = 0.f;
    kw_wgmma_fence();
    for (int kk = 0; kk < 8; ++kk) kw_wgmma_rs(o, p + 4 * kk, kw_desc(v + kk * 16 * 128, 1024, 128 * 128), 1);
    kw_wgmma_commit();
    kw_wgmma_wait<0>();
    for (int j = 0; j < 16; ++j)
        for (int i = 0; i < 2; ++i)
            for (int e = 0; e < 2; ++e) o_alt[(row0 + 8 * i) * 128 + 8 * j + 2 * t4 + e] = o[4 * j + 2 * i + e];
}
'''


MAX_SMEM = 232448  # bytes of dynamic shared memory an sm_90 block may use


def smem_bytes(head_dim: int, block_n: int, stages: int) -> int:
    """Dynamic shared memory of one CTA (KwLayout in the kernel source)."""
    return BLOCK_M * head_dim * 2 + 2 * stages * block_n * head_dim * 2 + 8 * (1 + 4 * stages) + 1024


def bounds_source(causal: bool, window: str | None, documents: str | None) -> str:
    """C statements narrowing [lo, hi) and the unmasked [full_lo, full_hi) of one CTA's key range."""
    text = BOUNDS_CAUSAL if causal else ""
    if window is not None:
        text += BOUNDS_WINDOW.replace("@@W@@", window)
    if documents is not None:
        text += BOUNDS_DOCUMENTS.replace("@@ND@@", documents)
    return text


def cuda_source(*, score_body: str, mask_body: str, bounds: str, dtype: str, block_n: int, stages: int,
                params: list[str], mod_functions: str = "", probe: bool = False, raw_scores: bool = False) -> str:
    """The whole translation unit.

    score_body: C statements that define `float x` from the raw dot `s` (exp2 units, or with
    raw_scores the raw dot itself: the softmax then applies sm_scale * log2(e)), given
    `sm_scale`, `b_idx`, `h_idx`, `q_idx`, `kv_idx` and the shape ints; mask_body: statements run
    only on masked tiles that `return KW_NEG_INF;` for hidden pairs. params: extra float kernel
    parameters (init arguments), in order."""
    if dtype not in DTYPES:
        raise ValueError(f"the CUDA attention kernel supports {sorted(DTYPES)}, not {dtype}")
    decls = "".join(f", float {p}" for p in params)
    names = "".join(f", {p}" for p in params)
    widths = sorted({block_n, *HEAD_DIMS})
    entries = "".join(_ENTRY.replace("@@D@@", str(d)) for d in HEAD_DIMS)
    body = (KERNEL.replace("@@STAGES@@", str(stages)).replace("@@CTYPE@@", DTYPES[dtype][1])
            .replace("@@BOUNDS@@", bounds).replace("@@SCORE_BODY@@", score_body)
            .replace("@@MASK_BODY@@", mask_body)
            .replace("@@SOFTMAX_SCALE@@", "sm_scale * LOG2E" if raw_scores else "1.0f").replace("@@INSTANCES@@", entries + (PROBE if probe else "")))
    body = body.replace("@@BN@@", str(block_n)).replace("@@PARAM_DECLS@@", decls).replace("@@PARAM_NAMES@@", names)
    return (HELPERS + pack_source(dtype) + "".join(wgmma_source(n, dtype) for n in widths) + mod_functions + body)


PLAIN_SCORE = "    float x = s;\n"   # with raw_scores=True
CAUSAL_MASK = "        if (!(q_idx >= kv_idx)) return KW_NEG_INF;\n"
