"""Check and time the sm_90a CUDA attention kernel on the GPU (H100), outside the verifier.

    python benchmarks/attention_cuda_check.py probe            # one-tile wgmma / TMA layout check
    python benchmarks/attention_cuda_check.py check            # plain + causal vs fp32 SDPA, ragged shapes
    python benchmarks/attention_cuda_check.py time --out DIR   # median ms vs SDPA and FlexAttention

Exit status 1 when a check fails. Each mode is meant to run in its own process (a wrong kernel can
trap: the check build defines KW_HANG_CHECK, which turns a stuck mbarrier wait into a trap).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from kernelwright.agents.templates import attention_cuda_runtime as rt
from kernelwright.agents.templates.attention_cuda_render import (
    CAUSAL_MASK,
    MAX_SMEM,
    PLAIN_SCORE,
    THREADS,
    bounds_source,
    cuda_source,
    smem_bytes,
)

SHAPES = [(1, 2, 67, 64), (1, 3, 129, 128), (2, 1, 100, 128), (2, 16, 1008, 128), (4, 16, 4096, 128), (4, 16, 4096, 64)]


def kernel_source(causal: bool, block_n: int, stages: int, probe: bool = False) -> str:
    return cuda_source(score_body=PLAIN_SCORE, mask_body=CAUSAL_MASK if causal else "",
                       bounds=bounds_source(causal, None, None), dtype="bfloat16", block_n=block_n, stages=stages,
                       params=[], probe=probe, raw_scores=True)


class Attention:
    def __init__(self, causal: bool, block_n: int = 128, stages: int = 2, flags: tuple[str, ...] = ()):
        t0 = time.time()
        self.cubin = rt.build(kernel_source(causal, block_n, stages), flags)
        self.build_s = time.time() - t0
        self.block_n, self.stages, self.launchers = block_n, stages, {}

    def __call__(self, q, k, v):
        batch, heads, seq, dim = q.shape
        if dim not in self.launchers:
            self.launchers[dim] = rt.Launcher(self.cubin, f"kw_attn_fwd_d{dim}", THREADS,
                                              smem_bytes(dim, self.block_n, self.stages))
        out = torch.empty_like(q)
        maps = rt.tensor_maps(q, k, v, 128, self.block_n)
        import numpy as np
        self.launchers[dim]((math.ceil(seq / 128), batch * heads, 1), maps, out, np.float32(1 / math.sqrt(dim)),
                            np.int32(batch), np.int32(heads), np.int32(seq))
        return out


def probe() -> bool:
    import numpy as np
    cubin = rt.build(kernel_source(False, 128, 2, probe=True), ("-DKW_HANG_CHECK",))
    fn = rt.Launcher(cubin, "kw_probe_d128", 128, 3 * 32768 + 8 + 1024)
    torch.manual_seed(0)
    q, k, v = (torch.randn(1, 1, 128, 128, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    s_out = torch.zeros(64, 128, device="cuda")
    o_out = torch.zeros(64, 128, device="cuda")
    o_alt = torch.zeros(64, 128, device="cuda")
    fn((1, 1, 1), rt.tensor_maps(q, k, v, 128, 128), s_out, o_out, o_alt)
    torch.cuda.synchronize()
    s_ref = q[0, 0, :64].float() @ k[0, 0].float().T
    o_ref = s_ref.to(torch.bfloat16).float() @ v[0, 0].float()
    s_err = (s_out - s_ref).abs().max().item()
    o_err = ((o_out - o_ref).abs().max() / o_ref.abs().max()).item()
    alt_err = ((o_alt - o_ref).abs().max() / o_ref.abs().max()).item()
    print(f"probe: S max abs err {s_err:.3e} (|S| max {s_ref.abs().max().item():.1f}); O max rel err {o_err:.3e} "
          f"(swapped V descriptor: {alt_err:.3e})")
    if s_err > 1e-2:
        idx = (s_out - s_ref).abs().argmax().item()
        print(f"  worst S at row {idx // 128} col {idx % 128}: got {s_out.flatten()[idx].item():.4f} "
              f"want {s_ref.flatten()[idx].item():.4f}; S rows 0-1 cols 0-7 got {s_out[:2, :8].tolist()}")
        print(f"  want {s_ref[:2, :8].tolist()}")
    return s_err < 1e-2 and o_err < 2e-2


def check(block_n: int, stages: int) -> bool:
    ok = True
    for causal in (False, True):
        attn = Attention(causal, block_n, stages, ("-DKW_HANG_CHECK",))
        for shape in SHAPES:
            torch.manual_seed(1)
            q, k, v = (torch.randn(*shape, device="cuda", dtype=torch.bfloat16) for _ in range(3))
            got = attn(q, k, v).float()
            torch.cuda.synchronize()
            want = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=causal)
            err = (got - want).abs().max().item()
            good = err < 2e-2 and bool(torch.isfinite(got).all())
            ok &= good
            print(f"check {'causal' if causal else 'plain'} BN={block_n} st={stages} {shape}: max abs err {err:.3e} "
                  f"{'ok' if good else 'WRONG'}")
    return ok


def timing(out_dir: str, configs: list[tuple[int, int]]) -> None:
    from triton.testing import do_bench
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    flex = torch.compile(flex_attention)
    rows = []
    for shape in [(4, 16, 4096, 128), (4, 16, 16384, 128), (4, 16, 4096, 64)]:
        q, k, v = (torch.randn(*shape, device="cuda", dtype=torch.bfloat16) for _ in range(3))
        for causal in (False, True):
            mask = None
            if causal:
                mask = create_block_mask(lambda b, h, qi, ki: qi >= ki, None, None, shape[2], shape[2])
            row = {"shape": shape, "variant": "causal" if causal else "plain"}
            row["sdpa_ms"] = do_bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal), rep=200)
            row["flex_ms"] = do_bench(lambda: flex(q, k, v, block_mask=mask), rep=200)
            for block_n, stages in configs:
                if smem_bytes(shape[3], block_n, stages) > MAX_SMEM:
                    continue
                attn = Attention(causal, block_n, stages)
                row[f"cuda_bn{block_n}_s{stages}_ms"] = do_bench(lambda: attn(q, k, v), rep=200)
            rows.append(row)
            print(json.dumps(row), flush=True)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "attention_cuda_timing.json").write_text(json.dumps(rows, indent=1))
    print("\nshape | variant | SDPA ms | Flex ms | CUDA ms (config) | x SDPA | x Flex")
    for row in rows:
        best = min((v, k) for k, v in row.items() if k.startswith("cuda_"))
        print(f"{row['shape']} | {row['variant']} | {row['sdpa_ms']:.3f} | {row['flex_ms']:.3f} | {best[0]:.3f} "
              f"({best[1]}) | {row['sdpa_ms'] / best[0]:.2f} | {row['flex_ms'] / best[0]:.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["probe", "check", "time"])
    parser.add_argument("--config", action="append", default=[], help="BLOCK_N,STAGES (repeatable)")
    parser.add_argument("--out", default=os.environ.get("OUT", "bench_out"))
    args = parser.parse_args()
    configs = [tuple(int(x) for x in c.split(",")) for c in args.config] or [(128, 2)]
    if args.mode == "probe":
        return 0 if probe() else 1
    if args.mode == "check":
        return 0 if all([check(bn, st) for bn, st in configs]) else 1
    timing(args.out, configs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
