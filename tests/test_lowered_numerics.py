"""`lowered` family: rendered candidates run under the Triton interpreter and match the reference.

Each problem is written inline; the candidate is rendered from its source alone (no metadata),
checked with the verifier's static checks, then run against the reference Model with the same
state_dict, at the problem's own sizes and (where marked) at other sizes with the same candidate.
"""
from __future__ import annotations

import pytest
import torch
from kernelwright.agents.templates.lowered.family import CONFIGS, lowering
from kernelwright.agents.templates.lowered.render import render_candidate
from kernelwright.verifier.correctness import flatten
from kernelwright.verifier.problem import exec_source
from kernelwright.verifier.static_checks import check_source

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def problem(body: str, inputs: str, init: str = "[]", constants: str = "") -> str:
    """A KernelBench-format problem: Model body, get_inputs() list, get_init_inputs() list."""
    return (f"{HEADER}{constants}\nclass Model(nn.Module):\n{body}\n\n"
            f"def get_inputs():\n    return {inputs}\n\ndef get_init_inputs():\n    return {init}\n")


def render(source: str, config_index: int = 0) -> str:
    low = lowering(source)
    assert low.capture is not None, low.reason
    candidate = render_candidate(source, low.capture, CONFIGS[config_index])
    assert check_source(candidate) == [], [str(f) for f in check_source(candidate)]
    return candidate


def run_both(source: str, candidate: str, overrides: dict | None = None, seed: int = 0) -> None:
    """Run reference and candidate on the same inputs and weights; assert equal outputs."""
    pm = exec_source(source, "kw_test_lowered_problem", "problem")
    for key, value in (overrides or {}).items():
        setattr(pm, key, value)
    cm = exec_source(candidate, "kw_test_lowered_candidate", "candidate")
    torch.manual_seed(seed)
    init = pm.get_init_inputs()
    ref = pm.Model(*init)
    new = cm.ModelNew(*init)
    new.load_state_dict(ref.state_dict(), strict=False)
    inputs = pm.get_inputs()
    originals = [x.clone() if isinstance(x, torch.Tensor) else x for x in inputs]
    with torch.no_grad():
        want, got = ref(*inputs), new(*inputs)
    want, got = flatten(want), flatten(got)
    assert len(want) == len(got)
    for w, g in zip(want, got):
        assert g.shape == w.shape and g.dtype == w.dtype
        assert g.is_contiguous()
        if w.dtype.is_floating_point:
            torch.testing.assert_close(g, w, atol=2e-5, rtol=2e-5)
        else:
            assert torch.equal(g, w)
    for x, x0 in zip(inputs, originals):
        if isinstance(x, torch.Tensor):
            assert torch.equal(x, x0), "an input was modified"
            for g in got:
                assert g.untyped_storage().data_ptr() != x.untyped_storage().data_ptr()


FORWARD = ("    def __init__(self{params}):\n        super().__init__()\n{init}\n"
           "    def forward(self, {args}):\n        return {expr}\n")


def simple(expr: str, args: str, inputs: str, init: str = "        pass", params: str = "",
           init_inputs: str = "[]", constants: str = "") -> str:
    return problem(FORWARD.format(params=params, init=init, args=args, expr=expr), inputs, init_inputs, constants)


CASES = {
    # >= 16 channels: the tap-major convolution and its channels-last copies, carried in the candidate
    "conv_tap_major_relu": simple("torch.relu(self.conv(x))", "x", "[torch.randn(1, 16, 5, 5)]",
                                  "        self.conv = nn.Conv2d(16, 16, 3, padding=1)"),
    "broadcast_add_gelu": simple("F.gelu(x + b) * torch.sigmoid(x) - F.gelu(x, approximate='tanh')", "x, b",
                                 "[torch.randn(7, 33), torch.randn(33)]"),
    "activations": simple(
        "F.leaky_relu(x, 0.1) + F.elu(x) + F.selu(x) + F.softplus(x) + F.mish(x) + F.hardswish(x)"
        " + F.hardsigmoid(x) + F.relu6(x) + F.softsign(x) + F.logsigmoid(x) + F.silu(x) + F.hardtanh(x, -0.5, 0.5)"
        " + torch.tanh(x) + torch.expm1(x * 0.001) + torch.log1p(x.abs()) + torch.sign(x) + torch.floor(x)"
        " + torch.ceil(x) + torch.round(x) + x.pow(3) + x.abs().pow(0.7) + torch.clamp(x, min=-0.3)", "x",
        "[torch.randn(9, 41) * 3]"),
    "softmax_dim1": simple("torch.softmax(x, dim=1)", "x", "[torch.randn(4, 37, 5)]"),
    "softmax_last_dim": simple("torch.softmax(x * 2.0, dim=-1)", "x", "[torch.randn(6, 1100)]"),
    "log_softmax": simple("torch.log_softmax(x, dim=1)", "x", "[torch.randn(5, 300)]"),
    "layernorm": simple("self.ln(x)", "x", "[torch.randn(3, 5, 48) * 2 + 1]", "        self.ln = nn.LayerNorm(n)",
                        ", n", "[48]"),
    "mean_over_1_2": simple("torch.mean(x, dim=(1, 2)) + x.amax(dim=(0, 2)).sum()", "x", "[torch.randn(4, 6, 35)]"),
    "argmax_argmin_ties": simple("(torch.argmax(x, dim=1), torch.argmin(x, dim=-1), torch.max(x, 0))", "x",
                                 "[torch.randint(0, 3, (6, 2000)).float()]"),
    "var_std_prod": simple("(torch.var(x, dim=1), torch.std(x, dim=0, unbiased=False), torch.prod(x, dim=1))", "x",
                           "[torch.rand(5, 7) + 0.5]"),
    "cumsum_reverse": simple("torch.cumsum(x.flip(1), dim=1).flip(1)", "x", "[torch.randn(3, 2100)]"),
    "cumprod_and_exclusive": simple(
        "(torch.cumprod(x, dim=0), torch.cumsum(torch.cat((torch.zeros_like(x.select(1, 0).unsqueeze(1)), x), "
        "dim=1), dim=1)[:, :-1])", "x", "[torch.rand(5, 9) + 0.5]"),
    "views": simple("(x.permute(2, 0, 1).reshape(-1, x.shape[1]) * 2.0, x.transpose(0, 1), x[:, 1:3].unsqueeze(0))",
                    "x", "[torch.randn(4, 6, 5)]"),
    "batchnorm_train": simple("self.bn(x)", "x", "[torch.randn(8, 6, 5, 5)]", "        self.bn = nn.BatchNorm2d(c)",
                              ", c", "[6]"),
    "groupnorm": simple("self.gn(x)", "x", "[torch.randn(2, 8, 5, 7)]", "        self.gn = nn.GroupNorm(4, c)",
                        ", c", "[8]"),
    "cross_entropy": simple("F.cross_entropy(x, t)", "x, t", "[torch.randn(9, 13), torch.randint(0, 13, (9,))]"),
    "masked_where_int": simple("torch.where(m, x, -x) + (t == 2).float() + t.float() // 2", "x, m, t",
                               "[torch.randn(5, 8), torch.rand(5, 8) > 0.5, torch.randint(0, 5, (8,))]"),
    "returns_input_view": simple("x.t()", "x", "[torch.randn(5, 3)]"),
    # its decomposition writes in place into a clone (copy_), which capture makes out-of-place
    "cosine_similarity": simple("torch.mean(1 - F.cosine_similarity(x, y, dim=1))", "x, y",
                                "[torch.randn(6, 37), torch.randn(6, 37)]"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rendered_candidate_matches_reference(name):
    source = CASES[name]
    run_both(source, render(source))


def test_one_candidate_serves_two_sizes():
    source = simple("torch.softmax(x + self.w, dim=-1).sum(0)", "x", "[torch.randn(R, C)]",
                    "        self.w = nn.Parameter(torch.randn(c))", ", c", "[C]", constants="R = 6\nC = 40\n")
    candidate = render(source, config_index=1)
    run_both(source, candidate)
    run_both(source, candidate, overrides={"R": 3, "C": 131}, seed=1)


def test_fp32_dot_configs_reach_the_convolution_and_matmul_wrappers():
    # each config names how float32 convolutions / matmuls multiply; on a GPU tf32x3 / tf32 use tensor cores
    # (tests/test_lowered_dense_sm90.py), on the CPU every choice runs as ieee, so its numbers are the default's
    source = simple("self.lin(torch.relu(self.conv(x)).flatten(1))", "x", "[torch.randn(2, 3, 6, 6)]",
                    "        self.conv = nn.Conv2d(3, 16, 3)\n        self.lin = nn.Linear(256, 8)")
    assert [c["fp32_dot"] for c in CONFIGS[:3]] == ["tf32x3", "ieee", "tf32"]
    for index, dot in enumerate(["tf32x3", "ieee", "tf32"]):
        candidate = render(source, config_index=index)
        assert f'KW_FP32_DOT = "{dot}"' in candidate
        assert candidate.count("fp32_dot=KW_FP32_DOT)") == 2, candidate
    run_both(source, render(source, config_index=0))


@pytest.mark.parametrize("expr, body, reordered", [
    ("self.lin(x)", "        self.lin = nn.Linear(8, 4)", True),  # a matrix product: ieee can only be slower
    ("torch.relu(x) * 2", "", False),                           # none: the ieee configs are launch sizes only
])
def test_a_verified_tf32x3_sends_the_ieee_configs_last(expr, body, reordered):
    from kernelwright.agents.coder import CodeRequest
    from kernelwright.agents.templates.lowered.family import LoweredFamily

    source = simple(expr, "x", "[torch.randn(2, 8)]", body or "        pass")
    first = {"template": "lowered", "config": CONFIGS[0]}

    def order(status):
        request = CodeRequest(problem_source=source, problem_name="p", description="", metadata={},
                              strategy="tune_launch_config", tried=[{**first, "status": status}])
        return [c["fp32_dot"] for c in LoweredFamily().configs(request)]

    assert order("incorrect") == [c["fp32_dot"] for c in CONFIGS]  # the fallback stays second
    assert order("correct") == (["tf32x3", "tf32", "tf32x3", "ieee", "ieee"] if reordered
                                else [c["fp32_dot"] for c in CONFIGS])


def test_unknown_fp32_dot_is_refused_with_a_clear_error():
    from kernelwright.agents.templates.lowered.dense_matmul import kw_mm
    with pytest.raises(ValueError, match="fp32_dot must be 'ieee', 'tf32x3' or 'tf32', not 'tf64'"):
        kw_mm(torch.randn(4, 4), torch.randn(4, 4), fp32_dot="tf64")


def test_constructor_hyperparameter_is_read_at_run_time():
    # the reduction dim and the layer size come from the constructor: a perturbed problem changes both
    source = simple("torch.sum(self.lin(x), dim=self.dim) / self.n", "x", "[torch.randn(B, N, N)]",
                    "        self.dim, self.n = dim, n\n        self.lin = nn.Linear(n, n)", ", n, dim", "[N, DIM]",
                    constants="B = 3\nN = 8\nDIM = 2\n")
    candidate = render(source)
    assert "self.kw_init_args" in candidate
    run_both(source, candidate)
    run_both(source, candidate, overrides={"N": 5, "DIM": 1}, seed=2)


def test_forward_writing_into_its_input_is_refused_with_a_reason():
    from kernelwright.agents.templates.lowered.capture import CaptureError, capture

    source = simple("x.mul_(2.0)", "x", "[torch.randn(4, 5)]")
    with pytest.raises(CaptureError, match="writes into its inputs in place"):
        capture(source)
