"""The CUDA (sm_90a) backend of the attention family: mods in C++, bounds, configs, rendering,
the CUDA file compiled for sm_90a by nvcc (when present), and, on an H100, the real verifier."""
import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from kernelwright.agents.templates.attention import family as family_module
from kernelwright.agents.templates.attention.family import AttentionFamily
from kernelwright.agents.templates.attention.kernel_cuda import (
    BOUNDS_CAUSAL,
    BOUNDS_DOCUMENTS,
    BOUNDS_WINDOW,
    STORE_ROW,
    TILE_ORDER,
)
from kernelwright.agents.templates.attention.render_cuda import (
    MAX_SMEM,
    NVCC_FLAGS,
    cuda_mods,
    cuda_supported,
    render_cuda_candidate,
    smem_bytes,
)
from kernelwright.agents.templates.attention.spec import parse_spec
from kernelwright.verifier.static_checks import check_source

import kernelwright
from test_attention_verify import PROBLEMS, VARIANTS, request_for

FAMILY = AttentionFamily()
# 2-D tiling and score_mods that read tensors (alibi_learned) stay in Triton
CUDA_VARIANTS = [v for v in VARIANTS if v not in ("neighborhood_2d", "alibi_learned")]
CONFIG = {"BACKEND": "cuda", "BLOCK_N": 128, "STAGES": 2}


def source_of(variant: str) -> str:
    return (PROBLEMS / f"{variant}.py").read_text()


def render(variant: str, config: dict = CONFIG, source: str | None = None) -> str:
    source = source or source_of(variant)
    return render_cuda_candidate(source, parse_spec(source), config, variant)


def cuda_file(candidate: str) -> str:
    return candidate.split("_CUDA = r'''")[1].split("'''")[0]


def test_mods_take_the_cheapest_form():
    plain = cuda_mods(source_of("plain"))
    assert plain.raw_scores and plain.score_body.strip() == "float x = s;" and plain.mask_body == ""
    relpos = cuda_mods(source_of("relpos"))  # score + bias: log2(e) folded into the bias once
    assert not relpos.raw_scores and "s * (sm_scale * LOG2E) + (" in relpos.score_body
    softcap = cuda_mods(source_of("softcap"))  # any other score_mod runs on the natural-log score
    assert "const float score = s * sm_scale;" in softcap.score_body and "kw_tanh" in softcap.score_body
    causal = cuda_mods(source_of("causal"))
    assert "keep = keep & (" in causal.mask_body and "q_idx" in causal.mask_body
    window = cuda_mods(source_of("sliding_window"))
    assert window.params == [("int", "P_WINDOW")]


def test_only_expressible_problems_are_supported(tmp_path):
    for variant in CUDA_VARIANTS:
        assert cuda_supported(source_of(variant), parse_spec(source_of(variant))), variant
    for triton_only in ("neighborhood_2d", "alibi_learned"):
        assert not cuda_supported(source_of(triton_only), parse_spec(source_of(triton_only))), triton_only
    fp32 = source_of("plain").replace("DTYPE = torch.bfloat16", "DTYPE = torch.float32")
    assert not cuda_supported(fp32, parse_spec(fp32))
    d96 = source_of("plain").replace("\nD = 128\n", "\nD = 96\n")
    assert not cuda_supported(d96, parse_spec(d96))


def test_configs_offer_cuda_first_only_where_it_runs(monkeypatch):
    monkeypatch.setattr(family_module, "cuda_backend_available", lambda: False)
    assert all(c.get("BACKEND") != "cuda" for c in FAMILY.configs(request_for("relpos")))
    monkeypatch.setattr(family_module, "cuda_backend_available", lambda: True)
    configs = FAMILY.configs(request_for("relpos"))
    assert configs[0]["BACKEND"] == "cuda" and any("BLOCK_M" in c for c in configs)
    assert all(smem_bytes(128, c["BLOCK_N"], c["STAGES"]) <= MAX_SMEM for c in configs if c.get("BACKEND"))
    assert all(c.get("BACKEND") != "cuda" for c in FAMILY.configs(request_for("neighborhood_2d")))
    window = FAMILY.configs(request_for("sliding_window"))  # short key ranges: the sparse table
    assert window[0]["BACKEND"] == "cuda" and {c["BLOCK_N"] for c in window if c.get("BACKEND")} == {64, 128}
    on_cpu = dataclasses.replace(request_for("relpos"), device="cpu")  # a run verifying on the CPU
    assert all(c.get("BACKEND") != "cuda" for c in FAMILY.configs(on_cpu))
    request = request_for("relpos")
    assert FAMILY.render(request, configs[0]) == render_cuda_candidate(request.problem_source, parse_spec(
        request.problem_source), configs[0], request.problem_name)


def test_candidate_passes_the_verifiers_static_checks():
    for variant in ("plain", "sliding_window", "softcap"):
        candidate = render(variant)
        assert "load_inline(" in candidate and "no_implicit_headers=True" in candidate
        assert check_source(candidate) == [], variant


def test_too_much_shared_memory_is_a_clear_error():
    with pytest.raises(ValueError, match="shared memory"):
        render("plain", {"BACKEND": "cuda", "BLOCK_N": 256, "STAGES": 3})


# --- bounds: which key tiles a CTA visits, and which of them need no element mask ---------------
HARNESS = r"""
#include <algorithm>
#include <cstdio>
using std::min; using std::max;
int main() {
    const int BN = %(bn)d, N_CTX = %(n)d, BLOCK_M = 128;
    for (int m0 = 0; m0 < N_CTX; m0 += BLOCK_M) {
        const int m_last = min(m0 + BLOCK_M, N_CTX) - 1;
        int lo = 0, hi = N_CTX, full_lo = 0, full_hi = (N_CTX / BN) * BN;
%(bounds)s
        full_lo = min(max(full_lo, lo), hi);
        full_hi = min(max(full_hi, full_lo), hi);
        printf("%%d %%d %%d %%d %%d\n", m0, lo, hi, full_lo, full_hi);
    }
}
"""
BOUNDS_CASES = [  # (name, bounds, visible(q, k), n, bn)
    ("causal", BOUNDS_CAUSAL, lambda q, k, n: k <= q, 700, 128),
    ("causal176", BOUNDS_CAUSAL, lambda q, k, n: k <= q, 1000, 176),
    ("window", BOUNDS_WINDOW.replace("@@W@@", "200"), lambda q, k, n: k > q - 200, 900, 128),
    ("documents", BOUNDS_CAUSAL + BOUNDS_DOCUMENTS.replace("@@ND@@", "5"),
     lambda q, k, n: k <= q and q * 5 // n == k * 5 // n, 1111, 128),
    ("documents64", BOUNDS_DOCUMENTS.replace("@@ND@@", "3"), lambda q, k, n: q * 3 // n == k * 3 // n, 517, 64),
]


@pytest.mark.parametrize("name, bounds, visible, n, bn", BOUNDS_CASES, ids=[c[0] for c in BOUNDS_CASES])
def test_bounds_skip_only_invisible_tiles_and_mask_every_partial_one(tmp_path, name, bounds, visible, n, bn):
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no host C++ compiler")
    src = tmp_path / "bounds.cpp"
    src.write_text(HARNESS % {"bn": bn, "n": n, "bounds": bounds})
    subprocess.run([compiler, "-std=c++17", "-O1", "-o", str(tmp_path / "b"), str(src)], check=True)
    lines = subprocess.run([str(tmp_path / "b")], capture_output=True, text=True, check=True).stdout.split("\n")
    for line in filter(None, lines):
        m0, lo, hi, full_lo, full_hi = map(int, line.split())
        rows = range(m0, min(m0 + 128, n))
        assert lo % bn == 0 and lo <= full_lo <= full_hi <= hi <= n
        for n0 in range(0, n, bn):
            keys = range(n0, min(n0 + bn, n))
            seen = [visible(q, k, n) for q in rows for k in keys]
            if n0 < lo or n0 >= hi:
                assert not any(seen), f"{name}: tile {n0} skipped for rows {m0}.. but has visible pairs"
            elif full_lo <= n0 < full_hi:
                assert all(seen) and n0 + bn <= n, f"{name}: tile {n0} left unmasked for rows {m0}.. but needs a mask"


# --- device helpers on the host: the output store's quad transpose and the persistent tile order ----
def host_program(tmp_path: Path, source: str, *args: int) -> list[str]:
    """Compile `source` with the host C++ compiler (C++20, threads) and run it; its stdout lines."""
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        pytest.skip("no host C++ compiler")
    (tmp_path / "h.cpp").write_text(source)
    subprocess.run([compiler, "-std=c++20", "-O1", "-pthread", "-o", str(tmp_path / "h"), str(tmp_path / "h.cpp")],
                   check=True)
    done = subprocess.run([str(tmp_path / "h"), *map(str, args)], capture_output=True, text=True, check=True)
    return done.stdout.split()


# One warp emulated by 32 threads in lock step: a shuffle is a write, a barrier, a read, a barrier.
WARP_HARNESS = r"""
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>
#define KW_DI inline
typedef uint16_t kw_t;
struct uint4 { uint32_t x, y, z, w; };
inline uint4 make_uint4(uint32_t x, uint32_t y, uint32_t z, uint32_t w) { return {x, y, z, w}; }
static std::barrier<> lockstep(32);
static uint32_t lanes[32];
thread_local int lane_id;
uint32_t __shfl_xor_sync(unsigned, uint32_t v, int mask) {
    lanes[lane_id] = v;
    lockstep.arrive_and_wait();
    const uint32_t got = lanes[lane_id ^ mask];
    lockstep.arrive_and_wait();
    return got;
}
@@HELPER@@
int main(int argc, char** argv) {
    constexpr int D = @@D@@;
    const int rows_in_range = atoi(argv[1]);
    alignas(16) static kw_t out[8 * D];
    for (auto& x : out) x = 0xffff;
    std::vector<std::thread> warp;
    for (int lane = 0; lane < 32; ++lane)
        warp.emplace_back([&, lane] {
            lane_id = lane;
            const int row = lane / 4, t4 = lane % 4;
            uint32_t w[D / 8];  // column pair 8j + 2 t4 of `row`, each value its own code: row * 256 + column
            for (int j = 0; j < D / 8; ++j) {
                const uint32_t col = 8 * j + 2 * t4;
                w[j] = (row * 256 + col) | ((row * 256 + col + 1) << 16);
            }
            kw_store_row<D>(out + row * D, w, t4, row < rows_in_range);
        });
    for (auto& t : warp) t.join();
    for (int i = 0; i < 8 * D; ++i) printf("%d\n", (int)out[i]);
}
"""


@pytest.mark.parametrize("head_dim", [64, 128])
def test_output_rows_land_in_place_after_the_quad_transpose(tmp_path, head_dim):
    values = host_program(tmp_path, WARP_HARNESS.replace("@@HELPER@@", STORE_ROW).replace("@@D@@", str(head_dim)), 6)
    for row in range(8):
        got = [int(v) for v in values[row * head_dim:(row + 1) * head_dim]]
        want = [row * 256 + c for c in range(head_dim)] if row < 6 else [0xFFFF] * head_dim  # rows 6, 7: past N_CTX
        assert got == want, f"row {row}"


TILE_HARNESS = r"""
#include <cstdio>
#include <cstdlib>
#define KW_DI inline
struct { int x; } gridDim, blockIdx;
@@HELPER@@
int main(int argc, char** argv) {
    const int num_tiles = atoi(argv[1]);
    gridDim.x = atoi(argv[2]);
    for (blockIdx.x = 0; blockIdx.x < gridDim.x; ++blockIdx.x) {
        for (int k = 0, tile = kw_tile(0); tile < num_tiles; tile = kw_tile(++k)) printf("%d ", tile);
        printf("-1\n");
    }
}
"""


@pytest.mark.parametrize("num_tiles, grid", [(2048, 132), (2048, 2048), (100, 132), (1000, 7), (33, 4)])
def test_persistent_ctas_take_every_tile_once_and_balance_periodic_lengths(tmp_path, num_tiles, grid):
    out = [int(v) for v in host_program(tmp_path, TILE_HARNESS.replace("@@HELPER@@", TILE_ORDER), num_tiles, grid)]
    per_cta, current = [], []
    for v in out:
        if v < 0:
            per_cta.append(current)
            current = []
        else:
            current.append(v)
    assert len(per_cta) == grid and sorted(sum(per_cta, [])) == list(range(num_tiles))
    if num_tiles == 2048 and grid == 132:
        # document tiles: 4 per document, 4, 3, 2, 1 key tiles; a strided order would give CTA i the same
        # length every round (132 % 4 == 0): 4 * 16 = 64 key tiles for some CTAs, 16 for others
        work = [sum(4 - t % 4 for t in tiles) for tiles in per_cta]
        assert max(work) - min(work) <= 4, (min(work), max(work))


def test_every_ablation_of_the_benchmark_still_finds_its_text():
    """benchmarks/attention_ablate.py edits the rendered kernel by text; a template change must not
    silently turn an ablation into a no-op (it exits with a message instead)."""
    from kernelwright.bench import attention_ablations as ablate

    candidate = render("document_causal")
    for name in ablate.ABLATIONS:
        edited = ablate.ablated(candidate, name)
        assert edited != candidate and f"kw_ablate_{name}_" in edited, name


# --- nvcc: the CUDA file of every variant builds for sm_90a without wgmma serialisation ------------
@pytest.mark.parametrize("variant", CUDA_VARIANTS)
def test_cuda_file_compiles_for_sm90a(tmp_path, variant):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc not found")
    configs = [CONFIG] + ([{"BACKEND": "cuda", "BLOCK_N": 176, "STAGES": 2}] if variant == "plain" else [])
    for config in configs:
        (tmp_path / "k.cu").write_text(cuda_file(render(variant, config)))
        done = subprocess.run([nvcc, "-c", *NVCC_FLAGS, "-Xptxas=-v", "-o", str(tmp_path / "k.o"),
                               str(tmp_path / "k.cu")],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "serialized" not in done.stderr and "C7519" not in done.stderr, done.stderr[-3000:]
        assert len(re.findall(r"Compiling entry function '(\w*kw_attn_fwd_d(64|128)\w*)'", done.stderr)) == 2


@pytest.mark.gpu
def test_h100_searches_the_cuda_kernel_first():
    """On an sm_90 GPU, configs()[0] of every 1-D variant is the CUDA kernel, so
    test_attention_run.py's GPU verification of configs()[0] covers it."""
    if torch.cuda.get_device_capability() != (9, 0):
        pytest.skip("the CUDA backend needs an sm_90 GPU")
    for variant in CUDA_VARIANTS:
        assert FAMILY.configs(request_for(variant))[0].get("BACKEND") == "cuda", variant


@pytest.mark.gpu
def test_cuda_candidate_verifies_correct_in_float16():
    if torch.cuda.get_device_capability() != (9, 0):
        pytest.skip("the CUDA backend needs an sm_90 GPU")
    fp16 = source_of("causal").replace("DTYPE = torch.bfloat16", "DTYPE = torch.float16")
    verdict = kernelwright.verify(fp16, render("causal", source=fp16), timing=False)
    assert verdict.status == "correct", verdict.summary()
