"""Nsight Compute raw-CSV parsing, reduction to figures, and the plain-words diagnosis."""
from pathlib import Path

import pytest
from kernelwright.verifier.profile.diagnose import bound_kind, diagnose
from kernelwright.verifier.profile.ncu import profile_from_csv
from kernelwright.verifier.profile.parse import NcuParseError, number, parse_raw_csv, reduce_kernels

FIXTURE = Path(__file__).parent / "data" / "ncu_raw_softmax.csv"


def test_numbers_with_thousands_separators_and_na():
    assert number("41,216") == 41216.0
    assert number("n/a") is None
    assert number("") is None


def test_raw_csv_rows_become_kernel_records_with_units_converted():
    kernels = parse_raw_csv(FIXTURE.read_text())
    assert [k["id"] for k in kernels] == ["0", "1", "2"]
    softmax = kernels[1]
    assert softmax["name"] == "softmax_kernel"
    assert softmax["duration_us"] == pytest.approx(41.216)  # nsecond -> microseconds
    assert softmax["dram_pct"] == pytest.approx(38.2)
    assert softmax["registers"] == 32
    assert softmax["grid_size"] == 4096
    assert softmax["bank_conflicts_ld"] == 12288


def test_reduction_keeps_the_candidates_kernel_not_pytorchs_fill():
    figures = reduce_kernels(parse_raw_csv(FIXTURE.read_text()), calls=2)
    assert figures["kernel"] == "softmax_kernel"
    assert figures["launches"] == 2
    assert len(figures["torch_kernels"]) == 1 and "FillFunctor" in figures["torch_kernels"][0]
    assert figures["duration_us_per_call"] == pytest.approx((41.216 + 41.6) / 2)
    assert figures["dram_pct"] == pytest.approx(38.6)  # median of the two launches (upper)
    assert figures["occupancy_pct"] == pytest.approx(61.5)
    assert figures["bank_conflicts"] == 12288
    assert figures["bank_conflict_rate"] == pytest.approx(12288 / (49152 + 16384))
    assert figures["spill_bytes"] == 0
    assert figures["shared_bytes"] == 2048
    assert figures["tensor_pct"] == 0


def test_diagnosis_names_memory_bound_uncoalesced_and_bank_conflicts():
    result = profile_from_csv(FIXTURE.read_text(), calls=2)
    text = result["diagnosis"]
    assert result["source"] == "ncu"
    assert text.startswith("memory-bound at 39% of DRAM peak")
    assert "not coalesced" in text
    assert "bank conflicts on 19% of shared wavefronts" in text
    assert "achieved occupancy 62% of a theoretical 100%" in text
    # the critic hears that PyTorch kernels are launched too
    assert "also launches PyTorch kernels: at::native::vectorized_elementwise_kernel" in text


def test_compute_bound_without_tensor_cores_says_so():
    figures = {"dram_pct": 12.0, "memory_pct": 20.0, "sm_pct": 83.0, "tensor_pct": 3.0, "fma_pct": 80.0,
               "occupancy_pct": 18.0, "registers": 200.0, "spill_bytes": 4096.0}
    assert bound_kind(figures) == "compute"
    text = diagnose(figures)
    assert "compute-bound at 83% of SM throughput, tensor pipe 3%" in text
    assert "tensor cores" in text
    assert "200 registers/thread" in text
    assert "register spills: 4096 bytes" in text


def test_latency_bound_when_nothing_is_busy():
    assert bound_kind({"dram_pct": 5.0, "sm_pct": 7.0}) == "latency"
    assert diagnose({"dram_pct": 5.0, "sm_pct": 7.0}).startswith("latency-bound")


def test_text_without_header_is_a_one_line_error():
    with pytest.raises(NcuParseError, match="no ncu raw CSV header"):
        parse_raw_csv("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission\n")
