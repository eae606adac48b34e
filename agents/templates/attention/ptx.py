"""CUDA device helpers (inline PTX) for the sm_90a flash-attention backend, as source text.

The helpers cover what a Hopper attention kernel needs and CUDA C++ has no intrinsic for:
mbarriers, TMA tile loads (`cp.async.bulk.tensor`), named barriers, register reallocation and
`wgmma` with 128-byte-swizzled shared-memory operands. `wgmma_source(n, dtype)` generates the two
instruction wrappers a kernel with tile width n needs (A from shared memory, or from registers).

Shared-memory layout contract (what TMA writes with SWIZZLE_128B and wgmma reads): a tile of R rows
x 64 columns of 16-bit values is one "panel" of R * 128 bytes, 1024-byte aligned; a row of D columns
spans D / 64 panels. For a K-major operand (Q, K: the reduction runs along the row) the descriptor
steps 32 bytes per 16-wide k step inside a panel; for the MN-major V operand (reduction along rows)
LBO is the panel size and each 16-row k step moves 2048 bytes.
"""
from __future__ import annotations

DTYPES = {"bfloat16": ("bf16", "__nv_bfloat16"), "float16": ("f16", "__half")}

HELPERS = r'''
#include <cuda.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

#define KW_DI __device__ __forceinline__

extern __shared__ __align__(16) uint8_t kw_smem_raw[];   // dynamic shared memory (kernels align it to 1024)

KW_DI uint32_t kw_smem(const void* p) { return static_cast<uint32_t>(__cvta_generic_to_shared(p)); }

KW_DI void kw_mbar_init(uint64_t* bar, int count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(kw_smem(bar)), "r"(count));
}
KW_DI void kw_mbar_expect_tx(uint64_t* bar, uint32_t bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(kw_smem(bar)), "r"(bytes) : "memory");
}
KW_DI void kw_mbar_arrive(uint64_t* bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(kw_smem(bar)) : "memory");
}
KW_DI void kw_mbar_wait(uint64_t* bar, int phase) {
    uint32_t done = 0;
#ifdef KW_HANG_CHECK
    long long spins = 0;
#endif
    while (!done) {
        asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
                     : "=r"(done) : "r"(kw_smem(bar)), "r"(phase) : "memory");
#ifdef KW_HANG_CHECK
        if (++spins > (1ll << 26)) __trap();
#endif
    }
}
KW_DI void kw_fence_barrier_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }

// One box of a 3-D tensor map (inner column, row, batch*head) into shared memory; completes on bar.
// `map` is the address of a __grid_constant__ CUtensorMap kernel parameter.
KW_DI void kw_tma_load_3d(void* dst, const void* map, int c0, int c1, int c2, uint64_t* bar) {
    asm volatile(
        "cp.async.bulk.tensor.3d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4}], [%5];"
        :: "r"(kw_smem(dst)), "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(kw_smem(bar)) : "memory");
}

KW_DI void kw_named_sync(int id, int threads) { asm volatile("bar.sync %0, %1;" :: "r"(id), "r"(threads) : "memory"); }
KW_DI void kw_named_arrive(int id, int threads) { asm volatile("bar.arrive %0, %1;" :: "r"(id), "r"(threads) : "memory"); }

template <int N> KW_DI void kw_setmaxnreg_inc() { asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;" :: "n"(N)); }
template <int N> KW_DI void kw_setmaxnreg_dec() { asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;" :: "n"(N)); }

KW_DI void kw_wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
KW_DI void kw_wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N> KW_DI void kw_wgmma_wait() { asm volatile("wgmma.wait_group.sync.aligned %0;" :: "n"(N) : "memory"); }

// Shared-memory matrix descriptor, 128-byte swizzle (layout type 1 in bits 62-63).
KW_DI uint64_t kw_desc(const void* p, uint32_t lbo, uint32_t sbo) {
    uint64_t addr = kw_smem(p);
    return ((addr & 0x3FFFF) >> 4) | ((uint64_t)((lbo & 0x3FFFF) >> 4) << 16)
         | ((uint64_t)((sbo & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

#define KW_NEG_INF __int_as_float(0xff800000)

KW_DI float kw_exp2(float x) { float y; asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x)); return y; }
'''  # noqa: E501 - CUDA/PTX source, emitted as written


def _regs(count: int, start: int, constraint: str, name: str) -> tuple[str, str]:
    """('{%s, ...}' placeholder list, operand list) for `count` registers from operand `start`."""
    slots = ", ".join(f"%{start + i}" for i in range(count))
    operands = ", ".join(f'"{constraint}"({name}[{i}])' for i in range(count))
    return "{" + slots + "}", operands


def wgmma_source(n: int, dtype: str = "bfloat16") -> str:
    """Two wrappers for wgmma m64 x n x k16 with fp32 accumulators `d[n / 2]`.

    kw_wgmma_ss: A and B from shared-memory descriptors (A K-major, B K-major: S = Q K^T).
    kw_wgmma_rs: A from 4 packed registers, B an MN-major descriptor (O += P V, V transposed).
    Both overload on the accumulator array's length, so one kernel can include several widths.
    `accumulate` = 0 overwrites d (first k step)."""
    ptx_type = DTYPES[dtype][0]
    count = n // 2
    d_slots, d_ops = _regs(count, 0, "+f", "d")
    shape = f"m64n{n}k16.f32.{ptx_type}.{ptx_type}"
    ss = (
        f"KW_DI void kw_wgmma_ss(float (&d)[{count}], uint64_t desc_a, uint64_t desc_b, int accumulate) {{\n"
        f'    asm volatile("{{\\n .reg .pred p;\\n setp.ne.b32 p, %{count + 2}, 0;\\n"\n'
        f'        "wgmma.mma_async.sync.aligned.{shape} {d_slots}, %{count}, %{count + 1}, p, 1, 1, 0, 0;\\n}}"\n'
        f'        : {d_ops}\n'
        f'        : "l"(desc_a), "l"(desc_b), "r"(accumulate));\n'
        "}\n"
    )
    a_slots = "{" + ", ".join(f"%{count + i}" for i in range(4)) + "}"
    rs = (
        f"KW_DI void kw_wgmma_rs(float (&d)[{count}], const uint32_t* a, uint64_t desc_b, int accumulate) {{\n"
        f'    asm volatile("{{\\n .reg .pred p;\\n setp.ne.b32 p, %{count + 5}, 0;\\n"\n'
        f'        "wgmma.mma_async.sync.aligned.{shape} {d_slots}, {a_slots}, %{count + 4}, p, 1, 1, 1;\\n}}"\n'
        f'        : {d_ops}\n'
        f'        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(desc_b), "r"(accumulate));\n'
        "}\n"
    )
    return ss + rs


def pack_source(dtype: str = "bfloat16") -> str:
    """kw_pack2(lo, hi): two floats -> one 32-bit register of 16-bit values (lo in the low half)."""
    if dtype == "bfloat16":
        body = "__nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);"
    else:
        body = "__half2 v = __floats2half2_rn(lo, hi);"
    return f"KW_DI uint32_t kw_pack2(float lo, float hi) {{ {body} return *reinterpret_cast<uint32_t*>(&v); }}\n"
