"""Silent prompt truncation (issue 19 item 1): a server that counts far fewer prompt tokens than were
sent (Ollama keeps only the end of a long prompt) gets one warning per run: in the progress output,
the attempt's meta and its artifacts."""
from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.llm_client import ChatClient, LLMConfig
from kernelwright.agents.llm_coder import LLMCoder

from fake_openai import Answer, FakeOpenAI
from kernelwright import run_graph

DATA = Path(__file__).parent / "data" / "llm"
PROBLEM = Path(__file__).parent.parent / "problems" / "softmax.py"
GOOD = (DATA / "softmax_correct.py").read_text()


def request(tmp_path: Path, attempt_id: int, **kw) -> CodeRequest:
    return CodeRequest(problem_source=PROBLEM.read_text(), problem_name="softmax_rows", description="row softmax",
                       metadata={}, strategy="first_draft", artifacts_dir=str(tmp_path / "run"),
                       attempt_id=attempt_id, **kw)


def coder_for(fake: FakeOpenAI) -> LLMCoder:
    config = LLMConfig(base_url=fake.base_url, api_key="k", backoff_s=0.0)
    return LLMCoder(config, client=ChatClient(config))


def test_far_fewer_reported_prompt_tokens_warn_once_per_run(tmp_path):
    script = [Answer(code=GOOD, usage=(64, 500)), Answer(code=GOOD, usage=(64, 500))]
    with FakeOpenAI(script) as fake:
        coder = coder_for(fake)
        first = coder.generate(request(tmp_path, 1))
        second = coder.generate(request(tmp_path, 2))
    warning = first.meta["llm"]["warning"]
    assert "counted 64 prompt tokens" in warning and "truncated the prompt" in warning
    folder = tmp_path / "run" / "llm"
    assert (folder / "attempt_1_warning.txt").read_text().strip() == warning
    assert (folder / "prompt_truncated.txt").read_text().strip() == warning
    assert "warning" not in second.meta["llm"] and not (folder / "attempt_2_warning.txt").exists()
    assert first.source is not None  # a warning, not a failure


def test_a_plausible_prompt_count_gives_no_warning(tmp_path):
    # a dense tokenizer may count well under four characters a token: 60 % of that estimate is still plausible
    with FakeOpenAI([lambda req: Answer(code=GOOD,
                                        usage=(int(len(req["messages"][0]["content"]) / 4 * 0.6), 500))]) as fake:
        result = coder_for(fake).generate(request(tmp_path, 1))
    assert result.meta["llm"]["prompt_tokens"] < len(result.prompt) / 4
    assert "warning" not in result.meta["llm"]
    assert not (tmp_path / "run" / "llm" / "prompt_truncated.txt").exists()


@pytest.fixture
def api_key(monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "test-key")


def test_the_run_shows_the_warning_once_in_its_progress_events(tmp_path, api_key):
    events: list[dict] = []

    def on_event(mode, chunk):
        if mode == "custom" and isinstance(chunk, dict) and chunk.get("event") == "warning":
            events.append(chunk)

    def verifier(problem, paths, options, device):  # the verdicts do not matter here
        from kernelwright.verifier.verdict import Verdict
        return [Verdict(status="incorrect", stage="correctness", message="off") for _ in paths]

    script = [Answer(code=GOOD, usage=(64, 500)), Answer(code=GOOD.replace("BLOCK", "BLK"), usage=(64, 500))]
    with FakeOpenAI(script) as fake:
        run_graph(str(PROBLEM), coder="llm", model="m", base_url=fake.base_url, device="cpu", fanout=2,
                  iterations=1, seed_offline=False, artifacts_dir=str(tmp_path / "runs"),
                  checkpoint_path=str(tmp_path / "ckpt.sqlite"), coder_options={"backoff_s": 0.0},
                  verifier=verifier, on_event=on_event)
    assert len(events) == 1 and "counted 64 prompt tokens" in events[0]["message"]
