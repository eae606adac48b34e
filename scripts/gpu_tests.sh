#!/usr/bin/env bash
# One device call: every GPU-marked test, on the carried wheel (scripts/pack_for_device.sh first).
# Run from the repository root on the GPU host; carry ".whl". LIMIT_S caps the whole test run.
set -uo pipefail
R=$PWD
OUT=${OUT:-$R/gpu_out}
mkdir -p "$OUT"
source scripts/device_setup.sh || exit 1
write_env "$OUT/env.txt"
cd /tmp  # not the repository root: its folders would shadow the installed package
timeout "${LIMIT_S:-540}" python3 -m pytest -v -p no:cacheprovider -m gpu -o addopts="" --timeout 300 \
    -rfEs --durations 15 ${TESTS:-"$R/tests"} > "$OUT/gpu_tests.log" 2>&1
echo "pytest exit $?"
grep -E "^(FAILED|ERROR)|passed|failed" "$OUT/gpu_tests.log" | tail -30
