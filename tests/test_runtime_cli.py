"""`kernelwright verify`: exit codes, one-line errors, and the JSON verdict record."""
import json
from pathlib import Path

import pytest
from kernelwright.verifier import pool as pool_mod
from typer.testing import CliRunner

from kernelwright.cli import app
from test_runtime_pool import HONEST, PROBLEM

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def files(tmp_path, monkeypatch):
    monkeypatch.setenv(pool_mod.JUDGE_ENV, "runtime_helpers:judge")
    pool_mod.shutdown_pools()
    (tmp_path / "problem.py").write_text(PROBLEM)
    (tmp_path / "honest.py").write_text(HONEST)
    (tmp_path / "broken.py").write_text("class ModelNew(:\n")
    (tmp_path / "bad_problem.py").write_text("import torch\nclass Model: pass\n")
    yield tmp_path
    pool_mod.shutdown_pools()


def invoke(*args):
    return CliRunner().invoke(app, ["verify", *map(str, args)])


def test_json_verdict_has_top_level_status(files):
    result = invoke(files / "problem.py", files / "honest.py", "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "correct" and record["problem"] == "problem"
    assert {"stage", "message", "trials", "timing", "environment", "elapsed_s"} <= set(record)


def test_candidate_failure_is_still_exit_zero(files):
    result = invoke(files / "problem.py", files / "broken.py", "--json", "--device", "cpu")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "compile_error"


def test_summary_names_the_status(files):
    result = invoke(files / "problem.py", files / "honest.py", "--device", "cpu")
    assert result.exit_code == 0 and result.stdout.startswith("correct at done")


@pytest.mark.parametrize("args, words", [
    (("bad_problem.py", "honest.py"), "no `get_inputs` defined"),
    (("missing.py", "honest.py"), "problem file not found"),
    (("problem.py", "honest.py", "--device", "tpu"), "unknown device 'tpu'"),
    (("problem.py", "honest.py", "--trials", "0"), "--trials 0"),
])
def test_user_errors_exit_2_with_one_line(files, args, words):
    result = invoke(*[files / a if a.endswith(".py") else a for a in args])
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_real_judge_end_to_end_on_the_suite_softmax(monkeypatch):
    monkeypatch.delenv(pool_mod.JUDGE_ENV, raising=False)
    pool_mod.shutdown_pools()
    try:
        result = invoke(ROOT / "problems/softmax.py", ROOT / "problems/candidates/softmax__triton.py",
                        "--json", "--device", "cpu", "--no-timing")
    finally:
        pool_mod.shutdown_pools()
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["status"] == "correct", record["message"]
    assert record["environment"]["interpreter"] is True and record["timing_meaningful"] is False
