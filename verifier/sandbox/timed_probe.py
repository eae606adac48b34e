"""Checked samples of the timed calls themselves, not of extra calls made after the loop.

A candidate can tell timed calls from checked ones (call counts, a busy stream) and cheat only
when timed, or it can defer or merge work across the repeated calls. So, for one randomly chosen
repetition per input set (`random.SystemRandom`: nothing the candidate can replay):

- before the repetition, outside the timed region, the set's tensors are overwritten in place
  with fresh values (one extra input set made from the judge's `sample_seed`), written through a
  DLPack alias so that the tensors' version counters do not move: a result computed or cached
  earlier for that set is now stale, and nothing tells the candidate;
- right after the repetition's end event, its outputs are copied on the caller's stream, so the
  copy holds what the call itself produced by then (work deferred to a later call or left on
  another stream is missing).

The judge compares each copy with the reference on the fresh inputs (`timed_output`).
"""
from __future__ import annotations

import random
from typing import Any

import torch
from torch.utils.dlpack import from_dlpack

from ..correctness import flatten


class TimedProbe:
    """Which repetitions to check, the fresh inputs they get, and the outputs they produced."""

    def __init__(self, n_sets: int, fresh: list, rng: random.Random | None = None):
        self.n_sets, self.fresh = n_sets, fresh
        self.rng = rng or random.SystemRandom()
        self.chosen: set[int] = set()
        self.outputs: list[list[torch.Tensor | Any]] = []

    def plan(self, reps: int) -> None:
        """Pick one repetition per input set among `reps` (sets rotate: rep i uses set i % n_sets)."""
        self.chosen = set()
        for s in range(min(self.n_sets, reps)):
            self.chosen.add(self.rng.choice(range(s, reps, self.n_sets)))

    def before(self, rep: int, inputs: list) -> None:
        """Give a chosen repetition's input set the fresh values, without a version-counter bump."""
        if rep not in self.chosen:
            return
        for x, new in zip(inputs, self.fresh):
            if isinstance(x, torch.Tensor) and isinstance(new, torch.Tensor) and x.shape == new.shape:
                _alias(x).copy_(new)

    def after(self, rep: int, out: Any) -> None:
        """Copy a chosen repetition's outputs now, in stream order right after its end event."""
        if rep in self.chosen:
            self.outputs.append([o.detach().clone() if isinstance(o, torch.Tensor) else o for o in flatten(out)])


def _alias(x: torch.Tensor) -> torch.Tensor:
    """The same memory as `x` under a tensor with its own version counter."""
    try:
        return from_dlpack(x.detach())
    except Exception:  # noqa: BLE001 - a layout DLPack cannot carry: write through `x` itself
        return x.detach()
