"""The ncu_profile tool plugin: fills verdict.profile and the critic's digest for correct attempts."""
import json
from types import SimpleNamespace

import pytest
from kernelwright.graph.plugins import ToolRuntime, registry
from kernelwright.tools import profile_tool
from kernelwright.verifier.profile import ncu as prof
from kernelwright.verifier.verdict import Verdict

PROBLEM = "import torch\nclass Model(torch.nn.Module):\n    def forward(self, x):\n        return x + 1\n" \
          "def get_inputs():\n    return [torch.randn(4)]\ndef get_init_inputs():\n    return []\n"


def runtime(**context):
    """The tool's runtime bundle: the run's state (its problem), a context and the run folder."""
    return ToolRuntime(state={"problem_source": PROBLEM}, context=SimpleNamespace(**context), run_dir=None)


CANDIDATE = "import torch\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x + 1\n"


@pytest.fixture
def attempt(tmp_path):
    (tmp_path / "attempt_1.py").write_text(CANDIDATE)
    return {"id": 1, "source_path": str(tmp_path / "attempt_1.py"), "verdict_path": str(tmp_path / "attempt_1.json"),
            "verdict": {"status": "correct", "diagnosis": ""}}


def test_registered_as_a_tool():
    assert registry("tool")["ncu_profile"] is profile_tool.ncu_profile


def test_profile_reaches_the_digest_and_saved_verdict(attempt, monkeypatch):
    seen = {}

    def fake_profile(problem, candidate, device="auto", **_):
        seen.update(problem=problem, candidate=str(candidate), device=device)
        return {"figures": {"dram_pct": 91.0}, "diagnosis": "memory-bound at 91% of DRAM peak", "source": "ncu",
                "overhead_s": 4.2}

    monkeypatch.setattr(profile_tool, "_cuda_available", lambda: True)
    monkeypatch.setattr(prof, "profile_candidate", fake_profile)
    verdict = Verdict(status="correct", stage="done")
    out = profile_tool.ncu_profile(attempt, verdict, runtime(verify_options={"profile": True}, device="cuda:0"))
    assert out == {"source": "ncu", "overhead_s": 4.2, "error": None}
    assert seen == {"problem": PROBLEM, "candidate": attempt["source_path"], "device": "cuda:0"}
    assert verdict.profile == {"figures": {"dram_pct": 91.0}, "diagnosis": "memory-bound at 91% of DRAM peak"}
    assert attempt["verdict"]["diagnosis"] == "memory-bound at 91% of DRAM peak"
    saved = json.loads(open(attempt["verdict_path"]).read())
    assert saved["profile"]["figures"]["dram_pct"] == 91.0


def test_does_nothing_unless_asked_correct_and_on_a_gpu(attempt, monkeypatch):
    ctx = runtime(verify_options={"profile": True}, device="auto")
    monkeypatch.setattr(profile_tool, "_cuda_available", lambda: False)
    assert profile_tool.ncu_profile(attempt, Verdict(status="correct", stage="done"), ctx) is None  # CPU
    monkeypatch.setattr(profile_tool, "_cuda_available", lambda: True)
    monkeypatch.setattr(prof, "profile_candidate", lambda *a, **k: pytest.fail("must not profile"))
    assert profile_tool.ncu_profile(attempt, Verdict(status="incorrect", stage="correctness"), ctx) is None
    assert profile_tool.ncu_profile(attempt, Verdict(status="correct", stage="done"),
                                    runtime(verify_options={}, device="auto")) is None
    done = Verdict(status="correct", stage="done", profile={"figures": {"registers": 40}, "diagnosis": "from ncu"})
    assert profile_tool.ncu_profile(attempt, done, ctx) is None
