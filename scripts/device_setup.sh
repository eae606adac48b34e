#!/usr/bin/env bash
# Source this on an offline GPU host from the repository root. It installs the carried wheels in
# .whl/ (dependencies plus kernelwright, made by scripts/pack_for_device.sh) into /tmp/site.
SITE=${KW_SITE:-/tmp/site}
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || return 1
export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$SITE/bin:$PATH"
(cd /tmp && python3 -c "import kernelwright.verifier.problem, pydantic, langgraph; print('kernelwright ready')")

# write_env FILE: the host, versions and the wheel's commit, for the results' provenance
write_env() {
    { nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
      python3 -c "import torch, triton, sys; print('python', sys.version.split()[0], 'torch', torch.__version__, 'triton', triton.__version__)"
      cat .whl/commit.txt; date -u; } > "$1" 2>&1
    cat "$1"
}
