"""Every honest Triton candidate compiles for sm_90 (H100) with the launch configuration its
wrapper picks at full GPU size: catches GPU-only compile errors on a CPU-only CI machine."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "suite_sm90.py"


def test_triton_candidates_compile_for_sm90_with_tensor_cores_where_they_matter():
    env = dict(os.environ, TRITON_INTERPRET="0")
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=240)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows, f"no output from {SCRIPT.name}: {proc.stderr[-2000:]}"
    errors = [r for r in rows if r["error"]]
    assert not errors and proc.returncode == 0, errors or proc.stderr[-2000:]
    by_candidate = {r["candidate"]: r for r in rows}
    for name in ("matmul_bias_relu__triton.py", "attention_small__triton.py"):
        assert by_candidate[name]["wgmma"], f"{name}: no wgmma (tensor-core) instructions for sm_90"
