"""The coder contract: a request in, one candidate source (plus its reasoning) out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class CodeRequest:
    """What a coder is asked to do in one step of the loop."""

    problem_source: str
    problem_name: str
    description: str
    metadata: dict[str, Any]
    strategy: str                      # e.g. "first_draft", "fix_compile_error", "tune_launch_config"
    instructions: str = ""             # strategy text for an LLM
    feedback: str = ""                 # critic's words on the parent attempt
    parent_source: str | None = None   # the attempt being repaired or refined
    best_source: str | None = None     # best verified kernel so far
    backend: str = "triton"            # triton | cupy | load_inline
    attempt_index: int = 0             # position within the fan-out, for diversity
    iteration: int = 0
    tried: list[dict[str, Any]] = field(default_factory=list)  # meta of earlier attempts (configs tried), + status
    artifacts_dir: str | None = None   # the run's folder (runs/<run_id>); LLM coders keep prompts/replies there
    attempt_id: int | None = None      # id the candidate will get, to name its artifact files
    device: str = "auto"               # where candidates are verified (the run's device spec)
    analysis: dict[str, Any] = field(default_factory=dict)  # captured op graph, FLOPs, category (tools/opgraph)
    deadline: float | None = None      # time.time() at which the run's budget ends; coders return by then


@dataclass
class CodeResult:
    """A coder's answer. `source` is None when no usable code came back (see `error`)."""

    source: str | None
    reasoning: str = ""
    prompt: str = ""
    raw: str = ""
    tokens: int = 0
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class Coder(Protocol):
    """Anything with a name and a `generate` method is a coder."""

    name: str

    def generate(self, request: CodeRequest) -> CodeResult: ...
