"""The run's wall-clock budget bounds the LLM coder (issue 19 item 2): when it ends, the call in flight
is cut, and the iteration finishes with what is verified (here the offline seed)."""
from __future__ import annotations

from pathlib import Path

from fake_openai import Answer, FakeOpenAI
from kernelwright import run_graph

PROBLEM = Path(__file__).parent.parent / "problems" / "softmax.py"
GOOD = (Path(__file__).parent / "data" / "llm" / "softmax_correct.py").read_text()


def test_budget_end_cuts_the_stalled_call_and_keeps_the_verified_seed(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "test-key")
    # the model goes silent after a few words and the stall limit is far: only the budget ends the call
    with FakeOpenAI([Answer(content="<think>one program per row", style="none", stall=True, chunks=1)]) as fake:
        result = run_graph(str(PROBLEM), coder="llm", model="m", base_url=fake.base_url, device="cpu", fanout=2,
                           budget_s=4, artifacts_dir=str(tmp_path / "runs"), checkpoint_path=str(tmp_path / "c.sqlite"),
                           coder_options={"backoff_s": 0.0, "stall_s": 600.0, "timeout_s": 600.0})
        served = len(fake.requests)
    seed, model = result.history
    assert seed.coder == "template" and seed.status == "correct"
    assert model.coder == "llm" and model.status == "coder_error"
    assert "budget" in model.summary and model.meta["llm"]["cut"] == ["budget"]
    assert served <= 1  # never a re-ask after the budget
    assert result.stop_reason == "wall_time" and result.error is None
    assert result.solved and result.best_attempt == seed.id
