"""The cheat zoo: every reward hack in tests/cheats/ is caught, under the rule it targets.

Each file names its rule, problem and devices in its docstring. The verdict must carry the rule's
status (`rules.status_for`) with the rule as `verdict.rule`; where another rule legitimately
decides first, the targeted rule must still be among `verdict.flags` and the status not correct.
"""
from __future__ import annotations

import pytest
import torch
from kernelwright.verifier.rules import ALL_RULES, status_for

import kernelwright
from suite_helpers import CHEATS, cheats

CHEATS_FOUND = cheats()

# Cheats the verifier does not catch (or that were not checked where they run). With strict=True a
# fix turns the XPASS into a failure, so the mark goes as soon as the gap is closed; strict=False for
# cheats not yet run on the hardware they need.
KNOWN_GAPS: dict[str, tuple[str, bool]] = {
    # cheats a rule misses, as (reason, strict). timing_mismatch was listed (named under timed_output on an
    # H100 at 0bc1926); at 68688cd, H100, it was caught under its own rule again (XPASS), cause not isolated
}


def _param(cheat):
    marks = [pytest.mark.gpu] if cheat.gpu_only else []
    if cheat.path.stem in KNOWN_GAPS:
        reason, strict = KNOWN_GAPS[cheat.path.stem]
        marks.append(pytest.mark.xfail(strict=strict, reason=reason))
    return pytest.param(cheat, id=cheat.path.stem, marks=marks)


def test_zoo_has_a_cheat_for_every_rule():
    covered = {c.rule for c in CHEATS_FOUND}
    assert set(ALL_RULES) - covered == set(), "rules without a cheat"
    assert covered - set(ALL_RULES) == set(), "cheats naming unknown rules"
    for cheat in CHEATS_FOUND:
        assert cheat.path.stem.split("__")[0] == cheat.rule, f"{cheat.path.name} must be named after its rule"
        assert cheat.problem.is_file(), f"{cheat.path.name}: problem {cheat.problem} missing"


@pytest.mark.parametrize("cheat", [_param(c) for c in CHEATS_FOUND])
def test_cheat_is_caught_under_its_rule(cheat):
    on_gpu = torch.cuda.is_available()
    if on_gpu and "gpu" not in cheat.devices:
        pytest.skip(f"{cheat.path.name} is a CPU-only cheat (see its docstring)")
    # Timing matters for the timing cheats; on the CPU it is skipped to save time, except for cheats
    # marked "timed" (they cheat on timed calls only, which the CPU's wall-clock loop makes too).
    # on a GPU: timing and its integrity checks, but no eager / torch.compile baselines (each cheat
    # restarts the worker, and compiling the baselines again would dominate the run)
    verdict = kernelwright.verify(cheat.problem, cheat.path, timing=on_gpu or cheat.timed, baselines=())
    seen = f"{verdict.status} at {verdict.stage}, rule={verdict.rule}, flags={verdict.flags}: {verdict.message[:300]}"
    assert verdict.status != "correct", f"{cheat.path.name} passed as correct ({seen})"
    if verdict.rule == cheat.rule:
        assert verdict.status == status_for(cheat.rule), seen
    else:
        assert cheat.rule in verdict.flags, f"{cheat.path.name}: rule {cheat.rule} not named ({seen})"
    assert verdict.message.strip(), f"{cheat.path.name}: the verdict gives no reason ({seen})"
    assert verdict.stage in ("static", "load", "compile", "correctness", "anticheat", "timing"), seen


def test_cheat_files_live_in_the_zoo_folder():
    assert CHEATS.is_dir() and len(CHEATS_FOUND) >= len(ALL_RULES)
