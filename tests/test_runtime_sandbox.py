"""The worker's sandbox: scrubbed environment, no network, no writes outside, no processes."""
import os
import socket
import threading

import pytest
from kernelwright.verifier.sandbox.env import child_environment
from kernelwright.verifier.sandbox.worker import Worker, WorkerError


@pytest.fixture(scope="module")
def worker():
    os.environ["FAKE_API_KEY"] = "sk-do-not-leak"
    os.environ["HF_TOKEN"] = "hf-do-not-leak"
    try:
        with Worker("cpu", name="rt-sandbox") as w:
            w.start()
            yield w
    finally:
        os.environ.pop("FAKE_API_KEY", None)
        os.environ.pop("HF_TOKEN", None)


def blocked(worker, target, payload):
    """Call and return the one-line reason of the PermissionError the sandbox raised."""
    with pytest.raises(WorkerError) as info:
        worker.call(target, payload, timeout_s=30, stage="correctness")
    assert info.value.kind == "exception", info.value
    assert info.value.reason.startswith("PermissionError: kernelwright sandbox:"), info.value.reason
    return info.value.reason


def test_secrets_are_scrubbed_from_the_environment(worker):
    assert worker.call("runtime_helpers:env", "FAKE_API_KEY", timeout_s=10) is None
    assert worker.call("runtime_helpers:env", "HF_TOKEN", timeout_s=10) is None
    assert worker.call("runtime_helpers:env", "PATH", timeout_s=10) == os.environ["PATH"]


def test_child_environment_keeps_toolchain_and_drops_credentials():
    base = {"PATH": "/bin", "CUDA_HOME": "/cuda", "TRITON_CACHE_DIR": "/mine", "NVIDIA_API_KEY": "k",
            "AWS_SECRET_ACCESS_KEY": "s", "HTTPS_PROXY": "p", "TORCH_HUB_TOKEN": "t", "RANDOM_VAR": "r",
            "OMP_NUM_THREADS": "2"}
    env = child_environment(base, device_index="3", workdir="/w", cache_dir="/c")
    assert {"PATH", "CUDA_HOME", "OMP_NUM_THREADS"} <= set(env)
    assert not {"NVIDIA_API_KEY", "AWS_SECRET_ACCESS_KEY", "HTTPS_PROXY", "TORCH_HUB_TOKEN", "RANDOM_VAR"} & set(env)
    assert env["TRITON_CACHE_DIR"] == "/c/triton" and env["HOME"] == "/w" and env["TMPDIR"] == "/w/tmp"
    assert env["CUDA_VISIBLE_DEVICES"] == "3" and "TRITON_INTERPRET" not in env


def test_parent_environ_cannot_be_read_through_proc(worker):
    reason = blocked(worker, "runtime_helpers:proc_environ_of_parent", None)
    assert "proc" in reason
    assert any(e.startswith("proc: open /proc/") for e in worker.take_events())


def test_worker_sees_only_its_own_processes(worker):
    if not worker.pid_namespace:
        pytest.skip("PID namespaces unavailable here")
    assert worker.info["sandbox"]["pids"].startswith("isolated")
    assert worker.call("runtime_helpers:pid", None, timeout_s=10) < 10  # numbered inside its namespace


def test_loopback_server_outside_the_namespace_is_unreachable(worker):
    if not worker.info["sandbox"]["network"].startswith("isolated"):
        pytest.skip(f"network namespace unavailable: {worker.info['sandbox']['network']}")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    got = []
    thread = threading.Thread(target=lambda: got.append(_accept(server)), daemon=True)
    thread.start()
    result = worker.call("runtime_helpers:connect", port, timeout_s=30)
    thread.join(timeout=3)
    server.close()
    assert result.startswith("OSError") and "unreachable" in result
    assert got == [None]


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


def test_outside_connection_is_blocked_and_recorded(worker):
    worker.take_events()
    reason = blocked(worker, "runtime_helpers:connect_outside", None)
    assert "network" in reason and "10.255.255.1" in reason
    assert [e for e in worker.take_events() if e.startswith("network: socket.connect")]


def test_write_outside_workdir_is_blocked_and_reported(worker, tmp_path):
    target = tmp_path / "escape.txt"
    reason = blocked(worker, "runtime_helpers:write_file", str(target))
    assert f"write {target}" in reason and not target.exists()
    assert f"file: write {target}" in worker.take_events()
    inside = worker.call("runtime_helpers:write_file", "notes.txt", timeout_s=10)
    assert inside.startswith(worker.info["sandbox"]["workdir"])


def test_subprocess_blocked_unless_compiling(worker):
    reason = blocked(worker, "runtime_helpers:run_program", ["uname"])
    assert "process" in reason
    assert worker.call("runtime_helpers:run_program_as_compiler", ["uname"], timeout_s=30).strip() == os.uname().sysname
    blocked(worker, "runtime_helpers:run_program_as_compiler", ["ls", "/"])  # not a compiler
    events = worker.take_events()
    assert sum(e.startswith("process: subprocess") for e in events) == 2


def test_signalling_the_caller_is_blocked(worker):
    reason = blocked(worker, "runtime_helpers:kill_parent", None)
    assert "signal" in reason  # and we are still here


def test_threads_are_recorded(worker):
    worker.take_events()
    assert worker.call("runtime_helpers:start_thread", None, timeout_s=10) == 1
    assert any(e.startswith("thread: started") and "spin" in e for e in worker.take_events())
    assert any("spin" in e for e in worker.call("runtime_helpers:sandbox_events", None, timeout_s=10))


def test_closing_the_event_channel_is_reported(worker):
    worker.take_events()
    worker.call("runtime_helpers:close_event_channel", None, timeout_s=10)
    events = worker.take_events()
    assert any(e.startswith("channel: the worker") for e in events), events
    worker.restart()
    worker.call("runtime_helpers:echo", 1, timeout_s=60)
    assert worker.take_events() == []


def test_triton_sm90_compile_runs_ptxas_inside_the_sandbox(worker):
    worker.take_events()
    try:
        result = worker.call("runtime_kernels:compile_sm90", 128, timeout_s=240, stage="compile")
    except WorkerError as error:
        if "PermissionError" in error.reason:
            raise
        pytest.skip(f"Triton cannot compile for sm_90 here: {error.reason[:200]}")
    assert "cubin" in result["stages"] and result["cubin_bytes"] > 1000
    assert not [e for e in worker.take_events() if e.startswith("process")]


BARE = '''
import json, os, subprocess
from kernelwright.verifier.sandbox import enter as sandbox
status = sandbox.apply()
out = {"status": status, "key": os.environ.get("FAKE_API_KEY"), "interp": os.environ.get("TRITON_INTERPRET")}
try:
    subprocess.run(["ls"])
    out["subprocess"] = "ran"
except PermissionError as exc:
    out["subprocess"] = str(exc)
open("inside.txt", "w").write("ok")
print(json.dumps(out))
'''


def test_bare_apply_in_a_helper_process(tmp_path):
    import json
    import subprocess
    import sys

    env = {**os.environ, "FAKE_API_KEY": "leak", "TRITON_INTERPRET": "1"}
    done = subprocess.run([sys.executable, "-c", BARE], capture_output=True, text=True, env=env, timeout=60,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["key"] is None and out["interp"] == "1"
    assert out["subprocess"].startswith("kernelwright sandbox: process blocked")
    assert out["status"]["workdir"].startswith("/") and "RLIMIT_CORE" in out["status"]["limits"]


def test_credential_files_cannot_be_read(worker, tmp_path):
    key = tmp_path / ".ssh" / "id_ed25519"
    key.parent.mkdir()
    key.write_text("PRIVATE")
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    assert worker.call("runtime_helpers:read_file", str(plain), timeout_s=10) == "hello"
    assert "read" in blocked(worker, "runtime_helpers:read_file", str(key))


def test_real_home_is_out_of_reach(worker):
    import pwd
    import uuid

    home = pwd.getpwuid(os.getuid()).pw_dir
    if home in ("/", "") or any(p.startswith(home + "/") for p in (os.getcwd(), __file__)):
        pytest.skip("the project lives under the home directory here")
    secret = os.path.join(home, f".kw_test_secret_{uuid.uuid4().hex}")
    with open(secret, "w") as handle:
        handle.write("token")
    try:
        assert "read" in blocked(worker, "runtime_helpers:read_file", secret)
    finally:
        os.remove(secret)
