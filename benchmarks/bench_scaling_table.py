"""Print the markdown table of a scaling sweep (kernelwright/bench/scaling_table.py).

    python benchmarks/bench_scaling_table.py OUT/scaling local
"""
import sys

from kernelwright.bench.scaling_table import table

if __name__ == "__main__":
    sys.stdout.write(table(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "local"))
