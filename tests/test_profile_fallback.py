"""profile_candidate: CPU says no profile; ncu path and compile-metadata fallback via a fake runner."""
import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

from kernelwright.verifier.profile import ncu as prof
from kernelwright.verifier.profile.driver import triton_metadata

FIXTURE = Path(__file__).parent / "data" / "ncu_raw_softmax.csv"
PROBLEM = Path(__file__).parents[1] / "problems" / "softmax.py"
CANDIDATE = ("import torch\nclass ModelNew(torch.nn.Module):\n"
             "    def forward(self, x):\n        return torch.softmax(x, -1)\n")
META = [{"backend": "triton", "name": "softmax_kernel", "registers": 40, "spills": 3, "shared_bytes": 1024}]


class FakeRunner:
    """Stands in for subprocess.run: driver prints KW_META; ncu writes a report; import prints CSV."""

    def __init__(self, ncu_rc: int = 0):
        self.ncu_rc = ncu_rc
        self.calls: list[list[str]] = []

    def __call__(self, cmd, timeout_s, env=None):
        self.calls.append(cmd)
        if "--import" in cmd:
            return subprocess.CompletedProcess(cmd, 0, FIXTURE.read_text(), "")
        if "--export" in cmd:
            if self.ncu_rc:
                return subprocess.CompletedProcess(cmd, self.ncu_rc, "",
                                                   "==ERROR== ERR_NVGPUCTRPERM - no permission to access counters")
            Path(cmd[cmd.index("--export") + 1] + ".ncu-rep").write_bytes(b"rep")
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return subprocess.CompletedProcess(cmd, 0, "KW_META " + json.dumps(META) + "\n", "")


def test_cpu_gives_a_plain_no_profile_answer():
    result = prof.profile_candidate(PROBLEM, CANDIDATE, device="cpu")
    assert result["available"] is False and result["source"] == "none"
    assert "no profile available on the CPU" in result["diagnosis"]


def test_ncu_command_filters_to_the_candidate_range_without_clock_control():
    cmd = prof.ncu_command("ncu", "/tmp/r", ["python", "driver.py"])
    assert cmd[cmd.index("--clock-control") + 1] == "none"
    assert cmd[cmd.index("--nvtx-include") + 1] == "kw_candidate/"
    assert [cmd[i + 1] for i, c in enumerate(cmd) if c == "--section"] == ["SpeedOfLight", "Occupancy",
                                                                           "MemoryWorkloadAnalysis", "LaunchStats"]
    assert cmd[-2:] == ["python", "driver.py"]


def test_ncu_path_merges_compile_metadata_and_reports_overhead():
    runner = FakeRunner()
    result = prof.profile_candidate(PROBLEM, CANDIDATE, device="cuda", ncu="/fake/ncu", calls=2, runner=runner)
    assert result["source"] == "ncu"
    assert result["figures"]["registers"] == 32  # ncu's figure wins over metadata
    assert result["figures"]["spills"] == 3      # only the compiler knows spill counts
    assert result["overhead_s"] is not None
    assert len(runner.calls) == 3  # plain driver, ncu, ncu --import


def test_without_counters_permission_falls_back_to_compile_metadata():
    result = prof.profile_candidate(PROBLEM, CANDIDATE, device="cuda", ncu="/fake/ncu", runner=FakeRunner(ncu_rc=1))
    assert result["source"] == "metadata"
    assert result["figures"]["registers"] == 40 and result["figures"]["spills"] == 3
    assert "ERR_NVGPUCTRPERM" in result["error"]
    assert "3 register spills" in result["diagnosis"]


def test_triton_metadata_reads_compiled_kernels_through_autotuner_wrappers():
    compiled = SimpleNamespace(n_regs=64, n_spills=0,
                               metadata=SimpleNamespace(name="k", shared=4096, num_warps=4, num_stages=3))
    jit = SimpleNamespace(device_caches={0: ({"key": compiled}, None, "target", "backend", None)})
    module = SimpleNamespace(kernel=SimpleNamespace(fn=jit), other=3)
    assert triton_metadata(module) == [{"backend": "triton", "name": "k", "registers": 64, "spills": 0,
                                        "shared_bytes": 4096, "num_warps": 4, "num_stages": 3}]
