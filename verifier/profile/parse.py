"""Parse Nsight Compute's raw CSV page (`ncu --import R --page raw --csv`) and reduce it.

The raw page has one header row (ID, Process ID, Process Name, Host Name, Kernel Name,
Context, Stream, Block Size, Grid Size, Device, CC, then one column per metric), one row of
units, then one row per profiled kernel launch. Numbers may carry thousands separators.
"""
from __future__ import annotations

import csv
import io
from typing import Any

# figure name -> metric names that can provide it (first present wins; ncu versions differ)
METRICS: dict[str, tuple[str, ...]] = {
    "duration": ("gpu__time_duration.sum",),
    "dram_pct": ("dram__throughput.avg.pct_of_peak_sustained_elapsed",
                 "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed"),
    "memory_pct": ("gpu__compute_memory_throughput.avg.pct_of_peak_sustained_elapsed",),
    "sm_pct": ("sm__throughput.avg.pct_of_peak_sustained_elapsed",),
    "tensor_pct": ("sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
                   "sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active",
                   "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active"),
    "fma_pct": ("sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active",),
    "occupancy_pct": ("sm__warps_active.avg.pct_of_peak_sustained_active",),
    "theoretical_occupancy_pct": ("sm__maximum_warps_per_active_cycle_pct",),
    "registers": ("launch__registers_per_thread",),
    "block_size": ("launch__block_size",),
    "grid_size": ("launch__grid_size",),
    "smem_static": ("launch__shared_mem_per_block_static",),
    "smem_dynamic": ("launch__shared_mem_per_block_dynamic",),
    "bank_conflicts_ld": ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum",),
    "bank_conflicts_st": ("l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum",),
    "shared_wavefronts_ld": ("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum",),
    "shared_wavefronts_st": ("l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum",),
    "local_bytes_ld": ("l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum",),
    "local_bytes_st": ("l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum",),
    "sector_use_pct": ("smsp__sass_average_data_bytes_per_sector_mem_global_op_ld.pct",),
}
# asked for with --metrics on top of the sections (some are not in any of the four sections)
EXTRA_METRICS = (
    "sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active",
    "sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active",
    "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum",
    "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum",
    "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum",
    "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum",
    "l1tex__t_bytes_pipe_lsu_mem_local_op_ld.sum",
    "l1tex__t_bytes_pipe_lsu_mem_local_op_st.sum",
    "smsp__sass_average_data_bytes_per_sector_mem_global_op_ld.pct",
)
SECTIONS = ("SpeedOfLight", "Occupancy", "MemoryWorkloadAnalysis", "LaunchStats")
_TIME_TO_US = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6,
               "s": 1e6}
# ncu's byte units use decimal prefixes; imports use --print-units base, these cover older captures
_BYTES = {"byte": 1.0, "Kbyte": 1e3, "Mbyte": 1e6, "Gbyte": 1e9, "Tbyte": 1e12, "KB": 1e3, "MB": 1e6, "GB": 1e9}
_BYTE_FIGURES = {"smem_static", "smem_dynamic", "local_bytes_ld", "local_bytes_st"}
# kernels that belong to PyTorch itself (allocation fills, copies), not to the candidate
TORCH_KERNEL_MARKERS = ("at::native::", "at_cuda_detail", "void at::", "cub::")


class NcuParseError(ValueError):
    """The text is not a raw-page CSV of ncu; the message says what was seen."""


def number(text: str) -> float | None:
    """'1,234.5' -> 1234.5; 'n/a', '' -> None."""
    cleaned = text.strip().replace(",", "")
    try:
        return float(cleaned)
    except ValueError:
        return None


def parse_raw_csv(text: str) -> list[dict[str, Any]]:
    """One dict per kernel launch: name, id, block, grid, and each figure of METRICS found."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith('"ID"')), None)
    if start is None:
        first = next((line for line in lines if line.strip()), "")[:160]
        raise NcuParseError(f"no ncu raw CSV header (\"ID\",...) found; output began: {first!r}")
    rows = list(csv.reader(io.StringIO("\n".join(lines[start:]))))
    header, units, data = rows[0], (rows[1] if len(rows) > 1 else []), rows[2:]
    index = {name: i for i, name in enumerate(header)}
    if "Kernel Name" not in index:
        raise NcuParseError("ncu raw CSV has no 'Kernel Name' column; export with --page raw --csv")
    kernels = []
    for row in data:
        if len(row) < len(header):
            continue
        record: dict[str, Any] = {"id": row[index["ID"]], "name": row[index["Kernel Name"]],
                                  "block": row[index["Block Size"]] if "Block Size" in index else "",
                                  "grid": row[index["Grid Size"]] if "Grid Size" in index else ""}
        for figure, candidates in METRICS.items():
            for metric in candidates:
                if metric in index:
                    value = number(row[index[metric]])
                    unit = units[index[metric]].strip() if index[metric] < len(units) else ""
                    name = figure
                    if value is not None and figure == "duration":
                        name, value = "duration_us", value * _TIME_TO_US.get(unit or "nsecond", 1e-3)
                    elif value is not None and figure in _BYTE_FIGURES:
                        value *= _BYTES.get(unit, 1.0)
                    if value is not None:
                        record[name] = value
                        break
        kernels.append(record)
    return kernels


def is_torch_kernel(name: str) -> bool:
    return any(marker in name for marker in TORCH_KERNEL_MARKERS)


def reduce_kernels(kernels: list[dict[str, Any]], calls: int = 1) -> dict[str, Any]:
    """Figures of the candidate: the dominant own kernel's rates, summed duration per call."""
    if not kernels:
        return {}
    own = [k for k in kernels if not is_torch_kernel(k["name"])] or kernels
    by_name: dict[str, list[dict[str, Any]]] = {}
    for k in own:
        by_name.setdefault(k["name"], []).append(k)
    total_us = sum(k.get("duration_us", 0.0) for k in own)
    dominant_name = max(by_name, key=lambda n: sum(k.get("duration_us", 0.0) for k in by_name[n]))
    launches = by_name[dominant_name]

    def median(key: str) -> float | None:
        values = sorted(k[key] for k in launches if key in k)
        return values[len(values) // 2] if values else None

    conflicts = sum(v for v in (median("bank_conflicts_ld"), median("bank_conflicts_st")) if v is not None)
    wavefronts = sum(v for v in (median("shared_wavefronts_ld"), median("shared_wavefronts_st")) if v is not None)
    local = [v for v in (median("local_bytes_ld"), median("local_bytes_st")) if v is not None]
    figures: dict[str, Any] = {
        "kernel": dominant_name,
        "kernels": sorted(by_name),
        "launches": len(own),
        "torch_kernels": sorted({k["name"] for k in kernels if is_torch_kernel(k["name"])}),
        "duration_us": median("duration_us"),
        "duration_us_per_call": total_us / max(calls, 1),
        "dram_pct": median("dram_pct"),
        "memory_pct": median("memory_pct"),
        "sm_pct": median("sm_pct"),
        "tensor_pct": median("tensor_pct"),
        "fma_pct": median("fma_pct"),
        "occupancy_pct": median("occupancy_pct"),
        "theoretical_occupancy_pct": median("theoretical_occupancy_pct"),
        "registers": median("registers"),
        "block_size": median("block_size"),
        "grid_size": median("grid_size"),
        "shared_bytes": sum(v for v in (median("smem_static"), median("smem_dynamic")) if v is not None) or None,
        "bank_conflicts": (conflicts if median("bank_conflicts_ld") is not None
                           or median("bank_conflicts_st") is not None else None),
        "bank_conflict_rate": conflicts / wavefronts if wavefronts else None,
        "spill_bytes": sum(local) if local else None,
        "sector_use_pct": median("sector_use_pct"),
    }
    return figures
