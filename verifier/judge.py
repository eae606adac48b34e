"""The judge: decides one candidate's verdict from the trusted parent process.

Order: static checks -> (GPU) baselines, timed before the candidate exists in the worker ->
load in the worker -> correctness trials (the candidate runs first, on inputs the judge made from
seeds; the reference runs afterwards, here, in float64 where it can) -> timing with integrity
checks -> optional profile metadata. Every rule that fires goes into `flags`; the deciding rule is
the first anti-cheat rule (`no_kernel_launched` last: a more specific rule explains it), else the
first correctness rule. Rules the policy only flags (`rules.POLICIES`; kernelbench: PyTorch and
library ops) never stop it; the verdict records whether it passes under each policy. Static findings
of compute calls / try-except still run one trial for dynamic evidence; every other static finding
stops at once, before any candidate code runs.
"""
from __future__ import annotations

import time
from typing import Any, get_args

import torch

from . import backends, backward, deadlines, evidence, memory, memory_judge, static_checks
from . import inputs as inputs_mod
from .budget import Budget, BudgetedGate, BudgetedWorker, verify_seconds
from .gate import DeviceGate, GateTimeout
from .inputs import MODEL_SEED
from .job import Job
from .problem import source_sha
from .reference_model import forget as forget_reference_model
from .reference_model import reference_model
from .rules import ANTICHEAT_RULES, POLICIES, RELAXABLE, status_for
from .sandbox import transport
from .sandbox.worker import Worker, WorkerError
from .stage_clock import StageClock
from .timing_judge import check_timing, time_baselines, time_candidate
from .trial_judge import run_trial
from .verdict import Stage, Verdict, truncate

CS = "kernelwright.verifier.sandbox.candidate_side:"


class Decided(Exception):
    """Raised inside the judge to stop with a finished verdict."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message)
        self.verdict = verdict


class Judge:
    """One verification: holds the job, the worker, the verdict being built and the rules fired."""

    def __init__(self, job: Job, worker: Worker):
        self.device_type = "cpu" if job.device == "cpu" else "cuda"
        self.budget = Budget(verify_seconds(job.options.verify_timeout_s, self.device_type))
        self.job, self.worker = job, BudgetedWorker(worker, self.budget)  # every call ends by the deadline
        self.problem = job.problem
        self.fired = evidence.Fired()
        self.dirty = False  # the worker ran something that calls for a fresh process
        self.relaxed = POLICIES[job.options.policy]  # rules that only flag under this policy
        self.verdict = Verdict(status="correct", stage="done", problem=job.problem.name,
                               backend=backends.detect_backend(job.candidate_source),
                               candidate_sha=source_sha(job.candidate_source), policy=job.options.policy)
        self.device_type = "cpu" if job.device == "cpu" else "cuda"
        self.ref_device = job.device if self.device_type == "cuda" and torch.cuda.is_available() else "cpu"
        self.input_device = self.ref_device if self.device_type == "cuda" else None  # CPU: as get_inputs makes them
        self.small = job.device == "cpu"
        self.logs: list[str] = []
        self.launched_before = False
        self.static_rules: set[str] = set()
        self.candidate_ran = False
        self.refusal: dict[str, Any] = {}  # the worker's answer when the candidate refused a shape at load
        self.deadlines = deadlines.derive(job.options, 0.0, self.device_type)  # until the reference is timed
        self.advisories: list[str] = []  # non-fatal flags (`specialized`), listed after the rules that fired
        self.footprint: memory.Footprint | None = None  # GPU only: the estimate `check_memory` made
        self.backward_params: list[str] | None = None  # BACKWARD problems: the parameters with checked gradients
        self.clock = StageClock(self.verdict.durations)  # stages and their parts (stage_clock.py)

    # worker calls ------------------------------------------------------------------------------
    def call(self, fn: str, payload: Any, *, timeout_s: float, stage: str, refusable: bool = False,
             compile_s: float = 0.0) -> Any:
        """Call the worker. With `refusable`, an explicit error the candidate raised (no rule fired,
        no sticky CUDA error) comes back as the {"ok": False, ...} result instead of a verdict.
        `compile_s`: extra time until the call's first kernel launch returns (Worker.call)."""
        extra = {"compile_s": compile_s} if compile_s else {}
        try:
            result = self.worker.call(fn if ":" in fn else CS + fn, payload, timeout_s=timeout_s, stage=stage, **extra)
        except WorkerError as error:
            self._worker_failed(error, stage)
        if isinstance(result, dict) and result.get("ok") is False:
            self._candidate_failed(result, stage, refusable)
        return result

    def events(self) -> list[str]:
        take = getattr(self.worker, "take_events", None)
        return list(take()) if callable(take) else []

    def _worker_failed(self, error: WorkerError, stage: str) -> None:
        status, message = error.verdict_parts(stage)
        self.dirty = True
        self.logs.append(error.log_tail)
        evidence.check_process_evidence({}, self.events(), self.fired)
        if self.fired:  # a rule explains the verdict; what ended the call stays in the logs
            self.logs.append(f"{status} at {_stage(stage)}: {message}")
            self.decide_if_fired(_stage(stage))
        raise Decided(self._finish(status, _stage(stage), message))

    def _candidate_failed(self, result: dict[str, Any], stage: str, refusable: bool = False) -> None:
        self.logs.append(result.get("log", ""))
        evidence.check_process_evidence(result, self.events(), self.fired)
        if self.fired:  # a blocked side effect or tampering made the call fail: that is the verdict
            self.decide_if_fired(_stage(stage))
        if result.get("sticky"):
            self.dirty = True
        elif refusable:
            return
        status = result.get("kind", "runtime_error")
        where = result.get("stage") or stage
        raise Decided(self._finish(status, _stage(where), f"{where}: {result.get('message', '')}"))

    # verdict -------------------------------------------------------------------------------------
    def _finish(self, status: str, stage: str, message: str, rule: str | None = None) -> Verdict:
        v = self.verdict
        if status == "runtime_error" and memory.is_out_of_memory(message):  # a raw CUDA trace: one line instead
            message = memory.explain(message, stage)
            self.advisories.append(memory.FLAG)
        v.status, v.stage, v.rule = status, stage, rule  # type: ignore[assignment]
        v.message = message.splitlines()[0][:1000] if message else ""
        v.flags = list(self.fired.rules) + [a for a in self.advisories if a not in self.fired.rules]
        v.logs = truncate("\n".join(x for x in self.logs if x))
        v.policies = _policies(status, rule, self.fired.rules)
        if status == "correct" and set(self.fired.rules) & self.relaxed:
            v.message = f"all checks passed under {v.policy}; flagged: " + \
                "; ".join(self.fired.messages[r] for r in self.fired.rules if r in self.relaxed)[:900]
        return v

    def decide_if_fired(self, stage: str) -> None:
        """Stop with rejected / incorrect when any rule has fired."""
        blocking = [r for r in self.fired.rules if r not in self.relaxed]
        if not blocking:
            return
        cheats = sorted((r for r in blocking if r in ANTICHEAT_RULES), key=_priority)
        rule = cheats[0] if cheats else blocking[0]
        if cheats and self.candidate_ran:
            self.dirty = True  # the worker ran hostile code: give the next candidate a fresh process
        if rule in self.static_rules:
            stage = "static"
        message = self.fired.messages[rule]
        raise Decided(self._finish(status_for(rule), stage,
                                   message if rule in self.static_rules else f"{stage}: {message}", rule))

    # stages --------------------------------------------------------------------------------------
    def static(self) -> None:
        names = tuple(n for n in {self.problem.name,
                                  (self.problem.path or "").rsplit("/", 1)[-1].removesuffix(".py")} if n)
        for finding in static_checks.check_source(self.job.candidate_source, names):
            self.fired.add(finding.rule, f"static: {finding}")
        self.static_rules = set(self.fired.rules)
        if not self.static_rules <= static_checks.SOFT_RULES:
            self.decide_if_fired("static")
        # soft findings only (compute calls, try/except): also gather the dynamic evidence of one trial

    def load(self, overrides: dict[str, Any], refusable: bool = False) -> bool:
        """Build ModelNew in the worker; False when it refused these sizes (only with `refusable`)."""
        init_inputs = inputs_mod.make_init_inputs(self.problem, overrides)
        reference = reference_model(self.problem, overrides, MODEL_SEED)
        state = {k: v.detach().cpu() for k, v in reference.state_dict().items()}
        if backward.declared(self.problem.metadata):  # the candidate reports these parameters' gradients
            self.backward_params = backward.parameter_names(reference)
        payload = {"source": self.job.candidate_source, "label": self.job.candidate_label,
                   "device": self.job.local_device, "init_inputs": init_inputs, "state_dict": state,
                   "seed": MODEL_SEED}
        self.candidate_ran = True
        report = self.call("load", payload, timeout_s=self.job.options.load_timeout_s, stage="load",
                           refusable=refusable)
        if report.get("ok") is False:
            self.loaded_init = None  # the worker holds no model now: the next trial loads again
            self.refusal = report
            return False
        self.verdict.backend = report.get("backend") or self.verdict.backend
        evidence.check_process_evidence(report, self.events(), self.fired)
        if set(self.fired.rules) - self.static_rules:  # soft static findings wait for a trial's evidence
            self.decide_if_fired("load")
        self.loaded_init = repr(init_inputs)
        return True

    def trials(self, gate: BudgetedGate | None = None) -> None:
        """The correctness trials, each holding a shared entry to the GPU of its own, so that another
        job's timing waits for one trial, not for all of them (no gate: a gate of this job alone)."""
        gate = gate or BudgetedGate(DeviceGate(), self.budget)
        opts = self.job.options
        plan = inputs_mod.plan_trials(self.problem, trials=opts.trials, extra_shapes=opts.extra_shapes,
                                      large_magnitude=opts.large_magnitude, shifted=opts.shifted, small=self.small)
        seen: dict[str, int] = {}  # output fingerprint -> trial index
        sizes: dict[str, list[int]] = {}
        for spec in plan:
            with gate.shared(self.verdict.durations, "correctness"), self.clock("correctness"):
                run_trial(self, spec, seen, sizes)
                memory.free_cached(self.ref_device)  # this trial's tensors are gone: the worker may need the memory

    def fetch(self, runs: list[list[dict[str, Any]]], ref: evidence.Reference) -> None:
        """Bring the GPU outputs the worker kept into buffers this process owns and shared with it.

        Only outputs whose shape matches the reference's are fetched (a wrong shape needs no
        values), so a hostile report cannot make the judge allocate more than the reference's size.
        """
        wanted = []
        for records in runs:
            for rec, expected in zip(records, ref.outputs):
                dtype = getattr(torch, str(rec.get("dtype")), None)
                shape = tuple(expected.shape) if isinstance(expected, torch.Tensor) else ()
                if "pending" in rec and isinstance(dtype, torch.dtype) and tuple(rec.get("shape") or ()) == shape:
                    wanted.append((rec, torch.empty(shape, dtype=dtype, device=self.ref_device)))
        if wanted:
            self.call("fetch", {"buffers": [[rec["pending"], transport.share(buf)] for rec, buf in wanted]},
                      timeout_s=self.deadlines.run_s, stage="correctness")
            for rec, buf in wanted:
                rec["tensor"] = buf

    def time_reference(self, base: dict[str, Any]) -> None:
        """Derive the call deadlines from the reference's measured time (a floor where it fails)."""
        try:
            seconds = deadlines.reference_seconds(self.problem, base, self.ref_device)
        except Exception as exc:  # noqa: BLE001 - the trials will report a reference that does not run
            self.logs.append(f"reference not timed ({type(exc).__name__}: {exc}); deadlines at their floor")
            seconds = 0.0
        self.deadlines = deadlines.derive(self.job.options, seconds, self.device_type)
        if self.static_rules - self.relaxed:  # a soft static finding decides: the one trial is evidence only
            self.deadlines = deadlines.for_evidence(self.deadlines)

    def profile(self) -> None:
        if not (self.job.options.profile and self.device_type == "cuda"):
            return
        meta = self.call("profile_meta", None, timeout_s=60, stage="timing")
        self.verdict.profile = {**(self.verdict.profile or {}), "triton": meta}


def judge(job: Job, worker: Worker) -> Verdict:
    """Decide one candidate. Worker failures become timeout / runtime_error verdicts."""
    started = time.perf_counter()
    j = Judge(job, worker)
    try:
        verdict = _decide(j, worker)
    finally:  # also when something unforeseen escapes: the GPU memory promised to this job is free again
        memory_judge.withdraw(j)
        forget_reference_model()
    verdict.elapsed_s = round(time.perf_counter() - started, 3)
    return verdict


def _decide(j: Judge, worker: Worker) -> Verdict:
    """The stages in order, then the worker's release (or restart)."""
    job, clock = j.job, j.clock
    try:
        with clock("static"):
            j.static()
        with clock("start"):
            j.call("ping", None, timeout_s=300, stage="load")
        for event in j.events():  # start-up of the worker (imports), before any candidate code
            j.logs.append(f"worker start-up event: {event}")
        base = inputs_mod.base_overrides(j.problem, j.small)
        gate = BudgetedGate(getattr(worker, "gate", None) or DeviceGate(), j.budget)  # only timing has it alone
        waits = j.verdict.durations  # the gate's waits go to durations["gate_wait"], not to the stages
        with clock("memory"):
            memory_judge.check_memory(j, base, gate)
        with clock("reference_time"):
            j.time_reference(base)
            memory.free_cached(j.ref_device)
        if job.options.timing and j.device_type == "cuda":
            with gate.exclusive(waits, "timing"), clock("baselines"):
                time_baselines(j, base)
        with clock("load"):  # no gate: a load_inline / nvcc compile takes seconds and would stall every timing
            j.load(base)
        j.trials(gate)  # each trial shares the GPU on its own (the first includes the compile on the first launch)
        if job.options.timing:
            with gate.exclusive(waits, "timing"), clock("timing"):
                measured = time_candidate(j, base)
            with gate.shared(waits, "timing"), clock("timing_checks"):
                check_timing(j, base, measured)
            j.decide_if_fired("timing")
        with gate.shared(waits, "timing"), clock("profile"):
            j.profile()
        verdict = j._finish("correct", "done", "all checks passed")
    except Decided as decided:
        verdict = decided.verdict
    except GateTimeout as waited:  # the deadline came while this job waited for the GPU
        stage = waited.stage or _STAGE_OF.get(clock.current, "load")
        verdict = j._finish("timeout", stage, f"{stage} timed out: {waited}")
    except Exception as exc:  # noqa: BLE001 - only this process running out of GPU memory is handled here
        if not memory.is_out_of_memory(f"{type(exc).__name__}: {exc}"):
            raise
        verdict = memory_judge.out_of_memory(j, exc, _STAGE_OF.get(clock.current, "done"))
    if j.budget.expired:  # past the deadline: kill the worker now, the next job starts a fresh one
        with clock("restart"):
            getattr(worker, "stop", worker.restart)()
    elif j.dirty:
        with clock("restart"):
            try:
                worker.restart()
            except Exception:  # noqa: BLE001 - the next call starts a fresh worker anyway
                pass
    else:
        with clock("release"):
            memory_judge.release_worker(j)
    return verdict


# the verdict stage of each clock stage, for an out-of-memory in this process
_STAGE_OF = {"static": "static", "start": "load", "memory": "load", "reference_time": "load", "baselines": "timing",
             "load": "load", "correctness": "correctness", "timing": "timing", "timing_checks": "timing",
             "profile": "timing"}


def _policies(status: str, rule: str | None, fired: list[str]) -> dict[str, bool | None]:
    """Whether the verdict passes under each policy. A stop at a rule that a policy only flags
    leaves that policy's answer unknown (None): the checks after it did not run."""
    if status == "correct":
        return {name: not (set(fired) & RELAXABLE - relaxed) for name, relaxed in POLICIES.items()}
    return {name: None if rule in relaxed and set(fired) <= relaxed else False for name, relaxed in POLICIES.items()}


def _priority(rule: str) -> int:
    """Deciding order among anti-cheat rules: the most specific first, missing launches last."""
    return 1 if rule == "no_kernel_launched" else 0


def _stage(stage: str) -> str:
    return stage if stage in get_args(Stage) else "correctness"
