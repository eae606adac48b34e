"""The whole loop with the LLM coder: fake R1 endpoint, real graph, real verifier (interpreter).

The scripted answers are real Triton kernels for problems/softmax.py (tests/data/llm/), so the
verifier's actual verdicts drive the planner: compile error -> fix -> incorrect -> fix -> correct
-> optimise. The prompts the fake endpoint received must carry the verifier's feedback.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from fake_openai import Answer, FakeOpenAI
from kernelwright import run_graph

ROOT = Path(__file__).parent.parent
PROBLEM = ROOT / "problems" / "softmax.py"
DATA = Path(__file__).parent / "data" / "llm"
SRC = {name: (DATA / f"softmax_{name}.py").read_text() for name in ("compile_error", "incorrect", "correct",
                                                                    "optimised")}
OPTIMISING = {"optimise_memory", "optimise_compute", "tune_launch_config", "refine_best"}


@pytest.fixture(autouse=True)
def _api_key(monkeypatch):
    monkeypatch.setenv("KERNELWRIGHT_API_KEY", "test-key")


def run_llm(fake: FakeOpenAI, tmp_path: Path, **options):
    """An LLM run that starts cold (no offline seed) unless the test says otherwise."""
    options.setdefault("seed_offline", False)
    return run_graph(
        str(PROBLEM), coder="llm", model="deepseek-ai/deepseek-r1", base_url=fake.base_url, device="cpu",
        fanout=1, artifacts_dir=str(tmp_path / "runs"), checkpoint_path=str(tmp_path / "ckpt.sqlite"),
        coder_options={"backoff_s": 0.0, "timeout_s": 20.0}, **options,
    )


@pytest.mark.slow
def test_loop_repairs_compile_error_then_numerics_then_optimises(tmp_path):
    script = [
        Answer(code=SRC["compile_error"], reasoning="Use libdevice for exp.", style="field"),
        Answer(code=SRC["incorrect"], reasoning="Drop libdevice, use tl.exp.", style="think"),
        Answer(code=SRC["correct"], reasoning="Subtract the row max first.", style="think_open"),
        Answer(code=SRC["optimised"], reasoning="exp2 with log2(e) folded in.", style="field"),
    ]
    with FakeOpenAI(script) as fake:
        result = run_llm(fake, tmp_path, iterations=4)
        prompts = fake.prompts()

    assert [a.strategy for a in result.history[:3]] == ["first_draft", "fix_compile_error", "fix_numerics"]
    assert result.history[3].strategy in OPTIMISING
    assert [a.status for a in result.history] == ["compile_error", "incorrect", "correct", "correct"]
    assert [a.coder for a in result.history] == ["llm"] * 4
    assert result.solved and result.best_source.strip() in (SRC["correct"].strip(), SRC["optimised"].strip())
    assert result.tokens == 4 * 1500 and sum(a.tokens for a in result.history) == 4 * 1500

    # each repair prompt carried the failed kernel and what the verifier said about it
    assert "libdevice" in prompts[1] and "ImportError" in prompts[1] and SRC["compile_error"].strip() in prompts[1]
    assert "large_magnitude" in prompts[2] and SRC["incorrect"].strip() in prompts[2]
    assert SRC["correct"].strip() in prompts[3]

    # every prompt, reply, reasoning and candidate of the run is on disk
    llm_dir = Path(result.artifacts_dir) / "llm"
    for attempt in result.history:
        stem = llm_dir / f"attempt_{attempt.id}"
        assert Path(f"{stem}_prompt.md").read_text() == prompts[attempt.id - 1]
        assert Path(f"{stem}_candidate.py").is_file()
        assert Path(f"{stem}_reasoning_1.md").read_text().strip() == script[attempt.id - 1].reasoning


def test_token_budget_stops_the_run(tmp_path):
    script = [Answer(code=SRC["compile_error"], usage=(1000, 500)) for _ in range(6)]
    with FakeOpenAI(script) as fake:
        result = run_llm(fake, tmp_path, iterations=6, max_tokens=3000)
        served = len(fake.requests)
    assert result.stop_reason == "tokens"
    assert served == 2 and len(result.history) == 2 and result.tokens == 3000


def test_endpoint_down_mid_run_stops_with_a_clear_error_and_keeps_history(tmp_path):
    script = [Answer(code=SRC["compile_error"]), Answer(status=500), Answer(status=500), Answer(status=500)]
    with FakeOpenAI(script) as fake:
        result = run_llm(fake, tmp_path, iterations=5)
        served = len(fake.requests)
    assert served == 4  # one answer, then three tries of the second call; no more calls after that
    assert result.stop_reason == "coder_error"
    first, failed = result.history[0], result.history[-1]
    assert first.status == "compile_error" and Path(first.source_path).is_file()
    assert failed.status == "coder_error" and failed.meta.get("fatal") is True
    assert "EndpointError" in result.error and "HTTP 500" in result.error and "gave up after 3 tries" in result.error
    assert "\n" not in result.error
    assert all(a.coder == "llm" for a in result.history)  # no silent fallback to the template coder
    # the stopped run's state is in the checkpoint: "resuming" it returns the same history
    again = run_graph(None, run_id=result.run_id, resume=True, artifacts_dir=str(tmp_path / "runs"),
                      checkpoint_path=str(tmp_path / "ckpt.sqlite"))
    assert [a.id for a in again.history] == [a.id for a in result.history] and again.error == result.error


def test_malformed_answers_cost_one_attempt_and_the_run_goes_on(tmp_path):
    script = [Answer(content="I would tile the rows."), Answer(content="Still no code, sorry."),
              Answer(code=SRC["correct"], style="think")]
    with FakeOpenAI(script) as fake:
        result = run_llm(fake, tmp_path, iterations=2)
        served = len(fake.requests)
    assert served == 3
    first, second = result.history
    assert first.status == "coder_error" and "after one re-ask" in first.summary
    assert first.tokens == 2 * 1500 and result.tokens == 3 * 1500
    assert second.status == "correct" and result.solved and result.error is None


def test_a_repeated_answer_gets_the_earlier_verdict_without_a_second_verification(tmp_path):
    from kernelwright.verifier.api import verify_many as default_verifier

    verified: list[str] = []

    def counting_verifier(problem, paths, options, device):
        verified.extend(p.name for p in paths)
        return default_verifier(problem, paths, options, device)

    script = [Answer(code=SRC["incorrect"]), Answer(code=SRC["incorrect"])]
    with FakeOpenAI(script) as fake:
        result = run_llm(fake, tmp_path, iterations=2, verifier=counting_verifier)
        second_prompt = fake.prompts()[1]
    first, second = result.history
    assert verified == [f"attempt_{first.id}.py"]
    assert second.meta["repeat_of"] == first.id and second.status == first.status == "incorrect"
    assert second.summary == first.summary
    assert SRC["incorrect"].strip() in second_prompt


def test_llm_run_starts_from_the_offline_kernel_and_asks_the_model_to_beat_it(tmp_path):
    with FakeOpenAI([Answer(code=SRC["optimised"])]) as fake:
        result = run_llm(fake, tmp_path, iterations=2, seed_offline=True)
        prompts = fake.prompts()
    seed, model = result.history
    assert (seed.coder, seed.strategy, seed.status) == ("template", "first_draft", "correct")
    assert model.coder == "llm" and model.strategy != "first_draft" and len(prompts) == 1
    seed_source = Path(seed.source_path).read_text().strip()
    assert seed_source in prompts[0]  # the model starts from the verified offline kernel
    assert f"Attempt {seed.id}" in prompts[0]  # and from what the verifier said about it


def test_offline_seed_without_a_family_lets_the_llm_start_cold(tmp_path):
    problem = tmp_path / "draws.py"
    text = PROBLEM.read_text().replace('TEMPLATE = {"kind": "softmax"}', "")  # no hand family either
    problem.write_text(text.replace("return torch.softmax(x, dim=-1)",
                                    "return torch.softmax(x + 0 * torch.rand_like(x), dim=-1)"))
    assert "rand_like" in problem.read_text()
    with FakeOpenAI([Answer(code=SRC["correct"])]) as fake:
        result = run_graph(str(problem), coder="llm", model="m", base_url=fake.base_url, device="cpu", fanout=1,
                           iterations=2, artifacts_dir=str(tmp_path / "runs"),
                           checkpoint_path=str(tmp_path / "ckpt.sqlite"), coder_options={"backoff_s": 0.0})
    seed, model = result.history
    assert seed.coder == "template" and seed.status == "coder_error" and result.error is None
    assert model.coder == "llm" and model.strategy == "first_draft"
