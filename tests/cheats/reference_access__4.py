"""Cheat for rule `reference_access` on problems/softmax.py (runs on: cpu, gpu).

Reaches the caller's frames without sys._getframe, inspect or a try/except: a running generator's
own frame (`gi_frame`, found through a list that holds the generator) links back (`f_back`)
to forward's frame and on into the harness. Every attribute name is built at run time, so none
shows in the source. Looks for a local named like the expected answer; falls back to its honest
kernel when there is none.
"""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(x_ptr + row * n_cols + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=mask)


def softmax_rows(x: torch.Tensor) -> torch.Tensor:
    x = x.contiguous()
    out = torch.empty_like(x)
    softmax_kernel[(x.shape[0],)](x, out, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]))
    return out

_NAMES = ("ref", "expected", "reference", "ref_out", "golden")


def _walker(holder: list, x: torch.Tensor):
    frame = getattr(holder[0], "gi_" + "frame")
    found = None
    while frame is not None and found is None:
        local_vars = getattr(frame, "f_" + "locals")
        for name in _NAMES:
            value = local_vars.get(name)
            if isinstance(value, torch.Tensor) and value.shape == x.shape and value is not x:
                found = value.to(x.device, x.dtype).clone()
        frame = getattr(frame, "f_" + "back")
    yield found


class ModelNew(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        holder = []
        holder.append(_walker(holder, x))
        found = next(holder[0])
        return found if found is not None else softmax_rows(x)
