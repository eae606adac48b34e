#!/usr/bin/env bash
# Run here before a device call: fetch the wheels the GPU host lacks (scripts/device_wheels.txt,
# once) and refresh the kernelwright wheel in .whl/. Then carry ".whl" and, on the host,
# `source scripts/device_setup.sh` first thing (from the repository root; run Python elsewhere).
set -e
cd "$(dirname "$0")/.."
mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_24_x86_64 --platform manylinux_2_31_x86_64 --platform manylinux_2_34_x86_64 \
    -d .whl -r scripts/device_wheels.txt 2>&1 | grep -v "is ignored" || true
rm -f .whl/kernelwright-*.whl
"${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}" -m pip wheel -q --no-deps --no-build-isolation -w .whl . 2>&1 | grep -vi "warn\|ignored\|!!\|\*\*\*" || true
# the commit the wheel was built from (+dirty): the host's copy of .git may be stale
echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo +dirty)" > .whl/commit.txt
ls .whl/kernelwright-*.whl
