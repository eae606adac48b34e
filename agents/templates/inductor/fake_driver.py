"""A Triton driver that reports an sm_90 GPU, so that Inductor writes Triton kernels on a machine
without one (``cpu_backend="triton"``). Only for code generation in generate.py's subprocess: the
kernels it writes are never launched there (the verifier runs them, under the interpreter on a CPU).
"""
from __future__ import annotations

from typing import Any

import torch
from triton.backends.compiler import GPUTarget
from triton.backends.driver import DriverBase


class CodegenDriver(DriverBase):
    """Answers the questions Inductor's Triton codegen asks of the active driver."""

    @classmethod
    def is_active(cls) -> bool:
        return True

    def get_current_target(self) -> GPUTarget:
        return GPUTarget("cuda", 90, 32)

    def get_active_torch_device(self) -> torch.device:
        return torch.device("cpu")

    def get_benchmarker(self) -> Any:
        raise RuntimeError("no benchmarking while generating code on the CPU")

    def get_current_device(self) -> int:
        return 0

    def set_current_device(self, device: int) -> None:
        pass

    def get_current_stream(self, device: int | None = None) -> int:
        return 0

    def get_device_interface(self) -> Any:
        return torch.cpu

    def map_python_to_cpp_type(self, ty: str) -> str:
        return ty

    def get_empty_cache_for_benchmark(self) -> torch.Tensor:
        return torch.empty(1)

    def clear_cache(self, cache: torch.Tensor) -> None:
        pass


def install() -> None:
    """Make Inductor write Triton for CPU tensors in this process (generate.py's subprocess only)."""
    import torch._inductor.config as inductor_config
    from triton.runtime import driver

    driver.set_active(CodegenDriver())
    inductor_config.cpu_backend = "triton"
