"""Run configurations from TOML files (configs/*.toml): model endpoint, budgets, strategies.

Keys are `Context` field names (graph/context.py), e.g.::

    coder = "llm"
    base_url = "https://integrate.api.nvidia.com/v1"
    model = "deepseek-ai/deepseek-r1"
    api_key_env = "NVIDIA_API_KEY"
    budget_s = 900
    token_budget = 2000000      # the run's total tokens (Context.max_tokens)
    fanout = 4
    [coder_options]
    temperature = 0.6
    max_answer_tokens = 4096    # cap on one answer (the old name `max_tokens` still works here)

Two limits were both called `max_tokens`; a top-level `max_tokens` is refused with a one-line
error naming the two new keys, because it silently ended runs early when meant per answer.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from kernelwright.graph.context import Context

IN_PROCESS_ONLY = {"verifier", "coder_factory", "run_id", "artifacts_dir", "paused_s"}
TOML_NAMES = {"token_budget": "max_tokens"}  # file key -> Context field
AMBIGUOUS = {"max_tokens": ("top-level max_tokens is ambiguous: write token_budget = N for the run's total "
                            "tokens, or max_answer_tokens = N under [coder_options] for one answer")}


_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_budget(text: str, what: str = "budget") -> float:
    """Seconds from "900", "90s", "15m", "1h" or "1h30m"; ValueError with a one-line hint otherwise.
    `what` names the value in the error (e.g. "--stall")."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)([smh])", text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"bad {what} {text!r}: use seconds or a duration like 90s, 15m, 1h")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"bad {what} {text!r}: it must be positive")
    return seconds


class ConfigError(ValueError):
    """A configuration file is missing or wrong; the message is one line."""


def load_run_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML run configuration and check every key against `Context`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: configuration file not found")
    try:
        values = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for key, message in AMBIGUOUS.items():
        if key in values:
            raise ConfigError(f"{path}: {message}")
    allowed = ({f.name for f in fields(Context)} - IN_PROCESS_ONLY - set(AMBIGUOUS)) | set(TOML_NAMES)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return {TOML_NAMES.get(key, key): value for key, value in values.items()}


def merge_with_cli(config: dict[str, Any], cli: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Options given on the command line (not None) win over the file; the file wins over defaults."""
    return {**defaults, **config, **{key: value for key, value in cli.items() if value is not None}}
