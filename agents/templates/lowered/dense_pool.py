"""Pooling for the `lowered` family: max pooling with indices, average pooling, adaptive pooling, 1/2/3-d.

What a captured graph contains: ``nn.MaxPoolNd`` -> ``max_pool{2,3}d_with_indices`` (1-d is
unsqueezed to 2-d), ``nn.AvgPoolNd`` -> ``avg_pool{2,3}d`` (1-d likewise), ``nn.AdaptiveAvgPoolNd``
-> ``_adaptive_avg_pool{2,3}d`` (output size 1 becomes ``mean``, not handled here),
``nn.AdaptiveMaxPoolNd`` -> ``adaptive_max_pool{2,3}d``. The 1-d aten ops are covered too.

How: one kernel for all of them. The wrapper views the input as (N, C, D, H, W) (missing spatial
dims get size 1 and stride 0, an unbatched input gets N = 1) with runtime strides; each program
owns BLOCK flattened outputs and loops over the window (KD x KH x KW taps, masked where a tap
falls into the padding or outside an adaptive window). Semantics follow ATen exactly:
- max: a tap is taken when it is greater than the running max or NaN (so NaN propagates and ties
  keep the first tap); the first valid tap starts the scan. Indices are flat offsets into the
  input's own spatial plane (d * H * W + h * W + w), int64, as ATen returns them.
- avg: fp32 sum; divisor = divisor_override, else the window clipped to the padded input
  (count_include_pad) or to the input; ceil_mode windows are clipped like ATen's.
- adaptive: window [floor(o * in / out), ceil((o + 1) * in / out)).
Contract: see ``WRAPPERS`` (aten packet name -> (wrapper, every function the wrapper uses)).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl


@triton.jit
def _kw_pool_window(o, IN, OUT, K, S, P, ADAPTIVE: tl.constexpr):
    """Window start, its end for the taps' mask, and the avg divisor parts (padded, clipped) along one dim."""
    if ADAPTIVE:
        start = (o * IN) // OUT
        end = ((o + 1) * IN + OUT - 1) // OUT
        padded = end - start
        clipped = end - start
    else:
        start = o * S - P
        end = IN
        padded = tl.minimum(start + K, IN + P) - start
        clipped = tl.minimum(start + K, IN) - tl.maximum(start, 0)
    return start, end, padded, clipped


@triton.jit
def _kw_pool_kernel(x_ptr, y_ptr, idx_ptr, TOTAL, C, ID, IH, IW, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW,
                    DD, DH, DW, xs_n, xs_c, xs_d, xs_h, xs_w, divisor,
                    IS_MAX: tl.constexpr, ADAPTIVE: tl.constexpr, COUNT_PAD: tl.constexpr, HAS_DIVISOR: tl.constexpr,
                    BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    ok = offs < TOTAL
    ow = offs % OW
    oh = (offs // OW) % OH
    od = (offs // (OW * OH)) % OD
    nc = offs // (OW * OH * OD)
    base = x_ptr + (nc // C) * xs_n + (nc % C) * xs_c
    sd, ed, pad_d, clip_d = _kw_pool_window(od, ID, OD, KD, SD, PD, ADAPTIVE)
    sh, eh, pad_h, clip_h = _kw_pool_window(oh, IH, OH, KH, SH, PH, ADAPTIVE)
    sw, ew, pad_w, clip_w = _kw_pool_window(ow, IW, OW, KW, SW, PW, ADAPTIVE)
    best = tl.full((BLOCK,), float("-inf"), tl.float32)
    best_idx = tl.full((BLOCK,), -1, tl.int64)
    acc = tl.zeros((BLOCK,), dtype=tl.float32)
    for kd in range(KD):
        pd_ = sd + kd * DD
        ok_d = ok & (pd_ >= 0) & (pd_ < ed)
        for kh in range(KH):
            ph_ = sh + kh * DH
            ok_h = ok_d & (ph_ >= 0) & (ph_ < eh)
            for kw in range(KW):
                pw_ = sw + kw * DW
                tap_ok = ok_h & (pw_ >= 0) & (pw_ < ew)
                v = tl.load(base + pd_ * xs_d + ph_ * xs_h + pw_ * xs_w, mask=tap_ok, other=0.0).to(tl.float32)
                if IS_MAX:  # ATen: take when greater or NaN; the first valid tap starts the scan
                    take = tap_ok & ((v > best) | (v != v) | (best_idx < 0))  # noqa: PLR0124 - v != v: NaN
                    best = tl.where(take, v, best)
                    best_idx = tl.where(take, (pd_ * IH + ph_) * IW + pw_, best_idx)
                else:
                    acc += v
    if IS_MAX:
        tl.store(y_ptr + offs, best.to(y_ptr.dtype.element_ty), mask=ok)
        tl.store(idx_ptr + offs, best_idx, mask=ok)
    else:
        if HAS_DIVISOR:
            count = tl.zeros((BLOCK,), dtype=tl.float32) + divisor
        elif COUNT_PAD:
            count = (pad_d * pad_h * pad_w).to(tl.float32)
        else:
            count = (clip_d * clip_h * clip_w).to(tl.float32)
        tl.store(y_ptr + offs, (acc / count).to(y_ptr.dtype.element_ty), mask=ok)


def _kw_pool_3d(values, nd, fill):
    """A per-dim pooling argument (int or list) as 3 ints, missing leading dims filled with `fill`."""
    values = [int(values)] * nd if isinstance(values, int) else [int(v) for v in values]
    if len(values) == 1 and nd > 1:
        values = values * nd
    return [fill] * (3 - nd) + values


def _kw_pool_out(size, k, s, p, d, ceil_mode):
    """ATen's pooling_output_shape."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _kw_pool_launch(x, nd, ksz, st, pad, dil, osz, is_max, adaptive, count_pad, divisor, BLOCK, num_warps):
    """Run the pool kernel on x viewed as (N, C, D, H, W); (values, int64 indices or None) shaped like ATen."""
    lead = list(x.shape[:x.dim() - nd])
    isz = [1] * (3 - nd) + [int(s) for s in x.shape[x.dim() - nd:]]
    xs = [0] * (3 - nd) + [x.stride(i) for i in range(x.dim() - nd, x.dim())]
    xs_n, xs_c = (x.stride(0), x.stride(1)) if len(lead) == 2 else (0, x.stride(0))
    c = lead[-1]
    out = torch.empty((*lead, *osz[3 - nd:]), device=x.device, dtype=x.dtype)
    idx = torch.empty((*lead, *osz[3 - nd:]), device=x.device, dtype=torch.int64) if is_max else out
    total = out.numel()
    if total > 0:
        _kw_pool_kernel[(triton.cdiv(total, BLOCK),)](
            x, out, idx, total, c, isz[0], isz[1], isz[2], osz[0], osz[1], osz[2], ksz[0], ksz[1], ksz[2],
            st[0], st[1], st[2], pad[0], pad[1], pad[2], dil[0], dil[1], dil[2], xs_n, xs_c, xs[0], xs[1], xs[2],
            float(divisor or 1), IS_MAX=is_max, ADAPTIVE=adaptive, COUNT_PAD=bool(count_pad),
            HAS_DIVISOR=bool(divisor), BLOCK=BLOCK, num_warps=num_warps)
    return out, idx


def _kw_pool_fixed(x, nd, kernel_size, stride, padding, dilation, ceil_mode, is_max, count_pad, divisor, BLOCK,
                   num_warps):
    """Max / avg pooling with a fixed window: normalise the arguments, size the output, launch."""
    ksz = _kw_pool_3d(kernel_size, nd, 1)
    no_stride = stride is None or (not isinstance(stride, int) and len(stride) == 0)
    st = ksz if no_stride else _kw_pool_3d(stride, nd, 1)  # ATen: an empty stride means the kernel size
    pad = _kw_pool_3d(padding, nd, 0)
    dil = _kw_pool_3d(dilation, nd, 1)
    isz = [1] * (3 - nd) + [int(s) for s in x.shape[x.dim() - nd:]]
    osz = [_kw_pool_out(isz[i], ksz[i], st[i], pad[i], dil[i], ceil_mode) for i in range(3)]
    return _kw_pool_launch(x, nd, ksz, st, pad, dil, osz, is_max, False, count_pad, divisor, BLOCK, num_warps)


def _kw_pool_adaptive(x, nd, output_size, is_max, BLOCK, num_warps):
    """Adaptive pooling: the window bound per dim is the longest window, ceil(in / out) + 1 at most."""
    osz = _kw_pool_3d(output_size, nd, 1)
    isz = [1] * (3 - nd) + [int(s) for s in x.shape[x.dim() - nd:]]
    ksz = [isz[i] // osz[i] if isz[i] % osz[i] == 0 else isz[i] // osz[i] + 2 for i in range(3)]
    return _kw_pool_launch(x, nd, ksz, [1, 1, 1], [0, 0, 0], [1, 1, 1], osz, is_max, True, False, None, BLOCK,
                           num_warps)


def kw_max_pool1d_with_indices(self, kernel_size, stride=(), padding=(0,), dilation=(1,), ceil_mode=False, *,
                               BLOCK=256, num_warps=4):
    return _kw_pool_fixed(self, 1, kernel_size, stride, padding, dilation, ceil_mode, True, True, None, BLOCK,
                          num_warps)


def kw_max_pool2d_with_indices(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False, *, BLOCK=256,
                               num_warps=4):
    return _kw_pool_fixed(self, 2, kernel_size, stride, padding, dilation, ceil_mode, True, True, None, BLOCK,
                          num_warps)


def kw_max_pool3d_with_indices(self, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False, *, BLOCK=256,
                               num_warps=4):
    return _kw_pool_fixed(self, 3, kernel_size, stride, padding, dilation, ceil_mode, True, True, None, BLOCK,
                          num_warps)


def kw_avg_pool1d(self, kernel_size, stride=(), padding=(0,), ceil_mode=False, count_include_pad=True, *,
                  BLOCK=256, num_warps=4):
    return _kw_pool_fixed(self, 1, kernel_size, stride, padding, 1, ceil_mode, False, count_include_pad, None,
                          BLOCK, num_warps)[0]


def kw_avg_pool2d(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
                  divisor_override=None, *, BLOCK=256, num_warps=4):
    return _kw_pool_fixed(self, 2, kernel_size, stride, padding, 1, ceil_mode, False, count_include_pad,
                          divisor_override, BLOCK, num_warps)[0]


def kw_avg_pool3d(self, kernel_size, stride=(), padding=0, ceil_mode=False, count_include_pad=True,
                  divisor_override=None, *, BLOCK=256, num_warps=4):
    return _kw_pool_fixed(self, 3, kernel_size, stride, padding, 1, ceil_mode, False, count_include_pad,
                          divisor_override, BLOCK, num_warps)[0]


def kw__adaptive_avg_pool2d(self, output_size, *, BLOCK=256, num_warps=4):
    return _kw_pool_adaptive(self, 2, output_size, False, BLOCK, num_warps)[0]


def kw__adaptive_avg_pool3d(self, output_size, *, BLOCK=256, num_warps=4):
    return _kw_pool_adaptive(self, 3, output_size, False, BLOCK, num_warps)[0]


def kw_adaptive_max_pool2d(self, output_size, *, BLOCK=256, num_warps=4):
    return _kw_pool_adaptive(self, 2, output_size, True, BLOCK, num_warps)


def kw_adaptive_max_pool3d(self, output_size, *, BLOCK=256, num_warps=4):
    return _kw_pool_adaptive(self, 3, output_size, True, BLOCK, num_warps)


_KW_POOL_CORE = (_kw_pool_3d, _kw_pool_launch, _kw_pool_kernel, _kw_pool_window)
_KW_POOL_FIXED = (_kw_pool_fixed, _kw_pool_out, *_KW_POOL_CORE)
_KW_POOL_ADAPTIVE = (_kw_pool_adaptive, *_KW_POOL_CORE)
WRAPPERS = {
    "max_pool1d_with_indices": (kw_max_pool1d_with_indices, _KW_POOL_FIXED),
    "max_pool2d_with_indices": (kw_max_pool2d_with_indices, _KW_POOL_FIXED),
    "max_pool3d_with_indices": (kw_max_pool3d_with_indices, _KW_POOL_FIXED),
    "avg_pool1d": (kw_avg_pool1d, _KW_POOL_FIXED),
    "avg_pool2d": (kw_avg_pool2d, _KW_POOL_FIXED),
    "avg_pool3d": (kw_avg_pool3d, _KW_POOL_FIXED),
    "_adaptive_avg_pool2d": (kw__adaptive_avg_pool2d, _KW_POOL_ADAPTIVE),
    "_adaptive_avg_pool3d": (kw__adaptive_avg_pool3d, _KW_POOL_ADAPTIVE),
    "adaptive_max_pool2d": (kw_adaptive_max_pool2d, _KW_POOL_ADAPTIVE),
    "adaptive_max_pool3d": (kw_adaptive_max_pool3d, _KW_POOL_ADAPTIVE),
}
