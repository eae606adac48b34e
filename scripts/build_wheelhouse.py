#!/usr/bin/env python3
"""Build a wheelhouse of kernelwright and its dependencies for an air-gapped host.

    python scripts/build_wheelhouse.py --python-version 3.12 --platform manylinux_2_28_x86_64 \\
        --extras llm --dest wheelhouse
    # copy wheelhouse/ to the host, then there:
    pip install --no-index --find-links wheelhouse kernelwright[llm]

Wheels are downloaded for the target interpreter and platform (`pip download --only-binary=:all:`),
so this runs on any machine with internet. torch, triton and CuPy are left out by default: GPU
hosts bring builds matched to their CUDA; add --include-gpu-stack to download them too.
`--dry-run` prints the commands without running them.
"""
from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPU_STACK = re.compile(r"^(torch|triton|cupy(-cuda\w+)?)$", re.IGNORECASE)
DEFAULT_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux2014_x86_64")


def _read_pyproject(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(path.read_text())


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]


def requirements(project: dict, extras: list[str], include_gpu_stack: bool) -> list[str]:
    """kernelwright's requirements plus the extras' ones, without the GPU stack unless asked."""
    optional = project["project"].get("optional-dependencies", {})
    unknown = [e for e in extras if e not in optional]
    if unknown:
        raise ValueError(f"unknown extra {unknown[0]!r}; known: {', '.join(sorted(optional))}")
    found = list(project["project"].get("dependencies", []))
    for extra in extras:
        found += optional[extra]
    kept = [r for r in found if include_gpu_stack or not GPU_STACK.match(_name(r))]
    return list(dict.fromkeys(kept))


def commands(args: argparse.Namespace, requirements_file: Path) -> list[list[str]]:
    download = [args.python, "-m", "pip", "download", "--only-binary=:all:", "--python-version", args.python_version,
                "--implementation", "cp", "--dest", str(args.dest), "-r", str(requirements_file)]
    for platform in args.platform or DEFAULT_PLATFORMS:
        download += ["--platform", platform]
    own = [args.python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(args.dest),
           str(ROOT)]
    return [download, own]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python-version", default="3.12", help="target interpreter, e.g. 3.12")
    parser.add_argument("--platform", action="append", help="target wheel platform tag (repeatable)")
    parser.add_argument("--extras", default="llm", help="comma-separated extras to include (empty: none)")
    parser.add_argument("--dest", type=Path, default=Path("wheelhouse"), help="output folder")
    parser.add_argument("--include-gpu-stack", action="store_true", help="also download torch, triton, cupy")
    parser.add_argument("--python", default=sys.executable, help="interpreter whose pip does the work")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"3\.\d{1,2}", args.python_version):
        parser.error(f"--python-version {args.python_version!r}: give major.minor, e.g. 3.12")
    for platform in args.platform or []:
        if not re.fullmatch(r"[a-z0-9_]+", platform):
            parser.error(f"--platform {platform!r}: give a wheel platform tag, e.g. manylinux_2_28_x86_64")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    extras = [e.strip() for e in args.extras.split(",") if e.strip()]
    try:
        reqs = requirements(_read_pyproject(ROOT / "pyproject.toml"), extras, args.include_gpu_stack)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    requirements_file = args.dest / "requirements.txt"
    steps = commands(args, requirements_file)
    spec = f"kernelwright[{','.join(extras)}]" if extras else "kernelwright"
    install = f"pip install --no-index --find-links {args.dest} '{spec}'"
    if args.dry_run:
        print(f"# requirements ({requirements_file}): " + " ".join(shlex.quote(r) for r in reqs))
        for step in steps:
            print(shlex.join(step))
        print(f"# then on the host: {install}")
        return 0
    args.dest.mkdir(parents=True, exist_ok=True)
    requirements_file.write_text("\n".join(reqs) + "\n")
    for step in steps:
        if subprocess.run(step).returncode != 0:
            print(f"error: step failed: {shlex.join(step)[:300]}", file=sys.stderr)
            return 1
    print(f"wheelhouse ready in {args.dest}; on the host: {install}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
