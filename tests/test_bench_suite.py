"""Suite discovery: natural order, broken files reported one line each and skipped."""
import pytest
from kernelwright.verifier.problem import LoadError

from bench_fixtures import write_problem
from kernelwright.bench.suite import discover


def test_broken_files_are_reported_and_the_rest_listed(tmp_path):
    write_problem(tmp_path, "10_mul")
    write_problem(tmp_path, "2_mul")
    (tmp_path / "3_syntax.py").write_text("def f(:\n")
    (tmp_path / "4_no_inputs.py").write_text("import torch\nclass Model(torch.nn.Module):\n    pass\n")
    (tmp_path / "5_bad_import.py").write_text(
        "import not_a_module_kw\nclass Model: pass\ndef get_inputs(): return []\ndef get_init_inputs(): return []\n")
    (tmp_path / "__init__.py").write_text("")
    suite = discover(tmp_path)
    assert [p.key for p in suite.problems] == ["2_mul", "10_mul"]
    messages = {b.path.rsplit("/", 1)[-1]: b.message for b in suite.broken}
    assert set(messages) == {"3_syntax.py", "4_no_inputs.py", "5_bad_import.py"}
    assert "syntax error at line 1" in messages["3_syntax.py"]
    assert "no `get_inputs`, `get_init_inputs` defined" in messages["4_no_inputs.py"]
    assert "ModuleNotFoundError" in messages["5_bad_import.py"]
    assert all("\n" not in m for m in messages.values())


def test_recursive_keys_keep_the_subfolder(tmp_path):
    write_problem(tmp_path / "level1", "1_a")
    write_problem(tmp_path / "level2", "1_a")
    assert [p.key for p in discover(tmp_path, recursive=True).problems] == ["level1/1_a", "level2/1_a"]
    assert discover(tmp_path).problems == []


def test_missing_suite_folder_is_a_one_line_error(tmp_path):
    with pytest.raises(LoadError, match="suite directory not found"):
        discover(tmp_path / "nope")
