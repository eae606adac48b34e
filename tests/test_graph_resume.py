"""Checkpoint and resume: SIGKILL a `kernelwright run` mid-way, resume it, nothing is lost."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kernelwright.graph.builder import make_graph

from kernelwright.run import open_checkpointer

ROOT = Path(__file__).resolve().parents[1]
KW = [sys.executable, "-m", "kernelwright"]


def saved_attempts(artifacts: Path, run_id: str) -> list[dict]:
    saver = open_checkpointer(artifacts / "checkpoints.sqlite")
    try:
        values = make_graph(checkpointer=saver).get_state({"configurable": {"thread_id": run_id}}).values
    finally:
        saver.conn.close()
    return list(values.get("attempts") or [])


@pytest.mark.slow
def test_killed_run_resumes_with_best_kernel_and_history(tmp_path):
    run_id = "resume-me"
    cmd = KW + ["run", str(ROOT / "problems" / "softmax.py"), "--coder", "template", "--device", "cpu",
                "--fanout", "1", "--iterations", "5", "--artifacts", str(tmp_path), "--run-id", run_id, "--json"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    run_dir = tmp_path / run_id
    deadline = time.time() + 180
    try:
        # wait for the 2nd verified attempt to be checkpointed, then kill the whole process group
        while time.time() < deadline and proc.poll() is None:
            if (run_dir / "attempt_2.json").exists() and len(saved_attempts(tmp_path, run_id)) >= 2:
                break
            time.sleep(0.2)
        assert proc.poll() is None, f"run ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = saved_attempts(tmp_path, run_id)
    assert 2 <= len(before) < 5 and before[0]["status"] == "correct"
    assert (run_dir / "best.py").read_text() == (run_dir / "attempt_1.py").read_text()  # kept despite the kill

    resumed = subprocess.run(KW + ["run", "--resume", run_id, "--artifacts", str(tmp_path), "--json"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout)
    history = result["history"]
    assert [a["id"] for a in history] == [1, 2, 3, 4, 5] and result["stop_reason"] == "iterations", (
        [a["id"] for a in history], result["stop_reason"], result.get("error"), resumed.stderr[-1500:])
    # the attempts made before the kill survived as they were (same timestamps: not re-run)
    for old, new in zip(before, history):
        assert (old["id"], old["started_at"], old["status"]) == (new["id"], new["started_at"], new["status"])
    assert result["best_attempt"] == 1 and result["best_verdict"]["status"] == "correct"
    assert Path(result["best_path"]).read_text() == (run_dir / "attempt_1.py").read_text()
    configs = [json.dumps(a["meta"]["config"], sort_keys=True) for a in history]
    assert len(set(configs)) == 5  # the resumed run went on walking untried configs


def test_run_killed_after_a_step_saved_its_writes_resumes_from_that_step(tmp_path):
    """The verify step's writes are saved, the checkpoint after it is not (the process died in between):
    the snapshot then has no `next`, yet the run is not finished."""
    from graph_helpers import EchoCoder, ScriptedVerifier, timed
    from kernelwright import run_graph

    def options():
        return {"verifier": ScriptedVerifier([timed("correct", 1.0)] * 3), "coder_factory": lambda ctx: EchoCoder()}

    run_graph(ROOT / "problems" / "softmax.py", artifacts_dir=tmp_path, device="cpu", iterations=3, fanout=1,
              run_id="r1", **options())
    saver = open_checkpointer(tmp_path / "checkpoints.sqlite")
    graph, config = make_graph(checkpointer=saver), {"configurable": {"thread_id": "r1"}}
    before_verify = [s for s in graph.get_state_history(config) if s.next == ("verify",)][-1]  # iteration 1's
    cut = before_verify.config["configurable"]["checkpoint_id"]
    with saver.conn:  # keep that checkpoint and the writes of its step (verify's); drop everything later
        saver.conn.execute("DELETE FROM checkpoints WHERE thread_id = 'r1' AND checkpoint_id > ?", (cut,))
        saver.conn.execute("DELETE FROM writes WHERE thread_id = 'r1' AND checkpoint_id > ?", (cut,))
    snapshot = graph.get_state(config)
    saver.conn.close()
    assert snapshot.next == () and [t.name for t in snapshot.tasks] == ["verify"]

    result = run_graph(None, run_id="r1", resume=True, artifacts_dir=tmp_path, **options())
    assert result.stop_reason == "iterations" and [a.id for a in result.history] == [1, 2, 3]
    assert [a.status for a in result.history] == ["correct"] * 3
