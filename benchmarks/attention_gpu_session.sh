#!/usr/bin/env bash
# One device call for the attention work (issue 5). Run from the repo root on the GPU host after
# scripts/pack_for_device.sh here; results under $OUT. Steps (STEPS, space-separated, in order):
#   bench  all variants at B=4 H=16 S=4096 D=128 (BENCH_ARGS adds or overrides flags)
#   tests  the GPU-marked attention tests (CUDA backend through the real verifier)
#   checks the GPU-marked verifier tests (test_checks_gpu, the cheat zoo)
#   e2e    kernelwright run problems/attention/relpos.py with the template coder
#   backward  forward + backward of every variant against FlexAttention / SDPA (attention_backward_bench.py),
#          then the attention gradient tests on the GPU (BACKWARD_ARGS adds flags)
set -uo pipefail
R=$PWD
OUT=${OUT:-$R/gpu_out}
STEPS=${STEPS:-bench tests}
mkdir -p "$OUT"
source scripts/device_setup.sh || exit 1
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
  nvcc --version | tail -1; echo "kernelwright $(cat "$R/.whl/commit.txt" 2>/dev/null)"; date -u; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
cd /tmp
for step in $STEPS; do
    echo "== $step $(date -u +%T)"
    case $step in
    bench)
        timeout ${BENCH_S:-330} python3 "$R/benchmarks/attention_bench.py" --no-naive --precompile 16 --configs 6 \
            --time-box $(( ${BENCH_S:-330} - 60 )) --out "$OUT/bench" ${BENCH_ARGS:-} > "$OUT/bench.log" 2>&1
        echo "bench exit $?"; tail -12 "$OUT/bench.log" ;;
    tests)
        timeout ${TESTS_S:-200} python3 -m pytest -q -p no:cacheprovider -m gpu -o addopts="" --timeout 180 --durations=30 \
            "$R/tests/test_attention_cuda.py" "$R/tests/test_attention_run.py" ${TESTS_K:+-k "$TESTS_K"} > "$OUT/tests.log" 2>&1
        echo "pytest exit $?"; tail -15 "$OUT/tests.log" ;;
    checks)
        timeout ${CHECKS_S:-300} python3 -m pytest -q -p no:cacheprovider -m gpu -o addopts="" --timeout 240 \
            "$R/tests/test_checks_gpu.py" "$R/tests/test_cheats_zoo.py" > "$OUT/checks.log" 2>&1
        echo "pytest exit $?"; tail -15 "$OUT/checks.log" ;;
    e2e)
        timeout ${E2E_S:-200} kernelwright run "$R/problems/attention/relpos.py" --device cuda --json \
            ${E2E_ARGS:-} > "$OUT/relpos_run.json" 2> "$OUT/relpos_run.log"
        echo "run exit $?"; tail -5 "$OUT/relpos_run.log"; head -c 1500 "$OUT/relpos_run.json" ;;
    backward)
        timeout ${BACKWARD_S:-330} python3 "$R/benchmarks/attention_backward_bench.py" --out "$OUT/backward" \
            ${BACKWARD_ARGS:-} > "$OUT/backward.log" 2>&1
        echo "backward bench exit $?"; tail -12 "$OUT/backward.log"
        timeout ${BACKWARD_TESTS_S:-200} python3 -m pytest -q -p no:cacheprovider -o addopts="" \
            "$R/tests/test_attention_backward.py" "$R/tests/test_verifier_backward.py" > "$OUT/backward_tests.log" 2>&1
        echo "pytest exit $?"; tail -5 "$OUT/backward_tests.log" ;;
    *) echo "unknown step $step (bench, tests, checks, e2e, backward)" >&2; exit 2 ;;
    esac
done
