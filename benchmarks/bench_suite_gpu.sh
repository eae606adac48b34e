#!/usr/bin/env bash
# Issue 6 measurement on one GPU host inside a time box (default 230 s): bench the project's
# problem suite (problems/*.py; problems/attention/ is not included) with the offline template
# coder, sample the GPU while it runs, write the report, then profile a few best kernels under
# Nsight Compute and record ncu's overhead per profiled candidate.
#
#   bash benchmarks/bench_suite_gpu.sh            # from the repository root; results in $OUT
#
# $OUT receives 3 files, no folders: SUMMARY.md (also printed last), bench.json and
# bench_report.tar.gz (report.md/html, scaling.png, metrics.json, best kernels, per-kernel ncu
# profiles, profile_overhead.json, env.txt, bench.sqlite, logs). Intermediate files live in WORK.
# Knobs (environment): TOTAL_S (230: the whole box), PROFILE_S (50: the ncu step), MAX_WALL (75s:
# no new problem starts after this; unstarted ones stay pending), BUDGET (30s per problem),
# ITERATIONS (1), RUNS_PER_DEVICE (2: runs sharing a GPU's one verifier worker), DEVICES (auto),
# PROFILES (3: kernels profiled at most), SUITE (problems), WORK (/tmp/kw_bench_work).
# A re-run with the same WORK resumes the bench (finished problems are skipped).
set -uo pipefail
T0=$(date +%s)
PY=${PYTHON:-python3}
OUT=${OUT:-bench_out}
WORK=${WORK:-/tmp/kw_bench_work}
SUITE=${SUITE:-problems}
TOTAL_S=${TOTAL_S:-230}
PROFILE_S=${PROFILE_S:-50}
MAX_WALL=${MAX_WALL:-75s}
BUDGET=${BUDGET:-30s}
ITERATIONS=${ITERATIONS:-1}
RUNS_PER_DEVICE=${RUNS_PER_DEVICE:-2}
DEVICES=${DEVICES:-auto}
PROFILES=${PROFILES:-3}
BENCH_ID=${BENCH_ID:-gpu-suite}
mkdir -p "$OUT" "$WORK"
OUT=$(cd "$OUT" && pwd)
if [ -d .whl ] && ! "$PY" -c "import kernelwright.bench" 2>/dev/null; then
    source scripts/device_setup.sh > "$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; exit 1; }
fi
left() { echo $(( TOTAL_S - ($(date +%s) - T0) )); }
{ (command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1) \
      || echo "nvidia-smi: not on PATH"
  "$PY" -c "import sys, torch, triton; print('python', sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__)" 2>&1
  (command -v ncu >/dev/null && ncu --version | tail -1) || echo "ncu: not on PATH"
  echo "git $(git rev-parse --short HEAD 2>/dev/null || echo unknown); $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "BUDGET=$BUDGET ITERATIONS=$ITERATIONS MAX_WALL=$MAX_WALL RUNS_PER_DEVICE=$RUNS_PER_DEVICE DEVICES=$DEVICES SUITE=$SUITE"
} > "$WORK/env.txt"
cat "$WORK/env.txt"

BENCH_S=$(( $(left) - PROFILE_S - 15 ))
echo "== bench $SUITE: budget $BUDGET, $ITERATIONS iteration(s), no new problem after $MAX_WALL, hard stop ${BENCH_S}s"
timeout -k 10 "$BENCH_S" kernelwright bench "$SUITE" --coder template --budget "$BUDGET" --iterations "$ITERATIONS" \
    --devices "$DEVICES" --runs-per-device "$RUNS_PER_DEVICE" --max-wall "$MAX_WALL" --bench-id "$BENCH_ID" \
    --db "$WORK/bench.sqlite" --artifacts "$WORK/artifacts" --report "$WORK/report" \
    --json > "$WORK/bench.json" 2> "$WORK/bench.log"
echo "bench exit $? after $(( $(date +%s) - T0 )) s"; tail -4 "$WORK/bench.log"
if [ ! -f "$WORK/report/report.md" ] && [ -f "$WORK/bench.sqlite" ]; then  # the hard stop cut the bench
    "$PY" -c "import sys; from kernelwright.bench.report import write_report; write_report(*sys.argv[1:])" \
        "$WORK/bench.sqlite" "$BENCH_ID" "$WORK/report" >> "$WORK/bench.log" 2>&1
fi

PROF_S=$(( $(left) - 10 ))
if [ "$PROF_S" -gt 15 ]; then
    echo "== ncu overhead per profiled candidate (at most $PROFILES kernels, ${PROF_S}s)"
    timeout -k 5 "$PROF_S" "$PY" benchmarks/profile_overhead.py --work "$WORK" --suite "$SUITE" --limit "$PROFILES" \
        --time-limit $(( PROF_S - 35 > 0 ? PROF_S - 35 : 1 )) --timeout $(( PROF_S - 5 )) > "$WORK/profile_overhead.log" 2>&1
    echo "profile exit $?"; tail -4 "$WORK/profile_overhead.log"
else
    echo "== ncu step skipped: only $(left) s left in the box"
fi

"$PY" benchmarks/summarize_gpu_bench.py "$WORK" > "$WORK/SUMMARY.md" 2>&1
( cd "$WORK" && tar -czf "$OUT/bench_report.tar.gz" --ignore-failed-read $(ls -d report profiles bench.sqlite \
    bench.json bench.log env.txt profile_overhead.json profile_overhead.log setup.log SUMMARY.md 2>/dev/null) )
for f in bench.json SUMMARY.md; do [ -s "$WORK/$f" ] && cp "$WORK/$f" "$OUT/"; done
echo "== done in $(( $(date +%s) - T0 )) s; $OUT: $(ls "$OUT" | tr '\n' ' ')"
cat "$WORK/SUMMARY.md"
