"""The bench's problem categories: a fused forward is named by the op class that leads it."""
from pathlib import Path

import pytest
from kernelwright.tools.opclass import leading_class
from kernelwright.verifier.problem import load_problem

from kernelwright.bench.offline_solve import category_of

KB = Path(__file__).resolve().parents[1] / "problems" / "kb"


@pytest.mark.parametrize("name, category", [
    ("fused_conv2d_bias_relu_groupnorm", "fused conv"),
    ("fused_convtranspose3d_maxpool_softmax", "fused conv_transpose"),
    ("fused_gemm_sigmoid_sum", "fused matmul"),
    ("conv2d_square_padded", "conv"),  # one op class: the category is that class, as before
])
def test_fused_problems_are_named_by_their_leading_op(name, category):
    path = KB / f"{name}.py"
    assert category_of(path, load_problem(path)) == category


def test_leading_class_prefers_the_costly_op():
    assert leading_class(["elementwise", "matmul", "reduction"]) == "matmul"
    assert leading_class(["conv", "norm", "pool"]) == "conv"
    assert leading_class(["elementwise"]) == "elementwise"
