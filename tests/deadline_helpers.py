"""Functions the deadline tests run inside a real worker (`Worker.call("deadline_helpers:...")`)."""
import time

from kernelwright.verifier.sandbox import enter as sandbox


def compile_then_answer(seconds: float) -> str:
    """A slow JIT compile (no launch has returned yet), then a launch, then the answer."""
    time.sleep(seconds)
    sandbox.progress()
    return "done"


def launch_then_hang(_payload=None) -> None:
    """A launch returns (the compile is over), then the call never ends: a hung kernel."""
    sandbox.progress()
    time.sleep(3600)
