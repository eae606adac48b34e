"""The score_mod / mask_mod -> CUDA C++ translator: compiled on the host with g++ and compared,
element by element, with the Python mod itself (called on torch index grids, as the references do)."""
import ast
import dataclasses
import itertools
import pathlib
import shutil
import subprocess

import pytest
import torch
from kernelwright.agents.templates.attention.spec import module_literals
from kernelwright.agents.templates.attention.spec import spec_names as names_of
from kernelwright.agents.templates.attention.translate_c import C_HELPERS, c_kernel_params, translate_c
from kernelwright.agents.templates.attention.translate_triton import TranslateError
from kernelwright.verifier.problem import exec_source

from attention_c_functions import c_call, c_mod_function

PROBLEMS = sorted((pathlib.Path(__file__).resolve().parents[1] / "problems" / "attention").glob("*.py"))
CXX = shutil.which("g++") or shutil.which("c++")
needs_cxx = pytest.mark.skipif(CXX is None, reason="no host C++ compiler (g++ / c++)")
PRELUDE = "import torch\n"

# synthetic problems: (source, shapes); each shape dict overrides module constants, S is the sequence
SYNTHETIC = {
    "neg_floordiv_mod": (PRELUDE + (
        "def score_mod(score, b, h, q_idx, kv_idx):\n"
        "    d = q_idx - kv_idx\n"
        "    ints = d // 3 - (kv_idx - q_idx) % 5 + d % (-4) + d // (-7) + (d * 7) // (h + 2)\n"
        "    return score + ints * 0.5 + score // 1.5 + score % 2.5 - (-score) % 0.75\n"),
        [{"B": 1, "H": 2, "S": 23}, {"B": 2, "H": 3, "S": 17}]),
    "int_init_arg_bool_ops": (PRELUDE + "WINDOW = 5\nATTENTION = {'init_args': ['WINDOW']}\n" + (
        "def mask_mod(b, h, q_idx, kv_idx):\n"
        "    return ((q_idx - kv_idx < WINDOW) & (kv_idx <= q_idx)) | (kv_idx - q_idx == 3) & ~(h > b)\n"),
        [{"B": 2, "H": 2, "S": 19, "WINDOW": 5}, {"B": 1, "H": 3, "S": 31, "WINDOW": 11}]),
    "nested_where": (PRELUDE + (
        "def score_mod(score, b, h, q_idx, kv_idx):\n"
        "    inner = torch.where(h == 0, score * 2.0, score - 1)\n"
        "    return torch.where(q_idx > kv_idx, inner, torch.where(kv_idx % 2 == 0, 0.5, -score))\n"),
        [{"B": 1, "H": 2, "S": 21}]),
    "helper_inlining": (PRELUDE + "NUM_DOCS = 3\n" + (
        "def doc(i):\n    return i * NUM_DOCS // S\n\n"
        "def bucket(d):\n    return torch.clamp(d // 4, -3, 3)\n\n"
        "def mask_mod(b, h, q_idx, kv_idx):\n"
        "    return (doc(q_idx) == doc(kv_idx)) & (bucket(q_idx - kv_idx) > -2)\n"),
        [{"B": 1, "H": 1, "S": 29}, {"B": 1, "H": 2, "S": 64}]),
    "float_init_arg": (PRELUDE + "SCALE = 0.75\nWINDOW = 8\nATTENTION = {'init_args': ['SCALE', 'WINDOW']}\n" + (
        "def score_mod(score, b, h, q_idx, kv_idx):\n"
        "    d = torch.abs(q_idx - kv_idx) / WINDOW\n"
        "    return score * SCALE - d + torch.sigmoid(score) + torch.exp(-d) + torch.log(1 + d) + torch.sqrt(d)\n"),
        [{"B": 1, "H": 2, "S": 25, "SCALE": 0.75, "WINDOW": 8},
         {"B": 2, "H": 1, "S": 13, "SCALE": -1.25, "WINDOW": 3}]),
    "int_min_max_clamp_abs": (PRELUDE + (
        "def mask_mod(b, h, q_idx, kv_idx):\n"
        "    lo = torch.minimum(q_idx, kv_idx) * 2\n"
        "    hi = torch.maximum(q_idx - 5, kv_idx).clamp(0, S - 3)\n"
        "    return (lo >= hi - abs(kv_idx - q_idx) % 7) | ((q_idx & 3) == (kv_idx ^ 1) % 4)\n"),
        [{"B": 1, "H": 1, "S": 37}]),
    "int_to_float_mix": (PRELUDE + (
        "def score_mod(score, b, h, q_idx, kv_idx):\n"
        "    x = q_idx - kv_idx\n"
        "    x = x * 0.5\n"
        "    return score + torch.minimum(q_idx, kv_idx) + score.clamp(-2.0, 5.0) - (q_idx - kv_idx).abs() + x\n"),
        [{"B": 1, "H": 2, "S": 18}]),
    "softcap_relpos": (PRELUDE + "CAP = 20.0\n" + (
        "def score_mod(score, b, h, q_idx, kv_idx):\n"
        "    return CAP * (score / CAP).tanh() + (kv_idx - q_idx) / H\n"),
        [{"B": 1, "H": 3, "S": 33}]),
}
# chained comparisons, `and`/`or`/`not`, `x if c else y`, builtin min/max need scalars (element by element)
SCALAR = {
    "chained_compare": (PRELUDE + "WINDOW = 5\nATTENTION = {'init_args': ['WINDOW']}\n" + (
        "def mask_mod(b, h, q_idx, kv_idx):\n"
        "    return (0 <= q_idx - kv_idx < WINDOW) | (kv_idx - 3 < q_idx < kv_idx + 2 != 9)\n"),
        [{"B": 1, "H": 2, "S": 12, "WINDOW": 5}, {"B": 1, "H": 1, "S": 15, "WINDOW": -2}]),
    "python_logic": (PRELUDE + "WINDOW = 4\n" + (
        "def mask_mod(b, h, q_idx, kv_idx):\n"
        "    d = q_idx - kv_idx\n"
        "    far = (d >= WINDOW) or (d < -2 and not h == 1)\n"
        "    return (min(q_idx, kv_idx) > max(3, h) or far) and (1 if b == 0 else 0) == 1\n"),
        [{"B": 2, "H": 2, "S": 11}]),
    "python_ifexp_score": (PRELUDE + (
        "def score_mod(score, b, h, q_idx, kv_idx):\n"
        "    return score * 0.5 if q_idx - kv_idx > -3 else min(score, 1.0) - max(q_idx, kv_idx) // 2\n"),
        [{"B": 1, "H": 2, "S": 12}]),
}


def spec_names(source: str) -> dict[str, str]:
    return names_of(ast.parse(source))


def _reads_tensors(source: str, kind: str) -> bool:
    fn = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == kind)
    return len(fn.args.args) > (5 if kind == "score_mod" else 4)


def test_a_score_mod_that_reads_tensors_is_left_to_the_triton_backend():
    source = (PROBLEMS[0].parent / "alibi_learned.py").read_text()
    assert _reads_tensors(source, "score_mod")
    with pytest.raises(TranslateError, match="takes 6 arguments; expected 5"):
        translate_c(ast.parse(source), "score_mod", spec_names(source))


def problem_cases():
    cases = []
    for path in PROBLEMS:
        source = path.read_text()
        literals = module_literals(ast.parse(source))
        small = literals.get("SMALL_SHAPE") or {}
        shapes = [dict(small)] + [dict(small, **extra) for extra in literals.get("EXTRA_SHAPES") or []]
        for shape in shapes:
            if (literals.get("ATTENTION") or {}).get("grid"):
                shape["S"] = shape["GRID_H"] * shape["GRID_W"]  # the sequence is the image
        for kind in ("score_mod", "mask_mod"):
            if f"def {kind}(" in source and not _reads_tensors(source, kind):  # tensors: Triton backend only
                cases.append(pytest.param(source, kind, shapes, False, id=f"{path.stem}-{kind}"))
    for table, scalar in ((SYNTHETIC, False), (SCALAR, True)):
        for name, (source, shapes) in table.items():
            kind = "score_mod" if "def score_mod(" in source else "mask_mod"
            cases.append(pytest.param(source, kind, shapes, scalar, id=name))
    return cases


def score_grid(b, h, q, kv):
    """Deterministic scores, exact in float32, same formula as the C harness."""
    return (((b * 7 + h * 13 + q * 31 + kv * 17) % 97) - 48).to(torch.float32) * 0.3125


HARNESS = """
#include <cstdio>
#include <cstdlib>
int main(int argc, char** argv) {{
  const int Z = atoi(argv[1]), NUM_HEADS = atoi(argv[2]), N_CTX = atoi(argv[3]), HEAD_DIM = atoi(argv[4]);
{init}  for (int b_idx = 0; b_idx < Z; ++b_idx)
    for (int h_idx = 0; h_idx < NUM_HEADS; ++h_idx)
      for (int q_idx = 0; q_idx < N_CTX; ++q_idx)
        for (int kv_idx = 0; kv_idx < N_CTX; ++kv_idx) {{
          const float score = (float)(((b_idx * 7 + h_idx * 13 + q_idx * 31 + kv_idx * 17) % 97) - 48) * 0.3125f;
          (void)score;
          printf("{fmt}\\n", {value});
        }}
  return 0;
}}
"""


def compile_mod(tmp_path, translation, kind, params) -> pathlib.Path:
    init = "".join(
        f"  const {t} {n} = {'atoi' if t == 'int' else 'strtof'}(argv[{5 + i}]{'' if t == 'int' else ', nullptr'});\n"
        for i, (t, n) in enumerate(params[4:]))
    value = c_call(kind, params)
    if kind == "mask_mod":
        value = f"(int){value}"
    elif translation.additive_bias is not None:  # the bias alone must rebuild the same score
        value = f"{value}, score + {c_call(kind, params).replace('kw_score_mod', 'kw_bias')}"
    fmt = "%d" if kind == "mask_mod" else ("%.9g %.9g" if translation.additive_bias is not None else "%.9g")
    bias = ""
    if kind == "score_mod" and translation.additive_bias is not None:
        as_bias = dataclasses.replace(translation, result=translation.additive_bias)
        bias = c_mod_function(as_bias, kind, params, name="kw_bias")
    src = ("#define KW_DEVICE inline\n" + C_HELPERS + c_mod_function(translation, kind, params) + bias
           + HARNESS.format(init=init, fmt=fmt, value=value))
    (tmp_path / "mod.cpp").write_text(src)
    exe = tmp_path / "mod"
    done = subprocess.run([CXX, "-std=c++17", "-O1", "-Wall", "-Werror", "-Wno-unused-variable",
                           "-o", str(exe), str(tmp_path / "mod.cpp")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:] + "\n" + src
    return exe


def python_reference(source, kind, shape, scalar):
    module = exec_source(source, "kw_test_mod", "<mod>")
    for key, value in shape.items():
        setattr(module, key, value)
    fn = getattr(module, kind)
    b, h, q, kv = (torch.arange(shape[k]).view([-1 if i == j else 1 for j in range(4)])
                   for i, k in enumerate(("B", "H", "S", "S")))
    full = (shape["B"], shape["H"], shape["S"], shape["S"])
    score = score_grid(b, h, q, kv).expand(full)
    if not scalar:
        out = fn(score, b, h, q, kv) if kind == "score_mod" else fn(b, h, q, kv)
        return torch.broadcast_to(torch.as_tensor(out), full)
    out = torch.empty(full, dtype=torch.float32 if kind == "score_mod" else torch.bool)
    for i, j, m, n in itertools.product(*(range(s) for s in full)):
        idx = [torch.tensor(v) for v in (i, j, m, n)]
        out[i, j, m, n] = fn(score[i, j, m, n], *idx) if kind == "score_mod" else bool(fn(*idx))
    return out


@needs_cxx
@pytest.mark.parametrize("source, kind, shapes, scalar", problem_cases())
def test_c_mod_matches_python(tmp_path, source, kind, shapes, scalar):
    tree = ast.parse(source)
    translation = translate_c(tree, kind, spec_names(source))
    params = c_kernel_params(tree)
    exe = compile_mod(tmp_path, translation, kind, params)
    for shape in shapes:
        init = [str(shape[n[2:]]) for _, n in params[4:]]
        run = subprocess.run([str(exe), str(shape["B"]), str(shape["H"]), str(shape["S"]), str(shape.get("D", 64)),
                              *init], capture_output=True, text=True, check=True)
        rows = [[float(x) for x in line.split()] for line in run.stdout.splitlines()]
        got = torch.tensor(rows, dtype=torch.float32)
        ref = python_reference(source, kind, shape, scalar).reshape(-1)
        assert got.shape[0] == ref.numel()
        if kind == "mask_mod":
            assert 0 < int(ref.sum()) < ref.numel()  # the grid sees both kept and masked pairs
            assert torch.equal(got[:, 0].bool(), ref.bool()), f"mask differs for {shape}"
        else:
            # atol: a few float32 ulps of the largest value, for terms that cancel to near zero
            atol = 2.0 ** -20 * max(1.0, float(ref.float().nan_to_num().abs().max()))
            for col in range(got.shape[1]):  # the result, then score + additive_bias
                torch.testing.assert_close(got[:, col], ref.float(), rtol=1e-5, atol=atol, equal_nan=True)


def test_float_literals_and_python_division_semantics_in_text():
    src = PRELUDE + ("CAP = 30.0\ndef score_mod(s, b, h, q, kv):\n"
                     "    return CAP * torch.tanh(s / CAP) + (q - kv) // 4 + h / 2\n")
    t = translate_c(ast.parse(src), "score_mod", spec_names(src))
    assert t.result == ("(((30.0f * kw_tanh((score / 30.0f))) + kw_floordiv((q_idx - kv_idx), 4))"
                        " + ((float)(h_idx) / (float)(2)))")
    assert t.uses_tanh and t.additive_bias is None


def test_wrapped_functions_have_the_documented_parameter_order():
    source = (PROBLEMS[0].parent / "neighborhood_2d.py").read_text()
    params = c_kernel_params(ast.parse(source))
    assert params == [("int", "Z"), ("int", "NUM_HEADS"), ("int", "N_CTX"), ("int", "HEAD_DIM"),
                      ("int", "P_GRID_H"), ("int", "P_GRID_W"), ("int", "P_KERNEL")]
    src = SYNTHETIC["float_init_arg"][0]
    tree = ast.parse(src)
    fn = c_mod_function(translate_c(tree, "score_mod", spec_names(src)), "score_mod", c_kernel_params(tree))
    assert fn.startswith("KW_DEVICE float kw_score_mod(float score, int b_idx, int h_idx, int q_idx, int kv_idx, "
                         "int Z, int NUM_HEADS, int N_CTX, int HEAD_DIM, float P_SCALE, int P_WINDOW) {\n")
    mask = translate_c(ast.parse("def mask_mod(b, h, q, kv):\n    return q - kv\n"), "mask_mod", {})
    assert mask.result == "(((q_idx - kv_idx)) != 0)"
    assert c_mod_function(mask, "mask_mod", []) == (
        "KW_DEVICE bool kw_mask_mod(int b_idx, int h_idx, int q_idx, int kv_idx) {\n"
        "  return (((q_idx - kv_idx)) != 0);\n}\n")


@pytest.mark.parametrize("body, words", [
    ("return s ** 2", "**"),
    ("return s + (s & 1)", "`&` on a float"),
    ("return s + ~s", "`~` on a float"),
    ("return s + 3000000000", "32-bit"),
])
def test_unsupported_python_is_a_one_line_error(body, words):
    with pytest.raises(TranslateError, match=words.replace("*", r"\*")) as info:
        translate_c(ast.parse(f"def score_mod(s, b, h, q, kv):\n    {body}\n"), "score_mod", {})
    assert "\n" not in str(info.value)


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not found")
def test_nvcc_compiles_helpers_and_mods_for_sm90a(tmp_path):
    blocks, calls, consts = [], [], {}
    for param in problem_cases():
        source, kind, _, _ = param.values
        tree = ast.parse(source)
        params = c_kernel_params(tree)
        space = f"m{len(blocks)}"
        blocks.append(f"namespace {space} "
                      f"{{\n{c_mod_function(translate_c(tree, kind, spec_names(source)), kind, params)}}}\n")
        call = c_call(kind, params, score="acc", indices=("0", "1", "i", "n - i"))
        calls.append(f"  acc += {space}::{call}{' ? 1.0f : 0.0f' if kind == 'mask_mod' else ''};\n")
        consts.update({n: t for t, n in params[4:]})
    decls = "".join(f"  const {t} {n} = {'3' if t == 'int' else '0.5f'};\n" for n, t in consts.items())
    kernel = ("__global__ void kw_probe(float* out, int n) {\n  const int i = threadIdx.x;\n"
              "  const int Z = 1, NUM_HEADS = 2, N_CTX = n, HEAD_DIM = 64;\n" + decls
              + "  float acc = out[i];\n" + "".join(calls) + "  out[i] = acc;\n}\n")
    (tmp_path / "mods.cu").write_text(C_HELPERS + "".join(blocks) + kernel)
    arch = "-gencode=arch=compute_90a,code=sm_90a"
    for extra in (["-c", "-o", "mods.o"], ["-ptx", "-o", "mods.ptx"]):
        flags = [arch] if extra[0] == "-c" else ["-arch=compute_90a"]
        done = subprocess.run(["nvcc", "-std=c++17", *flags, *extra, "mods.cu"], cwd=tmp_path,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
    ptx = (tmp_path / "mods.ptx").read_text()
    assert "tanh.approx.f32" in ptx            # the device kw_tanh is the hardware instruction
    assert ".f64" not in ptx                   # no double arithmetic sneaks in through literals


@needs_cxx
def test_int_floordiv_and_mod_follow_python_on_both_paths(tmp_path):
    """kw_floordiv / kw_mod on ints of both signs, small and large."""
    pairs = [(a, b) for a in (*range(-130, 131, 7), 0, 1, -1, 4_194_303, -4_194_303, 4_194_304, 123_456_789,
                              -987_654_321, 2**31 - 1)
             for b in (1, -1, 2, -2, 3, 7, -7, 30, 4096, -4096, 4_194_303, 4_194_304, -5_000_000)]
    src = tmp_path / "div.cpp"
    src.write_text("#define KW_DEVICE inline\n" + C_HELPERS + "#include <cstdio>\nint main() { int a, b;\n"
                   "  while (scanf(\"%d %d\", &a, &b) == 2) printf(\"%d %d\\n\", kw_floordiv(a, b), kw_mod(a, b)); }\n")
    subprocess.run([CXX, "-std=c++17", "-O1", "-o", str(tmp_path / "div"), str(src)], check=True)
    out = subprocess.run([str(tmp_path / "div")], input="".join(f"{a} {b}\n" for a, b in pairs),
                         capture_output=True, text=True, check=True).stdout.split("\n")
    for (a, b), line in zip(pairs, out):
        assert line == f"{a // b} {a % b}", (a, b, line)
