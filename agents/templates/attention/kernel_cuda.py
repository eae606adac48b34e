"""CUDA source of the sm_90a flash-attention forward kernel (FlashAttention-3's schedule).

A CTA tile is 128 query rows of one (batch, head); a CTA has three warpgroups:
- warpgroup 0, the producer: one thread loads the tile's Q and its K / V tiles by TMA into a
  STAGES-deep ring of shared-memory buffers (mbarriers full / empty per stage, K and V separately);
- warpgroups 1 and 2, the consumers, each own 64 query rows. Per key tile they issue
  S = Q K^T (wgmma, both operands in shared memory) together with O += P V of the previous tile
  (wgmma, P from registers), then do the softmax of S while the tensor cores work. Two named
  barriers make the consumers take turns issuing, so one warpgroup's softmax overlaps the
  other's matrix products ("ping-pong"). With fewer CTAs than tiles (PERSISTENT), each CTA walks
several tiles and the producer loads the next tile while the consumers finish the last.
Scores are in exp2 units: log2(e) is folded into the scale once. Tiles that the bounds say are
fully visible skip the element-wise mask; the score modification runs on every tile.
Placeholders (@@NAME@@) are filled by attention_cuda_render.py; the host code is in attention_cuda_host.py.
"""
from __future__ import annotations

KERNEL = r'''
constexpr int BLOCK_M = 128;
constexpr int STAGES = @@STAGES@@;
constexpr float LOG2E = 1.44269504f;
typedef @@CTYPE@@ kw_t;

template <int D, int BN>
struct KwLayout {
    static constexpr int Q_BYTES = BLOCK_M * D * 2;
    static constexpr int KV_BYTES = BN * D * 2;
    static constexpr int Q_OFF = 0;
    static constexpr int K_OFF = Q_BYTES;
    static constexpr int V_OFF = K_OFF + STAGES * KV_BYTES;
    static constexpr int BAR_OFF = V_OFF + STAGES * KV_BYTES;
    static constexpr int BYTES = BAR_OFF + 8 * (2 + 4 * STAGES) + 1024;  // + alignment slack
};

// Raw q.k -> the score kw_softmax takes (see its scale), with score_mod, mask_mod and the ragged tail.
template <bool MASKED>
KW_DI float kw_score(float s, float sm_scale, int b_idx, int h_idx, int q_idx, int kv_idx,
                     int Z, int NUM_HEADS, int N_CTX, int HEAD_DIM @@PARAM_DECLS@@) {
@@SCORE_BODY@@
    if (MASKED) {  // branch-free: a select lets nvcc share q-only / kv-only terms between elements
        bool keep = kv_idx < N_CTX;
@@MASK_BODY@@
        x = keep ? x : KW_NEG_INF;
    }
    return x;
}

template <int D, int BN, bool MASKED>
KW_DI void kw_scores(float* s, int n0, float sm_scale, int b_idx, int h_idx, int row0, int t4,
                     int Z, int NUM_HEADS, int N_CTX @@PARAM_DECLS@@) {
#pragma unroll
    for (int j = 0; j < BN / 8; ++j)
#pragma unroll
        for (int i = 0; i < 2; ++i)
#pragma unroll
            for (int e = 0; e < 2; ++e) {
                float& x = s[4 * j + 2 * i + e];
                x = kw_score<MASKED>(x, sm_scale, b_idx, h_idx, row0 + 8 * i, n0 + 8 * j + 2 * t4 + e,
                                     Z, NUM_HEADS, N_CTX, D @@PARAM_NAMES@@);
            }
}

// Online softmax of one tile (in place: s -> p), updating the running max m, sum l and the rescale
// factor alpha. Scores arrive in `scale` units: raw q.k with scale = sm_scale * log2(e) when there is no
// score modification (then exp2(s * scale - m * scale) is one FFMA and one MUFU per element), or
// exp2-unit scores with scale = 1.
template <int BN>
KW_DI void kw_softmax(float* s, float* m, float* l, float* alpha, float scale) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
        float mx = m[i];
#pragma unroll
        for (int j = 0; j < BN / 8; ++j) mx = fmaxf(mx, fmaxf(s[4 * j + 2 * i], s[4 * j + 2 * i + 1]));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffff, mx, 2));
        alpha[i] = kw_exp2((m[i] - mx) * scale);
        m[i] = mx;
        const float shift = -mx * scale;
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < BN / 8; ++j) {
            s[4 * j + 2 * i] = kw_exp2(fmaf(s[4 * j + 2 * i], scale, shift));
            s[4 * j + 2 * i + 1] = kw_exp2(fmaf(s[4 * j + 2 * i + 1], scale, shift));
            sum += s[4 * j + 2 * i] + s[4 * j + 2 * i + 1];
        }
        l[i] = l[i] * alpha[i] + sum;
    }
}

template <int D, int BN>
KW_DI void kw_qk(float (&s)[BN / 2], const uint8_t* q_tile, const uint8_t* k_tile) {
#pragma unroll
    for (int kk = 0; kk < D / 16; ++kk) {
        const uint8_t* a = q_tile + (kk / 4) * (BLOCK_M * 128) + (kk % 4) * 32;
        const uint8_t* b = k_tile + (kk / 4) * (BN * 128) + (kk % 4) * 32;
        kw_wgmma_ss(s, kw_desc(a, 16, 1024), kw_desc(b, 16, 1024), kk > 0);
    }
}

template <int D, int BN>
KW_DI void kw_pv(float (&o)[D / 2], const uint32_t* p, const uint8_t* v_tile) {
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk)
        kw_wgmma_rs(o, p + 4 * kk, kw_desc(v_tile + kk * 16 * 128, BN * 128, 1024), 1);
}

@@STORE_ROW@@
@@TILE_ORDER@@
// The key range of one CTA tile (128 query rows of one batch*head): [lo, hi) holds every key tile
// with a visible pair, [full_lo, full_hi) the tiles that need no element mask.
struct KwRange { int lo, hi, full_lo, full_hi, n_tiles; };

template <int BN>
KW_DI KwRange kw_key_range(int m0, int N_CTX @@PARAM_DECLS@@) {
    const int m_last = min(m0 + BLOCK_M, N_CTX) - 1;
    int lo = 0, hi = N_CTX, full_lo = 0, full_hi = (N_CTX / BN) * BN;
@@BOUNDS@@
    full_lo = min(max(full_lo, lo), hi);
    full_hi = min(max(full_hi, full_lo), hi);
    return {lo, hi, full_lo, full_hi, hi > lo ? (hi - lo + BN - 1) / BN : 0};
}

// CTA tiles are numbered batch*head-major (neighbouring CTAs share K and V in L2), longest rows first
// within a head (causal). A launch with fewer CTAs than tiles walks them persistently (kw_tile); the
// K / V ring and its mbarrier phases then run on across tiles.
template <int D, int BN>
KW_DI void kw_attn_fwd(const CUtensorMap* map_q, const CUtensorMap* map_k, const CUtensorMap* map_v,
                       kw_t* __restrict__ out, float sm_scale, int Z, int NUM_HEADS, int N_CTX @@PARAM_DECLS@@) {
    typedef KwLayout<D, BN> L;
    uint8_t* smem = kw_smem_raw + ((1024 - (kw_smem(kw_smem_raw) & 1023)) & 1023);
    uint8_t* q_tile = smem + L::Q_OFF;
    uint64_t* bars = reinterpret_cast<uint64_t*>(smem + L::BAR_OFF);
    uint64_t* q_full = bars;
    uint64_t* q_empty = bars + 1;
    uint64_t* k_full = bars + 2;
    uint64_t* k_empty = k_full + STAGES;
    uint64_t* v_full = k_empty + STAGES;
    uint64_t* v_empty = v_full + STAGES;
    const int num_m = (N_CTX + BLOCK_M - 1) / BLOCK_M, num_tiles = num_m * Z * NUM_HEADS;

    const int wg = threadIdx.x / 128;
    if (threadIdx.x == 0) {
        kw_mbar_init(q_full, 1);
        kw_mbar_init(q_empty, 8);  // one arrival per consumer warp
        for (int st = 0; st < STAGES; ++st) {
            kw_mbar_init(k_full + st, 1);
            kw_mbar_init(v_full + st, 1);
            kw_mbar_init(k_empty + st, 8);
            kw_mbar_init(v_empty + st, 8);
        }
        kw_fence_barrier_init();
    }
    __syncthreads();

    if (wg == 0) {  // producer: one thread issues every TMA load
        kw_setmaxnreg_dec<24>();
        if (threadIdx.x != 0) return;
        int g = 0, loaded = 0;  // key tiles / CTA tiles loaded so far
        for (int k = 0, tile = kw_tile(0); tile < num_tiles; tile = kw_tile(++k)) {
            const int bh = tile / num_m, m0 = (num_m - 1 - tile % num_m) * BLOCK_M;
            const KwRange r = kw_key_range<BN>(m0, N_CTX @@PARAM_NAMES@@);
            if (r.n_tiles == 0) continue;
            if (loaded > 0) kw_mbar_wait(q_empty, (loaded - 1) & 1);
            kw_mbar_expect_tx(q_full, L::Q_BYTES);
#pragma unroll
            for (int p = 0; p < D / 64; ++p) kw_tma_load_3d(q_tile + p * BLOCK_M * 128, map_q, 64 * p, m0, bh, q_full);
            ++loaded;
            for (int it = 0; it < r.n_tiles; ++it, ++g) {
                const int st = g % STAGES, round = g / STAGES, n0 = r.lo + it * BN;
                uint8_t* k_tile = smem + L::K_OFF + st * L::KV_BYTES;
                uint8_t* v_tile = smem + L::V_OFF + st * L::KV_BYTES;
                if (round > 0) kw_mbar_wait(k_empty + st, (round - 1) & 1);
                kw_mbar_expect_tx(k_full + st, L::KV_BYTES);
#pragma unroll
                for (int p = 0; p < D / 64; ++p) kw_tma_load_3d(k_tile + p * BN * 128, map_k, 64 * p, n0, bh, k_full + st);
                if (round > 0) kw_mbar_wait(v_empty + st, (round - 1) & 1);
                kw_mbar_expect_tx(v_full + st, L::KV_BYTES);
#pragma unroll
                for (int p = 0; p < D / 64; ++p) kw_tma_load_3d(v_tile + p * BN * 128, map_v, 64 * p, n0, bh, v_full + st);
            }
        }
        return;
    }

    kw_setmaxnreg_inc<240>();
    const int c = wg - 1;                 // consumer index: rows m0 + 64c ... + 63
    const int tid = threadIdx.x % 128, warp = tid / 32, lane = tid % 32, t4 = lane % 4;
    const int my_bar = 1 + c, other_bar = 2 - c;
    const uint8_t* q_mine = q_tile + 64 * c * 128;
    const float softmax_scale = @@SOFTMAX_SCALE@@;
    float o[D / 2], s[BN / 2], m[2], l[2], alpha[2];
    uint32_t p[BN / 4];
    int g = 0, loaded = 0;

    for (int k = 0, tile = kw_tile(0); tile < num_tiles; tile = kw_tile(++k)) {
        const int bh = tile / num_m, m0 = (num_m - 1 - tile % num_m) * BLOCK_M;
        const int b_idx = bh / NUM_HEADS, h_idx = bh % NUM_HEADS;
        const int row0 = m0 + 64 * c + 16 * warp + lane / 4;   // this thread's rows: row0, row0 + 8
        const KwRange r = kw_key_range<BN>(m0, N_CTX @@PARAM_NAMES@@);
        const int n_tiles = r.n_tiles;
#pragma unroll
        for (int x = 0; x < D / 2; ++x) o[x] = 0.f;
        m[0] = m[1] = -1.0e30f;
        l[0] = l[1] = 0.f;

        if (n_tiles > 0) {
            if (c == 1) kw_named_arrive(1, 256);   // consumer 0 issues first in every CTA tile
            kw_mbar_wait(q_full, loaded & 1);
            kw_mbar_wait(k_full + g % STAGES, (g / STAGES) & 1);
            kw_named_sync(my_bar, 256);
            kw_wgmma_fence();
            kw_qk<D, BN>(s, q_mine, smem + L::K_OFF + (g % STAGES) * L::KV_BYTES);
            kw_wgmma_commit();
            kw_named_arrive(other_bar, 256);
            kw_wgmma_wait<0>();
            if (lane == 0) {
                kw_mbar_arrive(k_empty + g % STAGES);
                if (n_tiles == 1) kw_mbar_arrive(q_empty);
            }
            if (r.lo < r.full_lo || r.lo >= r.full_hi)
                kw_scores<D, BN, true>(s, r.lo, sm_scale, b_idx, h_idx, row0, t4, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
            else
                kw_scores<D, BN, false>(s, r.lo, sm_scale, b_idx, h_idx, row0, t4, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
            kw_softmax<BN>(s, m, l, alpha, softmax_scale);
#pragma unroll
            for (int x = 0; x < BN / 4; ++x) p[x] = kw_pack2(s[2 * x], s[2 * x + 1]);

            for (int it = 1; it < n_tiles; ++it) {
                const int gi = g + it, st = gi % STAGES, prev = (gi - 1) % STAGES, n0 = r.lo + it * BN;
                kw_mbar_wait(k_full + st, (gi / STAGES) & 1);
                kw_mbar_wait(v_full + prev, ((gi - 1) / STAGES) & 1);  // long since loaded: no branch between the wgmmas
                kw_named_sync(my_bar, 256);
                kw_wgmma_fence();
                kw_qk<D, BN>(s, q_mine, smem + L::K_OFF + st * L::KV_BYTES);
                kw_wgmma_commit();
                kw_pv<D, BN>(o, p, smem + L::V_OFF + prev * L::KV_BYTES);
                kw_wgmma_commit();
                kw_named_arrive(other_bar, 256);
                kw_wgmma_wait<1>();
                if (lane == 0) {
                    kw_mbar_arrive(k_empty + st);
                    if (it == n_tiles - 1) kw_mbar_arrive(q_empty);  // Q's last reader is done
                }
                if (n0 < r.full_lo || n0 >= r.full_hi)
                    kw_scores<D, BN, true>(s, n0, sm_scale, b_idx, h_idx, row0, t4, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
                else
                    kw_scores<D, BN, false>(s, n0, sm_scale, b_idx, h_idx, row0, t4, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
                kw_softmax<BN>(s, m, l, alpha, softmax_scale);
                kw_wgmma_wait<0>();
                if (lane == 0) kw_mbar_arrive(v_empty + prev);
#pragma unroll
                for (int j = 0; j < D / 8; ++j) {
                    o[4 * j] *= alpha[0];
                    o[4 * j + 1] *= alpha[0];
                    o[4 * j + 2] *= alpha[1];
                    o[4 * j + 3] *= alpha[1];
                }
#pragma unroll
                for (int x = 0; x < BN / 4; ++x) p[x] = kw_pack2(s[2 * x], s[2 * x + 1]);
            }

            const int gl = g + n_tiles - 1, last = gl % STAGES;
            kw_mbar_wait(v_full + last, (gl / STAGES) & 1);
            kw_named_sync(my_bar, 256);
            kw_wgmma_fence();
            kw_pv<D, BN>(o, p, smem + L::V_OFF + last * L::KV_BYTES);
            kw_wgmma_commit();
            if (c == 0) kw_named_arrive(other_bar, 256);
            kw_wgmma_wait<0>();
            if (lane == 0) kw_mbar_arrive(v_empty + last);
            g += n_tiles;
            ++loaded;
        }

#pragma unroll
        for (int i = 0; i < 2; ++i) {
            l[i] += __shfl_xor_sync(0xffffffff, l[i], 1);
            l[i] += __shfl_xor_sync(0xffffffff, l[i], 2);
            const float inv = l[i] > 0.f ? 1.f / l[i] : 0.f;
            uint32_t w[D / 8];  // this row's column pairs 8j + 2 t4, packed
#pragma unroll
            for (int j = 0; j < D / 8; ++j) w[j] = kw_pack2(o[4 * j + 2 * i] * inv, o[4 * j + 2 * i + 1] * inv);
            kw_store_row<D>(out + ((size_t)bh * N_CTX + row0 + 8 * i) * D, w, t4, row0 + 8 * i < N_CTX);
        }
    }
}

__global__ void __launch_bounds__(384, 1)
kw_attn_fwd_d64(const __grid_constant__ CUtensorMap map_q, const __grid_constant__ CUtensorMap map_k,
                const __grid_constant__ CUtensorMap map_v, kw_t* __restrict__ out, float sm_scale,
                int Z, int NUM_HEADS, int N_CTX @@PARAM_DECLS@@) {
    kw_attn_fwd<64, @@BN@@>(&map_q, &map_k, &map_v, out, sm_scale, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
}

__global__ void __launch_bounds__(384, 1)
kw_attn_fwd_d128(const __grid_constant__ CUtensorMap map_q, const __grid_constant__ CUtensorMap map_k,
                 const __grid_constant__ CUtensorMap map_v, kw_t* __restrict__ out, float sm_scale,
                 int Z, int NUM_HEADS, int N_CTX @@PARAM_DECLS@@) {
    kw_attn_fwd<128, @@BN@@>(&map_q, &map_k, &map_v, out, sm_scale, Z, NUM_HEADS, N_CTX @@PARAM_NAMES@@);
}
'''  # noqa: E501 - CUDA source, emitted as written

# Helpers kept apart so that the tests can compile them with g++ (tests/test_attention_cuda.py).
STORE_ROW = r'''// Store one output row held by a quad (thread t4 has the column pairs 8j + 2 t4) as 16-byte
// chunks: a 4 x 4 transpose of 32-bit words in two shuffle rounds gives thread t4 the eight columns
// 8(4g + t4) ... of each group g, so a warp writes 64 contiguous bytes per row instead of 4-byte pieces.
template <int D>
KW_DI void kw_store_row(kw_t* row_ptr, uint32_t (&w)[D / 8], int t4, bool in_range) {
#pragma unroll
    for (int g = 0; g < D / 32; ++g) {
        uint32_t* a = w + 4 * g;
#pragma unroll
        for (int bit = 2; bit >= 1; bit >>= 1) {  // swap 2 x 2 blocks, then words within them
            const bool hi = t4 & bit;
#pragma unroll
            for (int x = 0; x < 4; ++x) {
                if (x & bit) continue;        // pair (x, x + bit): the low thread sends x + bit, the high x
                const uint32_t got = __shfl_xor_sync(0xffffffff, hi ? a[x] : a[x + bit], bit);
                if (hi) a[x] = got; else a[x + bit] = got;
            }
        }
        if (in_range) *reinterpret_cast<uint4*>(row_ptr + 8 * (4 * g + t4)) = make_uint4(a[0], a[1], a[2], a[3]);
    }
}

'''
TILE_ORDER = r'''// The CTA tile a CTA takes in its k-th round (rounds of gridDim.x tiles). Odd rounds run backwards, so
// that a persistent CTA given a long causal or document tile in one round gets a short one in the next
// (their lengths repeat with a period that can divide gridDim.x, e.g. 4 tiles per 512-token document).
KW_DI int kw_tile(int k) { return k * gridDim.x + ((k & 1) ? gridDim.x - 1 - blockIdx.x : blockIdx.x); }

'''
KERNEL = KERNEL.replace("@@STORE_ROW@@\n", STORE_ROW).replace("@@TILE_ORDER@@\n", TILE_ORDER)

# C bounds per tile-skipping key (same arithmetic as the Triton kernel's BOUNDS_* strings).
BOUNDS_CAUSAL = '''    hi = min(hi, m_last + 1);
    full_hi = min(full_hi, ((m0 + 1) / BN) * BN);
'''
BOUNDS_WINDOW = '''    lo = max(lo, (max(m0 - (@@W@@) + 1, 0) / BN) * BN);
    full_lo = max(full_lo, ((max(m_last - (@@W@@) + 1, 0) + BN - 1) / BN) * BN);
'''
BOUNDS_DOCUMENTS = '''    {
        const int nd = @@ND@@;
        const int d_first = (int)(((long long)m0 * nd) / N_CTX), d_last = (int)(((long long)m_last * nd) / N_CTX);
        const int doc_lo = (int)(((long long)d_first * N_CTX + nd - 1) / nd);
        const int doc_hi = (int)(((long long)(d_last + 1) * N_CTX + nd - 1) / nd);
        lo = max(lo, (doc_lo / BN) * BN);
        hi = min(hi, doc_hi);
        const bool one_doc = d_first == d_last;
        full_lo = one_doc ? max(full_lo, ((doc_lo + BN - 1) / BN) * BN) : hi;
        full_hi = one_doc ? min(full_hi, (doc_hi / BN) * BN) : hi;
    }
'''
