#!/usr/bin/env bash
# One device call: the offline template coder on the fixed KernelBench GPU sample (issue 18), at the
# problems' own sizes, timed against eager and torch.compile. Run from the repository root on the GPU
# host after `scripts/pack_for_device.sh` here; carry .whl and .kernelbench (a KernelBench checkout).
#   LEVELS="1 2"   KernelBench levels of the sample to run
#   BUDGET_S=520   start no new problem after this many seconds (a later call resumes)
#   PRIOR=DIR      a results.jsonl of an earlier call to resume from (carried back in)
#   TESTS=1        first run the GPU-marked tests of the lowered family
#   CONFIGS=2      template configurations per problem (a first-correct walk unless TUNE_S is set)
#   TUNE_S=0       after the first correct config, go on while under this many seconds; keep the fastest
#   FAMILY=NAME    only this template family (e.g. inductor); MATCH=REGEX only matching file names
#   NAME=kb_gpu    the results' folder under $OUT
set -uo pipefail
R=$PWD
OUT=${OUT:-$R/gpu_out}
N=${NAME:-kb_gpu}
mkdir -p "$OUT/$N"
source scripts/device_setup.sh || exit 1
write_env "$OUT/env.txt"
[ -n "${PRIOR:-}" ] && [ -f "$PRIOR/results.jsonl" ] && cp "$PRIOR/results.jsonl" "$OUT/$N/results.jsonl"
cd /tmp
if [ "${TESTS:-0}" = 1 ]; then
    timeout 150 python3 -m pytest -q -p no:cacheprovider -m gpu -o addopts="" --timeout 120 \
        "$R/tests/test_lowered_dense.py" > "$OUT/gpu_tests.log" 2>&1
    echo "pytest exit $?"; tail -4 "$OUT/gpu_tests.log"
fi
python3 "$R/benchmarks/kernelbench_offline.py" --kernelbench "$R/.kernelbench" --levels ${LEVELS:-1 2} \
    --sample "$R/benchmarks/kernelbench_gpu_sample.txt" --device cuda --configs "${CONFIGS:-2}" \
    --tune-seconds "${TUNE_S:-0}" --timeout 180 \
    --stop-after "${BUDGET_S:-520}" ${FAMILY:+--family "$FAMILY"} ${MATCH:+--match "$MATCH"} --out "$OUT/$N" > "$OUT/$N/report_stdout.md" 2> "$OUT/$N/progress.log"
tail -60 "$OUT/$N/progress.log" | cut -c1-200
sed -n '/## Correctness and speed$/,/^$/p' "$OUT/$N/report.md"
