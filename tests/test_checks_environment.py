"""Environment reads (issue 16, item 3): flagged statically and, when hidden, by the worker's watch."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from kernelwright.verifier import static_checks

import kernelwright

ROOT = Path(__file__).resolve().parents[1]
SOFTMAX = ROOT / "problems" / "softmax.py"


def rules_of(source: str) -> list[str]:
    return [f.rule for f in static_checks.check_source(source)]


@pytest.mark.parametrize("source", [
    "import os\nX = os.environ['HOME']\n",
    "import os\nX = os.environ.get('KW_PRODUCTION')\n",
    "import os\nX = os.getenv('KW_PRODUCTION')\n",
    "import os\nX = dict(os.environ)\n",
    "import os\nX = os.environb.get(b'HOME')\n",
    "from os import environ\nX = environ.get('HOME')\n",
    "from os import getenv as g\nX = g('HOME')\n",
    "import posix\nX = posix.environ[b'HOME']\n",
    "from posix import environ\n",
    "import os\nX = getattr(os, 'environ')\n",
    "import os\nX = os.path.expandvars('$HOME')\n",
    "import os as o\ndef f():\n    return o.environ.get('TRITON_INTERPRET2')\n",
])
def test_environment_read_is_flagged_statically(source):
    assert "environment_read" in rules_of(source), static_checks.check_source(source)


@pytest.mark.parametrize("source", [
    "import os\nX = os.environ.get('TRITON_INTERPRET') == '1'\n",
    "import os\nX = os.environ.get('TRITON_INTERPRET', '0') == '1'\n",
    "import os\nX = os.getenv('TRITON_INTERPRET')\n",
    "import os\nX = 'TRITON_INTERPRET' in os.environ\n",
    "import os\nX = os.environ['TRITON_INTERPRET']\n",
])
def test_reading_triton_interpret_is_allowed(source):
    assert "environment_read" not in rules_of(source), static_checks.check_source(source)


WATCH = '''
import os, posix
from kernelwright.verifier.sandbox import environ_watch
events = []
code = compile(SRC, "cand.py", "exec")
environ_watch.install(lambda: "cand.py", events.append)
exec(code, {"os": os, "posix": posix})
print(events)
'''


@pytest.mark.parametrize("src, expected", [
    ("os.getenv('HOME')", "environment: read 'HOME' from line 1"),
    ("os.environ.get('KW_X')", "environment: read 'KW_X' from line 1"),
    ("'KW_X' in os.environ", "environment: read 'KW_X' from line 1"),
    ("list(os.environ)", "environment: list from line 1"),
    ("posix.environ.get(b'HOME')", "environment: read 'HOME' from line 1"),
    ("os.path.expandvars('$KW_Y')", "environment: read 'KW_Y' from line 1"),
    ("os.environ['KW_Z'] = '1'", "environment: write 'KW_Z' from line 1"),
])
def test_watch_reports_reads_from_the_candidate_file(src, expected):
    out = subprocess.run([sys.executable, "-c", f"SRC = {src!r}\n{WATCH}"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert expected in out.stdout, out.stdout


def test_watch_ignores_allowed_vars_and_other_callers():
    src = "os.environ.get('TRITON_INTERPRET')\nimport json\njson.dumps(1)"
    run = 'exec(code, {"os": os, "posix": posix})'
    body = WATCH.replace(run, f"{run}\nos.environ.get('HOME')  # the harness, not cand.py")
    out = subprocess.run([sys.executable, "-c", f"SRC = {src!r}\n{body}"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_plain_read_is_rejected_at_the_static_stage():
    verdict = kernelwright.verify(SOFTMAX, ROOT / "tests" / "cheats" / "environment_read.py", device="cpu")
    assert verdict.status == "rejected" and verdict.rule == "environment_read", verdict.summary()
    assert verdict.stage == "static" and "os.environ" in verdict.message, verdict.message


def test_hidden_read_is_rejected_by_the_worker_watch():
    cheat = ROOT / "tests" / "cheats" / "environment_read__2.py"
    assert "environment_read" not in rules_of(cheat.read_text())  # the scan cannot see it
    verdict = kernelwright.verify(SOFTMAX, cheat, device="cpu", extra_shapes=False)
    assert verdict.status == "rejected" and verdict.rule == "environment_read", verdict.summary()
    assert "KW_PRODUCTION" in verdict.message


def test_watch_ignores_reads_of_gpu_library_settings():
    """CuPy's compiled core reads CUPY_* / CUDA_* settings with no Python frame of its own, so the read
    looks like the candidate line that called CuPy (seen on an H100): library settings are not reported,
    any other name still is."""
    src = "os.environ.get('CUPY_CACHE_DIR')\nos.getenv('CUDA_PATH')\nos.environ.get('KW_MODE')"
    out = subprocess.run([sys.executable, "-c", f"SRC = {src!r}\n{WATCH}"], capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[\"environment: read 'KW_MODE' from line 3\"]"
