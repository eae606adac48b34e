"""How the LLM coder is found and configured: plugin registry, graph Context, environment."""
from __future__ import annotations

import pytest
from kernelwright.agents.llm_client import EndpointError, LLMConfig
from kernelwright.agents.llm_coder import LLMCoder, config_from_context
from kernelwright.graph import plugins
from kernelwright.graph.context import Context

from kernelwright.config import ConfigError, load_run_config


def test_llm_coder_is_registered_under_llm():
    assert plugins.get("coder", "llm") is LLMCoder


def test_config_comes_from_the_graph_context(monkeypatch):
    monkeypatch.delenv("KERNELWRIGHT_BASE_URL", raising=False)
    ctx = Context(coder="llm", model="my-r1", base_url="http://127.0.0.1:9/v1", api_key_env="MY_KEY",
                  coder_options={"temperature": 0.3, "max_answer_tokens": 2048, "timeout_s": 30})
    coder = LLMCoder(ctx)
    assert coder.config.model == "my-r1" and coder.config.base_url == "http://127.0.0.1:9/v1"
    assert coder.config.api_key_env == "MY_KEY"
    assert (coder.config.temperature, coder.config.top_p, coder.config.max_answer_tokens) == (0.3, 0.95, 2048)
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
    monkeypatch.delenv("KERNELWRIGHT_MODEL")
    default = LLMConfig.from_env()
    assert default.model == "deepseek-ai/deepseek-r1" and default.temperature == 0.6
    monkeypatch.delenv("KERNELWRIGHT_BASE_URL")
    with pytest.raises(EndpointError, match="no LLM endpoint: pass base_url"):  # never a built-in hosted default
        LLMConfig.from_env()


def test_old_per_answer_name_max_tokens_maps_to_max_answer_tokens():
    config = config_from_context(Context(base_url="http://x/v1", coder_options={"max_tokens": 1024}))
    assert config.max_answer_tokens == 1024
    assert LLMConfig(base_url="http://x/v1", max_tokens=512,
                     max_answer_tokens=700).max_answer_tokens == 700  # the new name wins


def test_top_level_max_tokens_in_toml_is_refused_naming_both_new_keys(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("coder = 'llm'\nmax_tokens = 4096\n")
    with pytest.raises(ConfigError) as info:
        load_run_config(path)
    message = str(info.value)
    assert "token_budget" in message and "max_answer_tokens" in message and "\n" not in message


def test_token_budget_in_toml_is_the_runs_total_token_budget(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text("token_budget = 50000\n[coder_options]\nmax_answer_tokens = 600\n")
    values = load_run_config(path)
    assert values == {"max_tokens": 50000, "coder_options": {"max_answer_tokens": 600}}
    ctx = Context(base_url="http://x/v1", **values)
    assert ctx.max_tokens == 50000 and config_from_context(ctx).max_answer_tokens == 600
