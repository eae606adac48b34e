"""scripts/carry_parts.py: files over a device call's carry limit travel in groups of parts and are rebuilt,
checked by sha256, once every group has arrived (run as the host runs it, through the command line)."""
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "carry_parts.py"
KIB = 1 / 1024  # the script counts MiB; these tests cut KiB-sized files


def carry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def test_a_large_file_travels_in_groups_and_is_rebuilt_only_when_all_have_arrived(tmp_path):
    src, out, stage = tmp_path / "wheels", tmp_path / "carry", tmp_path / "stage"
    src.mkdir()
    big = bytes(range(256)) * 40  # 10 KiB: five 2-KiB parts
    (src / "big.whl").write_bytes(big)
    (src / "small.whl").write_bytes(b"small wheel")
    done = carry("split", str(src), str(out), "--group-mib", str(5 * KIB), "--part-mib", str(2 * KIB))
    assert done.returncode == 0, done.stderr
    groups = sorted(out.iterdir(), key=lambda p: int(p.name))
    assert len(groups) == 3 and all(sum(f.stat().st_size for f in g.iterdir() if f.suffix != ".json") <= 5 * 1024
                                    for g in groups)
    first = carry("join", str(groups[0]), "--stage", str(stage))
    assert first.returncode == 3 and "carry group(s) 2, 3 next" in first.stderr
    assert not (stage / "big.whl").exists()
    last = carry("join", *map(str, groups[1:]), "--stage", str(stage))
    assert last.returncode == 0, last.stderr
    assert (stage / "big.whl").read_bytes() == big and (stage / "small.whl").read_bytes() == b"small wheel"


def test_a_corrupted_part_is_refused_and_nothing_half_built_is_left(tmp_path):
    src, out, stage = tmp_path / "wheels", tmp_path / "carry", tmp_path / "stage"
    src.mkdir()
    (src / "big.whl").write_bytes(b"x" * 4096)
    assert carry("split", str(src), str(out), "--group-mib", str(8 * KIB), "--part-mib", str(2 * KIB)).returncode == 0
    part = next((out / "1").glob("big.whl.part001"))
    part.write_bytes(b"y" * 2048)
    done = carry("join", str(out / "1"), "--stage", str(stage))
    assert done.returncode == 2 and "sha256 of the rebuilt file does not match" in done.stderr
    assert not (stage / "big.whl").exists()


def test_bad_arguments_get_one_line_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    done = carry("split", str(tmp_path / "empty"), str(tmp_path / "out"))
    assert done.returncode == 2 and done.stderr.strip() == f"carry_parts: no files in {tmp_path / 'empty'}"
    done = carry("join", str(tmp_path / "empty"), "--stage", str(tmp_path / "stage"))
    assert done.returncode == 2 and "no manifest.json" in done.stderr
