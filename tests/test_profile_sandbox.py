"""Profiling runs the candidate in the verifier's sandbox (issue 16, item 8), checked on the CPU.

The real driver runs (its `--device cuda` turned into `cpu`); ncu is a fake program that records
its own environment and launches the driver as ncu would, adding an injection variable.
"""
import json
import sys
from pathlib import Path

import pytest
from kernelwright.verifier.profile import ncu as prof

PROBLEM = Path(__file__).parents[1] / "problems" / "softmax.py"
FIXTURE = Path(__file__).parent / "data" / "ncu_raw_softmax.csv"
SECRET = "sk-planted-0123456789"
SEES = """import os, torch
print("KW_SEEN_KEY=" + str(os.environ.get("OPENAI_API_KEY")))
print("KW_SEEN_INJECTION=" + str(os.environ.get("CUDA_INJECTION64_PATH")))
print("KW_PROC_ENVIRON_HAS_KEY=" + str(b"OPENAI_API_KEY" in open("/proc/self/environ", "rb").read()))
class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, -1)
"""
FAKE_NCU = """#!{python}
import json, os, subprocess, sys
args = sys.argv[1:]
if "--import" in args:
    sys.stdout.write(open({fixture!r}).read())
    sys.exit(0)
with open({record!r}, "w") as f:
    json.dump(dict(os.environ), f)
report = args[args.index("--export") + 1]
driver = args[args.index({python!r}):]
env = dict(os.environ, CUDA_INJECTION64_PATH="/opt/fake/libinjection.so")  # what ncu adds for its target
done = subprocess.run(driver, env=env)
if done.returncode == 0:
    open(report + ".ncu-rep", "wb").write(b"rep")
sys.exit(done.returncode)
"""


class CpuRunner:
    """The real runner, with the driver's device turned to the CPU; keeps every result."""

    def __init__(self):
        self.results = []

    def __call__(self, cmd, timeout_s, env=None):
        cmd = ["cpu" if c == "cuda" else c for c in cmd]
        self.results.append(prof._run(cmd, timeout_s, **({"env": env} if env is not None else {})))
        return self.results[-1]


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return SECRET


def test_profile_driver_runs_without_the_callers_secrets(secret, tmp_path):
    candidate = tmp_path / "cand.py"
    candidate.write_text(SEES)
    runner = CpuRunner()
    result = prof.profile_candidate(PROBLEM, candidate, device="cuda", ncu=None, calls=1, runner=runner, timeout_s=300)
    out = runner.results[0].stdout
    assert result["error"] == "ncu not found", result  # the driver itself ran through
    assert "KW_SEEN_KEY=None" in out and "KW_PROC_ENVIRON_HAS_KEY=False" in out
    assert secret not in out + runner.results[0].stderr
    assert result["sandbox"]["workdir"] == str(Path(result["sandbox"]["workdir"]))  # entered, and said so
    assert result["sandbox"]["limits"]["RLIMIT_CORE"] == 0


def test_candidate_is_loaded_inside_the_sandbox_so_writes_outside_are_refused(tmp_path):
    outside = tmp_path / "escaped.txt"
    candidate = tmp_path / "cand.py"
    candidate.write_text(f"import torch\nopen({str(outside)!r}, 'w').write('x')\n" + SEES.split("\n", 4)[4])
    result = prof.profile_candidate(PROBLEM, candidate, device="cuda", ncu=None, calls=1, runner=CpuRunner(),
                                    timeout_s=300)
    assert not outside.exists()
    assert result["source"] == "none" and result["available"] is False
    assert "kernelwright sandbox: file blocked" in result["error"], result


def test_ncu_runs_in_the_scrubbed_environment_and_launches_the_sandboxed_driver(secret, tmp_path):
    record = tmp_path / "ncu_env.json"
    ncu = tmp_path / "ncu"
    ncu.write_text(FAKE_NCU.format(python=sys.executable, fixture=str(FIXTURE), record=str(record)))
    ncu.chmod(0o755)
    candidate = tmp_path / "cand.py"
    candidate.write_text(SEES)
    runner = CpuRunner()
    result = prof.profile_candidate(PROBLEM, candidate, device="cuda", ncu=str(ncu), calls=2, runner=runner,
                                    timeout_s=300)
    assert result["source"] == "ncu", result
    ncu_env = json.loads(record.read_text())
    assert "OPENAI_API_KEY" not in ncu_env and secret not in json.dumps(ncu_env)
    assert ncu_env["HOME"].startswith(str(Path(result["sandbox"]["workdir"]).parent))  # the private dirs
    profiled = runner.results[1].stdout  # the driver under ncu
    assert "KW_SANDBOX " in profiled and "KW_SEEN_KEY=None" in profiled
    assert "KW_SEEN_INJECTION=/opt/fake/libinjection.so" in profiled  # ncu's injection survives sandbox entry


def test_profiling_a_gpu_that_is_hidden_is_one_line_and_exit_2(monkeypatch):
    from typer.testing import CliRunner

    from kernelwright.cli import app

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    candidate = Path(__file__).parents[1] / "problems" / "candidates" / "softmax__triton.py"
    result = CliRunner().invoke(app, ["profile", str(PROBLEM), str(candidate), "--device", "cuda:0"])
    assert result.exit_code == 2, result.output
    assert "CUDA_VISIBLE_DEVICES hides every GPU" in result.stderr and len(result.stderr.strip().splitlines()) == 1
