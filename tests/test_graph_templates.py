"""Template coder: family matching, config walk by strategy, and numerics of rendered kernels."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from kernelwright.agents.coder import CodeRequest
from kernelwright.agents.template_coder import TemplateCoder, families
from kernelwright.verifier.problem import exec_source, load_problem

ROOT = Path(__file__).resolve().parents[1]

ROW_PROBLEM = '''import torch
import torch.nn as nn
N = {n}
class Model(nn.Module):
    def __init__(self, n):
        super().__init__()
        {init}
    def forward(self, {args}):
        return {expr}
def get_inputs():
    return [torch.randn(3, 5, N) * 3.0 + 1.0] + ([torch.rand(N) + 0.5] if "weight" in "{args}" else [])
def get_init_inputs():
    return [N]
'''

CASES = {
    "softmax": ("torch.softmax(x, dim=-1)", "x", "pass"),
    "logsumexp": ("torch.logsumexp(x, dim=-1)", "x", "pass"),
    "row_sum": ("x.sum(-1)", "x", "pass"),
    "layernorm": ("self.ln(x)", "x", "self.ln = nn.LayerNorm(n)"),
    "rmsnorm": ("x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * weight", "x, weight", "pass"),
}


def request(source, template, strategy="first_draft", tried=(), index=0, name="p"):
    return CodeRequest(problem_source=source, problem_name=name, description="", metadata={"template": template},
                       strategy=strategy, attempt_index=index, tried=list(tried))


def check(source, cand_source, init_params=None):
    pm = exec_source(source, "kw_t_problem", "problem")
    cm = exec_source(cand_source, "kw_t_candidate", "candidate")
    torch.manual_seed(0)
    ref = pm.Model(*pm.get_init_inputs())
    with torch.no_grad():
        for p in ref.parameters():
            p.normal_()
    new = cm.ModelNew(*pm.get_init_inputs())
    new.load_state_dict(ref.state_dict())
    inputs = pm.get_inputs()
    out, want = new(*inputs), ref(*inputs)
    assert out.shape == want.shape and out.dtype == want.dtype
    torch.testing.assert_close(out, want, atol=2e-5, rtol=2e-5)


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("variant_index", [0, 2])  # block, online (BLOCK_N 1024 over 3000 columns: 3 chunks)
def test_rowwise_kernels_match_pytorch(kind, variant_index):
    expr, args, init = CASES[kind]
    source = ROW_PROBLEM.format(n=3000, expr=expr, args=args, init=init)
    family = families()["rowwise"]
    req = request(source, {"kind": kind})
    config = family.configs(req)[variant_index]
    check(source, family.render(req, config))


def test_elementwise_kernel_with_broadcast_bias_and_model_scalar():
    source = '''import torch
import torch.nn as nn
class Model(nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.scale = scale
    def forward(self, x, bias):
        return self.scale * torch.sigmoid(x + bias)
def get_inputs():
    return [torch.randn(33, 129), torch.randn(129)]
def get_init_inputs():
    return [1.5]
'''
    family = families()["elementwise"]
    req = request(source, {"kind": "elementwise", "expr": "scale * tl.sigmoid(x0 + x1)", "scalars": ["scale"]})
    for config in family.configs(req)[:2]:
        check(source, family.render(req, config))


def test_first_draft_takes_first_configs_and_tuning_walks_untried_ones():
    source = (ROOT / "problems" / "softmax.py").read_text()
    coder = TemplateCoder()
    configs = families()["rowwise"].configs(None)
    first = coder.generate(request(source, {"kind": "softmax"}))
    second = coder.generate(request(source, {"kind": "softmax"}, index=1))
    assert first.meta == {"template": "rowwise", "config": configs[0]}
    assert second.meta["config"] == configs[1]
    tried = [first.meta, second.meta]
    tuned = coder.generate(request(source, {"kind": "softmax"}, strategy="tune_launch_config", tried=tried))
    assert tuned.meta["config"] == configs[2]
    fix = coder.generate(request(source, {"kind": "softmax"}, strategy="fix_numerics", tried=tried, index=1))
    assert fix.meta["config"] == configs[3]
    all_tried = [{"template": "rowwise", "config": c} for c in configs]
    done = coder.generate(request(source, {"kind": "softmax"}, strategy="refine_best", tried=all_tried))
    assert done.source is None and done.meta["exhausted"] and "all 6 configs" in done.error


def test_no_matching_template_is_a_fatal_one_line_error():
    result = TemplateCoder().generate(request("class Model: pass\n", {}, name="mystery"))
    assert result.source is None and result.meta.get("fatal")
    assert "\n" not in result.error
    assert result.error.startswith("no template matches problem mystery (lowered: ")
    assert "get_init_inputs" in result.error  # the general family says why it could not lower the problem
    assert result.error.endswith(": configure an LLM endpoint (--base-url, --model)")


def test_suite_problems_with_template_metadata_render_and_pass():
    """Every problem of the suite that declares TEMPLATE (rowwise/elementwise) renders a correct kernel."""
    checked = 0
    for path in sorted((ROOT / "problems").glob("*.py")):
        problem = load_problem(path)
        spec = problem.metadata.get("template")
        if not spec or spec.get("kind") in (None, "attention"):
            continue
        req = CodeRequest(problem_source=problem.source, problem_name=problem.name, description="",
                          metadata=problem.metadata, strategy="first_draft")
        result = TemplateCoder().generate(req)
        assert result.source, f"{path.name}: {result.error}"
        pm = problem.module(problem.metadata.get("small_shape") or {})
        cm = exec_source(result.source, f"kw_suite_{problem.name}", path.name)
        torch.manual_seed(0)
        ref = pm.Model(*pm.get_init_inputs())
        new = cm.ModelNew(*pm.get_init_inputs())
        new.load_state_dict(ref.state_dict())
        inputs = pm.get_inputs()
        out, want = new(*inputs), ref(*inputs)
        tol = 2e-2 if want.dtype in (torch.bfloat16, torch.float16) else 1e-4
        torch.testing.assert_close(out.float(), want.float(), atol=tol, rtol=tol, msg=path.name)
        checked += 1
    assert checked >= 6  # softmax, logsumexp, layernorm, rmsnorm, gelu_bias, swish_scale


# Compiles one row kernel for sm_90 and prints what the test checks. It runs in a subprocess with
# TRITON_INTERPRET=0: interpreter mode (this test session's default) patches triton.language for the
# whole process, so an in-process compile would go through the interpreter's builder.
SM90_COMPILE = """
import json, sys, tempfile
sys.path.insert(0, sys.argv[3])
from sm90 import compile_for_sm90
from kernelwright.agents.templates.rowwise.kernels import kernel_source
from kernelwright.verifier.problem import exec_source

kind, variant = sys.argv[1:3]
source = "import triton\\nimport triton.language as tl\\n" + kernel_source(kind, variant)
with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:  # @triton.jit reads its source file
    f.write(source)
module = exec_source(source, "kw_sm90_row", f.name)
signature = {"x_ptr": "*fp32", "w_ptr": "*fp32", "b_ptr": "*fp32", "out_ptr": "*bf16", "n_cols": "i32",
             "stride_x": "i32", "stride_out": "i32", "eps": "fp32", "BLOCK_N": "constexpr",
             "HAS_WEIGHT": "constexpr", "HAS_BIAS": "constexpr"}
constexprs = {"BLOCK_N": 1024, "HAS_WEIGHT": True, "HAS_BIAS": True}
compiled = compile_for_sm90(module.row_kernel, signature, constexprs)
print(json.dumps({"sm90": ".target sm_90" in compiled.asm["ptx"], "named": "row_kernel" in compiled.asm["ptx"],
                  "cubin_bytes": len(compiled.asm["cubin"])}))
"""


@pytest.mark.parametrize("kind", ["softmax", "layernorm"])
def test_rowwise_kernels_compile_for_sm90(kind):
    """Compile the real (non-interpreted) kernels for an H100 target with the bundled ptxas."""
    pytest.importorskip("triton")
    env = {**os.environ, "TRITON_INTERPRET": "0"}
    for variant in ("block", "online"):
        proc = subprocess.run([sys.executable, "-c", SM90_COMPILE, kind, variant, str(Path(__file__).parent)],
                              capture_output=True, text=True,
                              env=env, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["sm90"] and result["named"] and result["cubin_bytes"] > 0, result


def test_rowwise_takes_parameter_names_from_the_run_analysis_without_running_the_problem():
    """Inside a run the problem was analysed once (start node); the family must not execute it again."""
    from kernelwright.agents.templates.rowwise.family import _parameter_names

    analysis = {"inputs": [{"shape": [4, 8], "dtype": "float32"}],
                "params": [{"name": "norm.weight", "buffer": False}, {"name": "norm.running", "buffer": True}]}
    request = CodeRequest(problem_source="raise RuntimeError('the problem was executed')", problem_name="p",
                          description="", metadata={}, strategy="first_draft", analysis=analysis)
    assert _parameter_names(request) == ["norm.weight"]
    with pytest.raises(Exception, match="executed"):  # without an analysis it runs the problem file
        _parameter_names(CodeRequest(problem_source=request.problem_source, problem_name="p", description="",
                                     metadata={}, strategy="first_draft"))
