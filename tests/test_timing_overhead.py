"""The empty event pair's time comes off each timing sample, within bounds (verifier/timing.py)."""
import pytest
from kernelwright.verifier.timing import without_event_overhead


def test_overhead_is_subtracted_from_every_sample():
    assert without_event_overhead([0.100, 0.120], 0.002) == pytest.approx([0.098, 0.118])


def test_overhead_never_takes_more_than_half_a_sample():
    assert without_event_overhead([0.002], 0.003) == [0.001]


def test_negative_overhead_is_ignored():
    assert without_event_overhead([0.05], -0.01) == [0.05]
