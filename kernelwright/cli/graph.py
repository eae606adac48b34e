"""`kernelwright graph --mermaid | --png FILE`: draw the agent graph, offline.

--mermaid prints Mermaid text (paste into a README or mermaid.live). --png draws the same nodes
and edges with matplotlib, so no network or graphviz is needed (LangGraph's own draw_mermaid_png
calls the mermaid.ink web service, which air-gapped hosts cannot reach).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import typer


def mermaid_text() -> str:
    """Mermaid flowchart of the compiled graph (node plugins included)."""
    from kernelwright.graph.builder import make_graph

    return make_graph().get_graph().draw_mermaid()


def _layers(nodes: list[str], edges: list[Any]) -> dict[str, int]:
    """Depth of each node along forward edges from __start__ (back edges ignored)."""
    depth = {"__start__": 0}
    frontier = ["__start__"]
    while frontier:
        nxt = []
        for node in frontier:
            for e in edges:
                if e.source == node and e.target not in depth:
                    depth[e.target] = depth[node] + 1
                    nxt.append(e.target)
        frontier = nxt
    end = max(depth.values(), default=0) + 1
    for node in nodes:
        depth.setdefault(node, end)
    depth["__end__"] = max(v for k, v in depth.items() if k != "__end__") + 1
    return depth


def draw_png(path: Path) -> None:
    """Render the graph to a PNG with matplotlib (Agg): boxes top to bottom, dashed = conditional."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    from kernelwright.graph.builder import make_graph

    graph = make_graph().get_graph()
    names = list(graph.nodes)
    depth = _layers(names, graph.edges)
    pos = {}
    for level in sorted(set(depth.values())):
        row = [n for n in names if depth[n] == level]
        for i, node in enumerate(row):
            pos[node] = ((i - (len(row) - 1) / 2) * 2.2, -level * 1.2)
    fig, ax = plt.subplots(figsize=(5, 1.1 * (max(depth.values()) + 1)))
    for e in graph.edges:
        (x0, y0), (x1, y1) = pos[e.source], pos[e.target]
        back, skip = y1 >= y0, abs(y1 - y0) > 1.3  # loops bend left, long jumps bend right
        rad = -0.6 if back else (-0.5 if skip else 0.0)
        arrow = FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14,
                                linestyle="--" if e.conditional else "-", shrinkA=14, shrinkB=14,
                                connectionstyle=f"arc3,rad={rad}", color="#444")
        ax.add_patch(arrow)
    for node, (x, y) in pos.items():
        label = {"__start__": "START", "__end__": "END"}.get(node, node)
        ax.text(x, y, label, ha="center", va="center", fontsize=10,
                bbox={"boxstyle": "round,pad=0.4", "fc": "#bfb6fc" if node == "__end__" else "#f2f0ff", "ec": "#555"})
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 2.5, max(xs) + 2.5)
    ax.set_ylim(min(p[1] for p in pos.values()) - 0.8, 0.8)
    ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def command(
    mermaid: bool = typer.Option(False, "--mermaid", help="Print the graph as Mermaid text."),
    png: Path | None = typer.Option(None, "--png", help="Write a PNG picture of the graph (offline)."),
    as_json: bool = typer.Option(False, "--json", help="Print nodes and edges as JSON."),
) -> None:
    """Draw the kernel-search graph (plan -> code -> compile -> verify -> critique)."""
    if not (mermaid or png or as_json):
        typer.echo("error: choose --mermaid, --png FILE or --json", err=True)
        raise typer.Exit(2)
    if mermaid:
        typer.echo(mermaid_text())
    if png is not None:
        draw_png(png)
        typer.echo(f"graph picture written to {png}")
    if as_json:
        import json

        from kernelwright.graph.builder import make_graph

        graph = make_graph().get_graph()
        typer.echo(json.dumps({"nodes": list(graph.nodes), "edges": [
            {"source": e.source, "target": e.target, "conditional": e.conditional} for e in graph.edges]}))
