"""The attention template family: matching, the config space, and what render() emits."""
from pathlib import Path

import pytest
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.graph import plugins
from kernelwright.verifier.problem import load_problem

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ["plain", "causal", "relpos", "relpos_causal", "alibi", "sliding_window", "neighborhood_2d",
            "softcap", "document_causal"]


def request_for(path: Path) -> CodeRequest:
    problem = load_problem(path)
    return CodeRequest(problem_source=problem.source, problem_name=problem.name, description=problem.description,
                       metadata=problem.metadata, strategy="first_draft")


@pytest.fixture(scope="module")
def family() -> AttentionFamily:
    return AttentionFamily()


def test_family_is_registered_as_template_plugin():
    import kernelwright.agents.templates.attention.family  # noqa: F401 - registers on import
    assert plugins.registry("template")["attention"] is AttentionFamily


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_attention_problem_matches(family, variant):
    assert family.matches(request_for(ROOT / "problems" / "attention" / f"{variant}.py"))


def test_non_attention_problem_does_not_match(family):
    assert not family.matches(request_for(ROOT / "problems" / "softmax.py"))


def test_untranslatable_mod_does_not_match(family):
    source = (ROOT / "problems" / "attention" / "relpos.py").read_text().replace(
        "return score + (q_idx - kv_idx)", "return score + torch.rand(1)")
    req = request_for(ROOT / "problems" / "attention" / "relpos.py")
    req.problem_source = source
    assert not family.matches(req)


def test_configs_are_distinct_json_launch_spaces(family):
    dense = family.configs(request_for(ROOT / "problems" / "attention" / "plain.py"))
    grid = family.configs(request_for(ROOT / "problems" / "attention" / "neighborhood_2d.py"))
    sparse = family.configs(request_for(ROOT / "problems" / "attention" / "sliding_window.py"))
    assert len(dense) >= 8 and len({tuple(sorted(c.items())) for c in dense}) == len(dense)
    assert dense[0] == {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 8, "num_stages": 3, "LAZY": False, "PIPE_QK": False,
                        "TMA": False, "WS": False}
    # warp-specialised kernels gave wrong results on an H100 (Triton 3.6): not offered; TMA ones are
    assert not any(c["WS"] for c in dense + sparse) and any(c["TMA"] for c in dense[:4])
    assert all({"PATCH_H", "PATCH_W", "BLOCK_N"} <= set(c) for c in grid)
    assert sparse[0]["BLOCK_M"] == 64  # short key ranges start with small query blocks
    for c in dense + grid + sparse:
        assert c["num_warps"] in (4, 8) and 2 <= c["num_stages"] <= 4 and c["BLOCK_N"] in (32, 64, 128)
    d64 = family.configs(request_for(ROOT / "problems" / "attention" / "plain.py"), head_dim=64)
    assert d64[0]["num_warps"] == 4 and d64 != dense


def test_render_folds_log2e_into_the_bias_once(family):
    req = request_for(ROOT / "problems" / "attention" / "relpos.py")
    source = family.render(req, family.configs(req)[0])
    assert "qk = qk * qk_scale + ((q_idx_f - kv_idx_f)) * 1.44269504" in source
    assert "tl.math.exp2" in source and "class ModelNew" in source and "BLOCK_M=128, BLOCK_N=64" in source


def test_render_skips_tiles_only_for_declared_structure(family):
    plain = family.render(request_for(ROOT / "problems" / "attention" / "plain.py"), family.configs(
        request_for(ROOT / "problems" / "attention" / "plain.py"))[0])
    doc_req = request_for(ROOT / "problems" / "attention" / "document_causal.py")
    doc = family.render(doc_req, family.configs(doc_req)[0])
    assert "causal:" not in plain and "documents:" not in plain
    assert "causal:" in doc and "documents:" in doc and "(8)" in doc
    grid_req = request_for(ROOT / "problems" / "attention" / "neighborhood_2d.py")
    grid = family.render(grid_req, family.configs(grid_req)[0])
    assert "PATCH_H=8, PATCH_W=8" in grid and "rect_n" in grid


def test_ws_config_renders_one_masked_key_loop_and_an_allocator(family):
    req = request_for(ROOT / "problems" / "attention" / "causal.py")
    config = {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 4, "num_stages": 2, "LAZY": False, "PIPE_QK": False,
              "TMA": True, "WS": True}  # renderable on request, though configs() does not offer it
    source = family.render(req, config)
    assert "TMA=True, WS=True, MASK_ALL=True," in source and "triton.set_allocator" in source
    plain_req = request_for(ROOT / "problems" / "attention" / "plain.py")
    plain = family.render(plain_req, config)
    assert f"MASK_ALL=seq % {config['BLOCK_N']} != 0," in plain  # no mask_mod: only ragged lengths mask
    with pytest.raises(ValueError, match="WS without TMA"):
        family.render(req, {**config, "TMA": False})
