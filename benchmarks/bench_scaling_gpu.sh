#!/usr/bin/env bash
# Issue 7 measurement on a multi-GPU host: the same bench with 1, 2, 4, 8 GPUs (as many as are
# visible), one verifier worker per GPU, through the local pool (MODE=local) or a local Ray
# cluster (MODE=ray). Each run is a fresh bench id; throughput = candidates verified per minute.
#
#   MODE=local OUT=$OUT BUDGET=20s bash benchmarks/bench_scaling_gpu.sh
#   MODE=ray   OUT=$OUT BUDGET=20s bash benchmarks/bench_scaling_gpu.sh
set -uo pipefail
PY=${PYTHON:-python3}
OUT=${OUT:-bench_out}
SUITE=${SUITE:-problems}
BUDGET=${BUDGET:-20s}
MODE=${MODE:-local}
COUNTS=${COUNTS:-"1 2 4 8"}
mkdir -p "$OUT/scaling"
if [ -d .whl ] && ! "$PY" -c "import kernelwright.bench" 2>/dev/null; then
    source scripts/device_setup.sh || exit 1
fi
TOTAL=$(nvidia-smi -L | wc -l)
for n in $COUNTS; do
    [ "$n" -gt "$TOTAL" ] && continue
    ids=$(seq -s, 0 $((n - 1)))
    tag="$MODE-$n"
    echo "== $tag: GPUs $ids"
    if [ "$MODE" = ray ]; then
        CUDA_VISIBLE_DEVICES=$ids kernelwright bench "$SUITE" --coder template --budget "$BUDGET" \
            --ray local --bench-id "scale-$tag" --db "$OUT/scaling/bench.sqlite" --artifacts "$OUT/scaling/art" \
            --json > "$OUT/scaling/$tag.json" 2> "$OUT/scaling/$tag.log"
    else
        kernelwright bench "$SUITE" --coder template --budget "$BUDGET" --devices "cuda:$ids" \
            --bench-id "scale-$tag" --db "$OUT/scaling/bench.sqlite" --artifacts "$OUT/scaling/art" \
            --json > "$OUT/scaling/$tag.json" 2> "$OUT/scaling/$tag.log"
    fi
    echo "exit $?"
done
"$PY" - "$OUT/scaling" "$MODE" <<'PY'
import json, sys
from pathlib import Path
root, mode = Path(sys.argv[1]), sys.argv[2]
runs = sorted((int(p.stem.split("-")[1]), json.loads(p.read_text())) for p in root.glob(f"{mode}-*.json") if p.stat().st_size)
base = None
print(f"| mode | GPUs | wall s | candidates/min | x of 1 GPU | per-GPU efficiency | GPU busy share |")
print("|---|---|---|---|---|---|---|")
for n, data in runs:
    rate = data["stats"].get("candidates_per_minute") or 0.0
    base = base or (rate if n == 1 else None)
    speed = rate / base if base else None
    busy = (data["stats"].get("gpu") or {}).get("mean_busy_share")
    print(f"| {mode} | {n} | {data['wall_s']:.1f} | {rate:.1f} | {speed and f'{speed:.2f}'} | {speed and f'{speed / n:.2f}'} | {busy and f'{100 * busy:.0f}%'} |")
PY
