"""N-d convolution for the `lowered` family: aten convolution (and _convolution), forward and transposed.

What a captured graph contains: every ``nn.ConvNd`` / ``nn.ConvTransposeNd`` / ``F.convNd`` stays one
``convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups)``.

How: one implicit-GEMM kernel for 1-, 2- and 3-d. The wrapper views every operand as 3-d (missing
leading spatial dims get size 1) and passes runtime sizes and strides, so no operand is copied. Rows
of the GEMM are output pixels of all images (N * OD * OH * OW, so small images still fill tiles),
columns are the output channels of one group. Groups of >= 16 input (and output) channels reduce tap by tap
(``TAP_MAJOR``): one loop over (kernel tap, BLOCK_K channels), so a tap's bounds check and input offset
are per row (1-d) and each A element costs one add and one mask. For it the wrapper copies the input to
channels-last and the weight to (taps, input channels, output channels) order, so every A and B tile row
is contiguous in memory and loads as 16-byte asynchronous copies (sm_90 PTX of a 64-channel 3x3 conv:
24 cp.async.cg where NCHW gave 96 4-byte cp.async.ca, a warp's lanes on as many channel planes). The
flat form reduces over r = (input channel, tap) in BLOCK_K chunks with 2-d index math per element, which
packs the few channels of a first layer (3 channels x 9 taps = 27 of a 32-wide chunk) where tap-major would waste them.
Transposed convolution (weight (C_in, C_out/groups, k...)): output o takes input i = (o + p - k*d) / s
where that divides exactly, so along each dim the outputs of one phase o = ph + q*s meet only the taps
with k*d = ph + p (mod s), k = k0 + t*step, at inputs i = q + c0 - t*e (c0, e integers). Each phase is
therefore an ordinary convolution (stride 1, padding -c0, dilation -e) over a strided view of the
output and of the weight: prod(s) launches that skip the taps a gather form would mask out (s**3 of
them in 3-d).
Tiles with >= 16 output channels per group multiply with ``tl.dot`` (fp32 accumulation; fp16/bf16 on
tensor cores; float32 operands as the config's ``fp32_dot`` says: "tf32x3" (three TF32 tensor-core
products, near float32's precision: ~2**-21 per product), "ieee" (CUDA-core FMAs) or "tf32" (one TF32
product, only where ``torch.backends.cudnn.allow_tf32`` lets eager's cuDNN do the same, else "ieee");
on the CPU interpreter tiles are upcast to fp32 first). Depthwise-like tiles (< 16 channels per
group) use a broadcast multiply and a sum over BLOCK_K instead (``tl.dot`` needs 16 columns).
Contract: see ``WRAPPERS`` (aten packet name -> (wrapper, every function the wrapper uses)).
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl
from kernelwright.agents.templates.lowered.runtime import kw_fp32_dot


@triton.jit
def _kw_conv_tap(base, tap, dil, size):
    """Input position o*s - p + k*d along one dim for row bases (BLOCK_M) x taps (BLOCK_K), and whether it exists."""
    pos = base[:, None] + (tap * dil)[None, :]
    return pos, (pos >= 0) & (pos < size)


@triton.jit
def _kw_conv_weights(w_ptr, w_col, c, kd, kh, kw, k_ok, n_ok, g, CG_IN, ws_0, ws_1, ws_d, ws_h, ws_w,
                     TRANSPOSED: tl.constexpr):
    """The B tile: weights of input channels `c` (per reduction row) at taps (kd, kh, kw) x output columns."""
    if TRANSPOSED:  # weight (C_in, C_out / groups, k...)
        w_row = (g * CG_IN + c) * ws_0
    else:  # weight (C_out, C_in / groups, k...)
        w_row = c * ws_1
    w_row += kd * ws_d + kh * ws_h + kw * ws_w
    return tl.load(w_ptr + w_row[:, None] + w_col[None, :], mask=k_ok[:, None] & n_ok[None, :], other=0.0)


@triton.jit
def _kw_conv_mma(a, b, acc, UPCAST: tl.constexpr, FP32_DOT: tl.constexpr):
    """acc + a @ b on tensor cores (interpreter: float32 tiles)."""
    if UPCAST:
        a = a.to(tl.float32)
        b = b.to(tl.float32)
    return tl.dot(a, b, acc, input_precision=FP32_DOT)


@triton.jit
def _kw_conv_kernel(x_ptr, w_ptr, b_ptr, y_ptr, M_TOTAL, CG_IN, CG_OUT, R,
                    ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, DH, DW,
                    xs_n, xs_c, xs_d, xs_h, xs_w, ws_0, ws_1, ws_d, ws_h, ws_w, ys_n, ys_c, ys_d, ys_h, ys_w,
                    HAS_BIAS: tl.constexpr, TRANSPOSED: tl.constexpr, USE_DOT: tl.constexpr, UPCAST: tl.constexpr,
                    TAP_MAJOR: tl.constexpr, FP32_DOT: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                    BLOCK_K: tl.constexpr):
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
    base_d, base_h, base_w = od * SD - PD, oh * SH - PH, ow * SW - PW
    if TRANSPOSED:  # weight (C_in, C_out / groups, k...)
        w_col = offs_n * ws_1
    else:  # weight (C_out, C_in / groups, k...)
        w_col = (g * CG_OUT + offs_n) * ws_0
    x_row = x_ptr + img * xs_n + g * CG_IN * xs_c
    kvol = KD * KH * KW
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    if TAP_MAJOR:  # USE_DOT only
        chunks = tl.cdiv(CG_IN, BLOCK_K)
        for it in range(0, kvol * chunks):
            tap = it // chunks
            c = (it % chunks) * BLOCK_K + offs_k
            c_ok = c < CG_IN
            kd = tap // (KH * KW)
            kh = (tap // KW) % KH
            kw = tap % KW
            pd_ = base_d + kd * DD
            ph_ = base_h + kh * DH
            pw_ = base_w + kw * DW
            row_ok = m_ok & (pd_ >= 0) & (pd_ < ID) & (ph_ >= 0) & (ph_ < IH) & (pw_ >= 0) & (pw_ < IW)
            a_rows = x_row + pd_ * xs_d + ph_ * xs_h + pw_ * xs_w
            a = tl.load(a_rows[:, None] + (c * xs_c)[None, :], mask=row_ok[:, None] & c_ok[None, :], other=0.0)
            b = _kw_conv_weights(w_ptr, w_col, c, kd, kh, kw, c_ok, n_ok, g, CG_IN, ws_0, ws_1, ws_d, ws_h, ws_w,
                                 TRANSPOSED)
            acc = _kw_conv_mma(a, b, acc, UPCAST, FP32_DOT)
    else:
        for r0 in range(0, R, BLOCK_K):  # flat over (channel, tap)
            r = r0 + offs_k
            r_ok = r < R
            c = r // kvol
            kv = r % kvol
            kd = kv // (KH * KW)
            kh = (kv // KW) % KH
            kw = kv % KW
            pd_, okd = _kw_conv_tap(base_d, kd, DD, ID)
            ph_, okh = _kw_conv_tap(base_h, kh, DH, IH)
            pw_, okw = _kw_conv_tap(base_w, kw, DW, IW)
            a_mask = m_ok[:, None] & r_ok[None, :] & okd & okh & okw
            a = tl.load(x_row[:, None] + c[None, :] * xs_c + pd_ * xs_d + ph_ * xs_h + pw_ * xs_w, mask=a_mask,
                        other=0.0)
            b = _kw_conv_weights(w_ptr, w_col, c, kd, kh, kw, r_ok, n_ok, g, CG_IN, ws_0, ws_1, ws_d, ws_h, ws_w,
                                 TRANSPOSED)
            if USE_DOT:
                acc = _kw_conv_mma(a, b, acc, UPCAST, FP32_DOT)
            else:  # few channels per group: broadcast multiply-add, reduced over the BLOCK_K taps
                acc += tl.sum(a.to(tl.float32)[:, :, None] * b.to(tl.float32)[None, :, :], axis=1)
    co = g * CG_OUT + offs_n
    if HAS_BIAS:
        acc += tl.load(b_ptr + co, mask=n_ok, other=0.0).to(tl.float32)[None, :]
    y_ptrs = y_ptr + img[:, None] * ys_n + co[None, :] * ys_c + (od * ys_d + oh * ys_h + ow * ys_w)[:, None]
    tl.store(y_ptrs, acc.to(y_ptr.dtype.element_ty), mask=m_ok[:, None] & n_ok[None, :])


def _kw_conv_3d(values, nd, fill):
    """A per-dim argument (int or list) as 3 ints: one value repeated, missing leading dims filled with `fill`."""
    values = [int(values)] if isinstance(values, int) else [int(v) for v in values]
    if len(values) == 1 and nd > 1:
        values = values * nd
    return [fill] * (3 - nd) + values


def _kw_conv_3d_view(t, nd):
    """t (N, C, spatial...) viewed as (N, C, D, H, W): missing leading spatial dims of size 1, no copy."""
    for _ in range(3 - nd):
        t = t.unsqueeze(2)
    return t


def _kw_conv_channels_inner(w5, transposed):
    """The 5-d weight with its shape kept and its memory reordered (taps, input channels, output channels),
    output channels innermost: a B tile's rows are contiguous (one small copy per call)."""
    order = (2, 3, 4, 0, 1) if transposed else (2, 3, 4, 1, 0)  # weight (C_in, C_out/g, k...) / (C_out, C_in/g, k...)
    back = sorted(range(5), key=order.__getitem__)
    return w5.permute(order).contiguous().permute(back)


def _kw_conv_phase(k, s, p, d, phase):
    """Along one dim of a transposed convolution, the outputs o = phase + q*s as an ordinary convolution:
    (first tap, tap step, padding, dilation), or None when no tap reaches them (they get the bias only)."""
    first = next((j for j in range(k) if (j * d - phase - p) % s == 0), None)
    if first is None:
        return None
    step = s // math.gcd(s, d)
    return first, step, -((phase + p - first * d) // s), -(step * d // s)


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
    out = torch.empty((n_img, cg_out * groups, *osz[3 - nd:]), device=input.device, dtype=input.dtype)
    if out.numel() == 0:
        return out
    x5, w5, y5 = (_kw_conv_3d_view(t, nd) for t in (input, weight, out))
    cg_in = c_in // groups
    use_dot = cg_out >= 16
    tap_major = use_dot and cg_in >= 16
    if tap_major:  # channels innermost: a tap's A tile and B tile are contiguous rows of channels
        x5 = x5.contiguous(memory_format=torch.channels_last_3d)
        w5 = _kw_conv_channels_inner(w5, transposed)
    if not transposed:
        jobs = [(y5, w5, st, pad, dil)]
    else:  # one ordinary convolution per output phase (module docstring)
        jobs = []
        for phase in [(a, b, c) for a in range(st[0]) for b in range(st[1]) for c in range(st[2])]:
            dims = [_kw_conv_phase(ksz[i], st[i], pad[i], dil[i], phase[i]) for i in range(3)]
            y_view = y5[:, :, phase[0]::st[0], phase[1]::st[1], phase[2]::st[2]]
            if None in dims:  # no tap reaches these outputs: zero taps, the kernel writes the bias
                jobs.append((y_view, w5[:, :, :0], [1, 1, 1], [0, 0, 0], [1, 1, 1]))
            else:
                w_view = w5[:, :, dims[0][0]::dims[0][1], dims[1][0]::dims[1][1], dims[2][0]::dims[2][1]]
                jobs.append((y_view, w_view, [1, 1, 1], [d[2] for d in dims], [d[3] for d in dims]))
    on_cpu = input.device.type == "cpu"  # the Triton interpreter: fp32 tiles, small blocks
    dot = kw_fp32_dot(input.dtype, on_cpu, fp32_dot, torch.backends.cudnn.allow_tf32)
    half = input.element_size() <= 2 and not on_cpu
    wide = half or dot != "ieee"  # tensor cores take bigger tiles
    for y_view, w_view, st_, pad_, dil_ in jobs:
        m_total = n_img * y_view.shape[2] * y_view.shape[3] * y_view.shape[4]
        if m_total == 0:
            continue
        red = cg_in * w_view.shape[2] * w_view.shape[3] * w_view.shape[4]
        if use_dot:
            block_n = BLOCK_N or max(16, min(128 if wide else 64, triton.next_power_of_2(cg_out)))
            block_m = BLOCK_M or (32 if on_cpu else 128 if wide or block_n <= 32 else 64)
            block_k = BLOCK_K or max(16, min(64 if half else 32, triton.next_power_of_2(max(
                cg_in if tap_major else red, 1))))
        else:
            block_n = BLOCK_N or triton.next_power_of_2(cg_out)
            block_m = BLOCK_M or (32 if on_cpu else max(64, 512 // block_n))
            block_k = BLOCK_K or min(8, triton.next_power_of_2(max(red, 1)))
        grid = (triton.cdiv(m_total, block_m), groups * triton.cdiv(cg_out, block_n))
        _kw_conv_kernel[grid](
            x5, w_view, bias if bias is not None else out, y_view, m_total, cg_in, cg_out, red,
            *x5.shape[2:], *y_view.shape[2:], *w_view.shape[2:], *st_, *pad_, *dil_, *x5.stride(), *w_view.stride(),
            *y_view.stride(), HAS_BIAS=bias is not None, TRANSPOSED=bool(transposed), USE_DOT=use_dot,
            UPCAST=on_cpu, TAP_MAJOR=tap_major, FP32_DOT=dot, BLOCK_M=block_m, BLOCK_N=block_n, BLOCK_K=block_k,
            num_warps=num_warps or (8 if block_m * block_n >= 128 * 128 else 4),
            num_stages=num_stages or (3 if use_dot else 2))
    return out


def kw__convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups, benchmark,
                    deterministic, cudnn_enabled, allow_tf32, *, BLOCK_M=None, BLOCK_N=None, BLOCK_K=None,
                    num_warps=None, num_stages=None, fp32_dot="ieee"):
    """aten._convolution: convolution; the backend flags change nothing here."""
    return kw_convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups,
                          BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, num_warps=num_warps,
                          num_stages=num_stages, fp32_dot=fp32_dot)


_KW_CONV_HELPERS = (kw_fp32_dot, _kw_conv_3d, _kw_conv_3d_view, _kw_conv_channels_inner, _kw_conv_phase,
                    _kw_conv_kernel, _kw_conv_tap, _kw_conv_weights, _kw_conv_mma)
WRAPPERS = {
    "convolution": (kw_convolution, _KW_CONV_HELPERS),
    "_convolution": (kw__convolution, (kw_convolution, *_KW_CONV_HELPERS)),
}
