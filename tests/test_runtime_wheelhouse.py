"""scripts/build_wheelhouse.py: argument handling and the commands it would run (offline)."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "build_wheelhouse.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


def test_dry_run_targets_python_and_platform(tmp_path):
    result = run("--python-version", "3.12", "--platform", "manylinux_2_28_x86_64", "--extras", "llm,cuda13",
                 "--dest", str(tmp_path / "wh"), "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    download = next(line for line in lines if " download " in line)
    assert "--only-binary=:all:" in download and "--python-version 3.12" in download
    assert "--platform manylinux_2_28_x86_64" in download and "--implementation cp" in download
    assert any(" wheel --no-deps " in line for line in lines)
    requirements = lines[0]
    assert "pydantic>=2.7" in requirements and "langchain-deepseek>=0.1" in requirements
    assert "torch" not in requirements.split(":", 1)[1] and "cupy" not in requirements
    assert "pip install --no-index --find-links" in lines[-1] and "kernelwright[llm,cuda13]" in lines[-1]
    assert not (tmp_path / "wh").exists()  # a dry run writes nothing


def test_gpu_stack_only_on_request():
    result = run("--extras", "cuda13", "--include-gpu-stack", "--dry-run")
    assert "torch>=2.4" in result.stdout and "cupy-cuda13x" in result.stdout


def test_bad_arguments_exit_2():
    assert run("--python-version", "py3", "--dry-run").returncode == 2
    unknown = run("--extras", "gpu", "--dry-run")
    assert unknown.returncode == 2 and "unknown extra 'gpu'" in unknown.stderr
