"""Trial inputs: seeded generation, shape variants, scaled / shifted inputs and memory poisoning.

The judge (trusted parent) builds every correctness input here from a seed, so a trial is
reproducible and the candidate never chooses its data. Shape variants come from the problem's
EXTRA_SHAPES or, when it has none, from perturbing its free size constants (batch, sequence, rows,
spatial: `shrink.perturbable`) to odd sizes; head dims, channels and hidden widths keep their values.
In CPU / interpreter mode SMALL_SHAPE overrides (else automatic ones, shrink.py) keep trials small;
extra shapes then start from them.
"""
from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch

from . import robustness
from .chunks import flat_pieces
from .problem import Problem
from .shrink import auto_small_shape, fixed_names, perturbable

POISON_BYTE = 0xFF  # all-ones bytes: a NaN in every floating dtype, -1 in signed ints
MAX_SMALL_ELEMENTS = 1 << 21  # an extra shape larger than this in small mode is derived instead
MODEL_SEED = 42  # torch seed for the model's weights and the reference runs (judge and timing stage)


@dataclass
class TrialSpec:
    """One correctness trial: which constants, which seed, how to scale the inputs."""

    trial: int
    kind: str  # random | extra_shape | large_magnitude | shifted
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)
    scale: float | None = None
    shift: float | None = None

    @property
    def shape_key(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.overrides.items()))

    def describe(self) -> str:
        """What sets this trial apart, for messages: `x * 100`, `x + 1000` or the changed sizes."""
        if self.scale is not None:
            return f"x * {self.scale:g}"
        if self.shift is not None:
            return f"x + {self.shift:g}"
        return self.shape_key


RNG_LOCK = threading.RLock()  # pool threads judge several devices at once; torch's RNG is global


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed everything and hold the RNG lock while the block draws from it."""
    with RNG_LOCK:
        seed_all(seed)
        yield


def seed_all(seed: int) -> None:
    """Seed torch (CPU and CUDA), Python's random and numpy if present."""
    torch.manual_seed(seed)
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % (2**32))
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass


def make_inputs(problem: Problem, overrides: dict[str, Any], seed: int, scale: float | None = None,
                device: torch.device | str | None = None, shift: float | None = None) -> list:
    """Run the problem's get_inputs() under the given constants and seed; scale / shift floating tensors.

    With a `device`, tensors are created there (torch's default-device context, so the seed gives
    the same values in every process on that device) and any left elsewhere are moved there.
    """
    module = problem.module(overrides)
    with seeded(seed), (torch.device(device) if device is not None else nullcontext()):
        inputs = list(module.get_inputs())
    if device is not None:
        inputs = [x.to(device) if isinstance(x, torch.Tensor) else x for x in inputs]
    if scale is not None:
        inputs = [x * scale if _is_float_tensor(x) else x for x in inputs]
    if shift is not None:
        inputs = [x + shift if _is_float_tensor(x) else x for x in inputs]
    return inputs


def make_init_inputs(problem: Problem, overrides: dict[str, Any]) -> list:
    """The problem's constructor arguments under the given constants."""
    return list(problem.module(overrides).get_init_inputs())


def base_overrides(problem: Problem, small: bool) -> dict[str, Any]:
    """Constant overrides for ordinary trials: in CPU/interpreter mode SMALL_SHAPE when declared,
    else the automatic shrink (shrink.py); none otherwise."""
    if not small:
        return {}
    declared = problem.metadata.get("small_shape")
    return dict(declared) if declared else auto_small_shape(problem)


def extra_shape_overrides(problem: Problem, small: bool) -> list[dict[str, Any]]:
    """Overrides for extra-shape trials: the problem's EXTRA_SHAPES, else perturbed constants."""
    base = base_overrides(problem, small)
    declared = [dict(base, **shape) for shape in problem.metadata.get("extra_shapes") or []]
    if small:
        declared = [o for o in declared if _input_elements(problem, o) <= MAX_SMALL_ELEMENTS]
    if declared:
        return declared
    derived = perturbed_overrides(problem, base)
    return [derived] if derived else []


def perturbed_overrides(problem: Problem, base: dict[str, Any]) -> dict[str, Any] | None:
    """Perturb free size constants to odd sizes so that ignored tails show; None if impossible.

    Only constants `shrink.perturbable` allows (judged at their full-size value). Tries all at once,
    then one at a time (largest first). A value n becomes n + 1 when n is even, else an odd value
    near n / 2. The perturbed problem must still build.
    """
    fixed = fixed_names(problem)
    constants = {k: v for k, v in (problem.metadata.get("constants") or {}).items()
                 if isinstance(v, int) and perturbable(k, v, fixed)}
    current = {k: base.get(k, v) for k, v in constants.items()}
    sizes = {k: v for k, v in current.items() if v >= 2}
    if not sizes:
        return None
    candidates = [{k: _odd_near(v) for k, v in sizes.items()}]
    candidates += [{k: _odd_near(v)} for k, v in sorted(sizes.items(), key=lambda kv: -kv[1])]
    for change in candidates:
        overrides = dict(base, **change)
        if _builds(problem, overrides):
            return overrides
    return None


def _odd_near(n: int) -> int:
    if n % 2 == 0:
        return n + 1
    half = max(3, n // 2)
    return half if half % 2 == 1 else half + 1


def _builds(problem: Problem, overrides: dict[str, Any]) -> bool:
    try:
        module = problem.module(overrides)
        with seeded(0):
            model = module.Model(*module.get_init_inputs())
            inputs = module.get_inputs()
        with torch.no_grad():
            model(*inputs)
        return True
    except Exception:  # noqa: BLE001 - a perturbation that breaks the problem is simply skipped
        return False


def _input_elements(problem: Problem, overrides: dict[str, Any]) -> int:
    try:
        module = problem.module(overrides)
        with seeded(0):
            inputs = module.get_inputs()
    except Exception:  # noqa: BLE001
        return 1 << 62
    return sum(x.numel() for x in inputs if isinstance(x, torch.Tensor))


def plan_trials(problem: Problem, *, trials: int, extra_shapes: bool, large_magnitude: bool,
                small: bool, shifted: bool = True, base_seed: int = 1234) -> list[TrialSpec]:
    """The list of correctness trials: >= 5 random, the extra shapes, then (problems with floating
    inputs) a scaled and a shifted trial at the ordinary sizes (robustness.py)."""
    base = base_overrides(problem, small)
    plan = [TrialSpec(i, "random", base_seed + 7919 * i, dict(base)) for i in range(max(5, trials))]
    if extra_shapes:
        for overrides in extra_shape_overrides(problem, small):
            plan.append(TrialSpec(len(plan), "extra_shape", base_seed + 7919 * len(plan), overrides))
    robust = robustness.settings(problem.metadata, scaled=large_magnitude, shifted=shifted)
    if robust and _has_float_inputs(problem, base):
        for kind, size in robust:
            scale, shift = (size, None) if kind == "large_magnitude" else (None, size)
            plan.append(TrialSpec(len(plan), kind, base_seed + 7919 * len(plan), dict(base), scale, shift))
    return plan


def _has_float_inputs(problem: Problem, overrides: dict[str, Any]) -> bool:
    try:
        module = problem.module(overrides)
        with seeded(0), torch.device("meta"):
            return any(_is_float_tensor(x) for x in module.get_inputs())
    except Exception:  # noqa: BLE001 - the trials themselves will report a problem that does not build
        return False


def timing_seeds(count: int = 3, base_seed: int = 987654) -> list[int]:
    """Seeds of the rotated input sets used while timing (at least 3)."""
    return [base_seed + 104729 * i for i in range(max(3, count))]


def poison_memory(device: torch.device | str, sizes: list[int], extra_bytes: int = 16 << 20) -> None:
    """Allocate blocks of the given byte sizes filled with all-ones bytes, then free them.

    The caching allocator (CUDA) or malloc's free lists (CPU) hand these blocks to the next
    allocations, so an output the candidate never writes shows up as NaN / poison bits.
    """
    cuda = str(device).startswith("cuda")
    # On the CPU, malloc serves a size from mmap until a freed chunk of that size raised its
    # threshold; a first pass raises it so that the poisoned second pass lands on the free lists.
    # Several copies per size, because the Triton interpreter's own allocations during a launch can
    # take the first freed chunks before the candidate allocates its output.
    copies = 1 if cuda else 4
    for _ in range(1 if cuda else 2):
        blocks = [torch.full((int(n),), POISON_BYTE, dtype=torch.uint8, device=device)
                  for n in [*sizes, extra_bytes] * copies if n > 0]
        if cuda:
            torch.cuda.synchronize()
        del blocks


_SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _poison_view(tensor: Any) -> tuple[torch.Tensor, int] | None:
    """A floating-point tensor seen as integers of its element size, and the poison value there
    (integer outputs may legitimately hold -1 / 0xFF, so they are never poisoned or counted)."""
    if not isinstance(tensor, torch.Tensor) or tensor.numel() == 0 or not tensor.dtype.is_floating_point:
        return None
    as_int = _SAME_SIZE_INT.get(tensor.element_size())
    return None if as_int is None else (tensor.view(as_int), POISON_BYTE if as_int is torch.uint8 else -1)


def poison_tensor(tensor: Any) -> None:
    """Fill a floating-point tensor with the poison bit pattern (every element then reads as NaN)."""
    if (seen := _poison_view(tensor)) is not None:
        seen[0].fill_(seen[1])


def poisoned_count(tensor: torch.Tensor) -> int:
    """How many elements of a tensor carry exactly the poison bit pattern (all bytes 0xFF)."""
    if (seen := _poison_view(tensor.detach() if isinstance(tensor, torch.Tensor) else tensor)) is None:
        return 0
    return sum(int((part == seen[1]).sum()) for part in flat_pieces(seen[0]))  # no full-size mask


def input_nbytes(inputs: list) -> list[int]:
    return [x.numel() * x.element_size() for x in inputs if isinstance(x, torch.Tensor)]


def _is_float_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor) and x.dtype.is_floating_point
