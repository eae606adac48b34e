"""Wall time per stage of one verification, into the verdict's `durations`.

    clock = StageClock(verdict.durations)
    with clock("correctness"):            # a stage: also names the stage a failure happened in
        with clock.part("correctness.reference"):   # a part of it: reported, not counted twice
            ...

Keys with a dot are parts of the stage before the dot; a stage's own key already holds their time.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageClock:
    """`with clock("stage"):` adds the block's wall time to durations["stage"] (also when it raises);
    `current` names the last stage entered."""

    def __init__(self, durations: dict[str, float]):
        self.durations = durations
        self.current = ""

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        self.current = stage
        with self.part(stage):
            yield

    @contextmanager
    def part(self, key: str) -> Iterator[None]:
        """Add the block's wall time to durations[key] without changing `current`."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.durations[key] = round(self.durations.get(key, 0.0) + time.perf_counter() - began, 4)


def stage_keys(durations: dict[str, float]) -> list[str]:
    """The whole stages among `durations` (parts, `stage.part`, left out)."""
    return [k for k in durations if "." not in k]
