"""`langgraph dev`, started as the README says, serves the graph and finishes a run without reloading."""
from __future__ import annotations

import asyncio
import os
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

from dev_server import langgraph_dev

ROOT = Path(__file__).resolve().parents[1]
RELOAD = "Reloading..."  # uvicorn's warning when a watched file changed
RUN_DEADLINE_S = 1200  # generous: a loaded 2-core machine; the run itself takes well under a minute idle


async def _one_run(sdk, url: str, log_path: Path) -> tuple[dict, dict]:
    """Create a thread, start one run on problems/softmax.py, poll until it ends or the server reloads
    (a reload cancels and retries the run, forever); (run, thread values)."""
    client = sdk.get_client(url=url)
    assistants = await client.assistants.search(graph_id="kernelwright")
    assert assistants, "graph 'kernelwright' not served"
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"], "kernelwright", input={"problem_path": "problems/softmax.py"},
        context={"coder": "template", "max_iterations": 1, "fanout": 1, "device": "cpu"})
    deadline = time.monotonic() + RUN_DEADLINE_S
    while (run["status"] in ("pending", "running") and time.monotonic() < deadline
           and RELOAD not in log_path.read_text()):
        await asyncio.sleep(2)
        run = await client.runs.get(thread["thread_id"], run["run_id"])
    state = await client.threads.get_state(thread["thread_id"])
    return run, state["values"]


@pytest.mark.slow
@pytest.mark.timeout(RUN_DEADLINE_S + 600)
def test_langgraph_dev_finishes_a_run_without_reloading(tmp_path):
    if find_spec("langgraph_cli") is None or find_spec("langgraph_api") is None:
        pytest.skip("langgraph-cli[inmem] is not installed (pip install -e '.[studio]')")
    sdk = pytest.importorskip("langgraph_sdk")
    env = {**os.environ, "TRITON_INTERPRET": "1", "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGGRAPH_NO_VERSION_CHECK": "1"}
    log_path = tmp_path / "dev.log"
    with open(log_path, "w") as log, langgraph_dev(ROOT, env, log) as url:
        run, values = asyncio.run(_one_run(sdk, url, log_path))
    log_text = log_path.read_text()

    assert RELOAD not in log_text, [line[-300:] for line in log_text.splitlines() if RELOAD in line][:3]
    assert run["status"] == "success", (run, log_text[-3000:])
    assert values["stop_reason"] == "iterations", values.get("error")
    assert [a["status"] for a in values["attempts"]] == ["correct"]
    assert values["best"]["attempt"] == 1 and "ModelNew" in values["best"]["source"]
    run_dir = Path(values["run_dir"])
    assert run_dir.parent == tmp_path / "cache" / "kernelwright" / "studio-runs"
    assert (run_dir / "attempt_1.py").is_file() and (run_dir / "best.py").is_file()
    assert not (ROOT / "runs" / values["run_id"]).exists()
