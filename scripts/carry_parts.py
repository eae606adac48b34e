"""Move files larger than one device call's carry limit (64 MiB) to the GPU host in parts.

    python scripts/carry_parts.py split SRC_DIR OUT_DIR [--group-mib 40] [--part-mib 20]
        cuts SRC_DIR's files into parts of at most --part-mib, packs the parts into OUT_DIR/1,
        OUT_DIR/2, ... of at most --group-mib each and writes manifest.json (each file's name, size,
        sha256 and parts) into every group. Carry one group per device call.
    python scripts/carry_parts.py join GROUP_DIR... --stage DIR
        on the host: copies the given groups' parts into DIR (kept between calls on a warm machine),
        rebuilds every file whose parts are all there and checks its sha256. Exit 0 when every file of
        the manifest is rebuilt, 3 while parts are missing (it says which group to carry next).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

MIB = 2**20
MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def split(src: Path, out: Path, group_bytes: int, part_bytes: int) -> list[Path]:
    """Parts of every file in src, packed into numbered group folders under out; the groups."""
    if part_bytes > group_bytes:
        raise ValueError(f"a part ({part_bytes} bytes) must fit in a group ({group_bytes} bytes)")
    files = sorted(p for p in src.iterdir() if p.is_file())
    if not files:
        raise ValueError(f"no files in {src}")
    shutil.rmtree(out, ignore_errors=True)
    manifest: dict[str, dict] = {}
    groups: list[list[tuple[str, bytes]]] = [[]]
    sizes = [0]
    for path in files:
        data = path.read_bytes()
        parts = [data[i:i + part_bytes] for i in range(0, len(data), part_bytes)] or [b""]
        names = [f"{path.name}.part{i:03d}" for i in range(len(parts))]
        manifest[path.name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "parts": names}
        for name, part in zip(names, parts):
            if sizes[-1] + len(part) > group_bytes:
                groups.append([])
                sizes.append(0)
            groups[-1].append((name, part))
            sizes[-1] += len(part)
    where = {name: index for index, group in enumerate(groups, start=1) for name, _ in group}
    folders = []
    for index, group in enumerate(groups, start=1):
        folder = out / str(index)
        folder.mkdir(parents=True)
        for name, part in group:
            (folder / name).write_bytes(part)
        (folder / MANIFEST).write_text(json.dumps({"files": manifest, "group_of_part": where}, indent=1))
        folders.append(folder)
    return folders


def join(groups: list[Path], stage: Path) -> tuple[list[str], list[int]]:
    """Copy the groups' parts into stage and rebuild what is complete: (rebuilt files, groups still to carry)."""
    stage.mkdir(parents=True, exist_ok=True)
    for group in groups:
        for part in group.iterdir():
            shutil.copyfile(part, stage / part.name)
    if not (stage / MANIFEST).exists():
        raise ValueError(f"no {MANIFEST} in {', '.join(map(str, groups)) or 'the given groups'}")
    saved = json.loads((stage / MANIFEST).read_text())
    manifest, group_of_part = saved["files"], saved["group_of_part"]
    rebuilt, missing = [], set()
    for name, entry in manifest.items():
        target = stage / name
        absent = [p for p in entry["parts"] if not (stage / p).exists()]
        if target.exists() and sha256(target) == entry["sha256"]:
            rebuilt.append(name)
        elif absent:
            missing.update(group_of_part[p] for p in absent)
        else:
            with target.open("wb") as f:
                for part in entry["parts"]:
                    f.write((stage / part).read_bytes())
            if sha256(target) != entry["sha256"]:
                target.unlink()
                raise ValueError(f"{name}: sha256 of the rebuilt file does not match the manifest")
            rebuilt.append(name)
    return rebuilt, sorted(missing)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cut = sub.add_parser("split", help="cut files into carry groups")
    cut.add_argument("src", type=Path)
    cut.add_argument("out", type=Path)
    cut.add_argument("--group-mib", type=float, default=40)
    cut.add_argument("--part-mib", type=float, default=20)
    glue = sub.add_parser("join", help="rebuild files from carried groups")
    glue.add_argument("groups", type=Path, nargs="*")
    glue.add_argument("--stage", type=Path, required=True)
    args = parser.parse_args()
    try:
        if args.command == "split":
            folders = split(args.src, args.out, int(args.group_mib * MIB), int(args.part_mib * MIB))
            print("carry one per device call: " + " ".join(str(f) for f in folders))
            return 0
        rebuilt, missing = join([g for g in args.groups if g.is_dir()], args.stage)
    except (OSError, ValueError) as exc:
        print(f"carry_parts: {exc}", file=sys.stderr)
        return 2
    print(f"rebuilt {len(rebuilt)} file(s) in {args.stage}")
    if missing:
        print(f"parts missing: carry group(s) {', '.join(map(str, missing))} next", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
