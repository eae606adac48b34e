"""`langgraph dev` serves the graph from langgraph.json; a run over its HTTP API reaches a kernel."""
from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_langgraph_dev_serves_the_graph(tmp_path):
    langgraph = shutil.which("langgraph") or str(Path(os.sys.executable).parent / "langgraph")
    if not Path(langgraph).exists():
        pytest.skip("langgraph-cli is not installed (pip install 'kernelwright[studio]')")
    sdk = pytest.importorskip("langgraph_sdk")
    port = free_port()
    log = open(tmp_path / "dev.log", "w")
    server = subprocess.Popen(
        [langgraph, "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload",
         "--config", str(ROOT / "langgraph.json")],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/ok", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
            if server.poll() is not None:
                break
        else:
            server.poll()
        if server.poll() is not None:
            pytest.skip(f"langgraph dev could not start offline: {(tmp_path / 'dev.log').read_text()[-500:]}")

        async def run_once():
            client = sdk.get_client(url=url)
            assistants = await client.assistants.search(graph_id="kernelwright")
            assert assistants, "graph 'kernelwright' not served"
            return await client.runs.wait(
                None, "kernelwright", input={"problem_path": str(ROOT / "problems" / "softmax.py")},
                context={"coder": "template", "max_iterations": 1, "fanout": 1, "device": "cpu",
                         "artifacts_dir": str(tmp_path / "runs")})

        state = asyncio.run(run_once())
        assert state["stop_reason"] == "iterations", state.get("error")
        assert [a["status"] for a in state["attempts"]] == ["correct"]
        assert state["best"]["attempt"] == 1 and "ModelNew" in state["best"]["source"]
        assert (tmp_path / "runs" / state["run_id"] / "attempt_1.json").is_file()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
