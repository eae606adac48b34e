#!/usr/bin/env bash
# Run here before a device call: refresh the kernelwright wheel in .whl/ (the dependency wheels
# stay). Then carry ".whl" and `source scripts/device_setup.sh` first thing on the GPU host.
set -e
cd "$(dirname "$0")/.."
rm -f .whl/kernelwright-*.whl
python3 -m pip wheel -q --no-deps --no-build-isolation -w .whl . 2>&1 | grep -vi "warn\|ignored" || true
ls .whl/kernelwright-*.whl
