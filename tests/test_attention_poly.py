"""POLY_EXP: exp2 of a share of the score tile by an FMA-pipe polynomial (agents/templates/attention/poly_exp2.py).

The helper runs under the Triton interpreter here; the sm_90 compile figures are in test_attention_sm90.py."""
import os
from pathlib import Path

import pytest
import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.agents.templates.attention.poly_exp2 import POLY_HELPER
from kernelwright.verifier.problem import exec_source, load_problem

import kernelwright

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"
FAMILY = AttentionFamily()
PROBE = '''
import triton
import triton.language as tl
''' + POLY_HELPER + '''

@triton.jit
def _poly_rows(X, Y, N: tl.constexpr):
    offs = tl.program_id(0) * N + tl.arange(0, N)
    tl.store(Y + offs, _kw_exp2_poly(tl.load(X + offs)))


@triton.jit
def _mix_tile(X, Y, M: tl.constexpr, N: tl.constexpr, SHARE: tl.constexpr):
    offs = tl.arange(0, M)[:, None] * N + tl.arange(0, N)[None, :]
    tl.store(Y + offs, _kw_exp2_mix(tl.load(X + offs), SHARE))
'''

needs_interpreter = pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1",
                                       reason="runs Triton code in this process under the interpreter (CPU hosts)")


@pytest.fixture(scope="module")
def probe():
    return exec_source(PROBE, "kw_poly_probe", "kw_poly_probe")


def request_for(variant: str) -> CodeRequest:
    problem = load_problem(PROBLEMS / f"{variant}.py")
    return CodeRequest(problem_source=problem.source, problem_name=problem.name, description=problem.description,
                       metadata=problem.metadata, strategy="tune_launch_config")


@needs_interpreter
def test_polynomial_exp2_matches_torch_from_minus_inf_to_large(probe):
    special = torch.tensor([float("-inf"), -1e30, -200.0, -127.0, -126.75, -126.0, -0.5, 0.0, 0.5, 1.0, 8.0, 100.0,
                            126.9, -1e-7, 1e-7, -3.5, 2.5, -64.0])
    x = torch.cat([special, torch.linspace(-130.0, 127.0, 8192 - special.numel())]).float()
    y = torch.empty_like(x)
    probe._poly_rows[(x.numel() // 1024,)](x, y, N=1024)
    ref = torch.exp2(x.double())
    assert (y[x <= -127] == 0).all() and not torch.signbit(y[x <= -127]).any()  # -inf, -1e30, -200: exact +0
    normal = ref >= 2.0 ** -126
    rel = (y.double()[normal] / ref[normal] - 1).abs().max().item()
    assert rel < 1.5e-4, rel  # bf16 rounding of p is 2^-9 = 2e-3: the polynomial adds < 1/10 of that
    assert ((y.double()[~normal] - ref[~normal]).abs() < 2.0 ** -126).all()  # no exponent wrap near -127
    assert y[7].item() == 1.0 and y[9].item() == 2.0 and y[10].item() == 256.0  # integers are exact


@needs_interpreter
@pytest.mark.parametrize("share", [2, 4, 8])
def test_mixed_tile_puts_the_polynomial_on_the_last_share_of_columns(probe, share):
    torch.manual_seed(share)
    x = torch.randn(16, 64) * 20 - 10
    x[3, :] = float("-inf")
    y = torch.empty_like(x)
    probe._mix_tile[(1,)](x, y, M=16, N=64, SHARE=share)
    ref = torch.exp2(x.double())
    rel = torch.where(ref > 1e-30, y.double() / ref - 1, torch.zeros_like(ref)).abs()
    first_poly = 64 - 64 // share
    assert (y[3] == 0).all()
    assert rel[:, :first_poly].max() < 1e-6  # MUFU columns: plain exp2
    assert 1e-6 < rel[:, first_poly:].max() < 1.5e-4  # polynomial columns: its own (small) error


@pytest.mark.parametrize("variant, share", [("plain", 4), ("causal", 8), ("alibi", 2), ("relpos", 4)])
def test_rendered_kernel_with_polynomial_exp_verifies_correct(variant, share):
    request = request_for(variant)
    config = {**FAMILY.configs(request)[0], "POLY_EXP": share}
    source = FAMILY.render(request, config)
    assert "_kw_exp2_mix(qk" in source and "def _kw_exp2_poly" in source
    verdict = kernelwright.verify(PROBLEMS / f"{variant}.py", source, device="cpu")
    assert verdict.status == "correct", f"{variant} {config}: {verdict.status} {verdict.rule} {verdict.message}"


def test_poly_configs_come_after_the_plain_dense_configs():
    # H100: POLY_EXP was never a variant's best config, so the tuner reaches it after the plain ones
    for head_dim in (128, 64):
        configs = FAMILY.configs(request_for("plain"), head_dim=head_dim)
        shares = [c.get("POLY_EXP", 0) for c in configs]
        first_poly = next(i for i, s in enumerate(shares) if s)
        assert sum(s > 0 for s in shares) >= 3 and first_poly >= 8, shares
        assert not any(c["LAZY"] or c["PIPE_QK"] for c in configs[:first_poly]), configs[:first_poly]
    assert all(not c.get("POLY_EXP") for c in FAMILY.configs(request_for("sliding_window")))


def test_unsupported_share_is_a_one_line_error():
    with pytest.raises(ValueError, match="POLY_EXP=3 is not supported"):
        FAMILY.render(request_for("plain"), {**FAMILY.configs(request_for("plain"))[0], "POLY_EXP": 3})
