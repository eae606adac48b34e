"""Triton source text of the flash-attention forward kernels that the attention family renders.

Two tilings share one inner update (online softmax in exp2 form):
- sequence tiling (`KERNEL_1D`): a program owns BLOCK_M consecutive queries of one (batch, head)
  and walks key tiles of BLOCK_N in three ranges: [lo, full_lo) masked, [full_lo, full_hi)
  unmasked, [full_hi, hi) masked. lo/hi skip tiles that the causal / window / document structure
  masks entirely; the unmasked middle runs without evaluating mask_mod or the tail guard.
  With TMA the tiles come from device-side tensor descriptors; with WS (Triton's automatic warp
  specialisation, which on sm_90 handles one loop per kernel) the three ranges become one loop
  that masks every tile unless MASK_ALL is False (no mask_mod and BLOCK_N divides N_CTX).
- 2-D neighbourhood tiling (`KERNEL_2D`): a program owns a PATCH_H x PATCH_W patch of the image
  grid; the keys its queries can see form one rectangle, which is flattened and walked in tiles
  of BLOCK_N tokens (gathered rows), so almost no key outside the rectangle is touched.

Placeholders in braces are filled by `render_triton.py`; doubled braces are literal. `{lse_arg}` /
`{lse_store}` are empty for inference; for training (render_backward.py) the kernel also stores each
row's log-sum-exp in log2 units, which the backward kernels (kernel_triton_bwd.py) read.
Only builtin tl.* ops are used (no tl.cdiv / tl.sigmoid, which are @jit helpers): a process that
imported triton in interpreter mode can then still compile these kernels for a real GPU target.
"""

TANH_HELPER = '''
@triton.jit
def _kw_tanh(x, FAST: tl.constexpr):
    # tanh.approx.f32 is one MUFU op on sm_75+; the interpreter uses the sigmoid identity
    if FAST:
        return tl.inline_asm_elementwise("tanh.approx.f32 $0, $1;", "=f,f", [x.to(tl.float32)],
                                         dtype=tl.float32, is_pure=True, pack=1)
    else:
        return 2.0 / (1.0 + tl.exp(-2.0 * x.to(tl.float32))) - 1.0
'''

# q.k^T of one key tile (the interpreter's dot mishandles bf16: it multiplies float32 copies there).
QK_DOT = '''        if UPCAST_DOT:
            {out} = tl.dot(q.to(tl.float32), {k}.to(tl.float32))
        else:
            {out} = tl.dot(q, {k})'''

# Scores -> score_mod -> mask -> online-softmax update of (m_i, l_i, acc). Shared by both tilings.
# LAZY keeps a stale running max until some row's max grew by more than 8 (log2 units, p <= 256),
# so the rescale of acc (BLOCK_M x HEAD_DIM multiplies) is skipped on most tiles.
# {exp2}/{share}: tl.math.exp2, or the MUFU + polynomial mix of attention_poly.py (config POLY_EXP).
TILE_UPDATE = '''{score}
{mask_block}
        m_ij = tl.maximum(m_i, tl.max(qk, 1){scale})
        if LAZY:
            if tl.max(m_ij - m_i, 0) > 8.0:
                alpha = tl.math.exp2(m_i - m_ij)
                l_i = l_i * alpha
                acc = acc * alpha[:, None]
                m_i = m_ij
            p = {exp2}(qk{scale} - m_i[:, None]{share})
            l_i = l_i + tl.sum(p, 1)
        else:
            p = {exp2}(qk{scale} - m_ij[:, None]{share})
            alpha = tl.math.exp2(m_i - m_ij)
            l_i = l_i * alpha + tl.sum(p, 1)
            acc = acc * alpha[:, None]
            m_i = m_ij'''

PV_DOT = '''        if UPCAST_DOT:
            acc = tl.dot(p.to(v.dtype).to(tl.float32), v.to(tl.float32), acc)
        else:
            acc = tl.dot(p.to(v.dtype), v, acc)'''

KERNEL_1D = '''
@triton.jit
def _kw_key_range(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_vn, lo, hi,
                  b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z, NUM_HEADS, N_CTX,
                  {param_args}MASKED: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                  FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr, LAZY: tl.constexpr):
    for start_n in range(lo, hi, BLOCK_N):
        offs_kv = start_n + offs_n
        kv_idx = offs_kv[None, :]
        kv_idx_f = kv_idx.to(tl.float32)
        kv_ok = kv_idx < N_CTX
        k_ptrs = k_base + offs_kv[None, :] * stride_kn + offs_d[:, None]
        v_ptrs = v_base + offs_kv[:, None] * stride_vn + offs_d[None, :]
        if MASKED:
            k = tl.load(k_ptrs, mask=kv_ok, other=0.0)
        else:
            k = tl.load(k_ptrs)
{qk_dot}
{tile_update}
        if MASKED:
            v = tl.load(v_ptrs, mask=offs_kv[:, None] < N_CTX, other=0.0)
        else:
            v = tl.load(v_ptrs)
{pv_dot}
    return acc, l_i, m_i


@triton.jit
def _kw_key_range_pipelined(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_vn, lo, hi,
                            b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z, NUM_HEADS, N_CTX,
                            {param_args}MASKED: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                            FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr, LAZY: tl.constexpr):
    # unmasked tiles only; q.k^T of tile j+1 is issued before the softmax of tile j (FA3-style
    # overlap of the tensor cores with the exp2 work); the tile past `hi` loads zeros
    offs_kv = lo + offs_n
    k = tl.load(k_base + offs_kv[None, :] * stride_kn + offs_d[:, None], mask=offs_kv[None, :] < hi, other=0.0)
{qk_dot_first}
    for start_n in range(lo, hi, BLOCK_N):
        offs_kv = start_n + offs_n
        kv_idx = offs_kv[None, :]
        kv_idx_f = kv_idx.to(tl.float32)
        kv_ok = kv_idx < N_CTX
        offs_next = offs_kv + BLOCK_N
        k = tl.load(k_base + offs_next[None, :] * stride_kn + offs_d[:, None], mask=offs_next[None, :] < hi, other=0.0)
{qk_dot_next}
{tile_update}
        v = tl.load(v_base + offs_kv[:, None] * stride_vn + offs_d[None, :])
{pv_dot}
        qk = qk_next
    return acc, l_i, m_i


@triton.jit
def _kw_key_range_tma(acc, l_i, m_i, q, desc_k, desc_v, lo, hi,
                      b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z, NUM_HEADS, N_CTX,
                      {param_args}MASKED: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                      FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr, LAZY: tl.constexpr, WS: tl.constexpr):
    # K and V tiles come by TMA from per-(batch, head) descriptors (no address arithmetic in
    # registers; rows past N_CTX arrive as zeros). WS asks Triton to warp-specialise the loop: on
    # sm_90 a producer warpgroup issues the TMA loads and two consumer warpgroups split BLOCK_M
    for start_n in tl.range(lo, hi, BLOCK_N, warp_specialize=WS):
        offs_kv = start_n + offs_n
        kv_idx = offs_kv[None, :]
        kv_idx_f = kv_idx.to(tl.float32)
        kv_ok = kv_idx < N_CTX
        k = desc_k.load([start_n, 0]).T
{qk_dot}
{tile_update}
        v = desc_v.load([start_n, 0])
{pv_dot}
    return acc, l_i, m_i


@triton.jit
def _kw_attn_fwd(Q, K, V, Out, {lse_arg}sm_scale,
                 stride_qz, stride_qh, stride_qm, stride_kz, stride_kh, stride_kn,
                 stride_vz, stride_vh, stride_vn, stride_oz, stride_oh, stride_om,
                 Z, NUM_HEADS, N_CTX, {param_args}HEAD_DIM: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr,
                 LAZY: tl.constexpr, PIPE_QK: tl.constexpr, TMA: tl.constexpr, WS: tl.constexpr,
                 MASK_ALL: tl.constexpr):
    num_m = (N_CTX + BLOCK_M - 1) // BLOCK_M
    start_m = {start_m}
    off_hz = tl.program_id(1)
    b_idx = off_hz // NUM_HEADS
    h_idx = off_hz % NUM_HEADS
    q_base = Q + b_idx.to(tl.int64) * stride_qz + h_idx.to(tl.int64) * stride_qh
    k_base = K + b_idx.to(tl.int64) * stride_kz + h_idx.to(tl.int64) * stride_kh
    v_base = V + b_idx.to(tl.int64) * stride_vz + h_idx.to(tl.int64) * stride_vh
    o_base = Out + b_idx.to(tl.int64) * stride_oz + h_idx.to(tl.int64) * stride_oh
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q_idx = offs_m[:, None]
    q_idx_f = q_idx.to(tl.float32)
    if TMA:
        desc_q = tl.make_tensor_descriptor(q_base, shape=[N_CTX, HEAD_DIM], strides=[stride_qm, 1],
                                           block_shape=[BLOCK_M, HEAD_DIM])
        q = desc_q.load([start_m * BLOCK_M, 0])
    else:
        q = tl.load(q_base + offs_m[:, None] * stride_qm + offs_d[None, :], mask=q_idx < N_CTX, other=0.0)
    # finite start for the running max: a fully masked tile then gives p = 0, alpha = 1, never NaN
    m_i = tl.full([BLOCK_M], -1.0e30, dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    # exp2 form: log2(e) is folded into the score scale once, not applied per element
    qk_scale = sm_scale * 1.44269504
    m0 = start_m * BLOCK_M
    m_last = tl.minimum(m0 + BLOCK_M, N_CTX) - 1
    lo = m0 * 0
    hi = lo + N_CTX
    full_lo = lo
    full_hi = (N_CTX // BLOCK_N) * BLOCK_N
{bounds}
    full_lo = tl.minimum(tl.maximum(full_lo, lo), hi)
    full_hi = tl.minimum(tl.maximum(full_hi, full_lo), hi)
    if TMA:
        # every q/K/V tile by TMA from descriptors over this (batch, head)'s (N_CTX, HEAD_DIM) slice
        # (rows past N_CTX read as zeros, like the masked pointer loads): Triton's Hopper warp
        # specialisation fails on kernels that mix pointer loads with the specialised loop
        desc_k = tl.make_tensor_descriptor(k_base, shape=[N_CTX, HEAD_DIM], strides=[stride_kn, 1],
                                           block_shape=[BLOCK_N, HEAD_DIM])
        desc_v = tl.make_tensor_descriptor(v_base, shape=[N_CTX, HEAD_DIM], strides=[stride_vn, 1],
                                           block_shape=[BLOCK_N, HEAD_DIM])
        if WS:
            # Triton 3.6's Hopper warp specialisation takes one loop per kernel: walk [lo, hi) once and
            # mask every tile (mask_mod, ragged tail) unless MASK_ALL says no tile needs it
            acc, l_i, m_i = _kw_key_range_tma(acc, l_i, m_i, q, desc_k, desc_v, lo, hi,
                                              b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z,
                                              NUM_HEADS, N_CTX, {param_pass}MASK_ALL, BLOCK_N, HEAD_DIM, FAST_TANH,
                                              UPCAST_DOT, LAZY, True)
        else:
            acc, l_i, m_i = _kw_key_range_tma(acc, l_i, m_i, q, desc_k, desc_v, lo, full_lo,
                                              b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z,
                                              NUM_HEADS, N_CTX, {param_pass}True, BLOCK_N, HEAD_DIM, FAST_TANH,
                                              UPCAST_DOT, LAZY, False)
            acc, l_i, m_i = _kw_key_range_tma(acc, l_i, m_i, q, desc_k, desc_v, full_lo, full_hi,
                                              b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z,
                                              NUM_HEADS, N_CTX, {param_pass}False, BLOCK_N, HEAD_DIM, FAST_TANH,
                                              UPCAST_DOT, LAZY, False)
            acc, l_i, m_i = _kw_key_range_tma(acc, l_i, m_i, q, desc_k, desc_v, full_hi, hi,
                                              b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z,
                                              NUM_HEADS, N_CTX, {param_pass}True, BLOCK_N, HEAD_DIM, FAST_TANH,
                                              UPCAST_DOT, LAZY, False)
    else:
        acc, l_i, m_i = _kw_key_range(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_vn, lo, full_lo,
                                      b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z,
                                      NUM_HEADS, N_CTX, {param_pass}True, BLOCK_N, HEAD_DIM, FAST_TANH,
                                      UPCAST_DOT, LAZY)
        if PIPE_QK:
            acc, l_i, m_i = _kw_key_range_pipelined(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_vn,
                                                    full_lo, full_hi, b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d,
                                                    sm_scale, qk_scale, Z, NUM_HEADS, N_CTX, {param_pass}False,
                                                    BLOCK_N, HEAD_DIM, FAST_TANH, UPCAST_DOT, LAZY)
        else:
            acc, l_i, m_i = _kw_key_range(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_vn, full_lo,
                                          full_hi, b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale,
                                          qk_scale, Z, NUM_HEADS, N_CTX, {param_pass}False, BLOCK_N, HEAD_DIM,
                                          FAST_TANH, UPCAST_DOT, LAZY)
        acc, l_i, m_i = _kw_key_range(acc, l_i, m_i, q, k_base, v_base, stride_kn, stride_vn, full_hi, hi,
                                      b_idx, h_idx, q_idx, q_idx_f, offs_n, offs_d, sm_scale, qk_scale, Z,
                                      NUM_HEADS, N_CTX, {param_pass}True, BLOCK_N, HEAD_DIM, FAST_TANH,
                                      UPCAST_DOT, LAZY)
    acc = acc / l_i[:, None]
    tl.store(o_base + offs_m[:, None] * stride_om + offs_d[None, :], acc.to(Out.dtype.element_ty),
             mask=q_idx < N_CTX){lse_store}
'''

BOUNDS_CAUSAL = '''    # causal: keys after the block's last query are masked; tiles wholly at or below m0 are full
    hi = tl.minimum(hi, m_last + 1)
    full_hi = tl.minimum(full_hi, ((m0 + 1) // BLOCK_N) * BLOCK_N)
'''

BOUNDS_WINDOW = '''    # sliding window: key valid iff kv_idx > q_idx - W
    lo = tl.maximum(lo, (tl.maximum(m0 - ({w}) + 1, 0) // BLOCK_N) * BLOCK_N)
    full_lo = tl.maximum(full_lo, ((tl.maximum(m_last - ({w}) + 1, 0) + BLOCK_N - 1) // BLOCK_N) * BLOCK_N)
'''

BOUNDS_DOCUMENTS = '''    # documents: doc(i) = i * ND // N_CTX; doc d starts at ceil(d * N_CTX / ND)
    d_first = (m0 * ({nd})) // N_CTX
    d_last = (m_last * ({nd})) // N_CTX
    doc_lo = (d_first * N_CTX + ({nd}) - 1) // ({nd})
    doc_hi = ((d_last + 1) * N_CTX + ({nd}) - 1) // ({nd})
    lo = tl.maximum(lo, (doc_lo // BLOCK_N) * BLOCK_N)
    hi = tl.minimum(hi, doc_hi)
    one_doc = d_first == d_last
    full_lo = tl.where(one_doc, tl.maximum(full_lo, ((doc_lo + BLOCK_N - 1) // BLOCK_N) * BLOCK_N), hi)
    full_hi = tl.where(one_doc, tl.minimum(full_hi, (doc_hi // BLOCK_N) * BLOCK_N), hi)
'''

KERNEL_2D = '''
@triton.jit
def _kw_attn_fwd(Q, K, V, Out, {lse_arg}sm_scale,
                 stride_qz, stride_qh, stride_qm, stride_kz, stride_kh, stride_kn,
                 stride_vz, stride_vh, stride_vn, stride_oz, stride_oh, stride_om,
                 Z, NUM_HEADS, N_CTX, {param_args}HEAD_DIM: tl.constexpr,
                 PATCH_H: tl.constexpr, PATCH_W: tl.constexpr, BLOCK_M: tl.constexpr,
                 BLOCK_N: tl.constexpr, FAST_TANH: tl.constexpr, UPCAST_DOT: tl.constexpr,
                 LAZY: tl.constexpr, PIPE_QK: tl.constexpr):
    GRID_H = {grid_h}
    GRID_W = {grid_w}
    HALF = ({kernel}) // 2
    pid = tl.program_id(0)
    off_hz = tl.program_id(1)
    b_idx = off_hz // NUM_HEADS
    h_idx = off_hz % NUM_HEADS
    q_base = Q + b_idx.to(tl.int64) * stride_qz + h_idx.to(tl.int64) * stride_qh
    k_base = K + b_idx.to(tl.int64) * stride_kz + h_idx.to(tl.int64) * stride_kh
    v_base = V + b_idx.to(tl.int64) * stride_vz + h_idx.to(tl.int64) * stride_vh
    o_base = Out + b_idx.to(tl.int64) * stride_oz + h_idx.to(tl.int64) * stride_oh
    n_pw = (GRID_W + PATCH_W - 1) // PATCH_W
    r0 = (pid // n_pw) * PATCH_H
    c0 = (pid % n_pw) * PATCH_W
    offs_m = tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    q_row = r0 + offs_m // PATCH_W
    q_col = c0 + offs_m % PATCH_W
    q_ok = (q_row < GRID_H) & (q_col < GRID_W)
    q_tok = q_row * GRID_W + q_col
    q_idx = q_tok[:, None]
    q_idx_f = q_idx.to(tl.float32)
    q = tl.load(q_base + q_tok[:, None] * stride_qm + offs_d[None, :], mask=q_ok[:, None], other=0.0)
    m_i = tl.full([BLOCK_M], -1.0e30, dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
    qk_scale = sm_scale * 1.44269504
    # the window centre of row r is clamp(r, HALF, G - 1 - HALF); centres grow with r, so the keys
    # of the patch's queries form one rectangle [kr_lo, kr_hi) x [kc_lo, kc_hi)
    r_last = tl.minimum(r0 + PATCH_H, GRID_H) - 1
    c_last = tl.minimum(c0 + PATCH_W, GRID_W) - 1
    kr_lo = tl.maximum(tl.minimum(tl.maximum(r0, HALF), GRID_H - 1 - HALF) - HALF, 0)
    kr_hi = tl.minimum(tl.minimum(tl.maximum(r_last, HALF), GRID_H - 1 - HALF) + HALF + 1, GRID_H)
    kc_lo = tl.maximum(tl.minimum(tl.maximum(c0, HALF), GRID_W - 1 - HALF) - HALF, 0)
    kc_hi = tl.minimum(tl.minimum(tl.maximum(c_last, HALF), GRID_W - 1 - HALF) + HALF + 1, GRID_W)
    rect_w = kc_hi - kc_lo
    rect_n = (kr_hi - kr_lo) * rect_w
    for start_n in range(0, rect_n, BLOCK_N):
        # flattened rectangle position -> grid token (1-D index math on BLOCK_N values only)
        pos = start_n + offs_n
        k_tok = (kr_lo + pos // rect_w) * GRID_W + kc_lo + pos % rect_w
        k_in = pos < rect_n
        kv_idx = k_tok[None, :]
        kv_idx_f = kv_idx.to(tl.float32)
        kv_ok = k_in[None, :]
        k = tl.load(k_base + k_tok[None, :] * stride_kn + offs_d[:, None], mask=kv_ok, other=0.0)
{qk_dot}
{tile_update}
        v = tl.load(v_base + k_tok[:, None] * stride_vn + offs_d[None, :], mask=k_in[:, None], other=0.0)
{pv_dot}
    acc = acc / l_i[:, None]
    tl.store(o_base + q_tok[:, None] * stride_om + offs_d[None, :], acc.to(Out.dtype.element_ty),
             mask=q_ok[:, None]){lse_store}
'''
