"""Does a float32 product pass the verifier's float32 tolerance when computed as 3xTF32, TF32 or IEEE FMAs?

CPU emulation at KernelBench-like reduction lengths (kernelwright/bench/fp32_dot.py says how); prints a
markdown table.

    python benchmarks/fp32_dot_precision.py
"""
from __future__ import annotations

import argparse

import torch
from kernelwright.verifier.correctness import tolerance_for

from kernelwright.bench.fp32_dot import CASES, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tol = tolerance_for(torch.float32)
    print(f"verifier float32 tolerance: |err| <= {tol.atol:g} + {tol.rtol:g} |ref| per element, relative "
          f"norm error <= {tol.rel_norm:g}\n")
    print("| case (M x K x N) | tf32: rel. norm err, elements over | tf32x3 | ieee |")
    print("|---|---|---|---|")
    for label, m, k, n in CASES:
        rows = measure(m, k, n, args.seed)
        cells = [f"{r['rel_norm_err']:.1e}, {r['mismatched']} ({'pass' if r['passed'] else 'FAIL'})"
                 for r in rows.values()]
        print(f"| {label} ({m} x {k} x {n}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
