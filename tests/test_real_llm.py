"""Opt-in: two iterations of the loop against a REAL model server (skipped unless KERNELWRIGHT_REAL_LLM_URL is set).

    TRITON_INTERPRET=1 KERNELWRIGHT_API_KEY=EMPTY KERNELWRIGHT_REAL_LLM_URL=http://127.0.0.1:8091/v1 \\
        pytest -m real_llm -s tests/test_real_llm.py

KERNELWRIGHT_REAL_LLM_MODEL names the model (default qwen2.5-coder-1.5b-instruct);
KERNELWRIGHT_REAL_LLM_RUNS keeps the run folder there instead of pytest's tmp_path. The test prints
one line per attempt (verdict, tokens, seconds) for BENCHMARKS.md. It asserts only that the run ends
cleanly with its artifacts on disk, never what the model writes or how fast it is.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kernelwright import run_graph

URL = os.environ.get("KERNELWRIGHT_REAL_LLM_URL", "")
MODEL = os.environ.get("KERNELWRIGHT_REAL_LLM_MODEL", "qwen2.5-coder-1.5b-instruct")
PROBLEM = Path(__file__).parent.parent / "problems" / "softmax.py"
ANSWER_CAP = 600

pytestmark = [pytest.mark.real_llm, pytest.mark.skipif(not URL, reason="set KERNELWRIGHT_REAL_LLM_URL to run")]


@pytest.mark.timeout(3600)
def test_two_iterations_against_a_real_model_end_cleanly_with_every_artifact(tmp_path, monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", os.environ.get("KERNELWRIGHT_API_KEY") or "EMPTY")
    runs = Path(os.environ.get("KERNELWRIGHT_REAL_LLM_RUNS") or tmp_path / "runs")
    result = run_graph(
        str(PROBLEM), coder="llm", base_url=URL, model=MODEL, iterations=2, fanout=1, device="cpu",
        budget_s=3600, artifacts_dir=str(runs), checkpoint_path=str(tmp_path / "ckpt.sqlite"),
        coder_options={"max_answer_tokens": ANSWER_CAP, "tries": 1},
    )
    assert result.error is None, result.error
    assert result.stop_reason == "iterations" and len(result.history) == 2
    llm_dir = Path(result.artifacts_dir) / "llm"
    print(f"\nrun {result.run_id}: stop {result.stop_reason}, solved {result.solved}, tokens {result.tokens}")
    assert [a.coder for a in result.history] == ["template", "llm"]  # the offline seed, then the model
    for attempt in result.history:
        if attempt.coder == "template":
            print(f"attempt {attempt.id} offline seed ({attempt.meta.get('template')}): {attempt.status}")
            continue
        stem = llm_dir / f"attempt_{attempt.id}"
        prompt, reply = Path(f"{stem}_prompt.md"), Path(f"{stem}_reply_1.md")
        assert prompt.read_text().strip() and reply.is_file(), f"attempt {attempt.id}: prompt or reply missing"
        if attempt.status == "coder_error":   # no usable code: the verdict is the coder's reason, in the history
            assert attempt.summary.startswith("coder_error")
        else:
            verdict = Path(result.artifacts_dir) / f"attempt_{attempt.id}.json"
            assert verdict.is_file() and Path(attempt.source_path).is_file()
        replies = sorted(llm_dir.glob(f"attempt_{attempt.id}_reply_*.md"))
        model_s = sum(float(m) for r in replies for m in re.findall(r"; ([\d.]+) s -->", r.read_text()))
        llm = attempt.meta.get("llm") or {}
        print(f"attempt {attempt.id} {attempt.strategy}: {attempt.status}; tokens prompt {llm.get('prompt_tokens')} "
              f"completion {llm.get('completion_tokens')} (calls {llm.get('calls')}, cap {llm.get('answer_cap')}, "
              f"context {llm.get('context_tokens')} from {llm.get('context_source')}); model {model_s:.0f} s, "
              f"attempt {attempt.finished_at - attempt.started_at:.0f} s")
