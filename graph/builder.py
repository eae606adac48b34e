"""The graph wiring, and the only place that knows it. Reads top to bottom like the diagram:

    START -> start -> plan =(Send x fan-out)=> code -> precheck -> verify -> [node plugins] -> critique
    critique -> plan (next strategy) | END (budget spent, target met, coder gave up)

Node plugins (registry kind "node": a callable `(state, runtime) -> dict` of state updates) are
chained between verify and critique in name order; tool plugins run inside `verify`.
"""
from __future__ import annotations

from typing import Any

from kernelwright.graph.context import Context
from kernelwright.graph.nodes.code import code
from kernelwright.graph.nodes.critique import critique
from kernelwright.graph.nodes.plan import plan
from kernelwright.graph.nodes.precheck import precheck
from kernelwright.graph.nodes.start import start
from kernelwright.graph.nodes.verify import verify
from kernelwright.graph.plugins import registry
from kernelwright.graph.routing import route_after_critique, route_after_plan
from kernelwright.graph.state import InputState, State
from langgraph.graph import END, START, StateGraph


def make_graph(checkpointer: Any = None, context_schema: type[Context] = Context):
    """Build and compile the kernel-search graph (pass a checkpointer to make runs resumable).

    context_schema: `Context` or a subclass with other defaults (Studio's, graph/studio.py)."""
    builder = StateGraph(State, context_schema=context_schema, input_schema=InputState)
    builder.add_node("start", start)  # type: ignore[call-overload]  # langgraph's overloads lack (state, runtime, config)
    builder.add_node("plan", plan)
    builder.add_node("code", code)  # type: ignore[call-overload]  # a Send payload (CodePayload), not State
    builder.add_node("precheck", precheck)
    builder.add_node("verify", verify)
    builder.add_node("critique", critique)

    builder.add_edge(START, "start")
    builder.add_edge("start", "plan")
    builder.add_conditional_edges("plan", route_after_plan, ["code", END])
    builder.add_edge("code", "precheck")
    builder.add_edge("precheck", "verify")
    previous = "verify"
    for name, node in sorted(registry("node").items()):
        builder.add_node(f"plugin_{name}", node)
        builder.add_edge(previous, f"plugin_{name}")
        previous = f"plugin_{name}"
    builder.add_edge(previous, "critique")
    builder.add_conditional_edges("critique", route_after_critique, ["plan", END])
    return builder.compile(checkpointer=checkpointer, name="kernelwright")
