"""The `kernelwright` command. Each sub-command lives in its own `cli_<name>.py` module."""
from __future__ import annotations

from importlib import import_module

import typer

app = typer.Typer(
    help="Write, verify and tune GPU kernels with an LLM-driven LangGraph loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# module name -> the function registered as a command of the same name
_COMMANDS = ("verify", "run", "bench", "profile", "graph")

for _name in _COMMANDS:
    try:
        _module = import_module(f"kernelwright.cli_{_name}")
    except ModuleNotFoundError as exc:  # a command whose module is not written yet
        if exc.name != f"kernelwright.cli_{_name}":
            raise
        continue
    app.command(_name)(_module.command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
