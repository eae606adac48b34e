"""Tables rendered three ways: markdown, HTML and rich (terminal)."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


def fmt(value: Any, digits: int = 2) -> str:
    """Cells: None -> '-', floats rounded, bools as yes/no."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def to_markdown(table: Table) -> str:
    lines = [f"### {table.title}", ""] if table.title else []
    lines.append("| " + " | ".join(table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(fmt(c).replace("|", "\\|") for c in row) + " |")
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>" for row in table.rows)
    title = f"<h3>{html.escape(table.title)}</h3>" if table.title else ""
    note = f"<p class='note'>{html.escape(table.note)}</p>" if table.note else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}\n"


def to_rich(table: Table) -> Any:
    from rich.table import Table as RichTable

    out = RichTable(title=table.title or None, caption=table.note or None)
    for header in table.headers:
        out.add_column(header)
    for row in table.rows:
        out.add_row(*(fmt(c) for c in row))
    return out
