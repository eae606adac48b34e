"""How the LLM coder is found and configured: plugin registry, graph Context, environment."""
from __future__ import annotations

import pytest

from kernelwright import plugins
from kernelwright.agents.llm_client import LLMConfig
from kernelwright.agents.llm_coder import LLMCoder, config_from_context
from kernelwright.graph.context import Context


def test_llm_coder_is_registered_under_llm():
    assert plugins.get("coder", "llm") is LLMCoder


def test_config_comes_from_the_graph_context(monkeypatch):
    monkeypatch.delenv("KERNELWRIGHT_BASE_URL", raising=False)
    ctx = Context(coder="llm", model="my-r1", base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY",
                  coder_options={"temperature": 0.3, "max_tokens": 2048, "timeout_s": 30})
    coder = LLMCoder(ctx)
    assert coder.config.model == "my-r1" and coder.config.base_url == "http://127.0.0.1:9/v1"
    assert coder.config.api_key_env == "MY_KEY"
    assert (coder.config.temperature, coder.config.top_p, coder.config.max_tokens) == (0.3, 0.95, 2048)
    assert LLMCoder.from_context(ctx).config == coder.config


def test_unknown_coder_option_is_a_one_line_error():
    with pytest.raises(ValueError, match="unknown LLM coder option.*temprature.*known:"):
        config_from_context(Context(coder_options={"temprature": 0.1}))


def test_environment_supplies_endpoint_and_model(monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_BASE_URL", "http://10.0.0.5:8000/v1")
    monkeypatch.setenv("KERNELWRIGHT_MODEL", "deepseek-r1-distill")
    config = LLMConfig.from_env()
    assert (config.base_url, config.model) == ("http://10.0.0.5:8000/v1", "deepseek-r1-distill")
    assert LLMConfig.from_env(model="explicit").model == "explicit"
    monkeypatch.delenv("KERNELWRIGHT_BASE_URL")
    monkeypatch.delenv("KERNELWRIGHT_MODEL")
    default = LLMConfig.from_env()
    assert default.model == "deepseek-ai/deepseek-r1" and default.temperature == 0.6
