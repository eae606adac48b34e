"""Parse a `--devices` spec into worker slots: one slot (one bench worker) per device."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from kernelwright.verifier.environment import gpu_count as _cuda_count


class DeviceError(ValueError):
    """A device spec that cannot be honoured; the message says what to pass instead."""


@dataclass(frozen=True)
class Device:
    """One worker slot. `run_device` is what the run sees; `env` is set in its worker process."""

    label: str                 # e.g. "cuda:1", "cpu#0"
    run_device: str            # device string passed to run_graph inside the worker
    env: dict = field(default_factory=dict, hash=False, compare=False)


def visible_gpus() -> list[str] | None:
    """This process's CUDA_VISIBLE_DEVICES entries (numbers or UUIDs), or None when it is unset."""
    raw = os.environ.get("CUDA_VISIBLE_DEVICES")
    return None if raw is None else [v.strip() for v in raw.split(",") if v.strip()]


def cuda_device(index: int, visible: list[str] | None = None) -> Device:
    """A GPU slot whose worker process only sees that GPU (so it is cuda:0 inside).

    `index` counts the GPUs this process sees; when CUDA_VISIBLE_DEVICES already narrows them
    (e.g. "2,3"), the worker gets the entry it names ("3" for index 1), not the bare index."""
    visible = visible_gpus() if visible is None else visible
    physical = visible[index] if visible and index < len(visible) else str(index)
    return Device(label=f"cuda:{index}", run_device="cuda:0", env={"CUDA_VISIBLE_DEVICES": physical})


def resolve_devices(spec: str = "auto", cuda_count: int | None = None) -> list[Device]:
    """`auto` | `cpu` | `cpu*N` | `cuda` | `cuda:0,1` | `cuda:0,cuda:2` | `0,1` -> worker slots."""
    count = _cuda_count() if cuda_count is None else cuda_count
    text = (spec or "auto").strip().lower().replace(" ", "")
    if text == "auto":
        return [cuda_device(i) for i in range(count)] if count else [Device("cpu#0", "cpu")]
    match = re.fullmatch(r"cpu(?:\*(\d+))?", text)
    if match:
        n = int(match.group(1) or 1)
        if n < 1:
            raise DeviceError(f"--devices {spec!r}: need at least one CPU worker (e.g. cpu*2)")
        return [Device(f"cpu#{i}", "cpu") for i in range(n)]
    if text == "cuda":
        if not count:
            raise DeviceError("--devices cuda: no CUDA GPU visible; pass --devices cpu or auto")
        return [cuda_device(i) for i in range(count)]
    indices: list[int] = []
    for part in text.removeprefix("cuda:").split(","):
        part = part.removeprefix("cuda:")
        if not part.isdigit():
            raise DeviceError(f"--devices {spec!r}: cannot read {part!r}; use auto, cpu, cpu*N, cuda or cuda:0,1")
        indices.append(int(part))
    bad = [i for i in indices if i >= count]
    if bad:
        raise DeviceError(f"--devices {spec!r}: GPU {bad[0]} not present ({count} visible); pass indices below {count}")
    if len(set(indices)) != len(indices):
        raise DeviceError(f"--devices {spec!r}: a GPU is listed twice; one worker per GPU")
    return [cuda_device(i) for i in indices]
