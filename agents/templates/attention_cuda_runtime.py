"""Build and launch the sm_90a attention kernel: nvcc -> cubin, TMA tensor maps, CuPy launch.

Self-contained on purpose (standard library, torch, numpy, cupy only): the attention family pastes
this module's source into every CUDA candidate it renders, so a candidate runs without kernelwright.
- `build(source)` compiles once per source text (cached on disk by hash) and returns the cubin path;
- `tensor_maps(q, k, v, rows_q, rows_kv)` encodes three 3-D TMA descriptors (column, row,
  batch*head; 64-column boxes, 128-byte swizzle; rows past the sequence read as zeros) with the
  driver's cuTensorMapEncodeTiled and returns them in one device buffer;
- `Launcher` loads the cubin through CuPy and launches on PyTorch's current stream.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile

import numpy as np
import torch

NVCC_FLAGS = ["-cubin", "-gencode=arch=compute_90a,code=sm_90a", "-O3", "-std=c++17", "-Xptxas=-v"]
_TMA_DTYPES = {torch.bfloat16: 9, torch.float16: 6}   # CU_TENSOR_MAP_DATA_TYPE_{BFLOAT16, FLOAT16}
_SWIZZLE_128B = 3


def cache_dir() -> str:
    """Where cubins are kept: $CUPY_CACHE_DIR/kernelwright_cuda, else ~/.cache/kernelwright/cuda."""
    root = os.environ.get("CUPY_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "kernelwright")
    path = os.path.join(root, "kernelwright_cuda" if os.environ.get("CUPY_CACHE_DIR") else "cuda")
    os.makedirs(path, exist_ok=True)
    return path


def nvcc_path() -> str:
    """The nvcc to use: $KW_NVCC, else the one on PATH, else $CUDA_HOME/bin/nvcc."""
    found = os.environ.get("KW_NVCC") or shutil.which("nvcc")
    if not found:
        home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
        found = os.path.join(home, "bin", "nvcc") if os.path.exists(os.path.join(home, "bin", "nvcc")) else None
    if not found:
        raise RuntimeError("nvcc not found: install the CUDA toolkit or set KW_NVCC to its nvcc")
    return found


def build(source: str, flags: tuple[str, ...] = ()) -> str:
    """Compile CUDA source for sm_90a into a cubin (cached by source and flags); returns its path."""
    key = hashlib.sha256((source + "\0" + " ".join(NVCC_FLAGS + list(flags))).encode()).hexdigest()[:20]
    out = os.path.join(cache_dir(), f"kw_attn_{key}.cubin")
    if os.path.exists(out):
        return out
    with tempfile.TemporaryDirectory(prefix="kw_nvcc_") as work:
        src = os.path.join(work, "kernel.cu")
        with open(src, "w") as handle:
            handle.write(source)
        tmp = os.path.join(work, "kernel.cubin")
        done = subprocess.run([nvcc_path(), *NVCC_FLAGS, *flags, "-o", tmp, src], capture_output=True, text=True)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if "error" in line] or done.stderr.splitlines()[-1:]
            raise RuntimeError(f"nvcc failed: {errors[0] if errors else 'no output'}\n{done.stderr[-6000:]}")
        shutil.move(tmp, out)
        with open(out + ".log", "w") as handle:
            handle.write(done.stderr)
    return out


def _encode(tensor: torch.Tensor, rows: int) -> bytes:
    """128-byte CUtensorMap for a (B, H, S, D) tensor seen as (D, S, B*H) with (64, rows, 1) boxes."""
    batch, heads, seq, dim = tensor.shape
    es = tensor.element_size()
    if tensor.stride(3) != 1 or tensor.stride(0) != heads * tensor.stride(1):
        raise ValueError("tensor_maps needs (B, H, S, D) tensors with unit D stride and mergeable B, H")
    lib = ctypes.CDLL("libcuda.so.1")
    fn = lib.cuTensorMapEncodeTiled
    u64, u32 = ctypes.c_uint64, ctypes.c_uint32
    fn.argtypes = [ctypes.c_void_p, ctypes.c_int, u32, ctypes.c_void_p, ctypes.POINTER(u64), ctypes.POINTER(u64),
                   ctypes.POINTER(u32), ctypes.POINTER(u32), ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    storage = (ctypes.c_uint8 * 192)()
    addr = (ctypes.addressof(storage) + 63) // 64 * 64
    dims = (u64 * 3)(dim, seq, batch * heads)
    strides = (u64 * 2)(tensor.stride(2) * es, tensor.stride(1) * es)
    box = (u32 * 3)(64, rows, 1)
    elem = (u32 * 3)(1, 1, 1)
    status = fn(addr, _TMA_DTYPES[tensor.dtype], 3, tensor.data_ptr(), dims, strides, box, elem, 0, _SWIZZLE_128B, 2, 0)
    if status != 0:
        raise RuntimeError(f"cuTensorMapEncodeTiled failed with CUresult {status} for shape {tuple(tensor.shape)}")
    return ctypes.string_at(addr, 128)


_MAPS: dict[tuple, torch.Tensor] = {}


def tensor_maps(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, rows_q: int, rows_kv: int) -> torch.Tensor:
    """Device buffer holding the q, k, v tensor maps (128 bytes each); cached per address and layout."""
    key = tuple((t.data_ptr(), tuple(t.shape), t.stride(), t.dtype) for t in (q, k, v)) + (rows_q, rows_kv)
    maps = _MAPS.get(key)
    if maps is None:
        blob = _encode(q, rows_q) + _encode(k, rows_kv) + _encode(v, rows_kv)
        maps = torch.frombuffer(bytearray(blob), dtype=torch.uint8).to(q.device)
        if len(_MAPS) > 64:
            _MAPS.clear()
        _MAPS[key] = maps
    return maps


class Launcher:
    """One kernel of a cubin, launched through CuPy on PyTorch's current stream."""

    def __init__(self, cubin: str, name: str, threads: int, smem_bytes: int):
        import cupy

        self.fn = cupy.RawModule(path=cubin).get_function(name)
        try:
            self.fn.max_dynamic_shared_size_bytes = smem_bytes
        except AttributeError:  # older CuPy: set CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES directly
            cupy.cuda.driver.funcSetAttribute(self.fn.ptr, 8, smem_bytes)
        self.threads, self.smem = threads, smem_bytes

    def __call__(self, grid: tuple[int, int, int], *args) -> None:
        import cupy

        values = tuple(np.uint64(a.data_ptr()) if isinstance(a, torch.Tensor) else a for a in args)
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            self.fn(grid, (self.threads, 1, 1), values, shared_mem=self.smem)
