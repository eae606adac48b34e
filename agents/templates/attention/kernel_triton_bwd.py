"""Triton source text of the flash-attention backward kernels that the attention family renders.

Three kernels over contiguous (B, H, S, D) tensors, one program per tile and (batch, head):
- `_kw_attn_bwd_delta`: delta_i = sum_d dO_i,d * O_i,d (float32), per query row;
- `_kw_attn_bwd_dkdv`: a program owns BLOCK_N keys and walks the query tiles that can see them,
  accumulating dV += P^T dO and dK += dS^T Q;
- `_kw_attn_bwd_dq`: a program owns BLOCK_M queries and walks the key tiles they can see (the
  forward's bounds), accumulating dQ += dS K.

P is recomputed from the scores and the forward's log-sum-exp (log2 units, `Lse`), exactly as the
forward formed it: the same score_mod and mask statements. dS = P * (dP - delta) is the gradient
of the modded score; where score_mod is not `score + bias`, it is multiplied by d score_mod / d score
(`differentiate.py`). The gradients of tensors score_mod reads are summed in the dK/dV kernel.
Tiles are skipped only by the causal / window / document bounds and, for the 2-D neighbourhood, by
the band of image rows that can interact; every walked tile applies the mask (no unmasked fast path
yet). Placeholders in braces are filled by render_backward.py; doubled braces are literal.
"""

DOT_HELPER = '''
@triton.jit
def _kw_bwd_dot(a, b, UPCAST_DOT: tl.constexpr):
    # the CPU interpreter's tl.dot mishandles bf16 operands: there, dots run on float32 copies
    if UPCAST_DOT:
        return tl.dot(a.to(tl.float32), b.to(tl.float32))
    else:
        return tl.dot(a, b)
'''

# recompute one tile's probabilities and dS (dm: the gradient of the modded score; ds: of the raw score);
# expects q, kT, vT, do, lse, delta, q_idx, kv_idx loaded. In the dK/dV kernel, `tensor_grads` adds
# each pair's share to the gradients of score_mod's tensors (every pair is visited there exactly once).
TILE = '''        qk = _kw_bwd_dot(q, kT, UPCAST_DOT)
{statements}
        qk = tl.where(kv_ok{mask}, qk, float("-inf"))
        p = tl.math.exp2(qk{scale} - lse[:, None])
        dp = _kw_bwd_dot(do, vT, UPCAST_DOT)
        dm = p * (dp - delta[:, None])
        ds = dm{times_grad}{tensor_grads}'''

KERNELS = '''
@triton.jit
def _kw_bwd_program(NUM_HEADS, N_CTX, HEAD_DIM: tl.constexpr):
    # this program's (batch, head): its indices and the offsets of its rows and of its row statistics
    off_hz = tl.program_id(1)
    return off_hz // NUM_HEADS, off_hz % NUM_HEADS, off_hz.to(tl.int64) * N_CTX * HEAD_DIM, off_hz.to(tl.int64) * N_CTX


@triton.jit
def _kw_bwd_query_rows(Q, DO, Lse, Delta, base, row0, offs_m, offs_d, m_ok, HEAD_DIM: tl.constexpr):
    # a query tile's q and dO rows, log-sum-exp and delta (rows past N_CTX read as zeros)
    rows = base + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    q = tl.load(Q + rows, mask=m_ok[:, None], other=0.0)
    do = tl.load(DO + rows, mask=m_ok[:, None], other=0.0)
    lse = tl.load(Lse + row0 + offs_m, mask=m_ok, other=0.0)
    delta = tl.load(Delta + row0 + offs_m, mask=m_ok, other=0.0)
    return q, do, lse, delta


@triton.jit
def _kw_attn_bwd_delta(Out, DO, Delta, N_CTX, HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr):
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N_CTX * HEAD_DIM
    offs_m = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    rows = base + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    ok = offs_m[:, None] < N_CTX
    o = tl.load(Out + rows, mask=ok, other=0.0).to(tl.float32)
    do = tl.load(DO + rows, mask=ok, other=0.0).to(tl.float32)
    tl.store(Delta + off_hz.to(tl.int64) * N_CTX + offs_m, tl.sum(o * do, 1), mask=offs_m < N_CTX)


@triton.jit
def _kw_attn_bwd_dkdv(Q, K, V, DO, Lse, Delta, DK, DV, sm_scale, Z, NUM_HEADS, N_CTX, {param_args}{grad_args}
                      HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                      FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr):
    b_idx, h_idx, base, row0 = _kw_bwd_program(NUM_HEADS, N_CTX, HEAD_DIM)
    n0 = tl.program_id(0) * BLOCK_N
    offs_n = n0 + tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    kv_idx = offs_n[None, :]
    kv_idx_f = kv_idx.to(tl.float32)
    n_ok = offs_n[None, :] < N_CTX
    kT = tl.load(K + base + offs_n[None, :] * HEAD_DIM + offs_d[:, None], mask=n_ok, other=0.0)
    vT = tl.load(V + base + offs_n[None, :] * HEAD_DIM + offs_d[:, None], mask=n_ok, other=0.0)
    dk = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    qk_scale = sm_scale * 1.44269504
    n_last = tl.minimum(n0 + BLOCK_N, N_CTX) - 1
    lo = n0 * 0
    hi = lo + N_CTX
{key_bounds}
    for start_m in range(lo, hi, BLOCK_M):
        offs_m = start_m + tl.arange(0, BLOCK_M)
        q_idx = offs_m[:, None]
        q_idx_f = q_idx.to(tl.float32)
        m_ok = offs_m < N_CTX
        kv_ok = n_ok & (q_idx < N_CTX)
        q, do, lse, delta = _kw_bwd_query_rows(Q, DO, Lse, Delta, base, row0, offs_m, offs_d, m_ok, HEAD_DIM)
{tile_dkdv}
        dv += _kw_bwd_dot(tl.trans(p.to(do.dtype)), do, UPCAST_DOT)
        dk += _kw_bwd_dot(tl.trans(ds.to(q.dtype)), q, UPCAST_DOT)
    out = base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]
    tl.store(DK + out, (dk * sm_scale).to(DK.dtype.element_ty), mask=offs_n[:, None] < N_CTX)
    tl.store(DV + out, dv.to(DV.dtype.element_ty), mask=offs_n[:, None] < N_CTX)


@triton.jit
def _kw_attn_bwd_dq(Q, K, V, DO, Lse, Delta, DQ, sm_scale, Z, NUM_HEADS, N_CTX, {param_args}
                    HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                    FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr):
    b_idx, h_idx, base, row0 = _kw_bwd_program(NUM_HEADS, N_CTX, HEAD_DIM)
    m0 = tl.program_id(0) * BLOCK_M
    offs_m = m0 + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    q_idx = offs_m[:, None]
    q_idx_f = q_idx.to(tl.float32)
    m_ok = offs_m < N_CTX
    q, do, lse, delta = _kw_bwd_query_rows(Q, DO, Lse, Delta, base, row0, offs_m, offs_d, m_ok, HEAD_DIM)
    dq = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    qk_scale = sm_scale * 1.44269504
    m_last = tl.minimum(m0 + BLOCK_M, N_CTX) - 1
    lo = m0 * 0
    hi = lo + N_CTX
    full_lo = lo
    full_hi = (N_CTX // BLOCK_N) * BLOCK_N
{query_bounds}
    for start_n in range(lo, hi, BLOCK_N):
        offs_n = start_n + tl.arange(0, BLOCK_N)
        kv_idx = offs_n[None, :]
        kv_idx_f = kv_idx.to(tl.float32)
        n_ok = offs_n[None, :] < N_CTX
        kv_ok = n_ok & (q_idx < N_CTX)
        kT = tl.load(K + base + offs_n[None, :] * HEAD_DIM + offs_d[:, None], mask=n_ok, other=0.0)
        vT = tl.load(V + base + offs_n[None, :] * HEAD_DIM + offs_d[:, None], mask=n_ok, other=0.0)
{tile}
        dq += _kw_bwd_dot(ds.to(kT.dtype), tl.trans(kT), UPCAST_DOT)
    tl.store(DQ + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :], (dq * sm_scale).to(DQ.dtype.element_ty),
             mask=m_ok[:, None])
'''

# one tensor element's gradient share: dm times d score_mod / d element, masked pairs left out
TENSOR_GRAD_PAIRS = '''
        tl.atomic_add(DT_{tensor} + {offset}, tl.where(kv_ok, dm * ({grad}), 0.0), mask=kv_ok)'''
# an element indexed by batch / head only: one atomic add per tile
TENSOR_GRAD_HEAD = '''
        tl.atomic_add(DT_{tensor} + {offset}, tl.sum(tl.sum(tl.where(kv_ok, dm * ({grad}), 0.0), 1), 0))'''

# 2-D neighbourhood (tokens row-major on a GH x GW image, a query at row r sees the K x K window around
# clamp(r, K // 2, GH - 1 - K // 2)): both kernels walk the band of image rows that can interact
KEY_BOUNDS_GRID = '''    # neighbourhood: query rows whose window centre row lies within half of the key rows
    half = ({k}) // 2
    r_first = (n0 // ({gw})) - half
    r_last = (n_last // ({gw})) + half
    r_first = tl.where((r_first > half) & (2 * half < ({gh})), r_first, 0)
    r_last = tl.where((r_last < ({gh}) - 1 - half) & (2 * half < ({gh})), r_last, ({gh}) - 1)
    lo = tl.maximum(lo, ((r_first * ({gw})) // BLOCK_M) * BLOCK_M)
    hi = tl.minimum(hi, (r_last + 1) * ({gw}))'''

QUERY_BOUNDS_GRID = '''    # neighbourhood: key rows within half of the query rows' clamped window centres
    half = ({k}) // 2
    c_first = tl.minimum(tl.maximum(m0 // ({gw}), half), ({gh}) - 1 - half)
    c_last = tl.minimum(tl.maximum(m_last // ({gw}), half), ({gh}) - 1 - half)
    lo = tl.maximum(lo, ((tl.maximum(c_first - half, 0) * ({gw})) // BLOCK_N) * BLOCK_N)
    hi = tl.minimum(hi, (tl.minimum(c_last + half, ({gh}) - 1) + 1) * ({gw}))'''

# the query tiles that can see keys [n0, n_last] (start aligned to BLOCK_M)
KEY_BOUNDS_CAUSAL = '''    # causal: only queries at or after the first key see this tile
    lo = tl.maximum(lo, (n0 // BLOCK_M) * BLOCK_M)
'''

KEY_BOUNDS_WINDOW = '''    # sliding window: query q sees key kv iff kv > q - W, so q < n_last + W
    hi = tl.minimum(hi, n_last + ({w}))
'''

KEY_BOUNDS_DOCUMENTS = '''    # documents: doc(i) = i * ND // N_CTX; queries of the documents these keys belong to
    d_first = (n0 * ({nd})) // N_CTX
    d_last = (n_last * ({nd})) // N_CTX
    lo = tl.maximum(lo, (((d_first * N_CTX + ({nd}) - 1) // ({nd})) // BLOCK_M) * BLOCK_M)
    hi = tl.minimum(hi, ((d_last + 1) * N_CTX + ({nd}) - 1) // ({nd}))
'''
