"""What crosses the pipe between the verifier and a worker, and how the verifier reads it safely.

The worker runs hostile candidate code, so anything it sends back is untrusted. A plain
``pickle.loads`` would let it run code in the verifier, and torch's own tensor pickling goes
through ``torch.load``. So the worker sends tensors as raw bytes (``dumps``), and the verifier
unpickles with an allow-list of harmless globals (``safe_loads``).

Allowed: builtin containers and exceptions, a few stdlib value types, torch dtypes/Size/device,
numpy scalars and arrays, our tensor rebuilder, and *classes* (pydantic models, dataclasses,
enums, exceptions) from already imported ``kernelwright.*`` modules. Extend ``SAFE_GLOBALS`` to
allow more. Tensors arrive as contiguous CPU tensors of the same dtype and shape.
"""
from __future__ import annotations

import builtins
import dataclasses
import enum
import io
import pickle
import sys
from typing import Any

SAFE_GLOBALS: set[tuple[str, str]] = {
    ("builtins", name) for name in ("set", "frozenset", "slice", "range", "complex", "bytearray", "object")
} | {
    ("copyreg", "_reconstructor"),
    ("collections", "OrderedDict"), ("collections", "deque"), ("collections", "Counter"),
    ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta"),
    ("datetime", "timezone"), ("decimal", "Decimal"), ("fractions", "Fraction"),
    ("pathlib", "PosixPath"), ("pathlib", "PurePosixPath"),
    ("torch", "Size"), ("torch", "device"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("kernelwright.verifier.sandbox.wire", "_tensor_from_bytes"),
}


class UnsafePayload(pickle.UnpicklingError):
    """The worker sent a pickle that refers to something outside the allow-list."""


def _tensor_from_bytes(dtype_name: str, shape: tuple[int, ...], data: bytes) -> Any:
    import torch

    dtype = getattr(torch, dtype_name, None)
    if not isinstance(dtype, torch.dtype):
        raise UnsafePayload(f"unknown tensor dtype {dtype_name!r}")
    flat = torch.frombuffer(bytearray(data), dtype=torch.uint8) if data else torch.empty(0, dtype=torch.uint8)
    return flat.view(dtype).reshape(shape).clone()


def _reduce_tensor(tensor: Any) -> tuple:
    import torch

    plain = tensor.detach()
    if plain.is_sparse or plain.layout != torch.strided:
        plain = plain.to_dense()
    plain = plain.cpu().contiguous()
    raw = plain.reshape(-1).view(torch.uint8).numpy().tobytes() if plain.numel() else b""
    return _tensor_from_bytes, (str(plain.dtype).removeprefix("torch."), tuple(plain.shape), raw)


class _TensorPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return _reduce_tensor(obj)
        return NotImplemented


def dumps(obj: Any) -> bytes:
    """Pickle `obj`, sending torch tensors as raw bytes (works for CUDA tensors too)."""
    buffer = io.BytesIO()
    _TensorPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def _harmless_class(obj: Any) -> bool:
    if not isinstance(obj, type):
        return False
    if issubclass(obj, (BaseException, enum.Enum)) or dataclasses.is_dataclass(obj):
        return True
    pydantic = sys.modules.get("pydantic")
    return bool(pydantic and issubclass(obj, pydantic.BaseModel))


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in SAFE_GLOBALS:
            return super().find_class(module, name)
        if module == "builtins":
            obj = getattr(builtins, name, None)
            if isinstance(obj, type) and issubclass(obj, BaseException):
                return obj
        if module == "torch":
            torch = sys.modules.get("torch")
            obj = getattr(torch, name, None) if torch else None
            if torch is not None and isinstance(obj, torch.dtype):
                return obj
        if module.startswith("kernelwright.") and module in sys.modules:
            obj = getattr(sys.modules[module], name, None)
            if _harmless_class(obj):
                return obj
        raise UnsafePayload(f"worker reply refers to {module}.{name}, which is not allowed")


def safe_loads(data: bytes) -> Any:
    """Unpickle a worker's reply, refusing any global outside the allow-list."""
    return _SafeUnpickler(io.BytesIO(data)).load()
