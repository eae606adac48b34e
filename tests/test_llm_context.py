"""The LLM coder fits the model's context window: learned size, budgeted prompt and cap, one retry."""
from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.llm_client import (
    DEFAULT_CONTEXT_TOKENS,
    ChatClient,
    EndpointError,
    LLMConfig,
)
from kernelwright.agents.llm_coder import LLMCoder
from kernelwright.agents.llm_prompt import count_tokens, fit_prompt

from fake_openai import Answer, FakeOpenAI, prompt_tokens

DATA = Path(__file__).parent / "data" / "llm"
PROBLEM = (Path(__file__).parent.parent / "problems" / "softmax.py").read_text()
GOOD = (DATA / "softmax_correct.py").read_text()
TRIED = [{"id": i, "launch": {"BLOCK": f"OLD-{i}"}} for i in range(1, 41)]
FEEDBACK = "\n".join(["LAST-VERDICT: incorrect, max abs err 0.3"] + [f"log line {i} " + "x" * 80 for i in range(40)])


def request(**kw) -> CodeRequest:
    values = dict(problem_source=PROBLEM, problem_name="softmax_rows", description="row softmax", metadata={},
                  strategy="tune_launch_config", parent_source=GOOD, best_source=GOOD)
    values.update(kw)
    return CodeRequest(**values)


def coder_for(fake: FakeOpenAI, **options) -> LLMCoder:
    config = LLMConfig(base_url=fake.base_url, api_key="test-key", backoff_s=0.0, **options)
    return LLMCoder(config, client=ChatClient(config, sleep=lambda s: None))


@pytest.mark.parametrize("announce", ["llama", "vllm"])
def test_context_size_is_learned_from_the_server_and_the_cap_fits_it(announce):
    with FakeOpenAI([Answer(code=GOOD)], n_ctx=3000, announce=announce) as fake:
        result = coder_for(fake).generate(request())
        sent = fake.requests[0]
    assert result.source is not None and not fake.refused
    assert result.meta["llm"]["context_tokens"] == 3000 and result.meta["llm"]["context_source"] == "server"
    assert sent["max_tokens"] == result.meta["llm"]["answer_cap"] < 16384
    assert prompt_tokens(sent) + sent["max_tokens"] <= 3000


def test_configured_context_size_wins_and_the_server_is_not_asked():
    with FakeOpenAI([Answer(code=GOOD)], n_ctx=3000) as fake:
        result = coder_for(fake, context_tokens=2500, max_answer_tokens=600, max_concurrency=1).generate(request())
        gets = list(fake.gets)
    assert gets == [] and result.meta["llm"]["context_tokens"] == 2500
    assert fake.requests[0]["max_tokens"] == 600


def test_unannounced_small_context_is_refused_once_then_retried_smaller():
    with FakeOpenAI([Answer(code=GOOD)], n_ctx=2500, announce=None) as fake:
        result = coder_for(fake).generate(request(tried=TRIED, feedback=FEEDBACK))
        refused, served = list(fake.refused), list(fake.requests)
    assert len(refused) == 1 and refused[0]["max_tokens"] > 2500 - prompt_tokens(refused[0])
    assert len(served) == 1 and prompt_tokens(served[0]) + served[0]["max_tokens"] <= 2500
    assert result.source is not None
    assert result.meta["llm"]["context_retry"] is True and result.meta["llm"]["context_tokens"] == 2500
    assert result.prompt == served[0]["messages"][-1]["content"]


def test_unknown_context_falls_back_to_the_default():
    with FakeOpenAI([Answer(code=GOOD)]) as fake:
        result = coder_for(fake).generate(request())
    assert result.meta["llm"]["context_tokens"] == DEFAULT_CONTEXT_TOKENS == 8192
    assert result.meta["llm"]["context_source"] == "default"


def test_trimming_drops_oldest_history_and_keeps_problem_kernel_and_last_verdict():
    full, _, _ = fit_prompt(request(tried=TRIED, feedback=FEEDBACK), 100_000, 4096)
    prompt, cap, steps = fit_prompt(request(tried=TRIED, feedback=FEEDBACK), 2600, 4096)
    assert steps > 0 and len(prompt) < len(full)
    assert count_tokens(prompt) + cap <= 2600
    assert "torch.softmax(x, dim=-1)" in prompt and GOOD.strip() in prompt and "LAST-VERDICT" in prompt
    assert "OLD-21\"" in full and "OLD-21\"" not in prompt   # the oldest listed configuration went first
    assert "log line 0 " not in prompt and "log line 0 " in full


def test_prompt_that_cannot_fit_is_a_one_line_error_saying_what_to_do():
    with FakeOpenAI([Answer(code=GOOD)], n_ctx=512) as fake:
        with pytest.raises(EndpointError) as info:
            coder_for(fake).generate(request())
        assert fake.requests == []
    message = str(info.value)
    assert "512-token context" in message and "-c" in message and "context_tokens" in message
    assert "\n" not in message


def _ask_in_parallel(fake, n: int, **options) -> list:
    import threading

    from kernelwright.agents.llm_client import ChatClient

    config = LLMConfig(base_url=fake.base_url, api_key="k", backoff_s=0.0, context_tokens=8192, **options)
    replies: list = []
    threads = [threading.Thread(target=lambda: replies.append(ChatClient(config).complete("write a kernel")))
               for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return replies


def test_parallel_candidates_stay_within_the_servers_slots():


    with FakeOpenAI([Answer(code="x = 1", hang_s=0.2)] * 3, slots=1) as fake:
        replies = _ask_in_parallel(fake, 3)
        assert len(replies) == 3 and fake.max_in_flight == 1


def test_configured_concurrency_caps_requests_to_an_endpoint_that_does_not_say():


    with FakeOpenAI([Answer(code="x = 1", hang_s=0.2)] * 4) as fake:
        replies = _ask_in_parallel(fake, 4, max_concurrency=2)
        assert len(replies) == 4 and fake.max_in_flight <= 2
