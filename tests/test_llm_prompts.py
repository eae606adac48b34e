"""Prompt assembly and reply parsing for the LLM coder (no network)."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from kernelwright.agents import prompts as P
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.llm_parse import extract_code, launch_settings, split_reasoning
from kernelwright.agents.llm_prompt import build_prompt, uses_attention_seed
from kernelwright.verifier.problem import load_problem

ROOT = Path(__file__).parent.parent
PROBLEM = (ROOT / "problems" / "softmax.py").read_text()
PARENT = "import torch\nclass ModelNew(torch.nn.Module):\n    pass  # PARENT-MARKER\n"
BEST = "import torch\nclass ModelNew(torch.nn.Module):\n    pass  # BEST-MARKER\n"


def req(strategy: str, **kw) -> CodeRequest:
    values = dict(problem_source=PROBLEM, problem_name="softmax_rows", description="row softmax",
                  metadata={}, strategy=strategy, parent_source=PARENT, best_source=BEST)
    values.update(kw)
    return CodeRequest(**values)


@pytest.mark.parametrize("strategy", sorted(P.STRATEGY_TEMPLATES))
def test_every_strategy_prompt_carries_problem_contract_and_feedback(strategy):
    text = build_prompt(req(strategy, feedback="FEEDBACK-MARKER", tried=[{"config": {"BLOCK": 128}}]))
    assert "torch.softmax(x, dim=-1)" in text          # the reference source
    assert "class ModelNew(nn.Module)" in text         # the output contract
    assert text.rstrip().endswith("tests or benchmark code.")  # contract comes last
    assert "{" + "feedback}" not in text and "{" + "parent_source}" not in text
    if strategy != "first_draft":
        assert "FEEDBACK-MARKER" in text


def test_fix_compile_error_prompt_shows_the_failed_kernel_and_compiler_log():
    log = "ImportError: cannot import name 'libdevice' from 'triton.language'"
    text = build_prompt(req("fix_compile_error", feedback=log))
    assert log in text and "PARENT-MARKER" in text
    # the best kernel appears only as the verified example, after the kernel to repair
    example = text.index("A kernel from this run that passed the verifier")
    assert text.index("PARENT-MARKER") < example < text.index("BEST-MARKER")


def test_refine_best_starts_from_the_best_kernel():
    text = build_prompt(req("refine_best", feedback="median 0.2 ms"))
    assert "BEST-MARKER" in text and "PARENT-MARKER" not in text


def test_tune_launch_config_lists_configurations_tried():
    tried = [{"id": 3, "launch": {"BLOCK": "256", "num_warps": "4"}, "llm": {"model": "r1"}}, {"id": 4}]
    text = build_prompt(req("tune_launch_config", tried=tried))
    assert '"BLOCK": "256"' in text and '"num_warps": "4"' in text and '"id": 3' in text
    assert '"model"' not in text and '{"id": 4}' not in text


def test_switch_backend_names_the_target_backend():
    text = build_prompt(req("switch_backend", backend="cupy"))
    assert "cupy.RawKernel" in text and "launch a cupy kernel only" in text


def test_unknown_strategy_uses_its_instructions():
    text = build_prompt(req("vectorise_loads", instructions="Load four floats per thread."))
    assert "Task (vectorise_loads): Load four floats per thread." in text


def test_strategy_instructions_are_appended_as_guidance():
    text = build_prompt(req("optimise_memory", instructions="Fuse the two passes."))
    assert "Additional guidance for this step:\nFuse the two passes." in text


def test_parallel_first_drafts_ask_for_different_designs():
    assert "candidate 2 of several" in build_prompt(req("first_draft", attempt_index=1))
    assert "of several" not in build_prompt(req("first_draft", attempt_index=0))


def attention_request(name: str, strategy: str = "first_draft") -> CodeRequest:
    problem = load_problem(ROOT / "problems" / "attention" / f"{name}.py")
    return req(strategy, problem_source=problem.source, problem_name=problem.name, metadata=problem.metadata)


def test_relative_position_attention_gets_the_seed_prompt():
    request = attention_request("relpos")
    assert uses_attention_seed(request)
    text = build_prompt(request)
    assert "qk = qk * qk_scale + rel_pos * 1.44269504" in text
    assert "return score + (q_idx - kv_idx)" in text and "mask_mod" not in text.split("Task:")[1]
    assert "set masked scores to -inf" in build_prompt(attention_request("relpos_causal"))
    assert not uses_attention_seed(req("first_draft"))


def test_other_attention_variants_get_the_on_the_fly_note_not_the_seed():
    for name in ("alibi", "softcap", "causal"):
        request = attention_request(name)
        assert not uses_attention_seed(request), name
        text = build_prompt(request)
        assert "1.44269504" not in text and "never build a (seq x seq) bias" in text
    assert "never build" in build_prompt(attention_request("relpos", "fix_numerics"))


@pytest.mark.parametrize("content,field,reasoning,answer", [
    ("<think>why</think>\nthe answer", None, "why", "the answer"),
    ("why\n</think>\n\nthe answer", None, "why", "the answer"),
    ("the answer", "why", "why", "the answer"),
    ("<think>cut off mid thought", None, "cut off mid thought", ""),
    ("plain answer", None, "", "plain answer"),
])
def test_split_reasoning_handles_each_style(content, field, reasoning, answer):
    assert split_reasoning(content, field) == (reasoning, answer)


def test_extract_code_takes_the_last_block_defining_modelnew():
    answer = ("First a helper:\n```python\ndef helper():\n    pass\n```\nDraft:\n```python\nclass ModelNew:\n"
              "    x = 1\n```\nFinal:\n```python\nclass ModelNew:\n    x = 2\n```\nUsage:\n```bash\nrun it\n```")
    source, reason = extract_code(answer)
    assert reason == "" and source == "class ModelNew:\n    x = 2\n"


def test_extract_code_explains_what_is_missing():
    assert extract_code("just words")[1].startswith("there was no fenced")
    assert "never closed" in extract_code("```python\nclass ModelNew:\n    pass\n")[1]
    assert "does not parse (line 1" in extract_code("```python\nclass ModelNew(:\n```")[1]
    assert "at module level" in extract_code("```python\ndef f():\n    class ModelNew: pass\n```")[1]


LAUNCHED = """
import triton
BLOCK_SIZE = {block}
class ModelNew:
    def __init__(self):
        self.warps = 2 * 4
    def forward(self, x):
        n = x.shape[1]
        kernel[(1,)](x, n, BLOCK_SIZE=BLOCK_SIZE, num_warps=self.warps, num_stages=3, TAIL=triton.cdiv(n, 2))
"""


def test_launch_settings_resolve_names_to_values_and_say_when_they_cannot():
    assert launch_settings(LAUNCHED.format(block=1024)) == {
        "BLOCK_SIZE": 1024, "num_warps": 8, "num_stages": 3, "TAIL": "unresolved: triton.cdiv(n, 2)"}


def test_tune_prompt_lists_each_tried_configuration_by_value():
    tried = [{"id": 1, "launch": launch_settings(LAUNCHED.format(block=1024))},
             {"id": 2, "launch": launch_settings(LAUNCHED.format(block=4096))}]
    text = build_prompt(req("tune_launch_config", tried=tried))
    assert '"BLOCK_SIZE": 1024' in text and '"BLOCK_SIZE": 4096' in text
    assert '"BLOCK_SIZE": "BLOCK_SIZE"' not in text
    assert '"TAIL": "unresolved: triton.cdiv(n, 2)"' in text and "computed at run time" in text


def test_training_problems_ask_for_a_backward_in_own_kernels():
    training = build_prompt(req("first_draft", metadata={"backward": True}))
    assert "verified with its backward pass" in training and "torch.autograd.Function" in training
    assert "backward pass" not in build_prompt(req("first_draft"))
    seeded = attention_request("relpos")  # the attention seed prompt gets the note too
    seeded = dataclasses.replace(seeded, metadata={**seeded.metadata, "backward": True})
    assert "verified with its backward pass" in build_prompt(seeded)
