"""Inductor's output code for one problem, written by a subprocess (``python -m`` this module).

Why a subprocess: Inductor keeps process-wide state (caches, compile workers, on a CPU the Triton
driver of fake_driver.py) and can take seconds to minutes; the coder's process stays clean, and a
crash or hang costs one candidate. The parent sends a JSON request on stdin and reads one JSON
object from stdout:

    request: {"source": problem source, "overrides": module constants, "device": "cuda" | "cpu",
              "patches": torch._inductor.config overrides}
    answer:  {"code": the output module's source, "state_names", "n_params", "tensor_positions",
              "shapes", "single_output", "launches": {kernel: {"chosen", "configs", "grid_type",
              "extra_args", "signature"}}} or {"error": one line}

How: the problem's Model is built on the device, its forward traced with the parameters and
buffers as explicit inputs (torch.func.functional_call, make_fx), and that graph compiled with
``torch._inductor.compile`` under the config patches; the output code is taken from Inductor's
``GraphLowering.save_output_code`` hook. On a GPU the compiled module then runs once, so each
kernel's launch config is the one Inductor's autotuner chose; on a CPU nothing runs and the
configs are Inductor's heuristic candidates.
"""
from __future__ import annotations

import json
import sys
from typing import Any
from unittest import mock

import torch
from kernelwright.agents.templates.lowered.capture import RANDOM, problem_module


def _config(cfg: Any) -> dict[str, Any]:
    return {"kwargs": {k: int(v) for k, v in cfg.kwargs.items()}, "num_warps": int(cfg.num_warps),
            "num_stages": int(cfg.num_stages)}


def _launches(module: Any, ran: bool) -> dict[str, Any]:
    """Every Triton kernel of the loaded output module: its launch configs and grid."""
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner

    found = {}
    for name, obj in vars(module).items():
        if not isinstance(obj, CachingAutotuner):
            continue
        launchers = getattr(obj, "launchers", None) or []
        # once its launchers are built (on a GPU, after the first call) Inductor drops `configs`
        configs = [_config(c) for c in (obj.configs if obj.configs is not None else [x.config for x in launchers])]
        chosen = _config(launchers[0].config) if ran and len(launchers) == 1 else (configs[0] if configs else None)
        meta = obj.inductor_meta or {}
        found[name] = {"chosen": chosen, "configs": configs, "grid_type": meta.get("grid_type"),
                       "extra_args": list(meta.get("extra_launcher_args") or []),
                       "signature": list((obj.triton_meta or {}).get("signature", {}))}
    return found


def generate(source: str, overrides: dict[str, Any], device: str, patches: dict[str, Any]) -> dict[str, Any]:
    import torch._inductor.config as inductor_config
    from torch._inductor.codecache import PyCodeCache
    from torch._inductor.graph import GraphLowering
    from torch.fx.experimental.proxy_tensor import make_fx

    if device == "cpu":
        from kernelwright.agents.templates.inductor import fake_driver

        fake_driver.install()
    module = problem_module(source, overrides)
    torch.manual_seed(0)
    model = module.Model(*module.get_init_inputs()).to(device)
    given = list(module.get_inputs())
    positions = [i for i, x in enumerate(given) if isinstance(x, torch.Tensor)]
    params = dict(model.named_parameters())
    state = {**params, **dict(model.named_buffers())}
    names = list(state)

    def forward(*flat: torch.Tensor) -> Any:
        args = list(given)
        for position, tensor in zip(positions, flat[len(names):]):
            args[position] = tensor
        return torch.func.functional_call(model, dict(zip(names, flat[:len(names)])), tuple(args))

    example = [t.detach() for t in state.values()] + [given[i].to(device) for i in positions]
    with torch.no_grad():
        graph = make_fx(forward)(*example)
        drawn = sorted({str(n.target) for n in graph.graph.nodes if n.op == "call_function"
                        and getattr(getattr(n.target, "overloadpacket", None), "__name__", "") in RANDOM})
        if drawn:
            raise ValueError(f"the forward draws random numbers ({drawn[0]}): no kernel reproduces its stream")
        out = graph(*example)
        codes: list[str] = []
        with mock.patch.object(GraphLowering, "save_output_code", lambda code: codes.append(code)), \
                inductor_config.patch(patches):
            compiled = torch._inductor.compile(graph, example)
            if device == "cuda":
                compiled(*example)  # Inductor autotunes each kernel's launch on its first call
    if len(codes) != 1:
        raise RuntimeError(f"Inductor wrote {len(codes)} output modules, expected one")
    loaded = PyCodeCache.load(codes[0])
    return {"code": codes[0], "state_names": names, "n_params": len(params), "tensor_positions": positions,
            "shapes": [list(t.shape) for t in example], "single_output": isinstance(out, torch.Tensor),
            "launches": _launches(loaded, ran=device == "cuda")}


def main() -> None:
    request = json.loads(sys.stdin.read())
    try:
        answer = generate(request["source"], request.get("overrides") or {}, request["device"],
                          request.get("patches") or {})
    except Exception as exc:  # noqa: BLE001 - the parent reports it as the family's one-line reason
        answer = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:400]}
    sys.stdout.write("\n" + json.dumps(answer))


if __name__ == "__main__":
    main()
