"""The problem's reference `Model`, built once per size and verification, shared by its trials.

A trial's reference run, the eager floor, the candidate's weights and the reference timing all need
`Model(*get_init_inputs())` seeded with the same seed, so they all get the same weights. Building it
anew each time made large models dominate a verification: `nn.Linear(32768, 32768)` takes ~15 s to
initialise on a 2-core CPU, and a GPU verification built it ~15 times. The last KEEP models built are
kept (trials alternate between the problem's own sizes and an extra shape) until the judge forgets
them. A kept instance must stay as built: callers read it (`state_dict`, parameter names) or copy it
(`copy.deepcopy`) before moving, converting or running it.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from .inputs import MODEL_SEED, seeded
from .problem import Problem, source_sha

KEEP = 2
_LOCK = threading.Lock()
_KEPT: dict[tuple[str, str, int], Any] = {}  # oldest first


def reference_model(problem: Problem, overrides: dict[str, Any], seed: int = MODEL_SEED) -> Any:
    """`Model(*get_init_inputs())` of the problem at `overrides`, built under `seed` (or a kept one)."""
    key = (source_sha(problem.source), repr(sorted(overrides.items())), seed)
    with _LOCK:
        if key in _KEPT:
            _KEPT[key] = _KEPT.pop(key)  # the most recently used goes last
            return _KEPT[key]
    model = _build(problem, overrides, seed)
    with _LOCK:
        _KEPT[key] = model
        while len(_KEPT) > KEEP:
            del _KEPT[next(iter(_KEPT))]
    return model


def own_copy(problem: Problem, overrides: dict[str, Any], seed: int = MODEL_SEED) -> Any:
    """A model of the caller's own, to move or run: a copy of the kept one, or a new build where the model
    cannot be copied (an attribute `copy.deepcopy` refuses)."""
    kept = reference_model(problem, overrides, seed)
    try:
        return copy.deepcopy(kept)
    except Exception:  # noqa: BLE001 - any refusal to copy: build it again, as before the models were kept
        return _build(problem, overrides, seed)


def _build(problem: Problem, overrides: dict[str, Any], seed: int) -> Any:
    module = problem.module(overrides)
    init_inputs = module.get_init_inputs()
    with seeded(seed):
        return module.Model(*init_inputs)


def forget() -> None:
    """Drop the kept models (the end of a verification): their memory is free again."""
    with _LOCK:
        _KEPT.clear()
