"""Run configurations in configs/*.toml load, and command-line options win over them."""
from pathlib import Path

import pytest

from kernelwright.config import ConfigError, load_run_config, merge_with_cli

CONFIGS = sorted((Path(__file__).resolve().parents[1] / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shipped_config_loads(path):
    values = load_run_config(path)
    assert values["coder"] in {"template", "llm"}
    assert values["budget_s"] == 900


def test_unknown_key_is_one_line_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('coder = "llm"\nbudgett_s = 5\n')
    with pytest.raises(ConfigError, match="unknown key 'budgett_s'") as info:
        load_run_config(path)
    assert "\n" not in str(info.value)


def test_cli_values_win_only_when_given():
    defaults = {"fanout": 2, "coder": "auto", "device": "auto"}
    merged = merge_with_cli({"fanout": 8, "coder": "llm"}, {"fanout": 2, "coder": None, "device": None}, defaults)
    assert merged == {"fanout": 2, "coder": "llm", "device": "auto"}
