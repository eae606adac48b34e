#!/usr/bin/env bash
# Issue 7 measurement on a multi-GPU host: the same bench with 1, 2, 4, 8 GPUs (as many as are
# visible), one verifier worker per GPU, through the local pool (MODE=local) or a local Ray
# cluster (MODE=ray). Each run is a fresh bench id; throughput = candidates verified per minute.
#
#   MODE=local OUT=$OUT BUDGET=20s bash benchmarks/bench_scaling_gpu.sh
#   MODE=ray   OUT=$OUT BUDGET=20s bash benchmarks/bench_scaling_gpu.sh
#
# CPU_FAKE=1 runs the same sweep on a CPU host with the stand-in run function
# (tests/bench_fakes.py:synthetic_run): N worker processes (`--devices cpu*N`) or Ray with N
# declared fake GPUs (`--ray local --ray-gpus N`); GPUS sets how many "devices" exist (default 2).
# Knobs: SUITE (problems), BUDGET (20s), ITERATIONS (unset: budget only), MAX_WALL (unset), COUNTS ("1 2 4 8").
set -uo pipefail
PY=${PYTHON:-python3}
OUT=${OUT:-bench_out}
SUITE=${SUITE:-problems}
BUDGET=${BUDGET:-20s}
MODE=${MODE:-local}
COUNTS=${COUNTS:-"1 2 4 8"}
CPU_FAKE=${CPU_FAKE:-0}
export KERNELWRIGHT_WORKERS_PER_GPU=${KERNELWRIGHT_WORKERS_PER_GPU:-1}  # the issue's one verifier worker per GPU
mkdir -p "$OUT/scaling"
if [ -d .whl ] && ! "$PY" -c "import kernelwright.bench" 2>/dev/null; then
    source scripts/device_setup.sh || exit 1
fi
EXTRA=()
[ -n "${ITERATIONS:-}" ] && EXTRA+=(--iterations "$ITERATIONS")
[ -n "${MAX_WALL:-}" ] && EXTRA+=(--max-wall "$MAX_WALL")
if [ "$CPU_FAKE" = 1 ]; then
    TOTAL=${GPUS:-2}
    EXTRA+=(--run-fn bench_fakes:synthetic_run)
    export PYTHONPATH="$(cd "$(dirname "$0")/.." && pwd)/tests${PYTHONPATH:+:$PYTHONPATH}"
else
    TOTAL=$(nvidia-smi -L 2>/dev/null | wc -l)
fi
[ "$TOTAL" -gt 0 ] || { echo "no GPU visible (nvidia-smi -L listed none); use CPU_FAKE=1 on a CPU host"; exit 2; }
for n in $COUNTS; do
    [ "$n" -gt "$TOTAL" ] && continue
    ids=$(seq -s, 0 $((n - 1)))
    tag="$MODE-$n"
    args=(--coder template --budget "$BUDGET" --bench-id "scale-$tag" --db "$OUT/scaling/bench.sqlite"
          --artifacts "$OUT/scaling/art" "${EXTRA[@]}" --json)
    echo "== $tag: devices $ids"
    if [ "$MODE" = ray ] && [ "$CPU_FAKE" = 1 ]; then
        kernelwright bench "$SUITE" "${args[@]}" --ray local --ray-gpus "$n" > "$OUT/scaling/$tag.json" 2> "$OUT/scaling/$tag.log"
    elif [ "$MODE" = ray ]; then
        CUDA_VISIBLE_DEVICES=$ids kernelwright bench "$SUITE" "${args[@]}" --ray local > "$OUT/scaling/$tag.json" 2> "$OUT/scaling/$tag.log"
    elif [ "$CPU_FAKE" = 1 ]; then
        kernelwright bench "$SUITE" "${args[@]}" --devices "cpu*$n" > "$OUT/scaling/$tag.json" 2> "$OUT/scaling/$tag.log"
    else
        kernelwright bench "$SUITE" "${args[@]}" --devices "cuda:$ids" > "$OUT/scaling/$tag.json" 2> "$OUT/scaling/$tag.log"
    fi
    echo "exit $?"
done
"$PY" "$(dirname "$0")/bench_scaling_table.py" "$OUT/scaling" "$MODE" | tee "$OUT/scaling/$MODE.md"
