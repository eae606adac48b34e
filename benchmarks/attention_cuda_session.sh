#!/usr/bin/env bash
# One device call for the sm_90a CUDA attention kernel: layout probe, correctness checks, timings
# against SDPA and FlexAttention, then Triton's warp-specialised kernels assembled by CUDA 13's
# ptxas. Run from the repo root on the GPU host after scripts/pack_for_device.sh here; results in $OUT.
set -uo pipefail
R=$PWD
OUT=${OUT:-$R/gpu_out}
mkdir -p "$OUT"
source scripts/device_setup.sh || exit 1
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch, triton, cupy; print('torch', torch.__version__, 'triton', triton.__version__, 'cupy', cupy.__version__)"
  nvcc --version | tail -1; date -u; } > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
cd /tmp
CHECK="$R/benchmarks/attention_cuda_check.py"
timeout 120 python3 "$CHECK" probe 2>&1 | tee "$OUT/cuda_probe.log"
timeout 180 python3 "$CHECK" check ${CUDA_CONFIGS:---config 128,2 --config 64,3} 2>&1 | tee "$OUT/cuda_check.log"
if [ "${PIPESTATUS[0]}" = 0 ]; then
    timeout ${TIME_S:-240} python3 "$CHECK" time --out "$OUT" ${CUDA_CONFIGS:---config 128,2 --config 64,3} 2>&1 \
        | tee "$OUT/cuda_time.log" | tail -12
fi
ls -1 ~/.cache/kernelwright/cuda/*.log 2>/dev/null | head -1 | xargs -r grep -h "registers\|C75" | head -8
if [ -n "${WS_S:-}" ]; then
    WS='{"BLOCK_M": 128, "BLOCK_N": 128, "num_warps": 4, "num_stages": 2, "LAZY": false, "PIPE_QK": false, "TMA": true, "WS": true}'
    TRITON_PTXAS_PATH=$(dirname "$(which nvcc)")/ptxas timeout "$WS_S" python3 "$R/benchmarks/attention_bench.py" \
        --variants plain causal --configs 1 --no-naive --precompile 8 --tune-seconds 20 --extra-config "$WS" \
        --out "$OUT/ws_ptxas13" > "$OUT/ws_ptxas13.log" 2>&1
    echo "ws exit $?"; tail -8 "$OUT/ws_ptxas13.log"
fi
