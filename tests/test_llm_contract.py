"""A prompt small models can follow (issue 19 item 4): a terse contract with the problem's own names,
one correct example (the run's verified kernel, else a generic file), and the exact failing line."""
from __future__ import annotations

from pathlib import Path

import pytest
from kernelwright.agents import prompts as P
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.critic import feedback_for
from kernelwright.agents.llm_contract import problem_names
from kernelwright.agents.llm_parse import extract_code
from kernelwright.agents.llm_prompt import build_prompt, count_tokens, fit_prompt

PROBLEM = Path(__file__).parent.parent / "problems" / "softmax.py"
DATA = Path(__file__).parent / "data" / "llm"
SEED = (DATA / "softmax_correct.py").read_text()
FAILING = (DATA / "softmax_incorrect.py").read_text()


def req(strategy: str = "first_draft", **kw) -> CodeRequest:
    return CodeRequest(problem_source=PROBLEM.read_text(), problem_name="softmax_rows", description="row softmax",
                       metadata={}, strategy=strategy, **kw)


def contract_of(text: str) -> str:
    return text[text.index("How to answer"):]


def test_contract_names_the_problems_constants_and_metadata_and_the_launch_rule():
    contract = contract_of(build_prompt(req()))
    assert "class ModelNew(nn.Module)" in contract and "exactly `Model`'s arguments" in contract
    assert "never from the problem's\n   module constants (ROWS, COLS)" in contract
    assert "metadata (NAME, DESCRIPTION, EXTRA_SHAPES, LARGE_MAGNITUDE, SMALL_SHAPE, TEMPLATE)" in contract
    assert "`kernel[grid](args, BLOCK=...)`; never call it like a function" in contract
    assert contract.rstrip().endswith("tests or benchmark code.")  # the contract is the prompt's last word
    assert count_tokens(contract) < 450  # terse: well under a small model's attention span


def test_problem_names_splits_size_constants_from_metadata():
    source = 'NAME = "x"\nTEMPLATE = {"kind": "softmax"}\nN = 4096\nSCALE = 0.5\nFLAG = True\nEXTRA_SHAPES = []\n'
    assert problem_names(source) == (["N"], ["NAME", "TEMPLATE", "EXTRA_SHAPES"])
    assert problem_names("def broken(:\n") == ([], [])


def test_cold_first_draft_shows_the_generic_example():
    text = build_prompt(req())
    assert "The shape of a correct answer, for a different problem (y = 2 * x)" in text
    assert "_double_kernel[(triton.cdiv(n, 1024),)](x, y, n, BLOCK=1024)" in text
    assert text.index("y = 2 * x") < text.index("How to answer")


def test_the_offline_seed_is_the_example_when_it_is_the_kernel_shown():
    text = build_prompt(req("optimise_memory", best_source=SEED))
    assert text.count(SEED.strip()) == 1  # shown once, as the kernel to start from
    assert P.EXAMPLE_SHOWN in text and "y = 2 * x" not in text


def test_a_repair_prompt_shows_the_failing_kernel_and_the_verified_one_as_the_example():
    text = build_prompt(req("fix_numerics", parent_source=FAILING, best_source=SEED, feedback="Rule x"))
    assert FAILING.strip() in text and SEED.strip() in text
    assert "A kernel from this run that passed the verifier" in text and "y = 2 * x" not in text
    assert "y = 2 * x" in build_prompt(req("fix_numerics", parent_source=FAILING))  # no verified kernel yet


def test_the_example_is_trimmed_first_when_the_context_is_tight():
    full = build_prompt(req("fix_numerics", parent_source=FAILING, best_source=SEED))
    context = count_tokens(full) + 64 + 300  # room for a 300-token answer only with the example dropped
    prompt, cap, steps = fit_prompt(req("fix_numerics", parent_source=FAILING, best_source=SEED), context, 1000)
    assert steps >= 1 and "A kernel from this run that passed" not in prompt and FAILING.strip() in prompt
    assert cap >= 300


@pytest.mark.slow
def test_the_generic_example_passes_the_verifier(tmp_path):
    from kernelwright import verify

    problem = tmp_path / "double.py"
    problem.write_text("import torch\nimport torch.nn as nn\n\nN = 1000\n\n\nclass Model(nn.Module):\n"
                       "    def __init__(self):\n        super().__init__()\n\n"
                       "    def forward(self, x):\n        return x * 2.0\n\n\n"
                       "def get_inputs():\n    return [torch.randn(N)]\n\n\ndef get_init_inputs():\n    return []\n")
    source, reason = extract_code(P.EXAMPLE_GENERIC)
    assert reason == ""
    verdict = verify(problem, source, device="cpu")
    assert verdict.status == "correct", verdict.summary()


def attempt_with(tmp_path: Path, status: str, **verdict) -> dict:
    path = tmp_path / "attempt_5.py"
    path.write_text(FAILING)
    return {"id": 5, "strategy": "first_draft", "status": status, "source_path": str(path),
            "verdict": {"stage": "static", **verdict}}


def test_feedback_quotes_the_line_a_static_rule_names(tmp_path):
    number = next(i for i, line in enumerate(FAILING.splitlines(), 1) if "tl.load" in line)
    attempt = attempt_with(tmp_path, "rejected", rule="torch_compute_in_forward",
                           message=f"static: line {number}: torch.softmax in forward [torch_compute_in_forward]")
    text = feedback_for(attempt)
    assert "rule torch_compute_in_forward" in text
    assert f"Line {number} of the kernel: `{FAILING.splitlines()[number - 1].strip()}`" in text


def test_feedback_quotes_the_kernel_line_of_a_traceback(tmp_path):
    number = next(i for i, line in enumerate(FAILING.splitlines(), 1) if "class ModelNew" in line) + 1
    logs = (f'Traceback (most recent call last):\n  File "/x/worker.py", line 80, in run\n'
            f'  File "{tmp_path}/attempt_5.py", line {number}, in forward\nRuntimeError: boom\n')
    text = feedback_for(attempt_with(tmp_path, "runtime_error", message="runtime error: boom", logs=logs))
    assert f"Line {number} of the kernel:" in text and "Line 80" not in text
