#!/usr/bin/env bash
# Run here: fetch FlashAttention-4's wheels for the GPU host (scripts/fa4_wheels.txt, ~110 MB) into
# .fa4/wheels and cut them into carry groups .fa4/carry/1, 2, ... (at most 40 MiB each, so one fits
# beside .whl in a device call). Then carry one group per call on a warm machine, each call starting
# with `source scripts/device_setup.sh && source scripts/fa4_setup.sh`; the last group installs FA4.
set -e
cd "$(dirname "$0")/.."
mkdir -p .fa4/wheels
python3 -m pip download -q --pre --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .fa4/wheels -r scripts/fa4_wheels.txt 2>&1 | grep -v "is ignored" || true
python3 scripts/carry_parts.py split .fa4/wheels .fa4/carry
