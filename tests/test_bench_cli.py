"""`kernelwright bench` on the command line: --json output, --compare, one-line errors."""
import json

from typer.testing import CliRunner

from bench_fixtures import FAKE_RUN, write_problem
from kernelwright.cli import app


def _bench(tmp_path, *extra):
    args = ["bench", str(tmp_path / "suite"), "--db", str(tmp_path / "b.sqlite"), "--artifacts", str(tmp_path / "art"),
            "--devices", "cpu", "--workers", "thread", "--run-fn", FAKE_RUN, "--budget", "1m", *extra]
    return CliRunner().invoke(app, args)


def test_bench_json_then_rerun_skips_and_compare(tmp_path):
    write_problem(tmp_path / "suite", "1_a", speedup=1.6)
    (tmp_path / "suite" / "2_bad.py").write_text("def (\n")
    first = _bench(tmp_path, "--json", "--bench-id", "one", "--report", str(tmp_path / "rep"))
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert data["bench_id"] == "one" and data["ran"] == ["1_a"]
    assert data["metrics"]["fast_p"]["eager"]["1.5"] == 1.0
    assert data["broken"][0]["path"].endswith("2_bad.py")
    assert data["report"]["markdown"].endswith("report.md")
    again = json.loads(_bench(tmp_path, "--json", "--bench-id", "one").stdout)
    assert again["ran"] == [] and again["skipped"] == ["1_a"]
    _bench(tmp_path, "--json", "--bench-id", "two")
    compared = CliRunner().invoke(app, ["bench", "--compare", "one", "two", "--db", str(tmp_path / "b.sqlite"),
                                        "--json",
                                        "--report", str(tmp_path / "cmp")])
    assert compared.exit_code == 0
    data = json.loads(compared.stdout)
    assert data["problems"][0]["change"] == "same"
    assert "| 1_a | correct | correct | 1.60 | 1.60 | 1.00 | same |" in open(data["report"]["markdown"]).read()
    assert open(data["report"]["plot"], "rb").read(4) == b"\x89PNG"


def test_bad_budget_and_unknown_bench_exit_2_with_one_line(tmp_path):
    write_problem(tmp_path / "suite", "1_a")
    bad = _bench(tmp_path, "--budget", "soon")
    assert bad.exit_code == 2 and "bad budget 'soon'" in bad.output
    _bench(tmp_path, "--bench-id", "one")
    missing = CliRunner().invoke(app, ["bench", "--compare", "one", "nope", "--db", str(tmp_path / "b.sqlite")])
    assert missing.exit_code == 2 and "no bench 'nope'" in missing.output


def test_bad_max_wall_is_one_line_naming_the_option(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    result = CliRunner().invoke(app, ["bench", str(suite), "--max-wall", "soon", "--db", str(tmp_path / "b.sqlite")])
    assert result.exit_code == 2
    assert "--max-wall 'soon': use seconds or a duration like 90s or 2m" in result.output


def test_piped_bench_lines_are_not_wrapped(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    tmp_path = tmp_path / ("a-long-folder-name-" * 4)  # the results line is longer than 80 columns
    write_problem(tmp_path / "suite", "1_a", speedup=1.6)
    result = _bench(tmp_path, "--bench-id", "one")
    assert result.exit_code == 0, result.output
    assert f"bench one: ran 1, skipped 0 finished, 0 broken file(s); results in {tmp_path / 'b.sqlite'}" \
        in result.stdout.splitlines()
    assert any(line.startswith("correct 1_a 1.60x eager (") and line.endswith(" s)")
               for line in result.stdout.splitlines())
