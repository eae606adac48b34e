"""Bounded waits of the LLM coder (issue 19 item 2): streamed answers end on a stall, on the per-answer
cap or at the run's deadline, and what arrived is kept. A local fake server misbehaves on purpose:
it goes silent until it is closed (an event), or streams filler for as long as the client reads."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.llm_client import ChatClient, EndpointError, LLMConfig
from kernelwright.agents.llm_coder import LLMCoder

from fake_openai import Answer, FakeOpenAI

DATA = Path(__file__).parent / "data" / "llm"
PROBLEM = Path(__file__).parent.parent / "problems" / "softmax.py"
GOOD = (DATA / "softmax_correct.py").read_text()


def request(tmp_path: Path, **kw) -> CodeRequest:
    return CodeRequest(problem_source=PROBLEM.read_text(), problem_name="softmax_rows", description="row softmax",
                       metadata={}, strategy="first_draft", artifacts_dir=str(tmp_path / "run"), attempt_id=3, **kw)


def coder_for(fake: FakeOpenAI, sleep=None, clock=time.time, **options) -> LLMCoder:
    options = {"backoff_s": 0.0, "timeout_s": 60.0, "stall_s": 60.0, **options}
    config = LLMConfig(base_url=fake.base_url, api_key="k", **options)
    return LLMCoder(config, client=ChatClient(config, sleep=sleep or (lambda s: None), clock=clock))


def llm_file(tmp_path: Path, name: str) -> Path:
    return tmp_path / "run" / "llm" / f"attempt_3_{name}"


def test_the_answer_is_streamed_and_usage_read_from_the_last_event(tmp_path):
    with FakeOpenAI([Answer(code=GOOD, usage=(900, 300), reasoning="rows first")]) as fake:
        result = coder_for(fake).generate(request(tmp_path))
        sent = fake.requests[0]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert result.source.strip() == GOOD.strip() and result.reasoning == "rows first"
    assert result.tokens == 1200 and result.meta["llm"]["tokens_estimated"] is False
    assert result.meta["llm"]["cut"] == []


def test_a_stalled_answer_keeps_its_complete_code_block_and_says_it_stalled(tmp_path):
    with FakeOpenAI([Answer(code=GOOD, stall=True, chunks=1)]) as fake:
        result = coder_for(fake, stall_s=0.3).generate(request(tmp_path))
        served = len(fake.requests)
    assert served == 1  # the code block was complete: no re-ask
    assert result.source.strip() == GOOD.strip()
    assert result.meta["llm"]["cut"] == ["stall"]
    assert "cut: stall" in llm_file(tmp_path, "reply_1.md").read_text()
    assert llm_file(tmp_path, "candidate.py").read_text() == result.source


def test_a_stall_before_any_code_is_reasked_saying_it_stalled(tmp_path):
    script = [Answer(content="<think>tile the rows, then", style="none", stall=True, chunks=1), Answer(code=GOOD)]
    with FakeOpenAI(script) as fake:
        result = coder_for(fake, stall_s=0.3).generate(request(tmp_path))
        reask = fake.prompts()[1]
    assert "the answer stalled" in reask
    assert result.source.strip() == GOOD.strip() and result.meta["llm"]["cut"] == ["stall"]
    assert "tile the rows" in llm_file(tmp_path, "reasoning_1.md").read_text()


def test_an_answer_past_the_cap_is_cut_client_side_and_the_server_sees_the_hang_up(tmp_path):
    # this server ignores max_tokens: after the kernel it streams filler for as long as the client reads
    with FakeOpenAI([Answer(code=GOOD, endless=True, chunks=1)]) as fake:
        result = coder_for(fake, max_answer_tokens=200).generate(request(tmp_path))
        assert fake.requests[0]["max_tokens"] == 200
        assert fake.hung_up.wait(30)  # the client closed the stream: the server stops generating
    assert result.source.strip() == GOOD.strip()
    assert result.meta["llm"]["cut"] == ["cap"]
    assert result.meta["llm"]["completion_tokens"] >= 200


def test_no_call_starts_once_the_run_budget_has_ended(tmp_path):
    with FakeOpenAI([Answer(code=GOOD)]) as fake:
        result = coder_for(fake).generate(request(tmp_path, deadline=time.time() - 1))
        served = len(fake.requests)
    assert served == 0
    assert result.source is None and result.error == "the run's budget had ended before the model was asked"
    assert result.meta["llm"]["cut"] == ["budget"] and result.tokens == 0


def test_the_run_deadline_ends_a_call_in_flight_without_a_reask(tmp_path):
    # silent after its first piece, and the stall limit is far: only the deadline can end this call
    with FakeOpenAI([Answer(code=GOOD, stall=True, chunks=1), Answer(code=GOOD)]) as fake:
        result = coder_for(fake).generate(request(tmp_path, deadline=time.time() + 1.0))
        served = len(fake.requests)
    assert served == 1
    assert result.source is None  # the run is over: nothing more is verified
    assert result.error.startswith("the run's budget ended while the model was answering")
    assert result.meta["llm"]["cut"] == ["budget"]
    assert "cut: budget" in llm_file(tmp_path, "reply_1.md").read_text()


def test_retry_waits_never_run_past_the_deadline(tmp_path):
    waits: list[float] = []
    now = [1000.0]  # a clock that stands still: only the deadline and back-off matter
    with FakeOpenAI([Answer(status=500)] * 3) as fake:
        coder = coder_for(fake, sleep=waits.append, clock=lambda: now[0], backoff_s=2.0)
        with pytest.raises(EndpointError, match="gave up after 3 tries"):
            coder.generate(request(tmp_path, deadline=1000.5))
    assert waits == [0.5, 0.5]


def test_a_silent_first_token_times_out_and_is_retried(tmp_path):
    script = [Answer(code=GOOD, hang_s=5.0), Answer(code=GOOD)]
    with FakeOpenAI(script) as fake:
        result = coder_for(fake, timeout_s=0.3).generate(request(tmp_path))
        served = len(fake.requests)
    assert served == 2 and result.source.strip() == GOOD.strip()
