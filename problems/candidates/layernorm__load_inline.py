"""LayerNorm forward as a CUDA kernel built with torch.utils.cpp_extension.load_inline.

One thread block per row: block-wide sums (warp shuffles, then shared memory) give the mean,
then the biased variance from a second pass over the row (no E[x^2] - E[x]^2 cancellation), then
the normalised, scaled and shifted row is written. The row is re-read from L1/L2 between passes.
Launched on PyTorch's current stream.
"""
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

_CPP = "torch::Tensor layernorm_forward(torch::Tensor x, torch::Tensor weight, torch::Tensor bias, double eps);"

_CUDA = r"""
#include <torch/extension.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Sum over the block; every thread gets the result. `scratch` holds 32 floats.
__device__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, n_warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = warp_sum(lane < n_warps ? scratch[lane] : 0.0f);
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    v = scratch[0];
    __syncthreads();  // scratch is free again for the next reduction
    return v;
}

__global__ void layernorm_rows(const float* __restrict__ x, const float* __restrict__ w,
                               const float* __restrict__ b, float* __restrict__ y, int n_cols, float eps) {
    __shared__ float scratch[32];
    const float* xr = x + (long long)blockIdx.x * n_cols;
    float* yr = y + (long long)blockIdx.x * n_cols;
    float acc = 0.0f;
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x) acc += xr[c];
    const float mean = block_sum(acc, scratch) / n_cols;
    acc = 0.0f;
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x) { float d = xr[c] - mean; acc += d * d; }
    const float rstd = rsqrtf(block_sum(acc, scratch) / n_cols + eps);
    for (int c = threadIdx.x; c < n_cols; c += blockDim.x) yr[c] = (xr[c] - mean) * rstd * w[c] + b[c];
}

torch::Tensor layernorm_forward(torch::Tensor x, torch::Tensor weight, torch::Tensor bias, double eps) {
    TORCH_CHECK(x.is_cuda() && x.scalar_type() == torch::kFloat32, "layernorm_forward: x must be a float32 CUDA tensor");
    TORCH_CHECK(weight.numel() == x.size(-1) && bias.numel() == x.size(-1), "layernorm_forward: weight/bias size != last dim");
    auto xc = x.contiguous();
    auto wc = weight.contiguous();
    auto bc = bias.contiguous();
    auto y = torch::empty_like(xc);
    const int n_cols = (int)xc.size(-1);
    const long long rows = xc.numel() / n_cols;
    const int threads = n_cols >= 4096 ? 512 : 256;
    layernorm_rows<<<(unsigned)rows, threads, 0, c10::cuda::getCurrentCUDAStream()>>>(
        xc.data_ptr<float>(), wc.data_ptr<float>(), bc.data_ptr<float>(), y.data_ptr<float>(), n_cols, (float)eps);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return y;
}
"""

_ext = load_inline(name="kw_layernorm_rows", cpp_sources=_CPP, cuda_sources=_CUDA,
                   functions=["layernorm_forward"], extra_cuda_cflags=["-O3"], verbose=False)


class ModelNew(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-5):
        super().__init__()
        self.eps = float(eps)
        self.weight = nn.Parameter(torch.ones(hidden))
        self.bias = nn.Parameter(torch.zeros(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ext.layernorm_forward(x, self.weight, self.bias, self.eps)
