"""Module-level compiled graph for `langgraph dev` / LangGraph Studio (see langgraph.json).

The server brings its own checkpointer; runtime configuration comes as the run's `context`
(the fields of graph/context.py:Context, e.g. {"coder": "template", "max_iterations": 2}).
"""
from kernelwright.graph.builder import make_graph

graph = make_graph()
