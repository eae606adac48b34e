"""The scrubbed environment a worker starts with (built in the parent, before the process exists).

Scrubbing happens at process creation, so /proc/<worker>/environ never holds the caller's secrets.
Kept: an allow-list of names (PATH, locale, CUDA / Triton / torch / OpenMP / CuPy / compiler
variables) minus anything that looks like a key, token, secret, credential, proxy or cloud / HF /
OpenAI / NVIDIA API setting.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable

_DENY = re.compile(
    r"KEY|TOKEN|SECRET|PASSW|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|SIGNATURE|"
    r"(^|_)API(_|$)|^AWS_|^AZURE_|^GOOGLE_|^GCP_|^GCLOUD|^HF_|HUGGING|OPENAI|DEEPSEEK|ANTHROPIC|"
    r"^NGC_|^NVCF|^NIM_|^GITHUB|^GH_|^GITLAB|^SSH_|^GPG|^DOCKER|^KUBE|^WANDB|^LANGCHAIN|"
    r"^LANGSMITH|^LANGGRAPH|PROXY|^HTTP",
    re.IGNORECASE,
)
_KEEP_EXACT = {
    "PATH", "LANG", "LANGUAGE", "TZ", "TERM", "USER", "LOGNAME", "SHELL", "LD_LIBRARY_PATH",
    "LIBRARY_PATH", "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "CC", "CXX", "CUDAHOSTCXX",
    "MAX_JOBS", "VIRTUAL_ENV", "CONDA_PREFIX", "NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES",
}
_KEEP_PREFIX = (
    "LC_", "CUDA", "CUBLAS", "CUDNN", "NCCL_", "TRITON_", "TORCH", "PYTORCH_", "OMP_", "MKL_",
    "KMP_", "OPENBLAS_", "CUPY_", "NVCC", "NV_", "CUTLASS",
)
CACHE_SUBDIRS = {
    "TRITON_CACHE_DIR": "triton", "TORCH_EXTENSIONS_DIR": "torch_extensions",
    "CUPY_CACHE_DIR": "cupy", "TORCHINDUCTOR_CACHE_DIR": "inductor", "XDG_CACHE_HOME": "xdg",
}

def child_environment(base: dict[str, str], *, device_index: str | None, workdir: str,
                      cache_dir: str, python_path: Iterable[str] = ()) -> dict[str, str]:
    """The environment a worker starts with: `base` scrubbed, plus private dirs and device pinning.

    device_index: None for a CPU worker (Triton interpreter, no GPUs visible), else the physical
    GPU index to expose as the worker's only device (cuda:0 inside the worker).
    """
    env = {
        k: v for k, v in base.items()
        if (k in _KEEP_EXACT or k.startswith(_KEEP_PREFIX)) and not _DENY.search(k)
    }
    tmp = os.path.join(workdir, "tmp")
    env.update(HOME=workdir, TMPDIR=tmp, TEMP=tmp, TMP=tmp, PYTHONDONTWRITEBYTECODE="1",
               PYTHONNOUSERSITE="1", TORCHINDUCTOR_COMPILE_THREADS="1", PYTHONUNBUFFERED="1")
    for var, sub in CACHE_SUBDIRS.items():
        env[var] = os.path.join(cache_dir, sub)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(python_path)
    if device_index is None:
        env["TRITON_INTERPRET"] = "1"
        env["CUDA_VISIBLE_DEVICES"] = ""
    else:
        env.pop("TRITON_INTERPRET", None)
        env["CUDA_VISIBLE_DEVICES"] = device_index
    return env
