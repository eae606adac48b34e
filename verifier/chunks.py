"""Walk large tensors piece by piece, so that checks on them allocate a bounded amount of memory.

    for a, b in float64_pieces(out, ref):   # matching pieces, each <= CHUNK_ELEMENTS, float64
        ...

A KernelBench output can hold 1.6e9 elements (6.4 GB in float32): a float64 copy of it is 12.9 GB
and every temporary of a comparison as much again. The pieces are index tuples over the leading
dimensions (views, whatever the strides), so only one piece at a time is converted or copied.
"""
from __future__ import annotations

import math
from collections.abc import Iterator

import torch

CHUNK_ELEMENTS = 1 << 24  # 16 Mi elements: 128 MiB per float64 temporary


def pieces(shape: tuple[int, ...], limit: int | None = None) -> Iterator[tuple]:
    """Index tuples that cut a tensor of `shape` into parts of at most `limit` elements (a part
    of one trailing row may be smaller); `t[index]` is a view of each."""
    limit = max(1, limit or CHUNK_ELEMENTS)
    if not shape or math.prod(shape) <= limit:
        yield ()
        return
    if len(shape) == 1:
        for start in range(0, shape[0], limit):
            yield (slice(start, start + limit),)
        return
    row = math.prod(shape[1:])
    if row <= limit:
        rows = limit // row
        for start in range(0, shape[0], rows):
            yield (slice(start, start + rows),)
        return
    for i in range(shape[0]):
        for rest in pieces(tuple(shape[1:]), limit):
            yield (i, *rest)


def flat_pieces(tensor: torch.Tensor, device: torch.device | str | None = None,
                dtype: torch.dtype | None = None) -> Iterator[torch.Tensor]:
    """The tensor's elements piece by piece, flat, optionally moved / converted (one piece alive)."""
    for index in pieces(tuple(tensor.shape)):
        part = tensor[index].reshape(-1)
        yield part.to(device or part.device, dtype or part.dtype)


def paired_pieces(first: torch.Tensor, second: torch.Tensor, dtype: torch.dtype | None = None,
                  device: torch.device | str | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Matching flat pieces of two tensors of one shape, converted to `dtype` (default: each its
    own) on `device` (default: a CUDA device of the two if any, else the second's)."""
    if device is None:
        device = next((t.device for t in (second, first) if t.device.type == "cuda"), second.device)
    for index in pieces(tuple(second.shape)):
        a, b = first[index].reshape(-1), second[index].reshape(-1)
        yield a.to(device, dtype or a.dtype), b.to(device, dtype or b.dtype)


def float64_pieces(first: torch.Tensor, second: torch.Tensor,
                   device: torch.device | str | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """`paired_pieces` in float64: what the comparisons with the float64 reference walk."""
    return paired_pieces(first, second, torch.float64, device)
