"""The worker process: enter the sandbox, then serve `fn(payload)` calls from the parent.

Started by `Worker` as ``python -m kernelwright.verifier.sandbox.child CONFIG_JSON``. Requests come
pickled on one pipe; replies go back on another, pickled by `wire.dumps`. Module-level state of
the called modules persists between calls, so a harness can load a candidate once and then run
correctness and timing in separate calls.
"""
from __future__ import annotations

import importlib
import json
import os
import pickle
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from kernelwright.verifier.sandbox import enter as sandbox
from kernelwright.verifier.sandbox import wire


def resolve(target: str) -> Callable[[Any], Any]:
    """Import "package.module:function" and return the function."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"bad worker target {target!r}; use 'package.module:function'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _reply_for(call_id: int, target: str, payload: Any) -> bytes:
    try:
        result = resolve(target)(payload)
        return wire.dumps(("ok", call_id, result))
    except BaseException as exc:  # noqa: BLE001 - SystemExit from a candidate is its failure too
        text = traceback.format_exc()
        try:
            message = str(exc)
        except Exception:  # noqa: BLE001 - a hostile __str__
            message = "<unprintable exception>"
        return wire.dumps(("exc", call_id, type(exc).__name__, message[:4000], text[-16000:]))


def _exit_when_orphaned(fd: int) -> None:
    """Watch the request pipe: when the parent is gone (all writers closed), exit at once."""
    import select
    import threading

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, select.POLLHUP | select.POLLERR)
        while True:
            for _, flags in poller.poll():
                if flags & (select.POLLHUP | select.POLLERR):
                    os._exit(70)

    threading.Thread(target=watch, daemon=True, name="kw-orphan-watch").start()


def serve(config: dict[str, Any]) -> None:
    _exit_when_orphaned(config["fd_requests"])
    status = sandbox.apply(
        workdir=config["workdir"], cache_dir=config["cache_dir"], cuda=config["cuda"], event_fd=config["fd_events"],
        isolate_network=config.get("isolate_network", True), pid_namespace=config.get("pid_namespace", False),
        guard_home=config.get("guard_home", True),
    )
    requests = Connection(config["fd_requests"], writable=False)
    replies = Connection(config["fd_replies"], readable=False)
    preloaded = []
    for name in config.get("preload", []):
        try:
            importlib.import_module(name)
            preloaded.append(name)
        except ImportError as exc:
            print(f"worker: could not preload {name}: {exc}", file=sys.stderr)
    replies.send_bytes(wire.dumps(("ready", 0, {"pid": os.getpid(), "sandbox": status, "preloaded": preloaded})))
    while True:
        try:
            message = pickle.loads(requests.recv_bytes())
        except EOFError:
            return
        if message[0] == "exit":
            return
        _, call_id, target, payload = message
        reply = _reply_for(call_id, target, payload)
        try:  # after this line the parent knows it has every event of the call
            os.write(config["fd_events"], b"\x00sync %d\n" % call_id)
        except OSError:
            pass
        replies.send_bytes(reply)


def main() -> None:
    serve(json.loads(sys.argv[1]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: candidate atexit hooks and finalizers do not run


if __name__ == "__main__":
    main()
