"""The offline default coder: renders kernels from template families and walks their configs.

Families register under the plugin kind "template" (contract: agents/templates/base.py); every
module of `kernelwright.agents.templates` is imported first so that they self-register.
Families are asked in order of their `priority` attribute (default 0; the general `lowered`
family has 50 and the `inductor` fallback 90, so problems with TEMPLATE metadata keep their
hand-written family). A problem that declares a backward pass is offered only to families that
render backward kernels (`trains`).
Config choice by strategy: first_draft -> the first config (the fan-out index picks the next
ones); any other strategy (tune_launch_config, refine_best, fix_* on a template output, ...) ->
the next config not yet tried (`request.tried`), so a run walks the whole space once; when a
family's configs are all tried, the next matching family goes on. switch_backend and diversify
ask the matching families not tried yet first.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import threading
from typing import Any

from kernelwright.agents.coder import CodeRequest, CodeResult
from kernelwright.graph.plugins import register, registry
from kernelwright.verifier import backward

_imported = False
_lock = threading.Lock()  # coder calls run in parallel threads


def import_families() -> None:
    """Import every module in kernelwright.agents.templates (families register on import)."""
    global _imported
    with _lock:
        if _imported:
            return
        package = importlib.import_module("kernelwright.agents.templates")
        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _imported = True


def families() -> dict[str, Any]:
    """Registered template families as instances, by name."""
    import_families()
    out = {}
    for name, entry in registry("template").items():
        out[name] = entry() if isinstance(entry, type) else entry
    return out


# strategies that ask for another approach: the next matching family that has not been tried
SWITCHING = {"switch_backend", "diversify"}


def _key(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


@register("coder", "template")
class TemplateCoder:
    """Coder that needs no model: picks a matching template family and a launch configuration."""

    name = "template"

    def __init__(self, only: tuple[str, ...] | None = None) -> None:
        self.only = tuple(only) if only else None  # family names to ask; None: every registered one

    @classmethod
    def from_context(cls, context: Any) -> TemplateCoder:
        return cls()

    def generate(self, request: CodeRequest) -> CodeResult:
        # lowest priority first (hand families 0, `lowered` 50, `inductor` 90), then by name; a family is
        # asked whether it matches only when the ones before it gave nothing, so the expensive general
        # families run only when needed
        ordered = sorted(families().items(), key=lambda item: (getattr(item[1], "priority", 0), item[0]))
        if self.only:
            unknown = sorted(set(self.only) - {n for n, _ in ordered})
            if unknown:
                raise ValueError(f"unknown template family {', '.join(unknown)} "
                                 f"(registered: {', '.join(n for n, _ in ordered)})")
            ordered = [(n, f) for n, f in ordered if n in self.only]
        training = backward.declared(request.metadata)
        if training:
            ordered = [(n, f) for n, f in ordered if getattr(f, "trains", False)]
        used = {t.get("template") for t in request.tried if t.get("template")}
        if request.strategy in SWITCHING and used:  # another family first, the tried ones after it
            ordered = [x for x in ordered if x[0] not in used] + [x for x in ordered if x[0] in used]
        exhausted = None
        for name, family in ordered:
            if not family.matches(request):
                continue
            result = self._from_family(name, family, request)
            if not result.meta.get("exhausted"):
                return result
            exhausted = exhausted or result  # every config tried: the next matching family goes on
        if exhausted is not None:
            return exhausted
        reasons = "; ".join(f"{n}: {why}" for n, f in ordered if hasattr(f, "explain") and (why := f.explain(request)))
        if training:
            trainers = ", ".join(n for n, _ in ordered)
            what = (f"no template family writes backward kernels for problem {request.problem_name} "
                    f"(families that do: {trainers}, for the problems they match)")
        else:
            what = f"no template matches problem {request.problem_name}" + (f" ({reasons})" if reasons else "")
        return CodeResult(source=None, meta={"fatal": True},
                          error=what + ": configure an LLM endpoint (--base-url, --model)")

    @staticmethod
    def _from_family(name: str, family: Any, request: CodeRequest) -> CodeResult:
        configs = family.configs(request)
        tried = {_key(t.get("config") or {}) for t in request.tried if t.get("template") == name}
        if request.strategy == "first_draft":
            order = configs
        else:
            order = [c for c in configs if _key(c) not in tried]
        index = request.attempt_index
        if index >= len(order):
            return CodeResult(
                source=None, meta={"template": name, "exhausted": True, "configs": len(configs)},
                error=f"all {len(configs)} configs of template {name!r} are tried; nothing left to search",
            )
        config = order[index]
        source = family.render(request, config)
        return CodeResult(
            source=source, meta={"template": name, "config": config},
            prompt=f"template {name} config {_key(config)} strategy {request.strategy}",
        )
