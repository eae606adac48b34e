"""Plugins of every kind (decorator and entry point) reach the graph without editing the builder."""
from __future__ import annotations

import importlib
import sys
import textwrap

import pytest
from kernelwright.graph import plugins
from kernelwright.graph.builder import make_graph
from kernelwright.graph.context import Context

from graph_helpers import ScriptedVerifier, timed

PROBLEM = '''import torch
import torch.nn as nn
TEMPLATE = {"kind": "plugin_copy"}
class Model(nn.Module):
    def forward(self, x):
        return x + 1
def get_inputs():
    return [torch.randn(4)]
def get_init_inputs():
    return []
'''


@pytest.fixture
def test_plugin():
    plugins.load_plugins()
    module = importlib.import_module("kw_test_plugins.kw_test_plugin")  # tests/ is on sys.path under pytest
    module = importlib.reload(module)
    module.NODE_CALLS.clear()
    yield module
    for kind, name in module.NAMES.items():
        plugins._registries[kind].pop(name, None)


def run(ctx, problem=PROBLEM):
    return make_graph().invoke({"problem_source": problem}, context=ctx, config={"recursion_limit": 200})


def test_decorator_plugins_of_every_kind_are_used(test_plugin, tmp_path):
    # iteration 1: both incorrect (stall 1); iteration 2: incorrect again -> stall 2 -> switch_backend
    verifier = ScriptedVerifier([timed("incorrect")] * 4 + [timed("correct"), timed("incorrect")])
    enabled = ["first_draft", "fix_numerics", "switch_backend", "plugin_polish"]  # no built-in for a best kernel
    ctx = Context(coder="plugin-echo", verifier=verifier, max_iterations=4, artifacts_dir=str(tmp_path),
                  strategies=enabled)
    state = run(ctx)
    attempts = state["attempts"]
    strategies = [a["strategy"] for a in attempts]
    assert strategies[:2] == ["first_draft", "first_draft"]
    assert strategies[4:6] == ["switch_backend", "switch_backend"]
    assert attempts[4]["backend"] == "plugin_backend"  # the registered backend is offered to the coder
    assert strategies[6:8] == ["plugin_polish", "plugin_polish"]  # the plugin strategy wins once a best exists
    assert all(a["coder"] == "plugin-echo" for a in attempts)
    assert [a["meta"]["tools"]["plugin_tool"] for a in attempts[:2]] == [
        {"seen": "incorrect", "attempt": 1}, {"seen": "incorrect", "attempt": 2}]
    assert test_plugin.NODE_CALLS == [1, 2, 3, 4]
    assert "plugin_plugin_node" in make_graph().get_graph().nodes
    assert state["tokens"] == 7 * 8


def test_template_plugin_is_found_by_the_template_coder(test_plugin, tmp_path):
    verifier = ScriptedVerifier([timed("correct")] * 2)
    ctx = Context(verifier=verifier, max_iterations=1, artifacts_dir=str(tmp_path), strategies=["first_draft"])
    state = run(ctx)
    assert [{k: a["meta"][k] for k in ("template", "config")} for a in state["attempts"]] == [
        {"template": "plugin_copy", "config": {"copy": 1}}, {"template": "plugin_copy", "config": {"copy": 2}}]


def test_entry_point_plugin_is_loaded_from_a_dist_info(tmp_path, monkeypatch):
    (tmp_path / "kw_ep_demo.py").write_text(textwrap.dedent('''
        from kernelwright.graph.plugins import register
        LOADED = []
        def setup():
            LOADED.append(1)
            register("coder", "ep-coder")(type("EpCoder", (), {"name": "ep-coder"}))
    '''))
    dist = tmp_path / "kw_ep_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kw-ep-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[kernelwright.plugins]\ndemo = kw_ep_demo:setup\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(plugins, "_entry_points_loaded", False)
    try:
        assert "ep-coder" in plugins.registry("coder")
        assert sys.modules["kw_ep_demo"].LOADED == [1]
        assert "template" in plugins.registry("coder")  # built-ins still there
    finally:
        plugins._registries["coder"].pop("ep-coder", None)
