"""N-d convolution for the `lowered` family: aten convolution (and _convolution), forward and transposed.

What a captured graph contains: every ``nn.ConvNd`` / ``nn.ConvTransposeNd`` / ``F.convNd`` stays one
``convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)``.

How: one implicit-GEMM kernel for 1-, 2- and 3-d. The wrapper views every problem as 3-d (missing
leading spatial dims get size 1, stride 0, kernel 1) and passes runtime sizes and strides, so no
operand is copied. Rows of the GEMM are output pixels of all images (N * OD * OH * OW, so small
images still fill tiles), columns are the output channels of one group, and the reduction runs over
r = (input channel of the group, kernel tap) in BLOCK_K chunks. A row's input position splits into a
row part (output pixel) and a column part (tap), so per chunk only 1-d index math plus the bounds
masks are 2-d. Transposed convolution is the gather form: output o takes input i = (o + p - k*d) / s
when that divides exactly and lies inside; the weight is (C_in, C_out/groups, k...).
Tiles with >= 16 output channels per group multiply with ``tl.dot`` (fp32 accumulation; fp16/bf16 on
tensor cores; float32 operands as the config's ``fp32_dot`` says: "tf32x3" (three TF32 tensor-core
products, near float32's precision: ~2**-21 per product), "ieee" (CUDA-core FMAs) or "tf32" (one TF32
product, only where ``torch.backends.cudnn.allow_tf32`` lets eager's cuDNN do the same, else "ieee");
on the CPU interpreter tiles are upcast to fp32 first). Depthwise-like tiles (< 16 channels per
group) use a broadcast multiply and a sum over BLOCK_K instead (``tl.dot`` needs 16 columns).
Contract: see ``WRAPPERS`` (aten packet name -> (wrapper, every function the wrapper uses)).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _kw_conv_tap(base, tap, dil, stride, size, TRANSPOSED: tl.constexpr):
    """Input position along one dim for row bases (BLOCK_M) x taps (BLOCK_K), and whether it exists."""
    if TRANSPOSED:  # output o reads input (o + p - k*d) / s when the division is exact
        t = base[:, None] - (tap * dil)[None, :]
        pos = t // stride
        ok = (t >= 0) & (pos * stride == t) & (pos < size)
    else:  # output o reads input o*s - p + k*d
        pos = base[:, None] + (tap * dil)[None, :]
        ok = (pos >= 0) & (pos < size)
    return pos, ok


@triton.jit
def _kw_conv_kernel(x_ptr, w_ptr, b_ptr, y_ptr, M_TOTAL, C_OUT, CG_IN, CG_OUT, R,
                    ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, DH, DW,
                    xs_n, xs_c, xs_d, xs_h, xs_w, ws_0, ws_1, ws_d, ws_h, ws_w,
                    HAS_BIAS: tl.constexpr, TRANSPOSED: tl.constexpr, USE_DOT: tl.constexpr, UPCAST: tl.constexpr,
                    FP32_DOT: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    pid_m = tl.program_id(0)
    tiles_n = tl.cdiv(CG_OUT, BLOCK_N)
    g = tl.program_id(1) // tiles_n
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = (tl.program_id(1) % tiles_n) * BLOCK_N + tl.arange(0, BLOCK_N)  # output channel within group
    offs_k = tl.arange(0, BLOCK_K)
    m_ok = offs_m < M_TOTAL
    n_ok = offs_n < CG_OUT
    osp = OD * OH * OW
    img = (offs_m // osp).to(tl.int64)  # int64: image offsets may pass 2**31 elements
    sp = offs_m % osp
    od = sp // (OH * OW)
    oh = (sp // OW) % OH
    ow = sp % OW
    if TRANSPOSED:
        base_d, base_h, base_w = od + PD, oh + PH, ow + PW
        w_col = offs_n * ws_1
    else:
        base_d, base_h, base_w = od * SD - PD, oh * SH - PH, ow * SW - PW
        w_col = (g * CG_OUT + offs_n) * ws_0
    x_row = x_ptr + img * xs_n + g * CG_IN * xs_c
    kvol = KD * KH * KW
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for r0 in range(0, R, BLOCK_K):
        r = r0 + offs_k
        r_ok = r < R
        c = r // kvol
        kv = r % kvol
        kd = kv // (KH * KW)
        kh = (kv // KW) % KH
        kw = kv % KW
        pd_, okd = _kw_conv_tap(base_d, kd, DD, SD, ID, TRANSPOSED)
        ph_, okh = _kw_conv_tap(base_h, kh, DH, SH, IH, TRANSPOSED)
        pw_, okw = _kw_conv_tap(base_w, kw, DW, SW, IW, TRANSPOSED)
        a_mask = m_ok[:, None] & r_ok[None, :] & okd & okh & okw
        a = tl.load(x_row[:, None] + c[None, :] * xs_c + pd_ * xs_d + ph_ * xs_h + pw_ * xs_w, mask=a_mask, other=0.0)
        if TRANSPOSED:
            w_row = (g * CG_IN + c) * ws_0
        else:
            w_row = c * ws_1
        w_row += kd * ws_d + kh * ws_h + kw * ws_w
        b = tl.load(w_ptr + w_row[:, None] + w_col[None, :], mask=r_ok[:, None] & n_ok[None, :], other=0.0)
        if USE_DOT:
            if UPCAST:
                a = a.to(tl.float32)
                b = b.to(tl.float32)
            acc = tl.dot(a, b, acc, input_precision=FP32_DOT)
        else:  # few channels per group: broadcast multiply-add, reduced over the BLOCK_K taps
            acc += tl.sum(a.to(tl.float32)[:, :, None] * b.to(tl.float32)[None, :, :], axis=1)
    co = g * CG_OUT + offs_n
    if HAS_BIAS:
        acc += tl.load(b_ptr + co, mask=n_ok, other=0.0).to(tl.float32)[None, :]
    y_ptrs = y_ptr + img[:, None] * C_OUT * osp + co[None, :] * osp + sp[:, None]
    tl.store(y_ptrs, acc.to(y_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


def _kw_conv_3d(values, nd, fill):
    """A per-dim argument (int or list) as 3 ints: one value repeated, missing leading dims filled with `fill`."""
    values = [int(values)] if isinstance(values, int) else [int(v) for v in values]
    if len(values) == 1 and nd > 1:
        values = values * nd
    return [fill] * (3 - nd) + values


def kw_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, *,
                   BLOCK_M=None, BLOCK_N=None, BLOCK_K=None, num_warps=None, num_stages=None, fp32_dot="ieee"):
    """aten.convolution for 1-, 2- and 3-d, groups / depthwise, and transposed with output_padding."""
    nd = input.dim() - 2
    n_img, c_in = input.shape[0], input.shape[1]
    groups = int(groups)
    ksz = [1] * (3 - nd) + [int(k) for k in weight.shape[2:]]
    isz = [1] * (3 - nd) + [int(s) for s in input.shape[2:]]
    st = _kw_conv_3d(stride, nd, 1)
    pad = _kw_conv_3d(padding, nd, 0)
    dil = _kw_conv_3d(dilation, nd, 1)
    if transposed:
        opad = _kw_conv_3d(output_padding, nd, 0)
        cg_out = weight.shape[1]
        osz = [(isz[i] - 1) * st[i] - 2 * pad[i] + dil[i] * (ksz[i] - 1) + opad[i] + 1 for i in range(3)]
    else:
        cg_out = weight.shape[0] // groups
        osz = [(isz[i] + 2 * pad[i] - dil[i] * (ksz[i] - 1) - 1) // st[i] + 1 for i in range(3)]
    c_out = cg_out * groups
    cg_in = c_in // groups
    out = torch.empty((n_img, c_out, *osz[3 - nd:]), device=input.device, dtype=input.dtype)
    if out.numel() == 0:
        return out
    xs = [input.stride(0), input.stride(1)] + [0] * (3 - nd) + [input.stride(i) for i in range(2, nd + 2)]
    ws = [weight.stride(0), weight.stride(1)] + [0] * (3 - nd) + [weight.stride(i) for i in range(2, nd + 2)]
    m_total = n_img * osz[0] * osz[1] * osz[2]
    red = cg_in * ksz[0] * ksz[1] * ksz[2]
    on_cpu = input.device.type == "cpu"  # the Triton interpreter: fp32 tiles, small blocks
    if fp32_dot not in ("ieee", "tf32x3", "tf32"):
        raise ValueError(f"fp32_dot must be 'ieee', 'tf32x3' or 'tf32', not {fp32_dot!r}")
    dot = "ieee" if on_cpu or input.dtype != torch.float32 else fp32_dot
    if dot == "tf32" and not torch.backends.cudnn.allow_tf32:  # plain TF32 only where eager's cuDNN may use it
        dot = "ieee"
    half = input.element_size() <= 2 and not on_cpu
    wide = half or dot != "ieee"  # tensor cores take bigger tiles
    use_dot = cg_out >= 16
    if use_dot:
        BLOCK_N = BLOCK_N or max(16, min(128 if wide else 64, triton.next_power_of_2(cg_out)))
        BLOCK_M = BLOCK_M or (32 if on_cpu else 128 if wide or BLOCK_N <= 32 else 64)
        BLOCK_K = BLOCK_K or max(16, min(64 if half else 32, triton.next_power_of_2(red)))
    else:
        BLOCK_N = BLOCK_N or triton.next_power_of_2(cg_out)
        BLOCK_M = BLOCK_M or (32 if on_cpu else max(64, 512 // BLOCK_N))
        BLOCK_K = BLOCK_K or min(8, triton.next_power_of_2(red))
    num_warps = num_warps or (8 if BLOCK_M * BLOCK_N >= 128 * 128 else 4)
    num_stages = num_stages or (3 if use_dot else 2)
    grid = (triton.cdiv(m_total, BLOCK_M), groups * triton.cdiv(cg_out, BLOCK_N))
    _kw_conv_kernel[grid](
        input, weight, bias if bias is not None else out, out, m_total, c_out, cg_in, cg_out, red,
        isz[0], isz[1], isz[2], osz[0], osz[1], osz[2], ksz[0], ksz[1], ksz[2], st[0], st[1], st[2],
        pad[0], pad[1], pad[2], dil[0], dil[1], dil[2], xs[0], xs[1], xs[2], xs[3], xs[4],
        ws[0], ws[1], ws[2], ws[3], ws[4], HAS_BIAS=bias is not None, TRANSPOSED=bool(transposed),
        USE_DOT=use_dot, UPCAST=on_cpu, FP32_DOT=dot, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K,
        num_warps=num_warps, num_stages=num_stages)
    return out


def kw__convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, benchmark,
                    deterministic, cudnn_enabled, allow_tf32, *, BLOCK_M=None, BLOCK_N=None, BLOCK_K=None,
                    num_warps=None, num_stages=None, fp32_dot="ieee"):
    """aten._convolution: convolution; the backend flags change nothing here."""
    return kw_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups,
                          BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, num_warps=num_warps,
                          num_stages=num_stages, fp32_dot=fp32_dot)


_KW_CONV_HELPERS = (_kw_conv_3d, _kw_conv_kernel, _kw_conv_tap)
WRAPPERS = {
    "convolution": (kw_convolution, _KW_CONV_HELPERS),
    "_convolution": (kw__convolution, (kw_convolution, *_KW_CONV_HELPERS)),
}
