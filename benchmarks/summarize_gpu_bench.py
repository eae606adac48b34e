"""Print a markdown summary of a GPU bench (kernelwright/bench/gpu_summary.py).

    python benchmarks/summarize_gpu_bench.py WORK
"""
import sys

from kernelwright.bench.gpu_summary import summary

if __name__ == "__main__":
    sys.stdout.write(summary(sys.argv[1] if len(sys.argv) > 1 else "bench_work"))
