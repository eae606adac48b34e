"""The timed-call sampler: fresh inputs the candidate cannot notice, outputs copied when the call ends."""
from __future__ import annotations

import random

import torch
from kernelwright.verifier import timing
from kernelwright.verifier.sandbox.timed_probe import TimedProbe


def test_one_repetition_per_input_set_is_chosen():
    probe = TimedProbe(3, [], rng=random.Random(0))
    probe.plan(20)
    assert sorted(rep % 3 for rep in probe.chosen) == [0, 1, 2]


def test_fresh_inputs_are_written_in_place_without_a_version_bump():
    x = torch.zeros(5)
    version, pointer = x._version, x.data_ptr()
    probe = TimedProbe(1, [torch.arange(5.0), 7], rng=random.Random(0))
    probe.plan(1)
    probe.before(0, [x, 3])
    assert torch.equal(x, torch.arange(5.0)) and x._version == version and x.data_ptr() == pointer


def test_output_is_copied_when_the_call_returns_not_later():
    out = torch.zeros(3)
    probe = TimedProbe(1, [], rng=random.Random(0))
    probe.plan(1)
    probe.after(0, out)
    out.fill_(1.0)  # work deferred past the call lands after the copy
    assert torch.equal(probe.outputs[0][0], torch.zeros(3))


def test_wall_loop_samples_the_timed_calls_themselves():
    calls = []

    def cheat_when_timed(xs):  # honest on the warm-up call, wrong on every timed one
        calls.append(1)
        return xs[0] * 2 if len(calls) == 1 else torch.zeros_like(xs[0])

    sets = [[torch.ones(4)], [torch.ones(4)], [torch.ones(4)]]
    probe = TimedProbe(3, [torch.full((4,), 5.0)], rng=random.Random(0))
    timing.time_wall(cheat_when_timed, sets, reps=3, probe=probe)
    assert len(calls) == 4 and len(probe.outputs) == 3
    assert all(torch.equal(o[0], torch.zeros(4)) for o in probe.outputs)
    assert all(torch.equal(s[0], torch.full((4,), 5.0)) for s in sets)  # every set got the fresh values
