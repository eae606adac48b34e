"""Runtime configuration of one run, passed to the graph through `context_schema`.

Everything here is configuration, not state: it is not checkpointed, so a resumed run must be
given the same context again (`run_graph` does this from the run's saved settings).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from langgraph.runtime import Runtime


@dataclass(kw_only=True)
class Context:
    """Knobs of a kernelwright run. Defaults give a 15-minute offline run with the template coder."""

    run_id: str = ""
    """Id of the run (also the checkpoint thread id); empty = taken from the thread id or generated."""

    coder: str = "template"
    """Registered coder name: "template" (offline), "llm" (OpenAI-compatible endpoint), or a plugin."""

    model: str | None = None
    """Model name for LLM coders, e.g. "deepseek-ai/deepseek-r1"."""

    base_url: str | None = None
    """OpenAI-compatible endpoint for LLM coders, e.g. "http://localhost:8000/v1". There is no default:
    None means KERNELWRIGHT_BASE_URL, and without it the LLM coder refuses to start (`llm_endpoint`)."""

    api_key_env: str = "KERNELWRIGHT_API_KEY"
    """Name of the environment variable holding the endpoint's API key (never the key itself)."""

    budget_s: float = 900.0
    """Wall-clock budget in seconds (15 minutes by default, as in the reference experiment)."""

    max_iterations: int | None = None
    """Stop after this many plan -> code -> verify -> critique rounds (None = until the budget ends)."""

    max_tokens: int | None = None
    """The run's total token budget: stop once the coders have used this many tokens in total (None = no
    token budget). In a TOML file this key is `token_budget`; the per-answer cap of the LLM coder is
    `coder_options.max_answer_tokens`."""

    seed_offline: bool = True
    """With an LLM coder, the first candidate of iteration 1 comes from the offline template coder, so the
    model's later prompts start from a verified kernel and its timing (issue 18). Off: the LLM starts cold."""

    fanout: int = 2
    """Candidates generated per iteration (parallel coder calls)."""

    max_concurrency: int = 4
    """Upper bound on nodes running at once (coder calls in flight)."""

    target_speedup: float | None = None
    """Stop early once the best kernel is this many times faster than eager PyTorch (GPU timings only)."""

    strategies: list[str] | None = None
    """Strategy names the planner may use (None = every registered strategy)."""

    stall_limit: int = 3
    """Iterations without a better kernel before the planner diversifies / restarts."""

    device: str = "auto"
    """Verifier device spec: auto | cpu | cuda | cuda:0,1 | all."""

    artifacts_dir: str = "runs"
    """Folder holding runs/<run_id>/attempt_<id>.py|.json, prompts and the best kernel."""

    verify_options: dict[str, Any] = field(default_factory=dict)
    """Overrides of `VerifyOptions` fields (e.g. {"trials": 5, "profile": true})."""

    coder_options: dict[str, Any] = field(default_factory=dict)
    """Extra keyword options for the coder (temperature, max_answer_tokens, context_tokens, timeout_s, ...)."""

    paused_s: float = 0.0
    """Seconds the run spent stopped before a resume; not counted against the wall-clock budget."""

    verifier: Any = None
    """In-process only: a callable (problem, [candidate paths], VerifyOptions, device) -> [Verdict]
    standing in for the verifier pool (benchmarks, tests). None = the real out-of-process verifier."""

    coder_factory: Any = None
    """In-process only: a callable (Context) -> Coder that replaces the registry lookup."""


MISSING_ENDPOINT = ("--coder llm needs an endpoint you chose: pass --base-url URL, set KERNELWRIGHT_BASE_URL, "
                    "or set base_url in a --config file (e.g. configs/vllm_local.toml)")


def llm_endpoint(ctx: Context) -> str | None:
    """The endpoint the user chose for the LLM coder (context, else KERNELWRIGHT_BASE_URL); None if none.

    Problem text is only ever sent to an endpoint chosen here, never to a built-in default."""
    return ctx.base_url or os.environ.get("KERNELWRIGHT_BASE_URL") or None


def context_of(runtime: Runtime[Context] | None) -> Context:
    """The run's Context; defaults when the graph was invoked without one (e.g. from Studio)."""
    ctx = getattr(runtime, "context", None) if runtime is not None else None
    if ctx is None:
        return Context()
    if isinstance(ctx, dict):
        return Context(**ctx)
    return ctx
