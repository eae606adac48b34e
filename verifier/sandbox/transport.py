"""GPU tensors across the trust boundary without copying them through the pipe (CUDA IPC).

Only the trusted parent ever exports memory; the sandboxed worker only opens what it was given:

    parent: payload = {"inputs": share_all(inputs)}       # inputs stay in the parent's memory
    worker: inputs = open_all(payload["inputs"], device)  # the candidate runs on that very memory
    parent: buffers = [share(b) for b in empty outputs]   # after the worker reports output shapes
    worker: open_shared(record, device).copy_(output)     # the parent then clones what it received

So the parent can check the inputs it handed out for changes in its own memory, and a hostile
worker never sends a handle the parent would have to open. CPU tensors are returned unchanged
(they travel as bytes, see `wire`).
"""
from __future__ import annotations

from typing import Any

import torch
from torch.multiprocessing.reductions import rebuild_cuda_tensor, reduce_tensor

KEY = "__kw_cuda_ipc__"


def is_shared(item: Any) -> bool:
    return isinstance(item, dict) and KEY in item


def share(tensor: torch.Tensor) -> Any:
    """A picklable record of a CUDA tensor's memory (the tensor itself when it is not on a GPU)."""
    if not isinstance(tensor, torch.Tensor) or tensor.device.type != "cuda":
        return tensor
    _, args = reduce_tensor(tensor.detach())
    (_cls, size, stride, offset, _storage_cls, dtype, _device, handle, size_bytes, offset_bytes,
     _grad, ref_handle, ref_offset, event_handle, event_sync) = args
    return {KEY: True, "size": tuple(size), "stride": tuple(stride), "offset": offset, "dtype": dtype,
            "handle": handle, "size_bytes": size_bytes, "offset_bytes": offset_bytes,
            "ref_handle": ref_handle, "ref_offset": ref_offset, "event_handle": event_handle,
            "event_sync": event_sync}


def open_shared(record: dict[str, Any], device: torch.device | str) -> torch.Tensor:
    """The tensor a `share` record describes, mapped into this process on `device`."""
    index = torch.device(device).index or 0
    return rebuild_cuda_tensor(
        torch.Tensor, torch.Size(record["size"]), record["stride"], record["offset"], torch.UntypedStorage,
        record["dtype"], index, record["handle"], record["size_bytes"], record["offset_bytes"], False,
        record["ref_handle"], record["ref_offset"], record["event_handle"], record["event_sync"])


def share_all(items: list) -> list:
    return [share(x) for x in items]


def open_all(items: list, device: torch.device | str) -> tuple[list, bool]:
    """Open shared records; copy any other tensor to `device`. Also says whether all were shared."""
    opened, shared = [], True
    for x in items:
        if is_shared(x):
            opened.append(open_shared(x, device))
        elif isinstance(x, torch.Tensor):
            opened.append(x.to(device).clone())
            shared = False
        else:
            opened.append(x)
    return opened, shared
