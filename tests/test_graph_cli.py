"""`kernelwright run` and `kernelwright graph`: budgets, exit codes, JSON output, pictures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph_helpers import inprocess_verifier
from kernelwright.cli import app
from kernelwright.config import parse_budget

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.mark.parametrize("text,seconds", [("15m", 900), ("90s", 90), ("1h", 3600), ("1h30m", 5400), ("45", 45),
                                          ("2.5m", 150)])
def test_budget_parsing(text, seconds):
    assert parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "15 minutes", "m", "-5", "0", "10x"])
def test_bad_budget_is_rejected(text):
    with pytest.raises(ValueError, match="budget"):
        parse_budget(text)


@pytest.mark.parametrize("args,message", [
    (["run", "problems/softmax.py", "--budget", "soon"], "bad budget"),
    (["run", "no/such/problem.py"], "problem file not found"),
    (["run"], "missing PROBLEM"),
    (["run", "problems/softmax.py", "--fanout", "0"], "--fanout"),
    (["run", "--resume", "nope", "--artifacts", "/nonexistent-kw"], "no run 'nope'"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.parametrize("device,source,message", [
    ("foo", None, "--device: unknown device 'foo'"),
    ("cuda:9", None, "--device: device 'cuda:9': GPU 9 not visible (1 GPU(s) found)"),
    ("cpu", "class Model(:\n", "syntax error at line 1"),
    ("cpu", "def get_inputs():\n    return []\n", "not a problem: no `Model` defined"),
])
def test_bad_device_or_problem_is_refused_before_the_run_folder_exists(tmp_path, monkeypatch, device, source, message):
    monkeypatch.setattr("kernelwright.verifier.pool._gpu_count", lambda: 1)  # a machine with one GPU
    problem = ROOT / "problems" / "softmax.py"
    if source is not None:
        problem = tmp_path / "bad.py"
        problem.write_text(source)
    result = runner.invoke(app, ["run", str(problem), "--device", device, "--coder", "template",
                                 "--artifacts", str(tmp_path / "runs"), "--run-id", "r1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "runs").exists()


def test_llm_coder_without_an_endpoint_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("KERNELWRIGHT_BASE_URL", raising=False)
    result = runner.invoke(app, ["run", str(ROOT / "problems" / "softmax.py"), "--coder", "llm",
                                 "--artifacts", str(tmp_path / "runs")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "needs an endpoint you chose: pass --base-url URL, set KERNELWRIGHT_BASE_URL" in lines[0]
    assert not (tmp_path / "runs").exists()


def test_llm_coder_never_falls_back_to_a_hosted_endpoint(monkeypatch):
    from kernelwright.graph.context import Context
    from kernelwright.graph.nodes.code import make_coder

    monkeypatch.delenv("KERNELWRIGHT_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="needs an endpoint you chose"):
        make_coder(Context(coder="llm", model="deepseek-ai/deepseek-r1"))  # e.g. from Studio


def test_coder_failure_during_a_run_is_one_line_on_stderr_and_exit_2(tmp_path):
    problem = tmp_path / "noisy.py"
    source = (ROOT / "problems" / "softmax.py").read_text().replace('TEMPLATE = {"kind": "softmax"}', "")
    problem.write_text(source.replace(
        "return torch.softmax(x, dim=-1)", "return torch.softmax(x + torch.rand_like(x), dim=-1)"))
    result = runner.invoke(app, ["run", str(problem), "--coder", "template", "--iterations", "2",
                                 "--artifacts", str(tmp_path / "runs"), "--run-id", "r1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip().startswith("error")]
    assert len(lines) == 1 and lines[0].startswith("error: no template matches problem")
    assert lines[0].endswith("(run r1; resume: kernelwright run --resume r1)")
    assert "stopped: coder_error" in result.stdout and "error" not in result.stdout.replace("coder_error", "")


def test_run_json_writes_best_kernel(tmp_path, monkeypatch):
    # in-process stand-in for the verifier: this test pins the CLI's output, not the verifier
    monkeypatch.setattr("kernelwright.graph.nodes.verify.verify_many", inprocess_verifier)
    out = tmp_path / "best_kernel.py"
    result = runner.invoke(app, ["run", str(ROOT / "problems" / "softmax.py"), "--coder", "template", "--iterations",
                                 "1", "--artifacts", str(tmp_path), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["best_attempt"] == 1 and data["stop_reason"] == "iterations" and len(data["history"]) == 2
    assert out.read_text() == data["best_source"] == Path(data["best_path"]).read_text()
    assert data["best_path"] == str(tmp_path / data["run_id"] / "best.py")


def test_run_summary_reports_progress_and_best_path(tmp_path, monkeypatch):
    monkeypatch.setattr("kernelwright.graph.nodes.verify.verify_many", inprocess_verifier)
    result = runner.invoke(app, ["run", str(ROOT / "problems" / "softmax.py"), "--iterations", "2", "--fanout", "1",
                                 "--artifacts", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("run ") and " started: artifacts in " in lines[0]
    assert lines[1].startswith("iteration 1 of 2 first_draft: best #1")
    assert lines[2].startswith("iteration 2 of 2 tune_launch_config")
    assert "best kernel written to" in result.stdout and "best.py" in result.stdout


def test_piped_output_is_not_wrapped(tmp_path, monkeypatch):
    monkeypatch.setattr("kernelwright.graph.nodes.verify.verify_many", inprocess_verifier)
    monkeypatch.delenv("COLUMNS", raising=False)
    artifacts = tmp_path / ("a-long-folder-name-" * 4)  # every line about the run is longer than 80 columns
    result = runner.invoke(app, ["run", str(ROOT / "problems" / "softmax.py"), "--iterations", "1", "--fanout", "1",
                                 "--artifacts", str(artifacts), "--run-id", "r1"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (f"run r1 started: artifacts in {artifacts / 'r1'}; Ctrl-C stops it, "
                                             f"kernelwright run --resume r1 --artifacts {artifacts} continues it")
    assert result.stdout.splitlines()[-1] == f"best kernel written to {artifacts / 'r1' / 'best.py'}"
    assert result.stdout.splitlines()[0].endswith("stopped: iterations")


def test_run_help_explains_stop_reasons_and_exit_codes():
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    for reason in ("wall_time", "iterations", "tokens", "target_speedup", "search_exhausted", "coder_error"):
        assert reason in text
    assert "0 a correct kernel found | 1 no correct kernel found | 2 bad input or coder failure" in text


def test_run_help_shows_defaults_without_type_noise():
    text = " ".join(runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"}).stdout.split())
    for option, default in (("--budget <str>", "15m"), ("--coder <str>", "auto"), ("--device <str>", "auto"),
                            ("--fanout <int>", "2"), ("--artifacts <path>", "runs")):
        assert option in text and f"[default: {default}]" in text.split(option, 1)[1].split(" --", 1)[0]
    assert "<bool>" not in text and " ." not in text
    assert "--json Print the Result as JSON" in text


def test_graph_mermaid_names_every_node():
    result = runner.invoke(app, ["graph", "--mermaid"])
    assert result.exit_code == 0
    for node in ("start", "plan", "code", "precheck", "verify", "critique", "__end__"):
        assert f"\t{node}" in result.stdout
    assert "critique -.-> plan;" in result.stdout and "plan -.-> code;" in result.stdout


def test_graph_png_is_drawn_offline(tmp_path):
    png = tmp_path / "graph.png"
    result = runner.invoke(app, ["graph", "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_graph_without_a_format_is_exit_2():
    result = runner.invoke(app, ["graph"])
    assert result.exit_code == 2 and "choose --mermaid" in result.stderr
