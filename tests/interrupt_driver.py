"""`kernelwright run` in a subprocess with a stand-in verifier, for the Ctrl-C test.

Verifications run in process (graph_helpers.inprocess_verifier), except call number $KW_HANG_AT:
that one goes to the real worker pool with a candidate that never finishes loading, after writing
the worker's pid to $KW_HANG_MARK, so a verification is in flight in a real worker process.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import kernelwright.graph.nodes.verify as verify_node

from graph_helpers import inprocess_verifier
from kernelwright.cli import main

HANG = "import torch\n\nwhile True:  # never loads\n    pass\n\n\nclass ModelNew(torch.nn.Module):\n    pass\n"
calls = 0


def verifier(problem, paths, options, device):
    global calls
    calls += 1
    if str(calls) != os.environ.get("KW_HANG_AT"):
        return inprocess_verifier(problem, paths, options, device)
    from kernelwright.verifier.pool import get_pool

    pool = get_pool("cpu")
    pool.workers[0].start()
    hang = Path(paths[0]).with_name("hang.py")
    hang.write_text(HANG)
    future = pool.submit(problem, hang, options.model_copy(update={"load_timeout_s": 600.0}))
    Path(os.environ["KW_HANG_MARK"]).write_text(str(pool.workers[0].pid))
    return [future.result()] * len(paths)


verify_node.verify_many = verifier
if __name__ == "__main__":
    sys.argv[0] = "kernelwright"
    main()
