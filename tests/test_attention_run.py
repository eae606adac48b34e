"""End to end: `run_graph` on an attention problem with the offline template coder finds a verified
kernel on the CPU, and the template coder walks the attention configs."""
import json
from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.template_coder import TemplateCoder
from kernelwright.verifier.problem import load_problem

import kernelwright

PROBLEMS = Path(__file__).resolve().parent.parent / "problems" / "attention"


def test_template_coder_picks_attention_and_next_untried_config():
    problem = load_problem(PROBLEMS / "alibi.py")
    base = dict(problem_source=problem.source, problem_name=problem.name, description="", metadata=problem.metadata)
    first = TemplateCoder().generate(CodeRequest(strategy="first_draft", **base))
    assert first.meta["template"] == "attention" and "kw_attn_fwd" in first.source  # Triton or, on an H100, CUDA
    tried = [{"template": "attention", "config": first.meta["config"]}]
    second = TemplateCoder().generate(CodeRequest(strategy="tune_launch_config", tried=tried, **base))
    assert second.meta["config"] != first.meta["config"]


def test_run_graph_on_relpos_reaches_a_correct_kernel_on_cpu(tmp_path):
    result = kernelwright.run_graph(PROBLEMS / "relpos.py", budget_s=180, iterations=2, coder="template",
                                    device="cpu", artifacts_dir=tmp_path)
    assert result.best_verdict is not None and result.best_verdict.status == "correct"
    assert "qk * qk_scale + ((q_idx_f - kv_idx_f)) * 1.44269504" in result.best_source
    assert Path(result.best_path).read_text() == result.best_source


def test_run_with_backward_finds_a_verified_training_kernel_on_cpu(tmp_path):
    """`kernelwright run PROBLEM --backward`: the coder writes forward and backward, the verifier checks both."""
    from typer.testing import CliRunner

    from kernelwright.cli import app

    result = CliRunner().invoke(app, ["run", str(PROBLEMS / "causal.py"), "--backward", "--iterations", "1",
                                      "--fanout", "1", "--coder", "template", "--device", "cpu",
                                      "--artifacts", str(tmp_path), "--json"])
    best = json.loads(result.stdout[result.stdout.index("{"):]) if "{" in result.stdout else {}
    attempts = [(a["status"], (a.get("verdict") or {}).get("message", "")) for a in best.get("history", [])]
    assert result.exit_code == 0, attempts or result.output[-2000:]
    assert best["best_verdict"]["status"] == "correct"
    assert best["best_verdict"]["forward_timing"] is not None  # forward alone beside forward + backward
    assert "class _KwAttention(torch.autograd.Function)" in best["best_source"]


def test_run_with_backward_on_a_problem_no_family_trains_for_is_a_clear_error(tmp_path):
    """Only the attention family writes backward kernels: the others are not asked, and the run says so."""
    from typer.testing import CliRunner

    from kernelwright.cli import app

    softmax = PROBLEMS.parent / "softmax.py"
    result = CliRunner().invoke(app, ["run", str(softmax), "--backward", "--iterations", "1", "--coder", "template",
                                      "--device", "cpu", "--artifacts", str(tmp_path)])
    assert result.exit_code == 2, result.output[-2000:]
    assert "no template family writes backward kernels for problem softmax_rows" in result.output


@pytest.mark.gpu
@pytest.mark.parametrize("variant", ["plain", "causal", "relpos", "relpos_causal", "alibi", "sliding_window",
                                     "neighborhood_2d", "softcap", "document_causal"])
def test_rendered_kernel_verifies_correct_on_gpu(variant):
    from kernelwright.agents.templates.attention.family import AttentionFamily

    problem = load_problem(PROBLEMS / f"{variant}.py")
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata=problem.metadata, strategy="first_draft")
    family = AttentionFamily()
    verdict = kernelwright.verify(problem, family.render(request, family.configs(request)[0]), device="cuda")
    assert verdict.status == "correct", f"{verdict.status} {verdict.rule} {verdict.message}"


@pytest.mark.gpu
@pytest.mark.parametrize("variant", ["plain", "causal", "alibi", "document_causal"])
def test_tma_configs_verify_correct_on_gpu(variant):
    from kernelwright.agents.templates.attention.family import AttentionFamily

    problem = load_problem(PROBLEMS / f"{variant}.py")
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata=problem.metadata, strategy="tune_launch_config")
    family = AttentionFamily()
    config = next(c for c in family.configs(request) if c.get("TMA"))
    verdict = kernelwright.verify(problem, family.render(request, config), device="cuda")
    assert verdict.status == "correct", f"{config}: {verdict.status} {verdict.rule} {verdict.message}"


@pytest.mark.gpu
@pytest.mark.parametrize("variant", ["plain", "causal", "relpos", "relpos_causal", "alibi", "alibi_learned",
                                     "sliding_window", "neighborhood_2d", "softcap", "document_causal"])
def test_training_kernel_verifies_correct_with_its_gradients_on_gpu(variant):
    """Issue 17: each variant's forward + backward kernels, gradients checked and timed by the verifier."""
    from kernelwright.agents.templates.attention.family import AttentionFamily

    problem = load_problem(PROBLEMS / f"{variant}.py")
    request = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata={**problem.metadata, "backward": True}, strategy="first_draft", device="cuda")
    family = AttentionFamily()
    verdict = kernelwright.verify(problem, family.render(request, family.configs(request)[0]), device="cuda",
                                  backward=True)
    assert verdict.status == "correct", f"{verdict.status} {verdict.rule} {verdict.message}"
    assert verdict.timing is not None and verdict.forward_timing is not None
