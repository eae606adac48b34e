"""GPU-only paths of the profiler checked on the CPU: ncu's CSV in base and scaled units, the import
command, and every way ncu can fail (missing, timeout, no kernel, unknown metric) giving one line."""
import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.verifier.profile import ncu as prof
from kernelwright.verifier.profile.parse import parse_raw_csv, reduce_kernels

TEMPLATE = (Path(__file__).parent / "data" / "ncu_raw_h100_matmul.csv").read_text()
BASE = {"{UNIT_NS}": "nsecond", "{DUR0}": "212,480", "{DUR1}": "214,016", "{UNIT_B}": "byte", "{SMEM}": "131,072",
        "{LOC}": "8,192"}
SCALED = {"{UNIT_NS}": "usecond", "{DUR0}": "212.48", "{DUR1}": "214.016", "{UNIT_B}": "Kbyte", "{SMEM}": "131.072",
          "{LOC}": "8.192"}
PROBLEM = Path(__file__).parents[1] / "problems" / "softmax.py"
CANDIDATE = ("import torch\nclass ModelNew(torch.nn.Module):\n"
             "    def forward(self, x):\n        return torch.softmax(x, -1)\n")


def fill(values: dict[str, str]) -> str:
    text = TEMPLATE
    for key, value in values.items():
        text = text.replace(key, value)
    return text


@pytest.mark.parametrize("values", [BASE, SCALED], ids=["base-units", "scaled-units"])
def test_h100_raw_page_reduces_to_the_same_figures_in_either_unit_scale(values):
    kernels = parse_raw_csv(fill(values))
    assert [k["id"] for k in kernels] == ["0", "1", "2"]
    figures = reduce_kernels(kernels, calls=2)
    assert figures["kernel"] == "matmul_bias_relu_kernel" and figures["launches"] == 2
    assert figures["torch_kernels"] == ["void cub::CUB_300000_SM_900::DeviceReduceSingleTileKernel<float>(float *)"]
    assert figures["duration_us_per_call"] == pytest.approx((212.48 + 214.016) / 2)
    assert figures["shared_bytes"] == pytest.approx(131072)
    assert figures["spill_bytes"] == pytest.approx(2 * 8192)
    assert figures["registers"] == 168 and figures["grid_size"] == 1056
    assert figures["tensor_pct"] == pytest.approx(71.3)
    assert figures["bank_conflict_rate"] == pytest.approx(1024 / (262144 + 65536))
    result = prof.profile_from_csv(fill(values), calls=2)
    assert result["figures"]["bound"] == "compute"
    assert result["diagnosis"].startswith("compute-bound at 75% of SM throughput")


def test_import_asks_for_base_units():
    cmd = prof.import_command("ncu", "/tmp/r.ncu-rep")
    assert cmd[cmd.index("--page") + 1] == "raw" and "--csv" in cmd
    assert cmd[cmd.index("--print-units") + 1] == "base"


def test_runner_turns_a_missing_program_and_a_timeout_into_failed_results():
    missing = prof._run(["/nonexistent/ncu", "--version"], 5)
    assert missing.returncode == 127 and "cannot run /nonexistent/ncu" in missing.stderr
    slow = prof._run([sys.executable, "-c", "import time; time.sleep(5)"], 0.5)
    assert slow.returncode == 124 and "timed out after" in slow.stderr


class Runner:
    """Fake subprocess.run: plain driver ok; ncu behaves as `ncu_mode` says; import prints the CSV."""

    def __init__(self, ncu_mode: str):
        self.mode, self.calls = ncu_mode, []

    def __call__(self, cmd, timeout_s, env=None):
        self.calls.append(cmd)
        if "--import" in cmd:
            return subprocess.CompletedProcess(cmd, 0, fill(BASE), "")
        if "--export" in cmd:
            report = Path(cmd[cmd.index("--export") + 1] + ".ncu-rep")
            if self.mode == "no-kernel":  # ncu exits 0 and writes no report when the filter matched nothing
                return subprocess.CompletedProcess(cmd, 0, "KW_META []\n", "==WARNING== No kernels were profiled.\n")
            if self.mode == "timeout":
                return subprocess.CompletedProcess(cmd, 124, "", "ncu timed out after 600 s")
            if self.mode == "unknown-metric" and "--metrics" in cmd:
                return subprocess.CompletedProcess(cmd, 1, "",
                                                   "==ERROR== Failed to find metric "
                                                   "sm__pipe_tensor_op_hmma_cycles_active\n")
            report.write_bytes(b"rep")
            return subprocess.CompletedProcess(cmd, 0, "KW_META []\n", "")
        return subprocess.CompletedProcess(cmd, 0, "KW_META []\n", "")


@pytest.mark.parametrize("mode, expected", [
    ("no-kernel", "ncu profiled no kernel inside the candidate's NVTX range"),
    ("timeout", "ncu failed (exit 124): ncu timed out after 600 s"),
])
def test_ncu_failures_end_in_one_line_and_no_figures(mode, expected):
    result = prof.profile_candidate(PROBLEM, CANDIDATE, device="cuda", ncu="/fake/ncu", runner=Runner(mode))
    assert result["source"] == "none" and result["available"] is False
    assert result["error"].startswith(expected) and "\n" not in result["error"]


def test_unknown_extra_metric_retries_with_sections_only_and_times_that_run():
    runner = Runner("unknown-metric")
    result = prof.profile_candidate(PROBLEM, CANDIDATE, device="cuda", ncu="/fake/ncu", calls=2, runner=runner)
    assert result["source"] == "ncu" and result["extra_metrics"] is False
    profiled = [c for c in runner.calls if "--export" in c]
    assert len(profiled) == 2 and "--metrics" in profiled[0] and "--metrics" not in profiled[1]
    assert result["ncu_s"] == pytest.approx(result["ncu_profile_s"] + result["ncu_import_s"])
    assert result["overhead_s"] == pytest.approx(result["ncu_s"] - result["driver_s"])


def test_missing_ncu_falls_back_gracefully_in_one_line(monkeypatch):
    monkeypatch.setattr(prof, "find_ncu", lambda: None)
    result = prof.profile_candidate(PROBLEM, CANDIDATE, device="cuda", ncu="auto", runner=Runner("ok"))
    assert result["source"] == "none" and result["error"] == "ncu not found"
    assert result["diagnosis"] == "no profile available: ncu not found; no compile metadata either"


def test_driver_runs_without_its_folder_shadowing_the_standard_profile_module(tmp_path):
    """kernelwright/tools holds profile.py; run as a script from there, `import cProfile` broke."""
    candidate = tmp_path / "cand.py"
    candidate.write_text("import cProfile, profile\nimport torch\nclass ModelNew(torch.nn.Module):\n"
                         "    def forward(self, x):\n        assert hasattr(profile, 'run')\n        return "
                         "torch.softmax(x, -1)\n")
    seen = []

    def runner(cmd, timeout_s, env=None):
        seen.append(cmd)
        cmd = [c.replace("cuda", "cpu") if c == "cuda" else c for c in cmd]  # run the real driver on the CPU
        return prof._run(cmd, timeout_s, env=env)

    result = prof.profile_candidate(PROBLEM, candidate, device="cuda", ncu=None, calls=1, runner=runner, timeout_s=120)
    python = [i for i, c in enumerate(seen[0]) if c.endswith("driver.py")][0] - 2
    assert seen[0][python + 1] == "-P"
    assert result["error"] == "ncu not found", result  # the driver itself ran through
