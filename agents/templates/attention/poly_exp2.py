"""exp2 on the FMA pipe: a polynomial that takes a share of the softmax exponentials off MUFU.

On sm_90 the exp2 of a 128x128 score tile costs ~1024 cycles on the MUFU unit (16 lanes/clk/SM),
more than the rest of the softmax. FlashAttention-4 computes part of the exponentials with a
polynomial on the FP32 pipe instead. `_kw_exp2_poly(x)`:
- clamp x >= -127 (masked scores are -inf; no exponent wrap for very negative x),
- n = round(x) by the magic add t = x + 1.5*2^23 (pure FADD: no cvt/F2I/FRND, which use slow pipes);
  the low bits of t's bit pattern then hold n in two's complement,
- 2^f for f = x - n in [-0.5, 0.5] by a degree-3 minimax polynomial (Horner, 3 FMA; constant term
  exactly 1, relative error 1.0e-4 ~ 2^-13.3, far below bf16's 2^-8),
- 2^n by an integer add of (bits(t) << 23) to the result's bits (the high bits of t shift out).
x = -127 gives f = 0, p = 1.0 = 0x3F800000 and n << 23 = -0x3F800000: exactly +0.0, so -inf -> 0.
Valid for x <= 127 (the softmax only passes x <= 8). x in (-127, -126) gives a value below 2^-126
(a denormal bit pattern, error < 2^-126), which is harmless for p and l_i.

Which share (`_kw_exp2_mix(x, SHARE)`: the last 1/SHARE of the columns, SHARE in 2, 4, 8): Hopper has
no packed f32x2 FMA, so one polynomial element costs 8 SASS instructions (FMNMX, 3 FADD, 3 FFMA, one
LEA for shift + add) where MUFU.EX2 costs one issue slot plus 8 XU-pipe cycles per warp. A scheduler
issues one instruction per clock, and the softmax is already close to issue-bound (sm_90 SASS of the
128x64 / 8-warp loop: 344 instructions per warp and tile, 34 of them MUFU.EX2), so moving exps off MUFU
pays only for a small share: 1/8 is the best guess, 1/4 about break-even, 1/2 likely a loss.
How the tile is split (the choice): the wgmma accumulator gives each thread the columns
8j + 2(lane % 4) + {0, 1}, j = 0 .. BLOCK_N/8 - 1. Halving along the top column bit (a j bit) keeps
every element in its thread's registers, and halving again works the same way, so 1/2, 1/4, 1/8
shares are register-local reshapes (sm_90 PTX/SASS: same st.shared / ld.shared / SHFL counts as without;
the extra TTGIR convert_layouts leave at most 4 more MOVs). Within one warp the MUFU and polynomial
instructions of a tile are independent, so the scheduler overlaps them; whole alternate key tiles (even
MUFU, odd polynomial) would serialise the two pipes tile by tile and can only give a 1/2 share.
"""

# fp32 minimax coefficients of 2^f - 1 on [-0.5, 0.5] (relative error), constant term 1 exactly
POLY_C1, POLY_C2, POLY_C3 = 0.6932829022407532, 0.24221062660217285, 0.05500869080424309
SHARES = (0, 2, 4, 8)  # POLY_EXP config values: 0 = MUFU only, N = polynomial on 1/N of the columns

POLY_HELPER = f'''
@triton.jit
def _kw_exp2_poly(x):
    # 2^x on the FMA pipe (see attention_poly.py): magic-add round, Horner on the fraction, exponent add
    x = tl.maximum(x, -127.0)
    t = x + 12582912.0
    f = x - (t - 12582912.0)
    p = ({POLY_C3!r} * f + {POLY_C2!r}) * f + {POLY_C1!r}
    p = p * f + 1.0
    bits = p.to(tl.int32, bitcast=True) + (t.to(tl.int32, bitcast=True) << 23)
    return bits.to(tl.float32, bitcast=True)


@triton.jit
def _kw_halves(x):
    # columns [0, N/2) and [N/2, N): the top column bit is a per-thread register index in the wgmma layout
    y = tl.permute(tl.reshape(x, [x.shape[0], 2, x.shape[1] // 2]), (0, 2, 1))
    return tl.split(y)


@triton.jit
def _kw_unhalves(a, b):
    y = tl.permute(tl.join(a, b), (0, 2, 1))
    return tl.reshape(y, [a.shape[0], a.shape[1] * 2])


@triton.jit
def _kw_exp2_mix(x, SHARE: tl.constexpr):
    # exp2 of a [BLOCK_M, BLOCK_N] tile: the last 1/SHARE of the columns by polynomial, the rest on MUFU
    a, b = _kw_halves(x)
    if SHARE == 2:
        return _kw_unhalves(tl.math.exp2(a), _kw_exp2_poly(b))
    else:
        b1, b2 = _kw_halves(b)
        if SHARE == 4:
            return _kw_unhalves(tl.math.exp2(a), _kw_unhalves(tl.math.exp2(b1), _kw_exp2_poly(b2)))
        else:
            c1, c2 = _kw_halves(b2)
            return _kw_unhalves(tl.math.exp2(a), _kw_unhalves(tl.math.exp2(b1),
                                                              _kw_unhalves(tl.math.exp2(c1), _kw_exp2_poly(c2))))
'''


def exp2_parts(share: int) -> tuple[str, str]:
    """(function, trailing argument) text that exponentiates the score tile: MUFU only, or mixed."""
    if share not in SHARES:
        raise ValueError(f"POLY_EXP={share} is not supported; use one of {SHARES} (0 = off, N = 1/N of the columns)")
    return ("tl.math.exp2", "") if share == 0 else ("_kw_exp2_mix", f", {share}")
