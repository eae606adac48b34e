"""Functions the runtime tests call inside a worker (imported there by "runtime_helpers:name")."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from typing import Any


def echo(payload: Any) -> Any:
    return payload


def pid(_: Any = None) -> int:
    return os.getpid()


def env(name: str) -> str | None:
    return os.environ.get(name)


def proc_environ_of_parent(_: Any = None) -> bytes:
    with open(f"/proc/{os.getppid()}/environ", "rb") as handle:
        return handle.read()


def sleep_forever(_: Any = None) -> None:
    while True:
        time.sleep(0.05)


def segfault(_: Any = None) -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def hard_exit(code: int) -> None:
    os._exit(code)


def raise_value_error(message: str) -> None:
    raise ValueError(message)


def double(tensor: Any) -> Any:
    return tensor * 2


def connect(port: int) -> str:
    sock = socket.socket()
    sock.settimeout(2)
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"leak")
        return "connected"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()


def connect_outside(_: Any = None) -> str:
    sock = socket.socket()
    try:
        sock.connect(("10.255.255.1", 80))
        return "connected"
    finally:
        sock.close()


def write_file(path: str) -> str:
    with open(path, "w") as handle:
        handle.write("x")
    return os.path.realpath(path)


def run_program(argv: list[str]) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def run_program_as_compiler(argv: list[str]) -> str:
    from kernelwright.verifier.sandbox import enter as sandbox

    with sandbox.allow_compilers():
        return run_program(argv)


def kill_parent(_: Any = None) -> None:
    os.kill(os.getppid(), signal.SIGKILL)


def close_event_channel(_: Any = None) -> None:
    from kernelwright.verifier.sandbox import enter as sandbox

    fd = sandbox._state.event_fd
    sandbox._state.event_fd = None
    os.close(fd)


def start_thread(_: Any = None) -> int:
    import threading

    def spin() -> None:
        time.sleep(0.01)

    thread = threading.Thread(target=spin)
    thread.start()
    thread.join()
    return 1


def sandbox_events(_: Any = None) -> list[str]:
    from kernelwright.verifier.sandbox import enter as sandbox

    return sandbox.events()


def evil_reply(marker: str) -> Any:
    class Evil:
        def __reduce__(self):
            return (os.system, (f"echo pwned > {marker}",))

    return Evil()


# -- a small test-only judge: load the candidate in the worker, compare one output ---------------
def run_candidate(payload: dict) -> dict:
    import torch
    from kernelwright.verifier.problem import exec_source

    problem = exec_source(payload["problem"], "rt_problem", "<problem>")
    candidate = exec_source(payload["source"], "rt_candidate", payload["label"])
    torch.manual_seed(0)
    inputs = problem.get_inputs()
    model = candidate.ModelNew(*problem.get_init_inputs())
    out = model(*[x.clone() for x in inputs])
    ref = problem.Model(*problem.get_init_inputs())(*inputs)
    return {"max_err": float((out - ref).abs().max()), "out": out}


def judge(job, worker):
    from kernelwright.verifier.verdict import Verdict

    result = worker.call("runtime_helpers:run_candidate",
                         {"problem": job.problem.source, "source": job.candidate_source, "label": job.candidate_label},
                         timeout_s=job.options.run_timeout_s, stage="correctness")
    ok = result["max_err"] <= 1e-5
    return Verdict(status="correct" if ok else "incorrect", stage="done",
                   message=f"max error {result['max_err']:.3g} on {job.device}")


def read_file(path: str) -> str:
    with open(path) as handle:
        return handle.read()


def candidate_state(_: Any = None) -> dict[str, Any]:
    """What a job left in the worker's harness state (candidate, kept outputs, timing input sets)."""
    from kernelwright.verifier.sandbox.candidate_side import STATE

    return {"model": STATE.model is not None, "pending": len(STATE.pending), "sets": len(STATE.sets),
            "baselines": len(STATE.baselines)}
