"""Profile a candidate: Nsight Compute figures and a plain-words diagnosis for the critic.

`profile_candidate(problem, candidate)` returns the dict that goes into `Verdict.profile`:
``{"figures": {...}, "diagnosis": "...", "source": "ncu" | "triton" | "none", ...}``.
With ncu it runs a small driver under ``ncu --clock-control none`` (sections SpeedOfLight,
Occupancy, MemoryWorkloadAnalysis, LaunchStats, kernels filtered to the candidate's NVTX range),
imports the report as raw CSV and reduces it. The driver runs the candidate in the verifier's
sandbox (`sandbox_launch`): scrubbed environment, private dirs, PID and network namespaces,
rlimits and the audit hook, with ncu wrapped around the sandboxed process. Without ncu it falls back
to Triton/CuPy compile metadata (registers, spills, shared memory). On the CPU it says that no profile is available.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kernelwright.verifier.environment import cuda_available as _cuda_available
from kernelwright.verifier.problem import LoadError, Problem, looks_like_path, read_candidate
from kernelwright.verifier.profile import driver as profile_driver
from kernelwright.verifier.profile.diagnose import bound_kind, diagnose
from kernelwright.verifier.profile.parse import EXTRA_METRICS, SECTIONS, NcuParseError, parse_raw_csv, reduce_kernels
from kernelwright.verifier.profile.sandbox_launch import SandboxLaunch

Runner = Callable[..., subprocess.CompletedProcess]  # runner(cmd, timeout_s, env=None)
CPU_NOTE = "no profile available on the CPU: Nsight Compute and compile metadata need a CUDA GPU"


def _run(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `cmd` with exactly `env` (None: this process's) in its own process group; never raises:
    a timeout (the whole group is killed) or an unstartable program becomes a failed result."""
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                text=True, env=env, start_new_session=True)
    except OSError as exc:
        return subprocess.CompletedProcess(cmd, 127, "", f"cannot run {cmd[0]}: {exc.strerror or exc}")
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.communicate()
        return subprocess.CompletedProcess(cmd, 124, "", f"{Path(cmd[0]).name} timed out after {timeout_s:.0f} s")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def find_ncu() -> str | None:
    found = shutil.which("ncu")
    if found:
        return found
    for base in ("/usr/local/cuda/bin/ncu", "/opt/nvidia/nsight-compute/ncu"):
        if os.path.exists(base):
            return base
    return None


def ncu_command(ncu: str, report: str, driver_args: list[str], extra_metrics: bool = True) -> list[str]:
    """The profiling command line (one `--section` per section; optional extra metrics)."""
    cmd = [ncu, "--clock-control", "none", "--target-processes", "all", "--nvtx", "--nvtx-include",
           f"{profile_driver.RANGE}/", "--export", report, "--force-overwrite"]
    for section in SECTIONS:
        cmd += ["--section", section]
    if extra_metrics:
        cmd += ["--metrics", ",".join(EXTRA_METRICS)]
    return cmd + driver_args


def import_command(ncu: str, report_file: str) -> list[str]:
    """Raw page as CSV in base units (nanoseconds, bytes): without `--print-units base` ncu scales
    each value on its own (usecond, Kbyte) and the units row need not fit every row."""
    return [ncu, "--import", report_file, "--page", "raw", "--csv", "--print-units", "base"]


def profile_from_csv(text: str, calls: int = 1, metadata: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Figures and diagnosis from an ncu raw-page CSV (plus optional compile metadata)."""
    figures = reduce_kernels(parse_raw_csv(text), calls=calls)
    figures.update(_metadata_figures(metadata or [], figures))
    figures["bound"] = bound_kind(figures)
    return {"figures": figures, "diagnosis": diagnose(figures), "source": "ncu", "available": True}


def _metadata_figures(metadata: list[dict[str, Any]], present: dict[str, Any] | None = None) -> dict[str, Any]:
    """Registers/spills/shared from compile metadata of the heaviest (most registers) kernel."""
    ok = [m for m in metadata if m.get("registers") is not None]
    if not ok:
        return {}
    top = max(ok, key=lambda m: m["registers"] or 0)
    present = present or {}
    out: dict[str, Any] = {"compiled_kernels": [m.get("name") for m in ok], "spills": top.get("spills")}
    if present.get("registers") is None:
        out["registers"] = top["registers"]
    if present.get("shared_bytes") is None:
        out["shared_bytes"] = top.get("shared_bytes")
    return out


def _meta_from_stdout(stdout: str) -> list[dict[str, Any]]:
    for line in reversed(stdout.splitlines()):
        if line.startswith("KW_META "):
            try:
                return json.loads(line[len("KW_META "):])
            except json.JSONDecodeError:
                return []
    return []


def problem_source(problem: Any) -> str:
    """Source text of a Problem, a problem file path or source text (not executed here)."""
    if isinstance(problem, Problem):
        return problem.source
    text = str(problem)
    if looks_like_path(problem):
        if not Path(text).is_file():
            raise LoadError(f"{text}: problem file not found")
        return Path(text).read_text()
    return text


def profile_candidate(problem: Any, candidate: str | Path, *, device: str = "auto", ncu: str | None = "auto",
                      calls: int = 3, timeout_s: float = 600.0, runner: Runner = _run) -> dict[str, Any]:
    """Profile `candidate` on `problem`; never raises for tool failures (they go to "error")."""
    prob_source = problem_source(problem)
    source, label = read_candidate(candidate)
    use_cuda = _cuda_available() if device == "auto" else device.startswith("cuda")
    if not use_cuda:
        return {"figures": {}, "diagnosis": CPU_NOTE, "source": "none", "available": False, "candidate": label}
    ncu_path = find_ncu() if ncu == "auto" else ncu
    with tempfile.TemporaryDirectory(prefix="kw_profile_") as tmp:
        launch = SandboxLaunch(Path(tmp), device)
        paths = {"problem": Path(tmp) / "problem.py", "candidate": launch.workdir / "candidate.py"}
        paths["problem"].write_text(prob_source)
        paths["candidate"].write_text(source)
        # -P: the driver's own folder (verifier/profile) must not come first on sys.path, where its
        # module names could shadow the standard library's
        driver = [sys.executable, "-P", profile_driver.__file__, str(paths["problem"]), str(paths["candidate"]),
                  "--calls", str(calls), "--device", "cuda" if device == "auto" else "cuda" if use_cuda else device,
                  *launch.driver_flags()]
        t0 = time.time()
        plain = runner(launch.wrap(driver), timeout_s, env=launch.env)
        plain_s = time.time() - t0
        sandbox = _sandbox_from_stdout(plain.stdout)
        if plain.returncode != 0:
            tail = (plain.stderr or plain.stdout).strip().splitlines()[-1:] or ["no output"]
            return {"figures": {}, "diagnosis": f"profile driver failed: {tail[0][:300]}", "source": "none",
                    "available": False, "error": tail[0][:300], "candidate": label, "sandbox": sandbox}
        metadata = _meta_from_stdout(plain.stdout)
        error = None
        if ncu_path:
            result, error = _profile_with_ncu(ncu_path, Path(tmp), driver, calls, metadata, timeout_s, runner, launch)
            if result is not None:
                result.update({"candidate": label, "driver_s": plain_s, "sandbox": sandbox})
                result["overhead_s"] = result["ncu_s"] - plain_s
                return result
        figures = _metadata_figures(metadata)
        reason = error or "ncu not found"
        if not figures:
            return {"figures": {}, "diagnosis": f"no profile available: {reason}; no compile metadata either",
                    "source": "none", "available": False, "error": reason, "candidate": label, "sandbox": sandbox}
        text = diagnose(figures) + f" (compile metadata only: {reason})"
        return {"figures": figures, "diagnosis": text, "source": "metadata", "available": True,
                "error": error, "candidate": label, "kernels": metadata, "sandbox": sandbox}


def _sandbox_from_stdout(stdout: str) -> dict[str, Any]:
    """The sandbox layers the driver reported (`KW_SANDBOX` line); empty when it never got there."""
    for line in (stdout or "").splitlines():
        if line.startswith("KW_SANDBOX "):
            try:
                return json.loads(line[len("KW_SANDBOX "):])
            except json.JSONDecodeError:
                return {}
    return {}


def _profile_with_ncu(ncu: str, tmp: Path, driver: list[str], calls: int, metadata: list[dict[str, Any]],
                      timeout_s: float, runner: Runner,
                      launch: SandboxLaunch) -> tuple[dict[str, Any] | None, str | None]:
    """ncu launches the driver (which then enters the sandbox), all in the scrubbed environment."""
    report = str(tmp / "profile")
    t0 = time.time()
    run = runner(launch.wrap(ncu_command(ncu, report, driver)), timeout_s, env=launch.env)
    extra = True
    if run.returncode != 0 and "metric" in (run.stdout + run.stderr).lower():
        extra = False  # an extra metric is unknown to this ncu/GPU: profile with the sections alone
        t0 = time.time()  # the overhead counts the profiling run that produced the figures
        run = runner(launch.wrap(ncu_command(ncu, report, driver, extra_metrics=False)), timeout_s, env=launch.env)
    ncu_s = time.time() - t0
    if run.returncode == 0 and not Path(report + ".ncu-rep").exists():
        return None, "ncu profiled no kernel inside the candidate's NVTX range (did it launch a GPU kernel?)"
    if run.returncode != 0 or not Path(report + ".ncu-rep").exists():
        text = [ln for ln in (run.stderr + "\n" + run.stdout).splitlines()
                if ln.strip() and not ln.startswith("KW_META ")]
        lines = [ln for ln in text if "==ERROR==" in ln or "ERR_" in ln] or text[-1:] or ["no output"]
        return None, f"ncu failed (exit {run.returncode}): {lines[0].strip()[:300]}"
    t1 = time.time()
    raw = runner(import_command(ncu, report + ".ncu-rep"), timeout_s)
    import_s = time.time() - t1
    try:
        result = profile_from_csv(raw.stdout or raw.stderr or "", calls=calls, metadata=metadata)
    except NcuParseError as exc:
        return None, f"ncu report unreadable: {exc}"
    if not result["figures"]:
        return None, "ncu profiled no kernel inside the candidate's NVTX range (did it launch a GPU kernel?)"
    result.update({"ncu_s": ncu_s + import_s, "ncu_profile_s": ncu_s, "ncu_import_s": import_s,
                   "extra_metrics": extra, "kernels": metadata})
    return result, None
