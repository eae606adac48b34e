"""Where a verdict was produced: device, GPU, driver and library versions."""
from __future__ import annotations

import os
import platform
import socket
import sys
from typing import Any

from kernelwright.verifier.verdict import Environment


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:  # noqa: BLE001 - missing or broken install
        return None


def _driver_version() -> str | None:
    try:
        import pynvml  # type: ignore[import-not-found]

        pynvml.nvmlInit()
        version = pynvml.nvmlSystemGetDriverVersion()
        return version.decode() if isinstance(version, bytes) else str(version)
    except Exception:  # noqa: BLE001
        pass
    try:
        import subprocess

        from kernelwright.verifier.sandbox import enter as sandbox

        with sandbox.allow_compilers(r"^nvidia-smi$"):
            out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except Exception:  # noqa: BLE001 - no nvidia-smi, or blocked
        return None


def gpu_count() -> int:
    """CUDA GPUs visible to torch in this process; 0 for a CPU-only or broken torch."""
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - a CPU-only or broken torch means no GPUs
        return 0


def cuda_available() -> bool:
    """Whether torch can use a CUDA GPU here (False, not an error, without a usable torch)."""
    return gpu_count() > 0


def collect_environment(device: Any = "cpu") -> Environment:
    """Describe this process's view of `device` ("cpu" or "cuda[:N]"); callable through Worker.call."""
    device = str(device or "cpu")
    env = Environment(
        device=device, python=platform.python_version(), hostname=socket.gethostname(),
        triton=_version("triton"), cupy=_version("cupy") if "cupy" in sys.modules or device != "cpu" else None,
        interpreter=os.environ.get("TRITON_INTERPRET") == "1",
    )
    try:
        import torch

        env.torch = str(torch.__version__)
        env.cuda = str(torch.version.cuda) if torch.version.cuda else None
        if device != "cpu" and torch.cuda.is_available():
            index = int(device.partition(":")[2] or 0)
            env.gpu_name = torch.cuda.get_device_name(index)
            env.driver = _driver_version()
    except Exception:  # noqa: BLE001 - a broken torch still gets a partial record
        pass
    return env


def describe(device: Any = "cpu") -> dict[str, Any]:
    """`collect_environment` as plain values: what a worker sends back (the parent's reply reader
    admits no pydantic internals)."""
    return collect_environment(device).model_dump()
