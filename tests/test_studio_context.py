"""Studio runs keep their artifacts out of the folder `langgraph dev` watches (issue 15, item 2)."""
from __future__ import annotations

import os

import pytest
from kernelwright.graph.studio_context import SERVED, StudioContext, inside


def test_studio_artifacts_default_to_the_user_cache_outside_the_project(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert StudioContext().artifacts_dir == str(tmp_path / "kernelwright" / "studio-runs")
    assert StudioContext(artifacts_dir="").artifacts_dir == str(tmp_path / "kernelwright" / "studio-runs")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert StudioContext().artifacts_dir == str(tmp_path / "home" / ".cache" / "kernelwright" / "studio-runs")


@pytest.mark.parametrize("artifacts_dir", ["runs", ".", "problems/../runs", str(SERVED / "runs")])
def test_studio_refuses_artifacts_inside_the_watched_project(artifacts_dir):
    with pytest.raises(ValueError, match="inside .* which `langgraph dev` watches"):
        StudioContext(artifacts_dir=artifacts_dir)


def test_studio_keeps_a_folder_outside_the_project(tmp_path):
    if inside(tmp_path, SERVED):
        pytest.skip("the temporary folder lies inside the project")
    assert StudioContext(artifacts_dir=str(tmp_path / "a" / ".." / "kw")).artifacts_dir == str(tmp_path / "kw")


def test_studio_context_makes_no_blocking_call(monkeypatch, tmp_path):
    """The server builds the context on its event loop, where os.getcwd / stat raise BlockingError."""
    def blocked(*args, **kwargs):
        raise AssertionError("blocking call")
    for name in ("getcwd", "stat", "lstat", "listdir", "scandir"):
        monkeypatch.setattr(os, name, blocked)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert StudioContext(max_iterations=1).artifacts_dir == str(tmp_path / "kernelwright" / "studio-runs")
    assert StudioContext(artifacts_dir=str(tmp_path / "kw")).artifacts_dir == str(tmp_path / "kw")


def test_the_studio_graph_takes_the_studio_context():
    from kernelwright.graph.studio import graph
    assert graph.context_schema is StudioContext
    assert "artifacts_dir" in graph.get_context_jsonschema()["properties"]
