"""Turn profile figures into a few plain sentences for the critic."""
from __future__ import annotations

from typing import Any


def _pct(value: float | None) -> str:
    return f"{value:.0f}%"


def short_name(name: str) -> str:
    """'void at::native::foo<4, ...>(int, T)' -> 'at::native::foo'."""
    name = name.removeprefix("void ").strip()
    for stop in ("<", "("):
        name = name.split(stop, 1)[0]
    return name


def bound_kind(f: dict[str, Any]) -> str:
    """memory | compute | latency | unknown, from speed-of-light shares."""
    mem = max(v for v in (f.get("dram_pct"), f.get("memory_pct"), 0.0) if v is not None)
    comp = max(v for v in (f.get("sm_pct"), f.get("tensor_pct"), f.get("fma_pct"), 0.0) if v is not None)
    if f.get("dram_pct") is None and f.get("sm_pct") is None:
        return "unknown"
    if mem < 40 and comp < 40:
        return "latency"
    return "memory" if mem >= comp else "compute"


def diagnose(f: dict[str, Any]) -> str:
    """Plain words: what limits the kernel and what to try, from ncu or compile-metadata figures."""
    if not f:
        return "no profile figures"
    notes: list[str] = []
    kind = bound_kind(f)
    dram, sm = f.get("dram_pct"), f.get("sm_pct")
    occ, theo = f.get("occupancy_pct"), f.get("theoretical_occupancy_pct")
    if kind == "memory":
        text = f"memory-bound at {_pct(dram if dram is not None else f.get('memory_pct'))} of DRAM peak"
        if (dram or 0) < 60:
            hint = "loads not coalesced or too little in flight?"
            if f.get("sector_use_pct") is not None and f["sector_use_pct"] < 60:
                hint = (f"only {_pct(f['sector_use_pct'])} of each fetched sector is used: loads not coalesced "
                        "(make the fastest-moving index contiguous, vectorise)")
            text += f": {hint}"
        else:
            text += ": close to the bandwidth roof; cut bytes moved (fuse, use lower precision, avoid re-reads)"
        notes.append(text)
    elif kind == "compute":
        tensor = f.get("tensor_pct")
        text = f"compute-bound at {_pct(sm)} of SM throughput"
        if tensor is not None:
            text += f", tensor pipe {_pct(tensor)}"
            if tensor < 20:
                text += " (matrix math not on tensor cores? use tl.dot with fp16/bf16/tf32 inputs)"
        if f.get("fma_pct") is not None:
            text += f", FMA pipe {_pct(f['fma_pct'])}"
        notes.append(text)
    elif kind == "latency":
        notes.append(f"latency-bound: neither memory ({_pct(dram or 0)} of DRAM peak) nor compute "
                     f"({_pct(sm or 0)} of SM) is busy; "
                     "the grid may be too small or each thread waits on dependent loads: more parallel work per launch")
    if occ is not None:
        text = f"achieved occupancy {_pct(occ)}"
        if theo is not None:
            text += f" of a theoretical {_pct(theo)}"
        if occ < 25:
            regs = f.get("registers")
            cause = f" ({regs:.0f} registers/thread limit resident warps)" if regs and regs > 128 else ""
            text += f": low{cause}; smaller tiles or fewer stages may help"
        notes.append(text)
    elif f.get("registers") is not None:
        notes.append(f"{f['registers']:.0f} registers/thread"
                     + ("; high, limits occupancy" if f["registers"] > 168 else ""))
    if f.get("spill_bytes"):
        notes.append(f"register spills: {f['spill_bytes']:.0f} bytes of local-memory traffic; reduce live "
                     "values or block size")
    elif f.get("spills"):
        notes.append(f"{f['spills']:.0f} register spills reported by the compiler; reduce tile size or num_stages")
    rate = f.get("bank_conflict_rate")
    if rate is not None and rate > 0.1:
        notes.append(f"shared-memory bank conflicts on {_pct(100 * rate)} of shared wavefronts: pad or "
                     "swizzle the shared tiles")
    elif f.get("bank_conflicts") and f.get("bank_conflict_rate") is None and f["bank_conflicts"] > 0:
        notes.append(f"{f['bank_conflicts']:.0f} shared-memory bank conflicts")
    if f.get("duration_us") is not None:
        notes.append(f"main kernel {f['duration_us']:.1f} us per launch")
    if f.get("torch_kernels"):
        notes.append(f"also launches PyTorch kernels: {', '.join(short_name(k) for k in f['torch_kernels'][:3])}")
    return "; ".join(notes)
