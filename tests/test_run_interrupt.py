"""Ctrl-C during `kernelwright run`: exit 130 at once with the resume command; the resume goes on."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER = [sys.executable, str(ROOT / "tests" / "interrupt_driver.py")]


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.slow
def test_ctrl_c_cancels_the_verification_and_the_resume_runs_the_rest(tmp_path):
    mark = tmp_path / "worker.pid"
    env = {**os.environ, "KW_HANG_AT": "2", "KW_HANG_MARK": str(mark)}
    cmd = DRIVER + ["run", str(ROOT / "problems" / "softmax.py"), "--coder", "template", "--device", "cpu",
                    "--fanout", "1", "--iterations", "3", "--artifacts", str(tmp_path), "--run-id", "r1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 240
        while not mark.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.1)  # until the 2nd verification is in flight in a real worker (it never ends by itself)
        assert proc.poll() is None and mark.exists(), proc.communicate()[1][-2000:]
        worker = int(mark.read_text())
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        _out, err = proc.communicate(timeout=60)  # the hanging load has a 600 s deadline: only a cancel ends it
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err[-2000:]
    lines = err.splitlines()
    assert lines[0].startswith("run r1 started: ")
    assert lines[-1] == (f"interrupted: run r1 stopped in iteration 2 of 3; "
                         f"resume with: kernelwright run --resume r1 --artifacts {tmp_path}")
    deadline = time.time() + 30
    while not _gone(worker) and time.time() < deadline:
        time.sleep(0.1)
    assert _gone(worker), f"worker {worker} outlived the run"
    run_dir = tmp_path / "r1"
    assert not (run_dir / "attempt_2.json").exists()  # no verdict for the cancelled verification
    assert (run_dir / "best.py").read_text() == (run_dir / "attempt_1.py").read_text()
    first = json.loads((run_dir / "attempt_1.json").read_text())

    resumed = subprocess.run(DRIVER + ["run", "--resume", "r1", "--artifacts", str(tmp_path), "--json"], cwd=tmp_path,
                             env={**os.environ, "KW_HANG_AT": "0"}, capture_output=True, text=True, timeout=240,
                             check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout)
    assert [(a["id"], a["iteration"]) for a in result["history"]] == [(1, 1), (2, 2), (3, 3)], resumed.stderr[-1500:]
    assert result["stop_reason"] == "iterations" and all(a["status"] == "correct" for a in result["history"])
    assert json.loads((run_dir / "attempt_1.json").read_text()) == first  # iteration 1 was not run again
    assert "resumed after iteration 1" in resumed.stderr


def test_sigint_handling_is_restored_after_the_run_and_left_alone_off_the_main_thread():
    import threading

    from kernelwright.interrupt import ExitOnInterrupt

    before = signal.getsignal(signal.SIGINT)
    with ExitOnInterrupt(Path("/nonexistent"), lambda: None):
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before and signal.set_wakeup_fd(-1) == -1
    seen = []
    thread = threading.Thread(target=lambda: seen.append(ExitOnInterrupt(Path("/x"), lambda: None).__enter__()))
    thread.start()
    thread.join()
    assert seen and signal.getsignal(signal.SIGINT) is before
