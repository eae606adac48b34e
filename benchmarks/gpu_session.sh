#!/usr/bin/env bash
# One device call: GPU-marked tests, then the verifier benchmark (issue 3). Run from the repo root
# on the GPU host after `scripts/pack_for_device.sh` here; results under $OUT.
#   STEP=tests|verifier|all (default all)
set -uo pipefail
R=$PWD
OUT=${OUT:-$R/gpu_out}
STEP=${STEP:-all}
mkdir -p "$OUT"
source scripts/device_setup.sh || exit 1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c "import torch, triton, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__)"
  python3 -c "import cupy; print('cupy', cupy.__version__)" 2>/dev/null
  nvcc --version | tail -1; date -u; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
cd /tmp
if [ "$STEP" = all ] || [ "$STEP" = verifier ]; then
    echo "== verifier benchmark"
    timeout ${VERIFIER_S:-300} python3 "$R/benchmarks/verifier_bench.py" --out "$OUT" > "$OUT/verifier_bench.log" 2>&1
    echo "verifier_bench exit $?"; tail -12 "$OUT/verifier_bench.log"
fi
if [ "$STEP" = all ] || [ "$STEP" = tests ]; then
    echo "== GPU-marked tests"
    timeout ${TESTS_S:-300} python3 -m pytest -q -p no:cacheprovider -m gpu -o addopts="" --timeout 240 "$R/tests" \
        > "$OUT/gpu_tests.log" 2>&1
    echo "pytest exit $?"; tail -25 "$OUT/gpu_tests.log"
fi
