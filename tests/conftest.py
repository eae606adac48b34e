"""Shared test setup: the Triton interpreter on CPU, and skipping GPU tests without a GPU."""
import os

import pytest
import torch

# the Triton interpreter only where no GPU is: on a GPU host, GPU-marked tests compile for real
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")
os.environ.setdefault("LANGGRAPH_CLI_NO_ANALYTICS", "1")  # no telemetry from `langgraph dev` in tests
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def pytest_runtest_logreport(report):
    """KW_INSTAFAIL=1: print each failure at once (GPU sessions can end at a time limit before the
    summary)."""
    if os.environ.get("KW_INSTAFAIL") and report.failed:
        print(f"\nFAILED {report.nodeid} ({report.when}):\n{str(report.longrepr)[-3000:]}\n", flush=True)
