"""The candidate's own kernels' share of the profiled kernel time (kernelbench policy's report)."""
from kernelwright.verifier.evidence import own_time_share


def run(*kernels, launches=("triton:pool_kernel",)):
    return {"launches": dict.fromkeys(launches, 1),
            "kernels": [{"name": n, "stream": 7, "own_stream": True, "ns": ns} for n, ns in kernels]}


def test_share_counts_own_kernels_against_library_and_pytorch_ones():
    share = own_time_share(run(("pool_kernel", 300), ("cudnn::conv2d_fprop_kernel", 600),
                               ("void at::native::vectorized_elementwise_kernel<4>", 100)))
    assert share == 0.3


def test_memcpy_is_not_own_work():
    assert own_time_share(run(("pool_kernel", 50), ("Memcpy DtoD (Device -> Device)", 50))) == 0.5


def test_fills_are_left_out_of_the_total():
    # the verifier poisons every uninitialised output with a fill: not the candidate's work, nor PyTorch compute
    fill = "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, std::array<char*, 1ul> >"
    assert own_time_share(run(("softmax_kernel", 85), (fill, 40))) == 1.0
    assert own_time_share(run(("softmax_kernel", 85), (fill, 40), ("void at::native::exp_kernel", 85))) == 0.5


def test_unprofiled_run_has_no_share():
    assert own_time_share(run()) is None
    assert own_time_share(run(("pool_kernel", 0))) is None


def test_load_inline_kernel_counts_as_own():
    assert own_time_share(run(("my_add_kernel(float const*, float*, int)", 80),
                              launches=("load_inline:ext.add",))) == 1.0
