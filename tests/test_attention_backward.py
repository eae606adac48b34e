"""Backward kernels of the attention family (render_backward.py) against float64 autograd of each
problem's reference, under the Triton interpreter on the CPU (a GPU where there is one).

Every attention problem of the project, at its small shape and at a longer ragged sequence (so the
causal / window / document bounds skip whole tiles), in float32 and bfloat16: dq, dk and dv of the
rendered candidate's autograd Function against the reference Model's in float64, and the gradients of
the parameters score_mod reads (learned ALiBi slopes; a relative-position bias table below)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from kernelwright.agents.templates.attention.render_backward import render_training_source
from kernelwright.agents.templates.attention.spec import parse_spec
from kernelwright.verifier.problem import exec_source, load_problem

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = sorted((ROOT / "problems" / "attention").glob("*.py"))
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
TILES = {"BLOCK_M": 16, "BLOCK_N": 16, "num_warps": 4, "num_stages": 1}
FORWARD_1D = {**TILES, "LAZY": False, "PIPE_QK": False, "TMA": False, "WS": False}
FORWARD_2D = {"PATCH_H": 4, "PATCH_W": 4, "BLOCK_N": 16, "num_warps": 4, "num_stages": 1, "LAZY": False}


def _shapes(path: Path) -> list[dict]:
    module = exec_source(path.read_text(), "kw_probe", str(path))
    small = dict(module.SMALL_SHAPE, D=16)  # D=16: the smallest head dim tl.dot takes, fast in the interpreter
    if "S" not in small:  # 2-D neighbourhood: the sequence is the grid
        return [small]
    return [small, {**small, "S": 83, **({"WINDOW": 21} if "WINDOW" in small else {})}]


CASES = [(p, o) for p in PROBLEMS for o in _shapes(p)]
# float32 checks the arithmetic closely; bfloat16 inputs round P and dS to bf16 before the dots, as on a GPU
# (errors up to 0.042 seen on gradients of magnitude ~3, about 3 bf16 ulps)
# On a GPU, float32 tl.dot runs on TF32 tensor cores (10-bit mantissa): dq missed 1e-3 by 0.0034 on an H100
TOLERANCE = {torch.float32: 1e-3 if DEVICE == "cpu" else 5e-3, torch.bfloat16: 6e-2}


@pytest.mark.parametrize("dtype", list(TOLERANCE), ids=str)
@pytest.mark.parametrize("path, overrides", CASES, ids=[f"{p.stem}-S{o.get('S', 'grid')}" for p, o in CASES])
def test_rendered_backward_matches_float64_autograd(path, overrides, dtype, tmp_path):
    problem = load_problem(path)
    spec = parse_spec(problem.source)
    config = FORWARD_2D if spec.grid else FORWARD_1D
    source = render_training_source(spec, config, path.stem, problem.source, backward=TILES)
    file = tmp_path / f"{path.stem}_train.py"  # @triton.jit reads its source file
    file.write_text(source)
    candidate = exec_source(source, f"kw_train_{path.stem}", str(file))
    module = problem.module(overrides)
    init = module.get_init_inputs()
    torch.manual_seed(0)
    q, k, v = (torch.randn(*x.shape, device=DEVICE) for x in module.get_inputs())
    _check_gradients(candidate.ModelNew(*init), module.Model(*init), (q, k, v), dtype)


def _check_gradients(model, reference, qkv, dtype):
    """Output and q / k / v / parameter gradients of `model` in `dtype` against `reference` in float64."""
    model.load_state_dict(reference.state_dict())  # the verifier gives the candidate the reference's parameters
    grad_out = torch.randn_like(qkv[0])

    def grads(model, dtype):
        leaves = [x.detach().to(dtype).requires_grad_() for x in qkv]
        out = model(*leaves)
        out.backward(grad_out.to(out.dtype))
        return out.detach(), [x.grad for x in leaves], {n: p.grad for n, p in model.named_parameters()}

    out, got, got_params = grads(model.to(DEVICE), dtype)
    ref_out, expected, expected_params = grads(reference.double().to(DEVICE), torch.float64)
    tol = TOLERANCE[dtype]
    torch.testing.assert_close(out.double(), ref_out, rtol=tol, atol=tol)
    for name, g, e in zip("qkv", got, expected):
        assert g.dtype == dtype
        torch.testing.assert_close(g.double(), e, rtol=tol, atol=tol, msg=lambda m, n=name: f"d{n}: {m}")
    assert set(got_params) == set(expected_params)
    for name, e in expected_params.items():  # sums over every (query, key) pair: tolerance scaled by their size
        g = got_params[name]
        assert g is not None and g.dtype == torch.float32, name
        scale = float(e.abs().max()) + 1.0
        torch.testing.assert_close(g.double(), e, rtol=tol, atol=tol * scale, msg=lambda m, n=name: f"d{n}: {m}")


# A relative-position bias table: one learned value per head and offset, read per (query, key) pair,
# so its gradient is scattered with one atomic add per pair (slopes[h] above takes one per tile).
BIAS_TABLE = '''
import math
import torch
import torch.nn as nn

SMALL_SHAPE = {"B": 1, "H": 2, "S": 67, "D": 16}
ATTENTION = {"init_args": ["H", "S"]}
B, H, S, D = 1, 2, 67, 16


def score_mod(score, b, h, q_idx, kv_idx, table):
    return score * 0.5 + table[h, q_idx - kv_idx + S - 1]


class Model(nn.Module):
    def __init__(self, heads, seq):
        super().__init__()
        self.table = nn.Parameter(torch.randn(heads, 2 * seq - 1))

    def forward(self, q, k, v):
        batch, heads, seq, dim = q.shape
        scores = torch.matmul(q.float(), k.float().transpose(-2, -1)) / math.sqrt(dim)
        b = torch.arange(batch).view(-1, 1, 1, 1)
        h = torch.arange(heads).view(1, -1, 1, 1)
        q_idx, kv_idx = torch.arange(seq).view(1, 1, -1, 1), torch.arange(seq).view(1, 1, 1, -1)
        scores = score_mod(scores, b, h, q_idx, kv_idx, self.table.to(scores.dtype))
        return torch.matmul(torch.softmax(scores, dim=-1), v.float()).to(q.dtype)


def get_inputs():
    return [torch.randn(B, H, S, D) for _ in range(3)]


def get_init_inputs():
    return [H, S]
'''


@pytest.mark.parametrize("dtype", list(TOLERANCE), ids=str)
def test_bias_table_gradient_is_scattered_per_pair(dtype, tmp_path):
    spec = parse_spec(BIAS_TABLE)
    assert spec.tensors == {"table": 2} and spec.score.additive_bias is None  # score * 0.5: not additive
    source = render_training_source(spec, FORWARD_1D, "bias_table", BIAS_TABLE, backward=TILES)
    assert "tl.atomic_add(DT_table" in source and "mask=kv_ok)" in source
    file = tmp_path / "bias_table_train.py"
    file.write_text(source)
    candidate = exec_source(source, "kw_train_bias_table", str(file))
    module = exec_source(BIAS_TABLE, "kw_bias_table", "<bias table>")
    torch.manual_seed(0)
    qkv = [torch.randn(1, 2, 67, 16, device=DEVICE) for _ in range(3)]
    _check_gradients(candidate.ModelNew(2, 67), module.Model(2, 67), qkv, dtype)


def test_a_constructor_that_reads_a_shape_constant_is_refused():
    """ModelNew must build tensors of the reference's shapes at every test shape: sizes come as init arguments."""
    from kernelwright.agents.templates.attention.translate_triton import TranslateError

    fixed = BIAS_TABLE.replace("def __init__(self, heads, seq)", "def __init__(self, heads, seq_unused)") \
                      .replace("2 * seq - 1", "2 * S - 1")
    with pytest.raises(TranslateError, match="`S`: pass it through get_init_inputs"):
        parse_spec(fixed)


@pytest.mark.parametrize("grid_h, grid_w, kernel", [(20, 9, 3), (11, 13, 5), (9, 10, 7), (5, 6, 7)],
                         ids=lambda v: str(v))
def test_neighbourhood_backward_walks_only_the_interacting_rows(grid_h, grid_w, kernel, tmp_path):
    """Both backward kernels bound their loops to the band of image rows that can interact (the last shape's
    window is taller than the image: every row interacts); gradients stay exact, also at the borders."""
    path = ROOT / "problems" / "attention" / "neighborhood_2d.py"
    problem = load_problem(path)
    source = render_training_source(parse_spec(problem.source), FORWARD_2D, "nbhd", problem.source, backward=TILES)
    assert "neighbourhood: query rows" in source and "neighbourhood: key rows" in source
    file = tmp_path / "nbhd_train.py"
    file.write_text(source)
    candidate = exec_source(source, "kw_train_nbhd_rows", str(file))
    module = problem.module({"B": 1, "H": 2, "D": 16, "GRID_H": grid_h, "GRID_W": grid_w, "KERNEL": kernel})
    init = module.get_init_inputs()
    torch.manual_seed(0)
    qkv = [torch.randn(*x.shape, device=DEVICE) for x in module.get_inputs()]
    _check_gradients(candidate.ModelNew(*init), module.Model(*init), qkv, torch.float32)


ASYMMETRIC = {"BLOCK_M1": 16, "BLOCK_N1": 32, "BLOCK_M2": 32, "BLOCK_N2": 16, "num_warps": 4, "num_stages": 1}


@pytest.mark.parametrize("variant", ["causal", "sliding_window", "document_causal", "alibi_learned", "neighborhood_2d"])
def test_per_kernel_backward_tiles_keep_the_gradients_exact(variant, tmp_path):
    """dK/dV owning 32 keys in 16-query steps and dQ owning 32 queries in 16-key steps (the bounds of each
    kernel align to its own step), at a ragged length."""
    path = ROOT / "problems" / "attention" / f"{variant}.py"
    problem = load_problem(path)
    spec = parse_spec(problem.source)
    source = render_training_source(spec, FORWARD_2D if spec.grid else FORWARD_1D, variant, problem.source,
                                    backward=ASYMMETRIC)
    file = tmp_path / f"{variant}_asym.py"
    file.write_text(source)
    candidate = exec_source(source, f"kw_asym_{variant}", str(file))
    overrides = _shapes(path)[-1]
    module = problem.module(overrides)
    init = module.get_init_inputs()
    torch.manual_seed(0)
    qkv = [torch.randn(*x.shape, device=DEVICE) for x in module.get_inputs()]
    _check_gradients(candidate.ModelNew(*init), module.Model(*init), qkv, torch.float32)


def test_training_search_walks_the_backward_configs():
    from kernelwright.agents.coder import CodeRequest
    from kernelwright.agents.templates.attention.family import AttentionFamily
    from kernelwright.agents.templates.attention.render_backward import BACKWARD_CONFIGS

    problem = load_problem(ROOT / "problems" / "attention" / "causal.py")
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata={**problem.metadata, "backward": True}, strategy="first_draft", device="cpu")
    configs = AttentionFamily().configs(request)
    assert [c["BACKWARD"] for c in configs[:len(BACKWARD_CONFIGS)]] == BACKWARD_CONFIGS
    assert all("BACKWARD" in c for c in configs)
    source = AttentionFamily().render(request, configs[1])
    assert "BLOCK_M=32, BLOCK_N=128" in source and "BLOCK_M=128, BLOCK_N=32" in source
    grid = load_problem(ROOT / "problems" / "attention" / "neighborhood_2d.py")  # the 2-D tiling walks them too
    request = CodeRequest(problem_source=grid.source, problem_name=grid.name, description="",
                          metadata={**grid.metadata, "backward": True}, strategy="first_draft", device="cpu")
    assert [c["BACKWARD"] for c in AttentionFamily().configs(request)[:len(BACKWARD_CONFIGS)]] == BACKWARD_CONFIGS
