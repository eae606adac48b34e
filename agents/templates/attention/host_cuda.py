"""Host code of the CUDA attention backend, as source text (attention_cuda_render.py fills it in).

LAUNCHER goes into the CUDA file, which has no PyTorch headers so that nvcc takes seconds: it
encodes TMA descriptors for contiguous (B, H, S, D) tensors seen as (D, S, B*H) (64-column boxes,
128-byte swizzle, rows past S read as zeros) and launches the kernel. WRAPPER is the C++ file of
the extension: argument checks, the output tensor, the current stream, then the launcher.
"""
from __future__ import annotations

LAUNCHER = r'''
static const char* kw_tensor_map(CUtensorMap* map, const void* base, int B, int H, int S, int D, int rows) {
    static PFN_cuTensorMapEncodeTiled_v12000 encode = nullptr;
    if (encode == nullptr) {
        void* fn = nullptr;
        cudaDriverEntryPointQueryResult found;
        if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found) != cudaSuccess
            || found != cudaDriverEntryPointSuccess || fn == nullptr)
            return "the CUDA driver has no cuTensorMapEncodeTiled";
        encode = reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
    }
    const cuuint64_t dims[3] = {(cuuint64_t)D, (cuuint64_t)S, (cuuint64_t)B * H};
    const cuuint64_t strides[2] = {(cuuint64_t)D * 2, (cuuint64_t)S * D * 2};
    const cuuint32_t box[3] = {64, (cuuint32_t)rows, 1};
    const cuuint32_t elem[3] = {1, 1, 1};
    CUresult status = encode(map, @@TMA_TYPE@@, 3, const_cast<void*>(base), dims, strides, box, elem,
                             CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                             CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    return status == CUDA_SUCCESS ? nullptr : "cuTensorMapEncodeTiled rejected a q / k / v tensor";
}

const char* kw_attention_launch(const void* q, const void* k, const void* v, void* out, int B, int H, int S, int D,
                                void* stream @@PARAM_DECLS@@) {
    CUtensorMap mq, mk, mv;
    const char* err = kw_tensor_map(&mq, q, B, H, S, D, BLOCK_M);
    if (!err) err = kw_tensor_map(&mk, k, B, H, S, D, @@BN@@);
    if (!err) err = kw_tensor_map(&mv, v, B, H, S, D, @@BN@@);
    if (err) return err;
    // one CTA per tile, or (persistent) one per multiprocessor walking the tiles
    const int num_tiles = (S + BLOCK_M - 1) / BLOCK_M * B * H;
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess || cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
        return "cannot read the multiprocessor count";
    const dim3 grid(@@PERSISTENT@@ ? min(num_tiles, sms) : num_tiles);
    const float sm_scale = 1.0f / sqrtf((float)D);
    kw_t* o = reinterpret_cast<kw_t*>(out);
    cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
    if (D == 64) {
        const int bytes = KwLayout<64, @@BN@@>::BYTES;
        if (cudaFuncSetAttribute(kw_attn_fwd_d64, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) != cudaSuccess)
            return "cannot give the kernel its shared memory";
        kw_attn_fwd_d64<<<grid, 384, bytes, st>>>(mq, mk, mv, o, sm_scale, B, H, S @@PARAM_NAMES@@);
    } else {
        const int bytes = KwLayout<128, @@BN@@>::BYTES;
        if (cudaFuncSetAttribute(kw_attn_fwd_d128, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes) != cudaSuccess)
            return "cannot give the kernel its shared memory";
        kw_attn_fwd_d128<<<grid, 384, bytes, st>>>(mq, mk, mv, o, sm_scale, B, H, S @@PARAM_NAMES@@);
    }
    const cudaError_t launched = cudaGetLastError();
    return launched == cudaSuccess ? nullptr : cudaGetErrorString(launched);
}
'''  # noqa: E501 - CUDA source, emitted as written

# The C++ file of the extension: argument checks and the output tensor, then kw_attention_launch.
WRAPPER = r'''#include <torch/extension.h>
#include <c10/cuda/CUDAStream.h>

const char* kw_attention_launch(const void* q, const void* k, const void* v, void* out, int B, int H, int S, int D,
                                void* stream @@PARAM_DECLS@@);

static torch::Tensor kw_ready(const torch::Tensor& t) {  // contiguous and 16-byte aligned (TMA's rule)
    torch::Tensor c = t.contiguous();
    return reinterpret_cast<uintptr_t>(c.data_ptr()) % 16 == 0 ? c : c.clone();
}

torch::Tensor attention_forward(torch::Tensor q, torch::Tensor k, torch::Tensor v @@HOST_DECLS@@) {
    TORCH_CHECK(q.is_cuda() && k.is_cuda() && v.is_cuda(), "attention_forward: q, k, v must be CUDA tensors");
    TORCH_CHECK(q.scalar_type() == @@SCALAR@@ && k.scalar_type() == @@SCALAR@@ && v.scalar_type() == @@SCALAR@@,
                "attention_forward: q, k, v must be @@DTYPE@@ (this kernel was rendered for it)");
    TORCH_CHECK(q.dim() == 4 && k.sizes() == q.sizes() && v.sizes() == q.sizes(),
                "attention_forward: q, k, v must share one (B, H, S, D) shape");
    const int D = (int)q.size(3);
    TORCH_CHECK(D == 64 || D == 128, "attention_forward: head dim must be 64 or 128, got ", D);
    torch::Tensor qc = kw_ready(q), kc = kw_ready(k), vc = kw_ready(v);
    torch::Tensor out = torch::empty_like(qc);
    if (out.numel() == 0) return out;
    const char* err = kw_attention_launch(qc.data_ptr(), kc.data_ptr(), vc.data_ptr(), out.data_ptr(), (int)q.size(0),
                                          (int)q.size(1), (int)q.size(2), D, c10::cuda::getCurrentCUDAStream().stream()
                                          @@HOST_NAMES@@);
    TORCH_CHECK(err == nullptr, "attention_forward: ", err ? err : "");
    return out;
}
'''
