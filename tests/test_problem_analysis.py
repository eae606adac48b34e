"""Problem analysis (tools/opgraph.py): aten ops, FLOPs, bytes, category and speed of light, on fakes."""
from __future__ import annotations

import json

import pytest
from kernelwright.tools import roofline
from kernelwright.tools.opgraph import analyze_problem
from kernelwright.verifier.problem import Problem

HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


def _source(forward: str, inputs: str, init: str = "", constants: str = "") -> str:
    """A KernelBench-style problem: `forward` continues `def forward(self, `; `init` is __init__."""
    return (HEADER + constants + "\nclass Model(nn.Module):\n" + init + f"    def forward(self, {forward}\n"
            + f"def get_inputs():\n    return {inputs}\n" + "def get_init_inputs():\n    return []\n")


MATMUL = _source("A, B):\n        return torch.matmul(A, B)", "[torch.randn(M, K), torch.randn(K, N)]",
                 constants="M = 1024\nK = 4096\nN = 2048\n")
CONV = _source("x):\n        return self.conv(x)", "[torch.randn(16, 64, 256, 256)]",
               init="    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(64, 128, 3)\n")
FUSED = _source("x):\n        return torch.relu(self.conv(x)) + self.bias", "[torch.randn(16, 64, 256, 256)]",
                init="    def __init__(self):\n        super().__init__()\n        self.conv = nn.Conv2d(64, 128, 3)\n"
                     "        self.bias = nn.Parameter(torch.randn(128, 1, 1))\n")
SOFTMAX = _source("x):\n        return torch.softmax(x, dim=1)", "[torch.randn(4096, 16384)]")
DROPOUT = _source("x):\n        return self.drop(x) * 2", "[torch.randn(128, 1024)]",
                  init="    def __init__(self):\n        super().__init__()\n        self.drop = nn.Dropout(0.1)\n")
RAND = _source("x):\n        return x + torch.rand_like(x)", "[torch.randn(128, 1024)]")
INPLACE = _source("x):\n        x.mul_(2)\n        return x + 1", "[torch.randn(128, 1024)]")
DATA_DEPENDENT = _source("x):\n        return x * 2 if x.sum() > 0 else x", "[torch.randn(128, 1024)]")
HUGE = _source("A, B):\n        return torch.relu(A @ B)", "[torch.randn(N, N), torch.randn(N, N)]",
               constants="N = 1 << 20\n")


def test_matmul_flops_are_two_m_n_k_and_bytes_read_and_write_once():
    result = analyze_problem(MATMUL, gpu="H200")
    assert result["captured"] and result["category"] == "matmul"
    assert result["flops"] == 2 * 1024 * 2048 * 4096
    assert result["bytes"] == 4 * (1024 * 4096 + 4096 * 2048 + 1024 * 2048)
    assert [op["op"] for op in result["ops"]] == ["aten.mm"]
    assert result["ops"][0]["shapes"] == [[1024, 4096], [4096, 2048]] and result["ops"][0]["out_shape"] == [1024, 2048]
    assert result["inputs"] == [{"shape": [1024, 4096], "dtype": "float32"},
                                {"shape": [4096, 2048], "dtype": "float32"}]


def test_overrides_change_the_sizes_analysed():
    result = analyze_problem(MATMUL, overrides={"M": 8, "K": 16, "N": 32})
    assert result["flops"] == 2 * 8 * 16 * 32


def test_conv_is_conv_with_two_flops_per_multiply_add():
    result = analyze_problem(Problem(name="conv", source=CONV))
    assert result["category"] == "conv" and result["op_classes"] == ["conv"]
    assert result["ops"][0]["op"] == "aten.convolution" and result["ops"][0]["out_shape"] == [16, 128, 254, 254]
    assert result["flops"] == 2 * 16 * 128 * 254 * 254 * 64 * 3 * 3
    assert {p["name"]: p["shape"] for p in result["params"]} == {"conv.weight": [128, 64, 3, 3], "conv.bias": [128]}


def test_conv_relu_bias_is_fused():
    result = analyze_problem(FUSED)
    assert result["category"] == "fused" and result["op_classes"] == ["conv", "elementwise"]
    assert [op["op"] for op in result["ops"]] == ["aten.convolution", "aten.relu", "aten.add"]
    assert result["flops"] == 2 * 16 * 128 * 254 * 254 * 64 * 9 + 2 * 16 * 128 * 254 * 254


def test_softmax_is_softmax():
    result = analyze_problem(SOFTMAX)
    assert result["category"] == "softmax" and result["ops"][0]["op"] == "aten._softmax"



def test_hand_written_rmsnorm_is_norm_and_hand_written_mse_is_loss():
    rms = _source("x):\n        return x / torch.sqrt(torch.mean(x ** 2, dim=1, keepdim=True) + 1e-5)",
                  "[torch.randn(16, 64, 256, 256)]")
    mse = _source("p, t):\n        return torch.mean((p - t) ** 2)", "[torch.randn(128, 4096), torch.randn(128, 4096)]")
    assert analyze_problem(rms)["category"] == "norm"
    assert analyze_problem(mse)["category"] == "loss"


@pytest.mark.parametrize("source", [DROPOUT, RAND], ids=["dropout_in_training_mode", "rand_like"])
def test_random_numbers_in_forward_are_not_captured(source):
    result = analyze_problem(source)
    assert result["captured"] is False
    assert result["reason"].startswith("random numbers drawn in forward") and "\n" not in result["reason"]


def test_writing_an_input_in_place_is_not_captured():
    result = analyze_problem(INPLACE)
    assert result["captured"] is False and result["reason"] == "the forward writes into its input `x` in place"


def test_data_dependent_control_flow_is_not_captured():
    result = analyze_problem(DATA_DEPENDENT)
    assert result["captured"] is False and result["reason"].startswith("data-dependent control flow")
    assert result["ops"] == [] and result["flops"] is None


def test_sizes_that_never_fit_in_memory_are_analysed_on_fakes():
    result = analyze_problem(HUGE, gpu="NVIDIA H100 80GB HBM3")
    n = 1 << 20
    assert result["captured"] and result["category"] == "fused"
    assert result["flops"] == 2 * n ** 3 + n * n
    assert result["bytes"] == 3 * 4 * n * n
    assert result["gpu"] == "NVIDIA H100 80GB HBM3"
    assert result["sol_s"] == result["sol"]["H100 SXM"]["sol_s"] == pytest.approx((2 * n ** 3) / 67e12 + n * n / 67e12)


def test_speed_of_light_is_the_slower_of_compute_and_memory():
    result = analyze_problem(SOFTMAX, gpu="H200")
    nbytes = 2 * 4 * 4096 * 16384
    assert result["sol"]["H200"]["bound"] == "memory"
    assert result["sol_s"] == pytest.approx(nbytes / 4.8e12)
    assert result["sol"]["H100 SXM"]["sol_s"] == pytest.approx(nbytes / 3.35e12)


def test_unknown_gpu_gives_no_sol_but_the_table_figures():
    result = analyze_problem(MATMUL, gpu="NVIDIA A100-SXM4-80GB")
    assert result["sol_s"] is None and set(result["sol"]) == {"H100 SXM", "H200"}
    assert roofline.gpu_key("NVIDIA H100 PCIe") is None and roofline.gpu_key("NVIDIA H200") == "H200"


def test_result_is_plain_json():
    result = analyze_problem(FUSED, gpu="H200")
    assert json.loads(json.dumps(result)) == result


def test_loading_a_problem_of_kernelbench_size_allocates_nothing():
    from kernelwright.verifier.problem import load_problem

    huge = ("import torch\nimport torch.nn as nn\n\nclass Model(nn.Module):\n    def forward(self, x):\n"
            "        return x.sum(dim=1)\n\nrows = 1 << 17\ncols = 1 << 17\n\n"  # 64 GiB of float32
            "def get_inputs():\n    return [torch.rand(rows, cols)]\n\ndef get_init_inputs():\n    return []\n")
    problem = load_problem(huge)
    assert problem.metadata["constants"] == {"rows": 1 << 17, "cols": 1 << 17}
