"""Speed of light: peak figures of the GPUs we target and the roofline time of a forward.

``sol_s = max(compute_s, memory_s)`` where ``memory_s = bytes / peak_bw`` and
``compute_s = tensor_flops / peak(dtype) + other_flops / peak(vector fp32)``: matmul, convolution
and attention FLOPs run on tensor cores at the dtype's dense rate, pointwise and reduction FLOPs on
the CUDA cores. float32 matmuls count at the plain fp32 rate unless the problem's RTOL for float32
is >= 1e-3, which the verifier's default float32 tolerance (1e-4) is not; then tf32 is allowed.

Figures: NVIDIA's H100 SXM / H200 datasheets, dense (no 2:4 sparsity). H200 has the H100 SXM's
compute and 4.8 TB/s of HBM3e (H100 SXM: 3.35 TB/s HBM3).
"""
from __future__ import annotations

from typing import Any

_COMPUTE = {  # dense FLOP/s
    "fp64": 67e12,   # fp64 tensor core
    "fp32": 67e12,   # CUDA cores (also the rate of pointwise / reduction work)
    "tf32": 495e12,
    "bf16": 989e12,
    "fp16": 989e12,
    "fp8": 1979e12,
    "int8": 1979e12,
}
GPUS: dict[str, dict[str, Any]] = {
    "H100 SXM": {"bw_bytes_per_s": 3.35e12, "flops_per_s": _COMPUTE},
    "H200": {"bw_bytes_per_s": 4.8e12, "flops_per_s": _COMPUTE},
}
_DTYPE_KEY = {"float64": "fp64", "float32": "fp32", "bfloat16": "bf16", "float16": "fp16",
              "float8_e4m3fn": "fp8", "float8_e5m2": "fp8", "int8": "int8", "uint8": "int8"}


def gpu_key(name: str | None) -> str | None:
    """The table's key for a device name ("NVIDIA H200", "NVIDIA H100 80GB HBM3"), else None."""
    if not name:
        return None
    upper = name.upper()
    if "H200" in upper:
        return "H200"
    if "H100" in upper and "PCIE" not in upper and "NVL" not in upper:
        return "H100 SXM"
    return None


def detect_gpu() -> str | None:
    """The current CUDA device's name, or None without CUDA."""
    try:
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a broken driver just means "no GPU known"
        return None


def peak_key(dtype: str, tf32_ok: bool = False) -> str:
    """Which compute peak a tensor-core op of this dtype runs at ("fp32", "tf32", "bf16", ...)."""
    key = _DTYPE_KEY.get(dtype, "fp32")
    return "tf32" if key == "fp32" and tf32_ok else key


def speed_of_light(tensor_flops: float, other_flops: float, nbytes: float, dtype: str,
                   gpu: str, tf32_ok: bool = False) -> dict[str, Any]:
    """Roofline time on one table GPU: {sol_s, compute_s, memory_s, bound, peak}."""
    spec = GPUS[gpu]
    peak = peak_key(dtype, tf32_ok)
    compute_s = tensor_flops / spec["flops_per_s"][peak] + other_flops / spec["flops_per_s"]["fp32"]
    memory_s = nbytes / spec["bw_bytes_per_s"]
    return {"sol_s": max(compute_s, memory_s), "compute_s": compute_s, "memory_s": memory_s,
            "bound": "compute" if compute_s > memory_s else "memory", "peak": peak,
            "peak_flops_per_s": spec["flops_per_s"][peak], "peak_bw_bytes_per_s": spec["bw_bytes_per_s"]}


def roofline(tensor_flops: float, other_flops: float, nbytes: float, dtype: str,
             gpu: str | None = None, tf32_ok: bool = False) -> dict[str, Any]:
    """{gpu, sol_s, sol}: `sol` holds the figures for every table GPU; `sol_s` is the given or
    detected GPU's time, None when that GPU is unknown or there is none."""
    name = gpu if gpu is not None else detect_gpu()
    sol = {key: speed_of_light(tensor_flops, other_flops, nbytes, dtype, key, tf32_ok) for key in GPUS}
    key = gpu_key(name)
    return {"gpu": name, "sol_s": sol[key]["sol_s"] if key else None, "sol": sol}
