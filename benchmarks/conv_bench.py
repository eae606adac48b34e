"""The `lowered` family's convolution kernel alone against cuDNN, at the conv layers of KernelBench's
level-2 sample (GPU host; float32, PyTorch's default flags: cuDNN may use TF32).

Per layer: cuDNN's time, ours with each `fp32_dot` mode (tf32x3, tf32, ieee), TFLOP/s, the time of the
channels-last copy of the input that the tap-major path makes, and each result's largest error relative
to the float64 result's largest magnitude (a broken kernel shows here before it shows in a table).

    python benchmarks/conv_bench.py [--only NAME ...] [--rep-ms 200]
"""
from __future__ import annotations

import argparse
import math

import torch
import triton.testing
from kernelwright.agents.templates.lowered.dense_conv import kw_convolution

# name: (input shape, weight shape, stride, padding, output_padding, transposed)
LAYERS = {
    "L2-1/17/46 conv2d 64->128 3x3 128^2": ((128, 64, 128, 128), (128, 64, 3, 3), 1, 0, 0, False),
    "L2-69 conv2d 8->64 3x3 128^2": ((128, 8, 128, 128), (64, 8, 3, 3), 1, 0, 0, False),
    "L2-21 conv2d 8->32 3x3 256^2": ((128, 8, 256, 256), (32, 8, 3, 3), 1, 0, 0, False),
    "L2-5 conv_t2d 64->64 4x4 s2 256^2": ((32, 64, 256, 256), (64, 64, 4, 4), 2, 1, 1, True),
    "L2-6 conv3d 3->16 3^3 16x32^2": ((128, 3, 16, 32, 32), (16, 3, 3, 3, 3), 1, 0, 0, False),
    "L1-67 conv1d 64->128 k3 131072": ((32, 64, 131072), (128, 64, 3), 1, 0, 0, False),
}
MODES = ("tf32x3", "tf32", "ieee")


def flops(x: torch.Tensor, w: torch.Tensor, out: torch.Tensor, transposed: bool) -> float:
    """2 x multiply-adds: every output (input, for transposed) element meets C_in/g x taps weights."""
    taps = w[0, 0].numel()
    if transposed:
        return 2.0 * x.numel() * w.shape[1] * taps
    return 2.0 * out.numel() * w.shape[1] * taps


def rel_err(out: torch.Tensor, ref: torch.Tensor) -> float:
    return float((out.double() - ref).abs().max() / ref.abs().max().clamp_min(1e-30))


def bench_layer(name: str, rep_ms: int) -> list[str]:
    xs, ws, s, p, op, transposed = LAYERS[name]
    nd = len(xs) - 2
    x = torch.randn(xs, device="cuda")
    w = torch.randn(ws, device="cuda") / math.prod(ws[1:]) ** 0.5
    b = torch.randn(ws[1] if transposed else ws[0], device="cuda")
    args = ([s] * nd, [p] * nd, [1] * nd, transposed, [op] * nd, 1)
    cudnn = lambda: torch.ops.aten.convolution(x, w, b, *args)  # noqa: E731
    ref = cudnn()
    with torch.no_grad():
        exact = torch.ops.aten.convolution(x.double(), w.double(), b.double(), *args)
    work = flops(x, w, ref, transposed)
    t_ref = triton.testing.do_bench(cudnn, rep=rep_ms)
    x5 = x.reshape(*xs[:2], *[1] * (3 - nd), *xs[2:])  # as the wrapper sees it
    t_copy = triton.testing.do_bench(lambda: x5.contiguous(memory_format=torch.channels_last_3d), rep=rep_ms)
    cells = [name, f"{t_ref:.3f} ({work / t_ref / 1e9:.0f})", f"{rel_err(ref, exact):.1e}"]
    for mode in MODES:
        ours = lambda mode=mode: kw_convolution(x, w, b, *args, fp32_dot=mode)  # noqa: E731
        try:
            err = rel_err(ours(), exact)
            t = triton.testing.do_bench(ours, rep=rep_ms)
            cells.append(f"{t:.3f} ({work / t / 1e9:.0f}, {t_ref / t:.2f}x, err {err:.1e})")
        except Exception as exc:  # noqa: BLE001 - a failing mode is one cell, the table goes on
            cells.append(f"error: {str(exc).splitlines()[0][:80]}")
    cells.append(f"{t_copy:.3f}")
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="layer names (default: all)")
    parser.add_argument("--rep-ms", type=int, default=200, help="do_bench repetition time per measurement")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("error: conv_bench needs a CUDA GPU")
    names = args.only or list(LAYERS)
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise SystemExit(f"error: unknown layer {unknown[0]!r}; choose from {list(LAYERS)}")
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, triton {triton.__version__}, "
          f"cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}")
    print("ms (TFLOP/s, vs cuDNN, max error / max |exact|)\n")
    print("| layer | cuDNN ms (TFLOP/s) | cuDNN err | " + " | ".join(f"ours {m}" for m in MODES)
          + " | NCHW->NHWC copy ms |")
    print("|---" * (4 + len(MODES)) + "|")
    for name in names:
        print("| " + " | ".join(bench_layer(name, args.rep_ms)) + " |", flush=True)
        torch.cuda.empty_cache()  # the layer's tensors died with its frame


if __name__ == "__main__":
    main()
