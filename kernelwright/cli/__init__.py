"""The `kernelwright` command. Each sub-command lives in its own module of this package."""
from __future__ import annotations

from importlib import import_module

import typer

app = typer.Typer(
    help="Write, verify and tune GPU kernels with an LLM-driven LangGraph loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: no "<bool>" after flags, "[default: x]" kept as written
)

# each kernelwright/cli/<name>.py defines `command`, registered as `kernelwright <name>`
_COMMANDS = ("verify", "run", "bench", "profile", "graph")

for _name in _COMMANDS:
    app.command(_name)(import_module(f"kernelwright.cli.{_name}").command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
