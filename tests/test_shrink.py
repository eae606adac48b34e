"""Automatic CPU shrink (verifier/shrink.py): small, buildable, structure-preserving overrides."""
from __future__ import annotations

import pytest
import torch
from kernelwright.verifier import inputs, shrink
from kernelwright.verifier.problem import Problem, load_problem

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

MATMUL = HEADER + """
M = 1024
K = 4096
N = 2048
class Model(nn.Module):
    def forward(self, A, B):
        return torch.matmul(A, B)
def get_inputs():
    return [torch.randn(M, K), torch.randn(K, N)]
def get_init_inputs():
    return []
"""

CONV2D = HEADER + """
batch_size = 16
in_channels = 64
out_channels = 128
kernel_size = 3
width = 256
height = 256
class Model(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size)
    def forward(self, x):
        return self.conv(x)
def get_inputs():
    return [torch.randn(batch_size, in_channels, height, width)]
def get_init_inputs():
    return [in_channels, out_channels, kernel_size]
"""

POOL3D = HEADER + """
batch_size = 16
channels = 32
dim1 = dim2 = dim3 = 64
kernel_size = 3
stride = 2
padding = 1
dilation = 3
class Model(nn.Module):
    def __init__(self, kernel_size, stride, padding, dilation):
        super().__init__()
        self.pool = nn.MaxPool3d(kernel_size, stride=stride, padding=padding, dilation=dilation)
    def forward(self, x):
        return self.pool(x)
def get_inputs():
    return [torch.randn(batch_size, channels, dim1, dim2, dim3)]
def get_init_inputs():
    return [kernel_size, stride, padding, dilation]
"""

LAYERNORM = HEADER + """
batch_size = 16
features = 64
dim1 = 256
dim2 = 256
class Model(nn.Module):
    def __init__(self, normalized_shape):
        super().__init__()
        self.ln = nn.LayerNorm(normalized_shape)
    def forward(self, x):
        return self.ln(x)
def get_inputs():
    return [torch.randn(batch_size, features, dim1, dim2)]
def get_init_inputs():
    return [(features, dim1, dim2)]
"""

ATTENTION = HEADER + """
batch_size = 32
seq_len = 512
num_heads = 12
head_dim = 64
hidden = 768
class Model(nn.Module):
    def __init__(self, hidden, num_heads):
        super().__init__()
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.num_heads = num_heads
    def forward(self, x):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).view(b, s, 3, self.num_heads, head_dim).permute(2, 0, 3, 1, 4)
        y = torch.softmax(q @ k.transpose(-2, -1) / head_dim ** 0.5, dim=-1) @ v
        return y.transpose(1, 2).reshape(b, s, hidden)
def get_inputs():
    return [torch.randn(batch_size, seq_len, hidden)]
def get_init_inputs():
    return [hidden, num_heads]
"""

SCAN = HEADER + """
batch_size = 128
input_shape = (32768,)
dim = 1
class Model(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim
    def forward(self, x):
        return torch.cumsum(x, dim=self.dim)
def get_inputs():
    return [torch.randn(batch_size, *input_shape)]
def get_init_inputs():
    return [dim]
"""

PROBLEMS = {"matmul": MATMUL, "conv2d": CONV2D, "pool3d": POOL3D, "layernorm": LAYERNORM,
            "attention": ATTENTION, "scan": SCAN}


def _problem(name: str, source: str) -> Problem:
    return Problem(name=name, source=source)


def _constants(problem: Problem, overrides: dict) -> dict[str, int]:
    """Int module constants, tuple items as "name[i]"."""
    found = {}
    for k, v in vars(problem.module(overrides)).items():
        items = v if isinstance(v, tuple) else [v]
        for i, item in enumerate(items):
            if not k.startswith("_") and isinstance(item, int) and not isinstance(item, bool):
                found[f"{k}[{i}]" if isinstance(v, tuple) else k] = item
    return found


@pytest.mark.parametrize("name", PROBLEMS)
def test_shrunk_problem_builds_and_every_input_is_small(name):
    problem = _problem(name, PROBLEMS[name])
    overrides = shrink.auto_small_shape(problem)
    assert overrides
    assert inputs._builds(problem, overrides)
    with torch.device("meta"):
        tensors = problem.module(overrides).get_inputs()
    assert max(t.numel() for t in tensors) <= shrink.MAX_INPUT_ELEMENTS
    assert shrink._measure(problem, overrides)[1] <= shrink.MAX_FLOPS


@pytest.mark.parametrize("name", PROBLEMS)
def test_divisibility_is_kept_when_shrinking(name):
    problem = _problem(name, PROBLEMS[name])
    full, small = _constants(problem, {}), _constants(problem, shrink.auto_small_shape(problem))
    kept = [(a, b) for a in full for b in full if a != b and full[b] >= 2 and full[a] % full[b] == 0]
    assert kept
    assert [(a, b) for a, b in kept if small[a] % small[b]] == []


def test_kernel_stride_padding_and_small_constants_are_unchanged():
    for source in (CONV2D, POOL3D, SCAN):
        overrides = shrink.auto_small_shape(_problem("p", source))
        assert not {"kernel_size", "stride", "padding", "dilation", "dim"} & set(overrides)
    assert shrink.auto_small_shape(_problem("pool3d", POOL3D))["dim1"] == \
        shrink.auto_small_shape(_problem("pool3d", POOL3D))["dim3"]


def test_hidden_stays_heads_times_head_dim():
    overrides = shrink.auto_small_shape(_problem("attention", ATTENTION))
    small = _constants(_problem("attention", ATTENTION), overrides)
    assert small["hidden"] == small["num_heads"] * small["head_dim"] < 768


def test_matmul_is_scaled_to_small_sizes():
    assert shrink.auto_small_shape(_problem("matmul", MATMUL)) == {"M": 64, "K": 128, "N": 128}


def test_tuple_constants_are_shrunk_and_keep_their_type():
    overrides = shrink.auto_small_shape(_problem("scan", SCAN))
    assert isinstance(overrides["input_shape"], tuple) and overrides["input_shape"][0] < 32768


def test_fixed_dims_are_never_shrunk():
    source = ATTENTION + "FIXED_DIMS = ['head_dim']\n"
    overrides = shrink.auto_small_shape(_problem("attention_fixed", source))
    small = _constants(_problem("attention_fixed", source), overrides)
    assert "head_dim" not in overrides and small["hidden"] == small["num_heads"] * 64


def test_a_size_the_forward_rejects_is_backed_off():
    source = MATMUL.replace("        return torch.matmul(A, B)",
                            "        assert A.shape[1] >= 512, 'K too small'\n        return torch.matmul(A, B)")
    overrides = shrink.auto_small_shape(_problem("matmul_k", source))
    assert overrides.get("K", 4096) >= 512 and inputs._builds(_problem("matmul_k", source), overrides)


def test_shrink_is_deterministic():
    first = shrink._shrink(_problem("conv2d", CONV2D), set())
    assert shrink._shrink(_problem("conv2d", CONV2D), set()) == first == shrink.auto_small_shape(_problem("c", CONV2D))


def test_small_problem_or_literal_sizes_give_no_overrides():
    small = MATMUL.replace("M = 1024\nK = 4096\nN = 2048", "M = 16\nK = 32\nN = 8")
    literal = MATMUL.replace("torch.randn(M, K), torch.randn(K, N)", "torch.randn(2048, 2048), torch.randn(2048, 2048)")
    assert shrink.auto_small_shape(_problem("small", small)) == {}
    assert shrink.auto_small_shape(_problem("literal", literal)) == {}


def test_declared_small_shape_wins_over_the_automatic_one():
    source = MATMUL.replace("M = 1024\nK = 4096\nN = 2048", "M = 256\nK = 512\nN = 128")
    problem = load_problem(source + "SMALL_SHAPE = {'M': 33, 'K': 65, 'N': 17}\nFIXED_DIMS = ['N']\n")
    assert problem.metadata["fixed_dims"] == ["N"]
    assert inputs.base_overrides(problem, small=True) == {"M": 33, "K": 65, "N": 17}
    assert inputs.base_overrides(problem, small=False) == {}
    assert inputs.base_overrides(load_problem(source), small=True) == shrink.auto_small_shape(load_problem(source))


def test_small_trials_and_extra_shapes_start_from_the_shrunk_base():
    problem = _problem("conv2d", CONV2D)
    problem.metadata["constants"] = _constants(problem, {})
    base = shrink.auto_small_shape(problem)
    plan = inputs.plan_trials(problem, trials=5, extra_shapes=True, large_magnitude=False, small=True)
    assert plan[0].overrides == base
    extra = [t.overrides for t in plan if t.kind == "extra_shape"]
    assert extra and extra[0] != base
    assert all(extra[0][k] <= v + 1 for k, v in base.items()) and extra[0].get("kernel_size", 3) == 3
