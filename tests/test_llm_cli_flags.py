"""`kernelwright run --max-answer-tokens N --stall S` (issue 19 item 2): validated, shown in --help, and
passed to the LLM coder as coder_options.max_answer_tokens / stall_s (over a --config file's values)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fake_openai import Answer, FakeOpenAI
from kernelwright.cli import app
from kernelwright.cli.llm_options import answer_limits

ROOT = Path(__file__).parent.parent
GOOD = (Path(__file__).parent / "data" / "llm" / "softmax_correct.py").read_text()
runner = CliRunner()


def test_help_shows_both_flags_with_their_defaults():
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--max-answer-tokens" in result.output and "[default: 16384]" in result.output
    assert "--stall" in result.output and "[default: 2m]" in result.output


@pytest.mark.parametrize("args,message", [
    (["--max-answer-tokens", "5"], "--max-answer-tokens 5 is too small"),
    (["--max-answer-tokens", "-1"], "--max-answer-tokens -1 is too small"),
    (["--stall", "0"], "bad --stall '0': it must be positive"),
    (["--stall", "soon"], "bad --stall 'soon': use seconds or a duration"),
])
def test_bad_values_are_one_line_and_exit_2(args, message, tmp_path):
    result = runner.invoke(app, ["run", str(ROOT / "problems" / "softmax.py"), "--artifacts", str(tmp_path / "r"),
                                 *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "r").exists()


def test_flags_override_the_config_files_coder_options():
    merged = answer_limits(300, "90s", {"coder": "llm", "coder_options": {"temperature": 0.2, "stall_s": 10}})
    assert merged == {"coder": "llm", "coder_options": {"temperature": 0.2, "stall_s": 90.0, "max_answer_tokens": 300}}
    assert answer_limits(None, None, {"fanout": 3}) == {"fanout": 3}


def test_flags_reach_the_llm_coder_of_a_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "k")
    config = tmp_path / "cold.toml"
    config.write_text("seed_offline = false\n")
    with FakeOpenAI([Answer(code=GOOD, stall=True, chunks=1)]) as fake:
        result = runner.invoke(app, ["run", str(ROOT / "problems" / "softmax.py"), "--coder", "llm", "--base-url",
                                     fake.base_url, "--model", "m", "--device", "cpu", "--fanout", "1",
                                     "--iterations", "1", "--config", str(config), "--artifacts",
                                     str(tmp_path / "runs"),
                                     "--max-answer-tokens", "700", "--stall", "0.3", "--json"])
        sent = fake.requests[0]
    assert result.exit_code == 0, result.output
    assert sent["max_tokens"] == 700 and sent["stream"] is True
    run = json.loads(result.stdout)
    saved = json.loads((tmp_path / "runs" / run["run_id"] / "run.json").read_text())["context"]
    assert saved["coder_options"] == {"max_answer_tokens": 700, "stall_s": 0.3}
    attempt = run["history"][0]
    assert attempt["status"] == "correct" and attempt["meta"]["llm"]["cut"] == ["stall"]
