"""A stand-in for `run_graph` that needs no verifier: for tests and dry runs of the runner.

It never writes a kernel of its own. Its outcome comes from an optional ``FAKE_OUTCOME`` dict
in the problem file (read with `ast`, the file is not executed), e.g.
``FAKE_OUTCOME = {"solved": True, "speedup": 1.7, "delay_s": 0.2, "attempts": 3}``;
``{"raise": "boom"}`` makes the run fail, ``{"exit": 3}`` kills the worker process,
``{"hang": True}`` makes it sleep for a long time.
``{"rendezvous": "<folder>", "parties": 2, "rendezvous_s": 120}`` makes the run wait until `parties` runs have arrived
at that folder, so a test can prove runs were in flight together without reading a clock.
"""
from __future__ import annotations

import ast
import os
import time
import uuid
from pathlib import Path
from typing import Any

from kernelwright.verifier.verdict import Verdict

from kernelwright.result import Attempt, Result

FAKE_KERNEL = "# synthetic stand-in result, not a real kernel\nclass ModelNew:\n    pass\n"


def fake_outcome(path: str) -> dict[str, Any]:
    tree = ast.parse(Path(path).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "FAKE_OUTCOME"
                                                for t in node.targets):
            return dict(ast.literal_eval(node.value))
    return {}


def rendezvous(folder: str, parties: int, timeout_s: float = 120.0) -> None:
    """Mark this run as arrived in `folder`, then wait until `parties` runs have arrived there.

    Raises after `timeout_s` (a generous bound, not a measurement): the runs were not concurrent."""
    meet = Path(folder)
    meet.mkdir(parents=True, exist_ok=True)
    (meet / f"{os.getpid()}-{uuid.uuid4().hex}").touch()
    deadline = time.monotonic() + timeout_s
    while len(list(meet.iterdir())) < parties:
        if time.monotonic() > deadline:
            raise RuntimeError(f"rendezvous: fewer than {parties} runs in flight together after {timeout_s:.0f} s")
        time.sleep(0.01)


def sleep_verifier(problem: Any, paths: list, options: Any, device: str) -> list[Verdict]:
    """Stand-in verifier: sleeps `options` seconds (a number) and calls every path correct."""
    seconds = float(options or 0.0)
    time.sleep(seconds)
    return [Verdict(status="correct", stage="done", elapsed_s=seconds) for _ in paths]


def synthetic_run(problem: str, *, budget_s: float = 60.0, device: str = "cpu", run_id: str = "fake",
                  coder: str = "fake", iterations: int | None = None, verifier: Any = None, **_: Any) -> Result:
    """Pretend to search: `attempts` attempts spaced `delay_s` apart; the last is the best.

    With ``verify_s`` in FAKE_OUTCOME and a `verifier` given, each attempt also spends that long
    in one call of the verifier (so the bench's verifier accounting sees it)."""
    spec = fake_outcome(problem)
    if spec.get("raise"):
        raise RuntimeError(str(spec["raise"]))
    if spec.get("exit") is not None:  # simulate a worker that dies (segfault, OOM kill)
        os._exit(int(spec["exit"]))
    if spec.get("hang"):
        time.sleep(float(spec.get("hang_s", 3600)))
    if spec.get("rendezvous"):
        rendezvous(str(spec["rendezvous"]), int(spec.get("parties", 2)), float(spec.get("rendezvous_s", 120.0)))
    start = time.time()
    n = int(spec.get("attempts", 2))
    delay = float(spec.get("delay_s", 0.0))
    solved = bool(spec.get("solved", True))
    speedup = spec.get("speedup")
    history = []
    for i in range(n):
        t0 = time.time()
        time.sleep(delay)
        if verifier is not None and spec.get("verify_s"):
            verifier(problem, [f"{problem}#attempt{i}"], spec["verify_s"], device)
        correct = solved and i >= int(spec.get("first_correct", 0))
        history.append(Attempt(
            id=i, iteration=i, strategy="first_draft" if i == 0 else "refine_best", coder=coder,
            status="correct" if correct else "incorrect",
            speedup_eager=(speedup * (i + 1) / n) if correct and speedup is not None else None,
            speedup_compile=(speedup * (i + 1) / n / 2) if correct and speedup is not None else None,
            started_at=t0, finished_at=time.time(),
            meta={"device": device, "pid": os.getpid(), "visible": os.environ.get("CUDA_VISIBLE_DEVICES")},
        ))
    verdict = None
    if solved:
        speedups = {"eager": speedup, "compile": speedup / 2} if speedup is not None else {}
        verdict = Verdict(status="correct", stage="done", speedups=speedups, timing_meaningful=speedup is not None)
    else:
        verdict = Verdict(status="incorrect", stage="correctness", message="synthetic mismatch")
    return Result(run_id=run_id, problem=Path(problem).stem, best_source=FAKE_KERNEL if solved else None,
                  best_verdict=verdict, best_attempt=(n - 1) if solved else None, history=history,
                  stop_reason="iterations", elapsed_s=time.time() - start)
