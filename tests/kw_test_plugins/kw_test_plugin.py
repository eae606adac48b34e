"""One plugin of every kind, registered by decorator on import (see tests/test_graph_plugins.py)."""
from __future__ import annotations

from kernelwright.agents.coder import CodeRequest, CodeResult
from kernelwright.graph.strategies import Strategy

from kernelwright.plugins import register

NODE_CALLS: list[int] = []
NAMES = {"coder": "plugin-echo", "strategy": "plugin_polish", "template": "plugin_copy", "tool": "plugin_tool",
         "node": "plugin_node", "backend": "plugin_backend"}


@register("coder", "plugin-echo")
class EchoCoder:
    name = "plugin-echo"

    @classmethod
    def from_context(cls, ctx):
        return cls()

    def generate(self, request: CodeRequest) -> CodeResult:
        return CodeResult(source=f"# {request.strategy} via {request.backend}\nclass ModelNew:\n    pass\n",
                          tokens=7, meta={"backend": request.backend})


register("strategy", "plugin_polish")(Strategy(
    "plugin_polish", lambda h: h.best is not None, priority=1000, parent="best",
    instructions="polish the best kernel"))


@register("template", "plugin_copy")
class CopyTemplate:
    name = "plugin_copy"

    def matches(self, request):
        return (request.metadata.get("template") or {}).get("kind") == "plugin_copy"

    def configs(self, request):
        return [{"copy": 1}, {"copy": 2}]

    def render(self, request, config):
        return f"# copy {config['copy']}\nclass ModelNew:\n    pass\n"


@register("tool", "plugin_tool")
def plugin_tool(attempt, verdict, context):
    return {"seen": verdict.status, "attempt": attempt["id"]}


@register("node", "plugin_node")
def plugin_node(state, runtime=None):
    NODE_CALLS.append(int(state.get("iteration") or 0))
    return {}


register("backend", "plugin_backend")(object())
