"""Kernel timing in the worker, and the parent's integrity checks on the numbers it reports.

On CUDA each repetition: flush L2 by reading a buffer larger than the device's L2, reset the
persisting-L2 carve-out (cudaCtxResetPersistingL2Cache through the CUDA runtime, when reachable), a
short GPU spin (so the call's launches are queued before the start event), record a start event, run
on the next of >= 3 rotated input sets, record the end event; the repetitions are queued back to
back and synchronised once; then empty event pairs in the same sequence, whose median (the events'
own cost, about a microsecond) is taken off every sample. Warm-up first; repetitions until `rep_ms`
of kernel time and at least `min_reps`. A second, synchronous loop (`time_loop_fixed`) serves the
integrity checks: after each end event it times a device-wide synchronise, and work the call left
running on other streams makes that wait long (`timing_mismatch` when it happens in over a tenth of
the repetitions). On the CPU (Triton interpreter) only wall-clock is measured and the result is
marked not meaningful. The parent times each worker call itself: its wall-clock per repetition must
not exceed the event time by more than launch overhead (`timing_mismatch`), and the median must not
beat the problem's speed-of-light floor (`impossible_speed`).
"""
from __future__ import annotations

import ctypes
import functools
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

# Peak figures of cards we know (dense bf16 tensor-core FLOP/s, HBM bytes/s); the floor uses the
# larger of table and measurement, so that it stays a lower bound.
KNOWN_PEAKS = {"H100": (989e12, 3.35e12), "H200": (989e12, 4.8e12), "A100": (312e12, 2.0e12)}
SPEED_OF_LIGHT_MARGIN = 0.9
# The event median brackets GPU work only, while the wall clock of the synchronous loop also pays
# the call's Python launch overhead (tens of microseconds per launch) and host jitter.
WALL_SLACK_MS = 0.2
LINGER_MS = 0.02  # an idle device-wide synchronise returns well within this (typically < 10 us)
NULL_PAIRS = 32  # empty event pairs timed after the repetitions, to measure the events' own cost


def stats(samples_ms: list[float]) -> dict[str, float]:
    """median / mean / std / min / max / n of a list of milliseconds."""
    return {"median_ms": statistics.median(samples_ms), "mean_ms": statistics.fmean(samples_ms),
            "std_ms": statistics.pstdev(samples_ms) if len(samples_ms) > 1 else 0.0,
            "min_ms": min(samples_ms), "max_ms": max(samples_ms), "n": len(samples_ms)}


@contextmanager
def no_gc() -> Iterator[None]:
    """Python's cyclic garbage collector off while timing (a full collection pauses for ~0.1 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class L2Flusher:
    """Reads a buffer twice the L2 size; resets the persisting-L2 carve-out when possible.

    Reading (a sum into a scalar) evicts the previous call's lines and leaves clean ones; a write
    flush would leave L2 full of dirty lines that the timed kernel then pays to write back.
    """

    def __init__(self, device: torch.device | None):
        size = int(getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0) or (50 << 20))
        self.buffer = torch.zeros(2 * size // 4, dtype=torch.float32, device=device)
        self.sink = torch.zeros((), dtype=torch.float32, device=device)
        self.reset_fn = _persisting_l2_reset()
        self.persisting_reset = self.reset_fn is not None

    def __call__(self) -> None:
        torch.sum(self.buffer, dim=0, out=self.sink)
        if self.reset_fn is not None:
            self.reset_fn()


@functools.cache
def _persisting_l2_reset() -> Callable[[], None] | None:
    """cudaCtxResetPersistingL2Cache from the CUDA runtime torch loaded, or None if not reachable
    (looked up once per process: every timing loop builds a flusher)."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "libcudart" in line})
    except OSError:
        pass
    for path in paths + ["libcudart.so", "libcudart.so.13", "libcudart.so.12"]:
        try:
            lib = ctypes.CDLL(path)
            fn = lib.cudaCtxResetPersistingL2Cache
        except (OSError, AttributeError):
            continue
        fn.restype = ctypes.c_int
        return lambda: fn()
    return None


def time_cuda(call: Callable[[Any], Any], input_sets: list[list], *, warmup_ms: float, rep_ms: float,
              min_reps: int, max_reps: int = 1000, probe: Any = None) -> dict[str, Any]:
    """Event timing of call(inputs) over rotated input sets, with L2 flush between repetitions.

    The repetitions are queued back to back and synchronised once at the end. Before each start
    event the GPU spins for about the host's launch time of one call, so the call's kernels are
    already queued when the start event is reached: the events bracket GPU work only, not
    Python launch overhead (which made the median depend on host jitter). A `probe`
    (sandbox/timed_probe.py) refreshes chosen repetitions' inputs before their flush and copies
    their outputs right after their end event, outside the bracketed region.
    """
    device = next(x.device for s in input_sets for x in s if isinstance(x, torch.Tensor))
    flush = L2Flusher(device)
    call(input_sets[0])
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in range(1000):  # warm-up, also estimates the per-call time
        call(input_sets[i % len(input_sets)])
        torch.cuda.synchronize()
        if (time.perf_counter() - t0) * 1e3 > warmup_ms and i >= 2:
            break
    estimate_ms = max((time.perf_counter() - t0) * 1e3 / (i + 1), 1e-3)
    reps = int(min(max_reps, max(min_reps, rep_ms / estimate_ms)))
    spin = _spin_cycles(call, input_sets)
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    if probe is not None:
        probe.plan(reps)
    for i, (start, end) in enumerate(events):
        inputs = input_sets[i % len(input_sets)]
        if probe is not None:
            probe.before(i, inputs)
        flush()
        torch.cuda._sleep(spin)
        start.record()
        out = call(inputs)
        end.record()
        if probe is not None:
            probe.after(i, out)
        del out
    nulls = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
             for _ in range(min(reps, NULL_PAIRS))]
    for start, end in nulls:  # the same sequence with nothing between the events
        flush()
        torch.cuda._sleep(spin)
        start.record()
        end.record()
    torch.cuda.synchronize()
    raw = [start.elapsed_time(end) for start, end in events]
    overhead = statistics.median(start.elapsed_time(end) for start, end in nulls)
    return {**stats(without_event_overhead(raw, overhead)), "raw_median_ms": statistics.median(raw),
            "event_overhead_ms": overhead, "reps": reps, "persisting_l2_reset": flush.persisting_reset}


def without_event_overhead(samples_ms: list[float], overhead_ms: float) -> list[float]:
    """Samples less the time an empty event pair measures in the same sequence (never below zero, and
    never more than half a sample: the correction is for the events' own cost, not for the work)."""
    return [max(s - min(max(overhead_ms, 0.0), 0.5 * s), 0.0) for s in samples_ms]


def _spin_cycles(call: Callable[[Any], Any], input_sets: list[list], cap_ms: float = 2.0) -> int:
    """GPU clock cycles covering 1.5x the host's time to launch one call (at most `cap_ms`)."""
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.cuda._sleep(1_000_000)
    end.record()
    end.synchronize()
    cycles_per_ms = 1_000_000 / max(start.elapsed_time(end), 1e-3)
    launches = []
    for i in range(5):
        t0 = time.perf_counter()
        call(input_sets[i % len(input_sets)])
        launches.append((time.perf_counter() - t0) * 1e3)
        torch.cuda.synchronize()
    return int(cycles_per_ms * min(cap_ms, 1.5 * statistics.median(launches)))


def still_busy_ms() -> float:
    """How long a device-wide synchronise takes once the timed stream is done: work the call left
    running on other streams shows up here, while the events saw none of it."""
    t0 = time.perf_counter()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3


def lingering(report: dict[str, Any]) -> bool:
    """Work outlived the end event in more than a tenth of the timed repetitions."""
    return report.get("lingering_reps", 0) > 0.1 * max(1, report.get("reps", 0))


def time_loop_fixed(call: Callable[[Any], Any], input_sets: list[list], reps: int) -> dict[str, Any]:
    """Exactly `reps` synchronous iterations (flush, events, wait): the parent times this call with
    the wall clock. Each iteration also times a device-wide synchronise after the end event:
    `lingering_reps` counts those where work the events missed was still running elsewhere."""
    device = next(x.device for s in input_sets for x in s if isinstance(x, torch.Tensor))
    if device.type != "cuda":
        for i in range(reps):
            call(input_sets[i % len(input_sets)])
        return {"reps": reps, "lingering_reps": 0}
    return sync_loop_cuda(call, input_sets, reps, device)


def sync_loop_cuda(call: Callable[[Any], Any], input_sets: list[list], reps: int,
                   device: torch.device | None = None) -> dict[str, Any]:
    """The CUDA body of `time_loop_fixed`."""
    flush = L2Flusher(device)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    late = 0
    for i in range(reps):
        flush()
        start.record()
        call(input_sets[i % len(input_sets)])
        end.record()
        end.synchronize()
        late += still_busy_ms() > max(LINGER_MS, 0.5 * start.elapsed_time(end))
    return {"reps": reps, "lingering_reps": late}


def time_wall(call: Callable[[Any], Any], input_sets: list[list], *, reps: int = 3, warmup: int = 1,
              probe: Any = None) -> dict[str, Any]:
    """Wall-clock timing (CPU / interpreter); not a meaningful kernel time. `warmup` untimed calls
    first; a `probe` checks chosen repetitions as in `time_cuda`."""
    for i in range(warmup):
        call(input_sets[i % len(input_sets)])
    reps = max(1, reps)
    if probe is not None:
        probe.plan(reps)
    samples = []
    for i in range(reps):
        inputs = input_sets[i % len(input_sets)]
        if probe is not None:
            probe.before(i, inputs)
        t0 = time.perf_counter()
        out = call(inputs)
        samples.append((time.perf_counter() - t0) * 1e3)
        if probe is not None:
            probe.after(i, out)
        del out
    return {**stats(samples), "reps": len(samples), "persisting_l2_reset": False}


def measure_peaks(device: torch.device) -> dict[str, float]:
    """Achievable bandwidth (device copy) and bf16 / fp32 matmul throughput, measured once."""
    out = {}
    src = torch.empty(1 << 28, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    out["bandwidth"] = 2 * src.numel() / _best_seconds(lambda: dst.copy_(src))  # noqa: F821 - bound above
    del src, dst
    n = 8192
    for dtype, key in ((torch.bfloat16, "peak_bf16"), (torch.float32, "peak_fp32")):
        a = torch.randn(n, n, device=device, dtype=dtype)
        out[key] = 2 * n**3 / _best_seconds(lambda: a @ a)  # noqa: B023 - called in this iteration
    name = torch.cuda.get_device_name(device)
    for card, (flops, bandwidth) in KNOWN_PEAKS.items():
        if card in name:
            out["table_flops"], out["table_bandwidth"] = flops, bandwidth
    return out


def _best_seconds(fn: Callable[[], Any], reps: int = 5) -> float:
    fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def speed_of_light_ms(flops: float | None, nbytes: float | None, peaks: dict[str, float]) -> float | None:
    """Lower bound on the kernel time: max(bytes / bandwidth, flops / peak), with the larger peaks."""
    if not peaks or (not flops and not nbytes):
        return None
    bandwidth = max(peaks.get("bandwidth", 0.0), peaks.get("table_bandwidth", 0.0))
    peak = max(peaks.get("peak_bf16", 0.0), peaks.get("peak_fp32", 0.0), peaks.get("table_flops", 0.0))
    floor = 0.0
    if nbytes and bandwidth:
        floor = max(floor, nbytes / bandwidth)
    if flops and peak:
        floor = max(floor, flops / peak)
    return floor * 1e3 if floor else None


def impossible(median_ms: float, floor_ms: float | None) -> bool:
    return floor_ms is not None and median_ms < SPEED_OF_LIGHT_MARGIN * floor_ms


def wall_mismatch(event_median_ms: float, wall_per_rep_ms: float | None) -> bool:
    """Events claiming far less than the wall clock saw (side-stream work, patched timers)."""
    if wall_per_rep_ms is None:
        return False
    return wall_per_rep_ms > 2.0 * event_median_ms + WALL_SLACK_MS
