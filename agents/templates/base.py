"""The template-family contract used by the template coder."""
from __future__ import annotations

from typing import Any, Protocol

from kernelwright.agents.coder import CodeRequest


class TemplateFamily(Protocol):
    """Generates kernels for one class of problems from a launch-configuration space."""

    name: str
    # optional: True when the family also renders backward kernels for problems that declare a backward
    # pass (metadata "backward"); families without it are not asked for those problems
    trains: bool

    def matches(self, request: CodeRequest) -> bool:
        """True when this family can write a kernel for the request's problem."""

    def configs(self, request: CodeRequest) -> list[dict[str, Any]]:
        """Launch configurations to search, best first guess first (JSON-able dicts)."""

    def render(self, request: CodeRequest, config: dict[str, Any]) -> str:
        """Candidate source (a KernelBench `ModelNew` file) for one configuration."""
