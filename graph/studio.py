"""Module-level compiled graph for `langgraph dev` / LangGraph Studio (see langgraph.json).

The server brings its own checkpointer. A run's input is `{"problem_path": ...}` (a path relative
to the folder the server runs in, or absolute) or `{"problem_source": ...}` (the problem file's
text); its `context` holds the fields of graph/context.py:Context, e.g. {"coder": "template",
"max_iterations": 2}. Artifacts go outside the project (graph/studio_context.py), so that writing
them does not reload the dev server.
"""
from kernelwright.graph.builder import make_graph
from kernelwright.graph.studio_context import StudioContext

graph = make_graph(context_schema=StudioContext)
