#!/usr/bin/env bash
# Issue 6 measurement on one GPU host: bench the project's problem suite with the offline template
# coder, write the report (markdown, HTML, scaling plot, best kernels), sample the GPU busy share
# with nvidia-smi during the bench, then profile every best kernel under Nsight Compute and record
# ncu's overhead per profiled candidate.
#
#   OUT=$OUT BUDGET=30s bash benchmarks/bench_suite_gpu.sh        # from the repository root
#
# Knobs (environment): OUT (default bench_out), SUITE (problems), BUDGET per problem (30s),
# ITERATIONS (unset = budget only), DEVICES (auto = every visible GPU, one worker each),
# STEP (all | bench | profile: split the two halves over two commands when time is short).
# Wall time is about (problems x BUDGET / GPUs) + one ncu run (~10-30 s) per solved problem.
# A re-run with the same OUT resumes the bench (finished problems are skipped).
set -uo pipefail
PY=${PYTHON:-python3}
OUT=${OUT:-bench_out}
SUITE=${SUITE:-problems}
BUDGET=${BUDGET:-30s}
STEP=${STEP:-all}
DEVICES=${DEVICES:-auto}
mkdir -p "$OUT"
if [ -d .whl ] && ! "$PY" -c "import kernelwright.bench" 2>/dev/null; then
    source scripts/device_setup.sh || exit 1
fi
ITER_ARGS=()
[ -n "${ITERATIONS:-}" ] && ITER_ARGS=(--iterations "$ITERATIONS")
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>/dev/null || true
command -v ncu >/dev/null && ncu --version | tail -1 > "$OUT/ncu_version.txt"

if [ "$STEP" != profile ]; then
echo "== bench $SUITE (budget $BUDGET per problem, devices $DEVICES)"
kernelwright bench "$SUITE" --coder template --budget "$BUDGET" "${ITER_ARGS[@]}" \
    --devices "$DEVICES" --db "$OUT/bench.sqlite" --artifacts "$OUT/artifacts" --report "$OUT/report" \
    --json > "$OUT/bench.json" 2> "$OUT/bench.log"
echo "bench exit $?"
tail -5 "$OUT/bench.log"
fi

if [ "$STEP" != bench ]; then
echo "== ncu overhead per profiled candidate"
"$PY" benchmarks/profile_overhead.py --out "$OUT" --suite "$SUITE" > "$OUT/profile_overhead.log" 2>&1
echo "profile exit $?"
fi
"$PY" benchmarks/summarize_gpu_bench.py "$OUT" | tee "$OUT/SUMMARY.md"
