"""Dense-op wrappers of the `lowered` family (agents/templates/lowered/dense_*.py) against ATen in float64.

Numerics run under the Triton interpreter on the CPU (a GPU where there is one) at tiny ragged
shapes, with the verifier's fp32 tolerance: atol = rtol = 1e-4 and a relative norm bound 1e-5.
The emitter contract is pinned too: wrapper signatures follow the aten schemas and the copied sources
pass the static checks and run on their own. test_lowered_dense_sm90.py compiles every kernel for sm_90."""
from __future__ import annotations

import inspect
import sys
import textwrap

import pytest
import torch
from kernelwright.agents.templates.lowered import (
    dense_conv,
    dense_loss,
    dense_matmul,
    dense_pool,
)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
MODULES = (dense_matmul, dense_conv, dense_pool, dense_loss)
A = torch.ops.aten


def _rand(*shape, dtype=torch.float32):
    return torch.randn(shape, device=DEVICE, dtype=dtype)


def _f64(*tensors):
    return [t.double() if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in tensors]


def assert_matches(out: torch.Tensor, ref: torch.Tensor, atol: float = 1e-4, rtol: float = 1e-4) -> None:
    assert out.shape == ref.shape, (out.shape, ref.shape)
    nan = ref.isnan()
    assert torch.equal(out.isnan(), nan), "NaN where ATen has none, or none where it has"
    out, ref = out.double().masked_fill(nan, 0), ref.masked_fill(nan, 0)
    diff = (out - ref).abs()
    assert torch.all(diff <= atol + rtol * ref.abs()), f"max abs error {diff.max().item():.3g}"
    if ref.numel() and ref.norm() > 0:
        assert (out - ref).norm() / ref.norm() <= 1e-5 or atol > 1e-4


# ---- matmul ---------------------------------------------------------------------------------
@pytest.mark.parametrize("m, k, n", [(33, 13, 7), (1, 40, 17), (7, 13, 1), (64, 33, 48)])
def test_mm_matches_float64_on_ragged_tall_and_skinny_shapes(m, k, n):
    a, b = _rand(m, k), _rand(k, n)
    assert_matches(dense_matmul.kw_mm(a, b), A.mm(*_f64(a, b)))


def test_mm_reads_transposed_operands_through_strides():
    a, b = _rand(13, 33).t(), _rand(7, 13).t()
    assert_matches(dense_matmul.kw_mm(a, b), A.mm(*_f64(a, b)))


def test_mm_split_k_partials_add_up():
    a, b = _rand(9, 70), _rand(70, 5)
    assert_matches(dense_matmul.kw_mm(a, b, BLOCK_K=16, SPLIT_K=3), A.mm(*_f64(a, b)))


def test_mm_long_k_with_few_tiles_picks_split_k_itself():
    a, b = _rand(3, 4100), _rand(4100, 5)
    assert_matches(dense_matmul.kw_mm(a, b), A.mm(*_f64(a, b)))


def test_mm_gpu_sized_tiles_and_grouped_order_cover_every_tile():
    a, b = _rand(200, 70), _rand(70, 300)
    out = dense_matmul.kw_mm(a, b, BLOCK_M=64, BLOCK_N=128, BLOCK_K=64, GROUP_M=3)
    assert_matches(out, A.mm(*_f64(a, b)))


@pytest.mark.parametrize("bias_shape", [(7,), (33, 1), (33, 7), ()])
def test_addmm_applies_beta_alpha_and_broadcasts_self(bias_shape):
    bias, a, b = _rand(*bias_shape), _rand(33, 40), _rand(40, 7)
    out = dense_matmul.kw_addmm(bias, a, b, beta=0.5, alpha=2.0)
    assert_matches(out, A.addmm(*_f64(bias, a, b), beta=0.5, alpha=2.0))
    split = dense_matmul.kw_addmm(bias, a, b, beta=0.5, alpha=2.0, BLOCK_K=16, SPLIT_K=2)  # 2 K slices + reduce
    assert_matches(split, A.addmm(*_f64(bias, a, b), beta=0.5, alpha=2.0))


def test_addmm_with_beta_zero_ignores_nan_in_self():
    bias, a, b = torch.full((7,), float("nan"), device=DEVICE), _rand(5, 13), _rand(13, 7)
    assert_matches(dense_matmul.kw_addmm(bias, a, b, beta=0), A.mm(*_f64(a, b)))


def test_bmm_broadcasts_a_batch_with_stride_zero():
    a, b = _rand(3, 9, 17), _rand(1, 17, 33).expand(3, 17, 33)
    assert_matches(dense_matmul.kw_bmm(a, b), A.bmm(*_f64(a, b)))


def test_baddbmm_matches_float64():
    bias, a, b = _rand(9, 1), _rand(3, 9, 17), _rand(3, 17, 20)
    out = dense_matmul.kw_baddbmm(bias, a, b, beta=2, alpha=0.5)
    assert_matches(out, A.baddbmm(*_f64(bias, a, b), beta=2, alpha=0.5))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_mm_half_precision_keeps_dtype_and_accumulates_in_fp32(dtype):
    a, b = _rand(20, 40, dtype=dtype), _rand(40, 18, dtype=dtype)
    out = dense_matmul.kw_mm(a, b)
    assert out.dtype == dtype
    assert_matches(out, A.mm(*_f64(a, b)), atol=1e-2, rtol=1e-2)


# ---- convolution ----------------------------------------------------------------------------
CONV_CASES = {  # x shape, w shape, bias, stride, padding, dilation, transposed, output_padding, groups
    "2d_dot": ((2, 3, 13, 11), (20, 3, 3, 3), True, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
    "2d_groups_stride_pad_dil": ((2, 4, 13, 11), (6, 2, 3, 2), True, [2, 1], [1, 2], [2, 1], False, [0, 0], 2),
    "2d_depthwise": ((2, 6, 9, 7), (6, 1, 3, 3), False, [2, 2], [1, 1], [1, 1], False, [0, 0], 6),
    "1d_groups_dot": ((2, 4, 33), (32, 2, 5), True, [2], [2], [3], False, [0], 2),
    "3d": ((1, 3, 5, 6, 7), (17, 3, 2, 3, 3), True, [1, 2, 1], [1, 0, 1], [1, 1, 2], False, [0, 0, 0], 1),
    "t2d_groups_outpad": ((2, 4, 5, 6), (4, 3, 3, 3), True, [2, 2], [1, 0], [1, 1], True, [1, 0], 2),
    "t1d_dot_dil": ((2, 5, 7), (5, 17, 3), True, [3], [1], [2], True, [2], 1),
    "t3d_outpad": ((1, 2, 3, 4, 5), (2, 3, 2, 3, 2), False, [2, 1, 2], [0, 1, 1], [1, 2, 1], True, [1, 0, 0], 1),
    # transposed phases that no tap reaches (stride and dilation share a factor; kernel 1 < stride: bias only)
    "t2d_stride_dil_share_2": ((2, 3, 5, 4), (3, 16, 3, 3), True, [2, 2], [1, 0], [2, 2], True, [1, 1], 1),
    "t2d_kernel1_stride3": ((1, 4, 4, 3), (4, 2, 1, 1), True, [3, 3], [0, 0], [1, 1], True, [2, 1], 1),
    "t1d_stride3_dil2_pad_gt_kernel": ((2, 3, 9), (3, 16, 2), True, [3], [3], [2], True, [0], 1),
    "t3d_groups_dot": ((1, 4, 3, 3, 4), (4, 8, 3, 2, 3), True, [2, 2, 3], [1, 0, 1], [1, 1, 1], True, [0, 1, 2], 2),
    # >= 16 input channels per group: the tap-major loop (a ragged last channel chunk: 20 of 32)
    "2d_tap_major_ragged": ((2, 20, 7, 6), (16, 20, 3, 3), True, [1, 1], [1, 1], [1, 1], False, [0, 0], 1),
    "2d_tap_major_groups_stride_dil": ((1, 32, 9, 8), (32, 16, 3, 2), True, [2, 1], [2, 1], [2, 2], False, [0, 0], 2),
    "3d_tap_major": ((1, 16, 4, 5, 3), (16, 16, 2, 3, 3), False, [1, 2, 1], [1, 0, 1], [1, 1, 1], False, [0, 0, 0], 1),
    "t2d_tap_major_outpad": ((1, 16, 4, 5), (16, 16, 3, 3), True, [2, 2], [1, 0], [1, 1], True, [1, 0], 1),
}


@pytest.mark.parametrize("case", list(CONV_CASES))
def test_convolution_matches_float64(case):
    xs, wsh, has_bias, *args = CONV_CASES[case]
    x, w = _rand(*xs), _rand(*wsh)
    c_out = wsh[1] * args[-1] if args[3] else wsh[0]
    bias = _rand(c_out) if has_bias else None
    out = dense_conv.kw_convolution(x, w, bias, *args)
    assert out.dtype == x.dtype
    assert_matches(out, A.convolution(*_f64(x, w, bias), *args))


def test_convolution_reads_channels_last_input_and_half_precision():
    x = _rand(2, 16, 7, 5, dtype=torch.float16).to(memory_format=torch.channels_last)
    w, bias = _rand(16, 16, 3, 3, dtype=torch.float16), _rand(16, dtype=torch.float16)
    args = ([1, 1], [1, 1], [1, 1], False, [0, 0], 1)
    out = dense_conv.kw_convolution(x, w, bias, *args)
    assert out.dtype == torch.float16
    assert_matches(out, A.convolution(*_f64(x, w, bias), *args), atol=2e-2, rtol=1e-2)


@pytest.mark.parametrize("c_out, blocks", [(40, {"BLOCK_M": 128, "BLOCK_N": 64, "BLOCK_K": 32}),
                                           (10, {"BLOCK_M": 256, "BLOCK_N": 2, "BLOCK_K": 8})])
def test_convolution_gpu_sized_tiles_dot_and_direct(c_out, blocks):
    x, w, bias = _rand(2, 8, 15, 13), _rand(c_out, 4, 3, 3), _rand(c_out)
    args = ([1, 2], [1, 1], [2, 1], False, [0, 0], 2)
    assert_matches(dense_conv.kw_convolution(x, w, bias, *args, **blocks), A.convolution(*_f64(x, w, bias), *args))


def test_tap_major_weights_keep_their_shape_with_output_channels_innermost():
    w = _rand(6, 4, 1, 3, 3)
    reordered = dense_conv._kw_conv_channels_inner(w, transposed=False)
    assert reordered.shape == w.shape and reordered.stride(0) == 1 and torch.equal(reordered, w)
    wt = dense_conv._kw_conv_channels_inner(w, transposed=True)  # (C_in, C_out / groups, k...)
    assert wt.shape == w.shape and wt.stride(1) == 1 and wt.stride(0) == 4 and torch.equal(wt, w)


def test__convolution_ignores_backend_flags():
    x, w = _rand(1, 3, 6, 5), _rand(4, 3, 2, 2)
    args = ([1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    out = dense_conv.kw__convolution(x, w, None, *args, False, False, True, True)
    assert_matches(out, A.convolution(*_f64(x, w, None), *args))


# ---- pooling --------------------------------------------------------------------------------
def _assert_pool(out, ref):
    if isinstance(ref, tuple):
        assert out[1].dtype == torch.int64 and torch.equal(out[1], ref[1]), "indices differ from ATen"
        out, ref = out[0], ref[0]
    assert out.dtype == torch.float32
    assert_matches(out, ref)


@pytest.mark.parametrize("op, shape, args", [
    ("max_pool1d_with_indices", (2, 3, 17), ([4], [3], [2], [2], True)),
    ("max_pool2d_with_indices", (2, 3, 13, 11), ([3, 2], [2, 2], [1, 1], [1, 2], True)),
    ("max_pool2d_with_indices", (2, 3, 13, 11), ([3, 3],)),
    ("max_pool3d_with_indices", (1, 2, 7, 6, 9), ([2, 3, 2], [2, 1, 2], [1, 1, 0], [1, 1, 2], True)),
    ("avg_pool1d", (2, 3, 17), ([4], [3], [2], True, False)),
    ("avg_pool2d", (2, 3, 13, 11), ([3, 2], [2, 3], [1, 1], True, True)),
    ("avg_pool2d", (2, 3, 13, 11), ([3, 2], [2, 3], [1, 1], True, False)),
    ("avg_pool2d", (2, 3, 13, 11), ([3, 3], [], [1, 1], False, True, 5)),
    ("avg_pool3d", (1, 2, 7, 6, 9), ([3, 2, 2], [2, 2, 1], [1, 0, 1], True, False)),
    ("_adaptive_avg_pool2d", (2, 3, 13, 11), ([4, 3],)),
    ("_adaptive_avg_pool3d", (1, 2, 7, 6, 9), ([3, 4, 2],)),
    ("adaptive_max_pool2d", (2, 3, 13, 11), ([4, 3],)),
    ("adaptive_max_pool3d", (1, 2, 7, 6, 9), ([3, 4, 2],)),
])
def test_pooling_matches_aten_values_and_indices(op, shape, args):
    x = _rand(*shape)
    wrapper = dense_pool.WRAPPERS[op][0]
    _assert_pool(wrapper(x, *args), getattr(A, op)(x.double(), *args))


def test_max_pool_propagates_nan_and_takes_unbatched_channels_last_input():
    x = _rand(3, 9, 8)
    x[0, 2, 3] = float("nan")
    _assert_pool(dense_pool.kw_max_pool2d_with_indices(x, [2, 2]), A.max_pool2d_with_indices(x.double(), [2, 2]))
    xc = _rand(2, 5, 9, 7).to(memory_format=torch.channels_last)
    args = ([2, 2], [2, 2], [1, 1], [1, 1], True)
    _assert_pool(dense_pool.kw_max_pool2d_with_indices(xc, *args), A.max_pool2d_with_indices(xc.double(), *args))


def test_max_pool_ties_keep_the_first_tap_like_aten():
    x = torch.zeros(1, 1, 5, 5, device=DEVICE)
    _assert_pool(dense_pool.kw_max_pool2d_with_indices(x, [3, 3], [2, 2], [1, 1]),
                 A.max_pool2d_with_indices(x.double(), [3, 3], [2, 2], [1, 1]))


# ---- gather / cdist -------------------------------------------------------------------------
@pytest.mark.parametrize("shape, dim, index_shape", [((7, 13), 1, (7, 1)), ((5, 6, 7), 0, (3, 6, 2)),
                                                     ((5, 6, 7), -2, (4, 3, 7))])
def test_gather_matches_aten(shape, dim, index_shape):
    x = _rand(*shape)
    index = torch.randint(0, shape[dim], index_shape, device=DEVICE)
    assert torch.equal(dense_loss.kw_gather(x, dim, index), A.gather(x, dim, index))


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.5, float("inf")])
def test_cdist_forward_matches_float64(p):
    a, b = _rand(2, 9, 13), _rand(2, 7, 13)
    assert_matches(dense_loss.kw__cdist_forward(a, b, p, None), A._cdist_forward(*_f64(a, b), p, None))


# ---- GPU sizes ------------------------------------------------------------------------------
_CONV = dense_conv.kw_convolution
GPU_CASES = {  # name: () -> (wrapper, its arguments)
    "mm_fp32": lambda: (dense_matmul.kw_mm, (_rand(1000, 1500), _rand(1500, 700))),
    "mm_split_k_fp32": lambda: (dense_matmul.kw_mm, (_rand(130, 8200), _rand(8200, 120))),
    "addmm_linear_fp32": lambda: (dense_matmul.kw_addmm, (_rand(513), _rand(257, 1023), _rand(513, 1023).t())),
    "bmm_fp32": lambda: (dense_matmul.kw_bmm, (_rand(17, 129, 255), _rand(17, 255, 65))),
    "conv2d_fp32": lambda: (_CONV, (_rand(4, 32, 37, 29), _rand(64, 32, 3, 3), _rand(64), [1, 1], [1, 1], [1, 1],
                                    False, [0, 0], 1)),
    "conv2d_groups_fp32": lambda: (_CONV, (_rand(4, 64, 33, 31), _rand(64, 16, 5, 5), None, [2, 2], [2, 2], [1, 1],
                                           False, [0, 0], 4)),
    "depthwise_fp32": lambda: (_CONV, (_rand(4, 48, 57, 55), _rand(48, 1, 3, 3), _rand(48), [1, 1], [1, 1], [1, 1],
                                       False, [0, 0], 48)),
    "conv_t2d_fp32": lambda: (_CONV, (_rand(4, 32, 17, 15), _rand(32, 24, 4, 4), _rand(24), [2, 2], [1, 1], [1, 1],
                                      True, [1, 1], 1)),
    "conv3d_fp32": lambda: (_CONV, (_rand(2, 8, 9, 17, 15), _rand(16, 8, 3, 3, 3), None, [1, 1, 1], [1, 1, 1],
                                    [1, 1, 1], False, [0, 0, 0], 1)),
    "conv_t3d_fp32": lambda: (_CONV, (_rand(2, 16, 5, 9, 7), _rand(16, 8, 3, 3, 3), _rand(8), [2, 2, 2], [1, 1, 1],
                                      [1, 1, 1], True, [1, 1, 1], 1)),
    "max_pool2d_fp32": lambda: (dense_pool.kw_max_pool2d_with_indices, (_rand(8, 32, 65, 63), [3, 3], [2, 2], [1, 1],
                                                                        [1, 1], True)),
    "avg_pool3d_fp32": lambda: (dense_pool.kw_avg_pool3d, (_rand(2, 8, 17, 33, 31), [3, 3, 3], [2, 2, 2], [1, 1, 1],
                                                           True, False)),
}


@pytest.mark.gpu
@pytest.mark.parametrize("case", list(GPU_CASES))
def test_dense_ops_at_gpu_sizes_match_float64(case):
    wrapper, args = GPU_CASES[case]()
    ref = getattr(A, wrapper.__name__[3:])(*_f64(*args))
    out = wrapper(*args)
    if isinstance(ref, tuple):
        assert torch.equal(out[1], ref[1])
        out, ref = out[0], ref[0]
    atol = 1e-4
    if wrapper is dense_matmul.kw_mm:  # fp32 sums of K terms: the error grows with sum |a_i b_i|, not the result
        a, b = _f64(*args)
        atol = max(atol, 2e-6 * (a.abs() @ b.abs()).max().item())
    assert_matches(out, ref, atol=atol)


# ---- emitter contract -----------------------------------------------------------------------
def _all_wrappers():  # (aten packet, wrapper, helpers) of every dense module
    return [(key, fn, helpers) for mod in MODULES for key, (fn, helpers) in mod.WRAPPERS.items()]


@pytest.mark.parametrize("key, fn, helpers", _all_wrappers(), ids=lambda v: v if isinstance(v, str) else "")
def test_wrapper_signature_follows_the_aten_schema(key, fn, helpers):
    schema = getattr(A, key).default._schema
    params = inspect.signature(fn).parameters.values()
    positional = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
    keyword = {p.name for p in params if p.kind == p.KEYWORD_ONLY}
    assert fn.__name__ == f"kw_{key}"
    assert positional == [a.name for a in schema.arguments if not a.kwarg_only]
    assert {a.name for a in schema.arguments if a.kwarg_only} <= keyword
    assert all(p.default is not p.empty for p in params if p.kind == p.KEYWORD_ONLY)


@pytest.mark.parametrize("key, fn, helpers", _all_wrappers(), ids=lambda v: v if isinstance(v, str) else "")
def test_wrapper_helpers_name_every_module_function_they_use(key, fn, helpers):
    """A candidate carries a wrapper with its listed helpers only: a helper the list misses is a NameError
    in the candidate, at whatever size first takes that path (a GPU size, where the CPU's shrunken one did not)."""
    import ast

    module = sys.modules[fn.__module__]
    own = {name for name, value in vars(module).items()
           if callable(value) and getattr(getattr(value, "fn", value), "__module__", None) == module.__name__}
    carried = {f.__name__ for f in (fn, *helpers)}
    used = set()
    for f in (fn, *helpers):
        tree = ast.parse(textwrap.dedent(inspect.getsource(getattr(f, "fn", f))))
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & own
    assert used <= carried, f"{key}: helpers missing from WRAPPERS: {sorted(used - carried)}"


def emitted_source(wrappers) -> str:
    """What the emitter writes: the imports, each used function's source once, and a ModelNew."""
    parts, seen = ["import math", "import torch", "import torch.nn as nn", "import triton",
                   "import triton.language as tl"], set()
    for fn, helpers in wrappers:
        for f in (*helpers, fn):
            if f.__name__ not in seen:  # a @triton.jit kernel's source is its .fn's, decorator included
                seen.add(f.__name__)
                parts.append(inspect.getsource(getattr(f, "fn", f)))
    calls = "\n".join(f"        out.append({fn.__name__}(*args))" for fn, _ in wrappers)
    parts.append(f"class ModelNew(nn.Module):\n    def forward(self, *args):\n        out = []\n{calls}\n"
                 "        return out\n")
    return "\n\n".join(parts)


SMALL_ARGS = {  # one tiny call per aten op, for the emitted-source test
    "mm": lambda: (_rand(5, 7), _rand(7, 3)),
    "addmm": lambda: (_rand(3), _rand(5, 7), _rand(7, 3)),
    "bmm": lambda: (_rand(2, 5, 7), _rand(2, 7, 3)),
    "baddbmm": lambda: (_rand(5, 3), _rand(2, 5, 7), _rand(2, 7, 3)),
    "convolution": lambda: (_rand(1, 2, 5, 4), _rand(3, 2, 2, 2), _rand(3), [1, 1], [1, 0], [1, 1], False, [0, 0], 1),
    "_convolution": lambda: (_rand(1, 2, 5), _rand(2, 3, 2), None, [2], [0], [1], True, [1], 1, False, False, True,
                             True),
    "max_pool1d_with_indices": lambda: (_rand(1, 2, 7), [2]),
    "max_pool2d_with_indices": lambda: (_rand(1, 2, 5, 4), [2, 2], [1, 2], [1, 1]),
    "max_pool3d_with_indices": lambda: (_rand(1, 2, 3, 5, 4), [2, 2, 2]),
    "avg_pool1d": lambda: (_rand(1, 2, 7), [3], [2], [1]),
    "avg_pool2d": lambda: (_rand(1, 2, 5, 4), [2, 2], [], [1, 1], True, False),
    "avg_pool3d": lambda: (_rand(1, 2, 3, 5, 4), [2, 2, 2], [1, 2, 1]),
    "_adaptive_avg_pool2d": lambda: (_rand(1, 2, 5, 4), [2, 3]),
    "_adaptive_avg_pool3d": lambda: (_rand(1, 2, 3, 5, 4), [2, 2, 3]),
    "adaptive_max_pool2d": lambda: (_rand(1, 2, 5, 4), [2, 3]),
    "adaptive_max_pool3d": lambda: (_rand(1, 2, 3, 5, 4), [2, 2, 3]),
    "gather": lambda: (_rand(3, 4), 1, torch.randint(0, 4, (3, 2), device=DEVICE)),
    "_cdist_forward": lambda: (_rand(3, 4), _rand(2, 4), 2.0, None),
}


def test_all_wrappers_emitted_together_pass_the_static_checks():
    from kernelwright.verifier.static_checks import check_source

    assert {key for key, _, _ in _all_wrappers()} == set(SMALL_ARGS)  # each is run alone below too
    assert check_source(emitted_source([(fn, helpers) for _, fn, helpers in _all_wrappers()])) == []


@pytest.mark.parametrize("key, fn, helpers", _all_wrappers(), ids=lambda v: v if isinstance(v, str) else "")
def test_wrapper_emitted_alone_passes_static_checks_and_runs_like_aten(key, fn, helpers, tmp_path):
    """Only the wrapper and its listed helpers are copied: a missing helper is a NameError here."""
    from kernelwright.verifier.problem import exec_source
    from kernelwright.verifier.static_checks import check_source

    source = emitted_source([(fn, helpers)])
    assert check_source(source) == []
    path = tmp_path / f"emitted_{key}.py"  # @triton.jit reads its source file
    path.write_text(source)
    module = exec_source(source, f"kw_lowered_dense_{key}", str(path))
    args = SMALL_ARGS[key]()
    out = module.ModelNew()(*args)[0]
    ref = getattr(A, key)(*_f64(*args))
    if isinstance(ref, tuple):
        assert torch.equal(out[1], ref[1])
        out, ref = out[0], ref[0]
    assert out.dtype == args[0].dtype
    assert_matches(out, ref)
