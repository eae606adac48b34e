"""Shared test setup: the Triton interpreter on CPU, and skipping GPU tests without a GPU."""
import os

os.environ.setdefault("TRITON_INTERPRET", "1")
os.environ.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")  # no telemetry from `langgraph dev` in tests
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import pytest  # noqa: E402
import torch  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
