"""Orchestration overhead of the kernelwright graph per iteration, without model or GPU time.

A zero-cost coder (fixed source) and a zero-cost verifier (a canned verdict) replace the real ones,
so what is timed is LangGraph scheduling, the planner, critic, routing, state reducers, artifact
files and checkpoint writes. The history is pre-filled with N synthetic attempts to show how the
cost grows with the length of the search.

    python benchmarks/orchestration_overhead.py [--iterations 20] [--histories 0,100,1000]
        [--checkpointers memory,sqlite] [--fanout 2]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from kernelwright.agents.coder import CodeResult
from kernelwright.graph.builder import make_graph
from kernelwright.graph.context import Context
from kernelwright.verifier.verdict import TimingStats, Verdict

PROBLEM = Path(__file__).resolve().parents[1] / "problems" / "softmax.py"
SOURCE = "import torch\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x\n"


class FreeCoder:
    name = "free"

    def generate(self, request):
        return CodeResult(source=SOURCE, tokens=100, meta={"config": {"i": request.attempt_index}})


def free_verifier(problem, paths, options, device):
    timing = TimingStats(median_ms=1.0, mean_ms=1.0, std_ms=0.0, min_ms=1.0, max_ms=1.0, n=10)
    return [Verdict(status="correct", stage="done", timing=timing, timing_meaningful=True, speedups={"eager": 1.0})
            for _ in paths]


def synthetic_history(n: int, run_dir: Path) -> list[dict]:
    statuses = ["compile_error", "incorrect", "correct", "runtime_error"]
    return [{"id": i + 1, "parent": i if i else None, "iteration": i // 2 + 1, "strategy": "refine_best",
             "coder": "free", "backend": "triton", "status": statuses[i % 4], "summary": statuses[i % 4],
             "verdict": {"status": statuses[i % 4], "stage": "done", "message": "x" * 200, "logs": "y" * 500},
             "median_ms": 2.0, "timing_meaningful": True, "source_path": str(run_dir / "missing.py"),
             "meta": {"config": {"i": i}}, "tokens": 100, "started_at": 0.0, "finished_at": 0.0}
            for i in range(n)]


def checkpointer_of(kind: str, folder: Path):
    if kind == "memory":
        from langgraph.checkpoint.memory import InMemorySaver
        return InMemorySaver()
    from kernelwright.run import open_checkpointer
    return open_checkpointer(folder / "checkpoints.sqlite")


def measure(history: int, iterations: int, kind: str, fanout: int) -> float:
    """Median milliseconds per iteration over `iterations` iterations after `history` attempts."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        saver = checkpointer_of(kind, folder)
        graph = make_graph(checkpointer=saver)
        per_iteration: list[float] = []
        last = [time.perf_counter()]

        def on_chunk(chunk):
            if isinstance(chunk, dict) and chunk.get("event") == "iteration":
                now = time.perf_counter()
                per_iteration.append(now - last[0])
                last[0] = now

        ctx = Context(coder="free", coder_factory=lambda c: FreeCoder(), verifier=free_verifier, fanout=fanout,
                      max_iterations=history // 2 + iterations + 1, artifacts_dir=str(folder), run_id="bench",
                      budget_s=1e9)
        config = {"configurable": {"thread_id": "bench"}, "recursion_limit": 10**6}
        run_dir = folder / "bench"
        run_dir.mkdir()
        prefilled = synthetic_history(history, run_dir)
        state = {"problem_path": str(PROBLEM), "problem_source": PROBLEM.read_text(), "problem_name": "softmax_rows",
                 "problem_meta": {}, "run_id": "bench", "run_dir": str(run_dir), "started_at": time.time(),
                 "iteration": history // 2 + 1, "next_id": history + 1, "attempts": prefilled,
                 "best": {"attempt": 3, "source": SOURCE, "median_ms": 2.0, "speedup_eager": 0.5,
                          "timing_meaningful": True, "verdict": {"status": "correct"}} if history else None,
                 "feedback": {}, "hint": None, "stall": 0, "tokens": 0, "stop_reason": ""}
        graph.update_state(config, state, as_node="start")
        stream = graph.stream(None, config, context=ctx, stream_mode="custom")
        last[0] = time.perf_counter()
        for chunk in stream:
            on_chunk(chunk)
            if len(per_iteration) >= iterations + 1:
                break
        if saver is not None and hasattr(saver, "conn"):
            saver.conn.close()
        return statistics.median(per_iteration[1:]) * 1000  # the first iteration includes warm-up


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--histories", default="0,100,1000")
    parser.add_argument("--checkpointers", default="memory,sqlite")
    parser.add_argument("--fanout", type=int, default=2)
    args = parser.parse_args()
    histories = [int(h) for h in args.histories.split(",")]
    kinds = args.checkpointers.split(",")
    print(f"# orchestration overhead per iteration (fan-out {args.fanout}, median of {args.iterations} "
          f"iterations; zero-cost coder and verifier)")
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d', time.gmtime())}")
    print("| history (attempts) | " + " | ".join(f"{k} checkpointer (ms/iter)" for k in kinds) + " |")
    print("|---:|" + "---:|" * len(kinds))
    for history in histories:
        cells = [f"{measure(history, args.iterations, kind, args.fanout):.1f}" for kind in kinds]
        print(f"| {history} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
