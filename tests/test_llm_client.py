"""The LLM coder against a local fake OpenAI-compatible server: the real client code runs."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.llm_client import KEY_ENV_VARS, ChatClient, EndpointError, LLMConfig
from kernelwright.agents.llm_coder import LLMCoder

from fake_openai import Answer, FakeOpenAI

DATA = Path(__file__).parent / "data" / "llm"
PROBLEM = Path(__file__).parent.parent / "problems" / "softmax.py"
GOOD = (DATA / "softmax_correct.py").read_text()


def request(tmp_path: Path | None = None, **kw) -> CodeRequest:
    values = dict(problem_source=PROBLEM.read_text(), problem_name="softmax_rows",
                  description="row softmax", metadata={}, strategy="first_draft")
    if tmp_path is not None:
        values.update(artifacts_dir=str(tmp_path / "run"), attempt_id=7)
    values.update(kw)
    return CodeRequest(**values)


def coder_for(fake: FakeOpenAI, waits: list | None = None, **options) -> LLMCoder:
    config = LLMConfig(base_url=fake.base_url, api_key="test-key", backoff_s=0.01, **options)
    sleep = waits.append if waits is not None else (lambda s: None)
    return LLMCoder(config, client=ChatClient(config, sleep=sleep))


def test_reasoning_field_is_kept_apart_from_the_answer():
    with FakeOpenAI([Answer(code=GOOD, reasoning="Row max first, then exp.", style="field")]) as fake:
        result = coder_for(fake).generate(request())
    assert result.source.strip() == GOOD.strip()
    assert result.reasoning == "Row max first, then exp."
    assert result.meta["launch"] == {"BLOCK": "unresolved: triton.next_power_of_2(cols)"}
    assert "Row max" not in result.source and "<think>" not in result.raw


@pytest.mark.parametrize("style", ["think", "think_open"])
def test_inline_think_tags_are_split_from_the_answer(style):
    thought = "Plan: tile rows, subtract the maximum, exponentiate."
    with FakeOpenAI([Answer(code=GOOD, reasoning=thought, style=style)]) as fake:
        result = coder_for(fake).generate(request())
    assert result.reasoning == thought
    assert result.source.strip() == GOOD.strip()
    assert "Plan: tile rows" not in result.source and "think>" not in result.source


def test_request_uses_r1_defaults_and_no_system_message():
    with FakeOpenAI([Answer(code=GOOD)]) as fake:
        coder_for(fake, model="deepseek-ai/deepseek-r1").generate(request())
        sent = fake.requests[0]
        auth = fake.headers[0]["authorization"]
    assert sent["temperature"] == 0.6 and sent["top_p"] == 0.95
    assert sent["model"] == "deepseek-ai/deepseek-r1"
    assert [m["role"] for m in sent["messages"]] == ["user"]
    assert "class ModelNew" in sent["messages"][0]["content"] and "torch.softmax" in sent["messages"][0]["content"]
    assert auth == "Bearer test-key"


def test_malformed_answer_is_reasked_once_saying_what_was_wrong():
    script = [Answer(content="I would use a Triton kernel with one program per row."), Answer(code=GOOD)]
    with FakeOpenAI(script) as fake:
        result = coder_for(fake).generate(request())
        second = fake.requests[1]["messages"]
    assert result.source.strip() == GOOD.strip()
    assert result.meta["llm"]["calls"] == 2 and result.meta["llm"]["reasked"] is True
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert "no fenced ```python code block" in second[-1]["content"]
    assert second[1]["content"].startswith("I would use a Triton kernel")


def test_malformed_twice_gives_up_with_a_clear_error():
    no_modelnew = "```python\nimport torch\n\ndef kernel():\n    pass\n```"
    script = [Answer(content="no code here"), Answer(content=no_modelnew), Answer(code=GOOD)]
    with FakeOpenAI(script) as fake:
        result = coder_for(fake).generate(request())
        served = len(fake.requests)
    assert served == 2  # exactly one re-ask, never a third call
    assert result.source is None
    assert "after one re-ask" in result.error and "ModelNew" in result.error
    assert result.tokens == 2 * 1500


def test_syntax_error_in_the_block_is_reported_back():
    broken = GOOD.replace("def forward(self, x: torch.Tensor) -> torch.Tensor:", "def forward(self, x:")
    with FakeOpenAI([Answer(code=broken), Answer(code=GOOD)]) as fake:
        result = coder_for(fake).generate(request())
        reask = fake.prompts()[1]
    assert result.source.strip() == GOOD.strip()
    assert "does not parse (line" in reask


def test_retries_server_errors_with_backoff_then_succeeds():
    waits: list[float] = []
    with FakeOpenAI([Answer(status=500), Answer(status=503), Answer(code=GOOD)]) as fake:
        result = coder_for(fake, waits).generate(request())
        served = len(fake.requests)
    assert served == 3 and result.source is not None
    assert waits == [0.01, 0.02]


def test_server_errors_past_the_retry_bound_raise_endpoint_error():
    with FakeOpenAI([Answer(status=500)] * 4) as fake:
        with pytest.raises(EndpointError, match=r"HTTP 500.*gave up after 3 tries"):
            coder_for(fake).generate(request())
        assert len(fake.requests) == 3


def test_refused_key_is_not_retried():
    with FakeOpenAI([Answer(status=401), Answer(code=GOOD)]) as fake:
        with pytest.raises(EndpointError, match="refused the API key"):
            coder_for(fake).generate(request())
        assert len(fake.requests) == 1


def test_endpoint_down_raises_endpoint_error(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", api_key="k", backoff_s=0.0, tries=2)
    with pytest.raises(EndpointError, match="cannot reach endpoint") as info:
        LLMCoder(config).generate(request(tmp_path))
    assert "\n" not in str(info.value)
    assert "cannot reach" in (tmp_path / "run" / "llm" / "attempt_7_error.txt").read_text()


def test_hanging_endpoint_times_out_into_endpoint_error():
    with FakeOpenAI([Answer(code=GOOD, hang_s=2.0), Answer(code=GOOD, hang_s=2.0)]) as fake:
        with pytest.raises(EndpointError, match="did not answer within 0.3 s"):
            coder_for(fake, timeout_s=0.3, tries=2).generate(request())


def test_missing_key_is_a_clear_one_line_error(monkeypatch):
    for name in (*KEY_ENV_VARS, "MY_KEY"):
        monkeypatch.delenv(name, raising=False)
    coder = LLMCoder(LLMConfig(base_url="https://example.invalid/v1", api_key_env="MY_KEY"))
    with pytest.raises(EndpointError) as info:
        coder.generate(request())
    message = str(info.value)
    assert "no API key" in message and "MY_KEY" in message and "KERNELWRIGHT_API_KEY" in message
    assert "\n" not in message
    with pytest.raises(EndpointError) as info:  # the graph's default key variable is not listed twice
        LLMConfig(base_url="http://x/v1", api_key_env="KERNELWRIGHT_API_KEY").resolve_key()
    assert str(info.value).count("KERNELWRIGHT_API_KEY") == 2  # once in the list, once in the example


def test_key_is_read_from_the_environment(monkeypatch):
    for name in KEY_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NVIDIA_API_KEY", "nv-123")
    assert LLMConfig(base_url="http://x/v1").resolve_key() == "nv-123"
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "kw-456")
    assert LLMConfig(base_url="http://x/v1").resolve_key() == "kw-456"


def test_tokens_come_from_usage_or_are_estimated():
    script = [Answer(code=GOOD, usage=(1200, 800)), Answer(code=GOOD, usage=None, reasoning="x" * 400)]
    with FakeOpenAI(script) as fake:
        coder = coder_for(fake)
        reported = coder.generate(request())
        estimated = coder.generate(request())
    assert reported.tokens == 2000 and reported.meta["llm"]["tokens_estimated"] is False
    assert reported.meta["llm"]["prompt_tokens"] == 1200 and reported.meta["llm"]["completion_tokens"] == 800
    prompt_chars = len(estimated.prompt)
    assert estimated.meta["llm"]["tokens_estimated"] is True
    assert estimated.meta["llm"]["prompt_tokens"] == pytest.approx(prompt_chars / 4, abs=2)
    assert estimated.meta["llm"]["completion_tokens"] >= 100 + len(GOOD) // 4


def test_prompt_reply_reasoning_and_candidate_are_written(tmp_path):
    script = [Answer(content="thinking aloud, no code", reasoning="first try"),
              Answer(code=GOOD, reasoning="second try", style="think")]
    with FakeOpenAI(script) as fake:
        result = coder_for(fake).generate(request(tmp_path))
    folder = tmp_path / "run" / "llm"
    assert result.meta["llm"]["artifacts"] == str(folder)
    assert (folder / "attempt_7_prompt.md").read_text() == result.prompt
    assert "no fenced" in (folder / "attempt_7_reask.md").read_text()
    assert (folder / "attempt_7_reasoning_1.md").read_text().strip() == "first try"
    assert (folder / "attempt_7_reasoning_2.md").read_text().strip() == "second try"
    assert "tokens: prompt 1000, completion 500 (reported)" in (folder / "attempt_7_reply_2.md").read_text()
    assert (folder / "attempt_7_candidate.py").read_text() == result.source


def test_cut_off_answer_tells_the_model_about_the_token_limit():
    cut = Answer(content="<think>still thinking about tiling", style="none", finish_reason="length")
    with FakeOpenAI([cut, Answer(code=GOOD)]) as fake:
        result = coder_for(fake, max_tokens=4096).generate(request())
        reask = fake.prompts()[1]
    assert result.source is not None
    assert "4096-token limit" in reask
    assert "still thinking about tiling" in result.reasoning


def test_unreadable_body_is_retried_like_a_server_error():
    with FakeOpenAI([Answer(garbage=True), Answer(code=GOOD)]) as fake:
        result = coder_for(fake).generate(request())
        served = len(fake.requests)
    assert served == 2 and result.source is not None


def test_repeated_answer_is_marked_with_the_attempt_it_repeats_and_the_next_prompt_says_so():
    with FakeOpenAI([Answer(code=GOOD), Answer(code=GOOD), Answer(code=GOOD)]) as fake:
        coder = coder_for(fake)
        first = coder.generate(request())
        tried = [{"id": 3, **first.meta}]
        second = coder.generate(request(tried=tried))
        tried.append({"id": 5, **second.meta})
        coder.generate(request(tried=tried))
        third_prompt = fake.prompts()[2]
    assert first.meta["llm"]["candidate_sha"] == second.meta["llm"]["candidate_sha"]
    assert "repeat_of" not in first.meta and second.meta["repeat_of"] == 3
    assert "attempt 5 repeated attempt 3 exactly" in third_prompt
    assert "candidate_sha" not in third_prompt and "repeat_of" not in third_prompt
