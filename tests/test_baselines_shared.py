"""The workers of one GPU share a problem's baseline timings: the second worker does not time them again."""
from types import SimpleNamespace

from kernelwright.verifier import timing_judge
from kernelwright.verifier.options import VerifyOptions

REPORT = {"ok": True, "median_ms": 2.0, "mean_ms": 2.0, "std_ms": 0.0, "min_ms": 2.0, "max_ms": 2.0, "n": 50}


def judge(device="cuda:0", source="class Model: pass\n"):
    calls = []
    worker = SimpleNamespace(call=lambda fn, payload, **kw: calls.append((fn.rsplit(":", 1)[-1], payload and
                                                                          payload.get("which"))) or REPORT)
    j = SimpleNamespace(job=SimpleNamespace(options=VerifyOptions(), device=device, local_device="cuda:0"),
                        problem=SimpleNamespace(source=source, name="p"), worker=worker,
                        verdict=SimpleNamespace(baselines={}), logs=[], events=lambda: [])
    return j, calls


def test_second_worker_reuses_the_baselines(monkeypatch):
    monkeypatch.setattr(timing_judge, "_BASELINES", {})
    first, first_calls = judge()
    timing_judge._baselines(first, {"overrides": {"N": 8}})
    second, second_calls = judge()
    timing_judge._baselines(second, {"overrides": {"N": 8}})
    assert [c for c in first_calls if c[0] == "time_call"] == [("time_call", w) for w in VerifyOptions().baselines]
    assert second_calls == []
    assert second.verdict.baselines == first.verdict.baselines and second.verdict.baselines


def test_other_sizes_problem_or_gpu_are_timed_afresh(monkeypatch):
    monkeypatch.setattr(timing_judge, "_BASELINES", {})
    timing_judge._baselines(judge()[0], {"overrides": {"N": 8}})
    for j, calls, overrides in [(*judge(), {"N": 9}), (*judge(source="class Model: x = 1\n"), {"N": 8}),
                                (*judge(device="cuda:1"), {"N": 8})]:
        timing_judge._baselines(j, {"overrides": overrides})
        assert any(c[0] == "time_call" for c in calls)
