#!/usr/bin/env bash
# One device call: GPU-marked tests and the verifier benchmarks (issues 3 and 16). Run from the repo
# root on the GPU host after `scripts/pack_for_device.sh` here; results under $OUT.
#   STEPS="tests verifier mix" (default: all three, in that order)
#   TESTS=paths   test files for the tests step (default: all of tests/), TESTS_S its time limit
set -uo pipefail
R=$PWD
OUT=${OUT:-$R/gpu_out}
STEPS=${STEPS:-tests verifier mix}
mkdir -p "$OUT"
source scripts/device_setup.sh || exit 1
write_env "$OUT/env.txt"
cd /tmp  # not the repository root: its folders would shadow the installed package
for step in $STEPS; do
    case $step in
    tests)
        echo "== GPU-marked tests"
        (cd "$R" && OUT="$OUT" LIMIT_S="${TESTS_S:-300}" bash scripts/gpu_tests.sh) ;;
    verifier)
        echo "== verifier benchmark"
        timeout "${VERIFIER_S:-300}" python3 "$R/benchmarks/verifier_bench.py" --out "$OUT" > "$OUT/verifier_bench.log" 2>&1
        echo "verifier_bench exit $?"; tail -8 "$OUT/verifier_bench.log" ;;
    mix)
        echo "== verifier on a mix"
        timeout "${MIX_S:-300}" python3 "$R/benchmarks/verifier_mix_bench.py" --out "$OUT" > "$OUT/verifier_mix.log" 2>&1
        echo "verifier_mix_bench exit $?"; tail -45 "$OUT/verifier_mix.log" ;;
    *) echo "unknown step $step (tests, verifier, mix)" >&2; exit 2 ;;
    esac
done
