"""Prompt text for LLM coders. Text only: `agents/llm_prompt.py` fills the blanks.

DeepSeek-R1 works best without a system message, so every instruction goes into the one user
message: a task header, one strategy section, then the output contract last (R1 follows what
it read most recently). Placeholders use str.format names; literal braces are doubled.
"""
from __future__ import annotations

TASK_HEADER = """\
You are writing a GPU kernel that replaces a PyTorch reference implementation.

Problem: {problem_name}
{description}

The reference is a KernelBench-style Python file. `Model` is the computation to reproduce,
`get_inputs()` builds the forward inputs and `get_init_inputs()` the constructor arguments:

```python
{problem_source}
```

Target backend: {backend_note}
"""

BACKEND_NOTES = {
    "triton": (
        "Triton (`import triton`, `import triton.language as tl`, kernels decorated with "
        "`@triton.jit`, block sizes as `tl.constexpr`, masks on every load and store so ragged "
        "sizes work). Use only long-stable Triton APIs (tl.load, tl.store, tl.arange, tl.program_id, "
        "tl.dot, tl.max, tl.sum, tl.exp, tl.exp2, tl.where, tl.cdiv, triton.next_power_of_2)."
    ),
    "cupy": (
        "raw CUDA C++ compiled with CuPy (`cupy.RawKernel` or `cupy.RawModule`), launched on "
        "torch tensors through `cupy.from_dlpack` / `torch.utils.dlpack`, on the current torch stream."
    ),
    "load_inline": (
        "raw CUDA C++ compiled with `torch.utils.cpp_extension.load_inline` (a `__global__` kernel "
        "plus a small C++ launcher that takes and returns torch tensors)."
    ),
}

OUTPUT_CONTRACT = """\
How to answer (the verifier rejects a file that breaks any rule):
1. Think first, then reply with exactly ONE ```python block holding the complete file; explain before it.
2. Define `class ModelNew(nn.Module)`. Its `__init__` and `forward` take exactly `Model`'s arguments, and it
   keeps `Model`'s parameters and buffers (same names and shapes).
3. Read every size from the inputs in `forward` (`x.shape`, `x.numel()`), never from the problem's
   module constants{size_names}: other sizes are tested too. Mask loads and stores for ragged edges.
4. {launch_rule}
5. Do the work in your own kernel(s): no PyTorch compute (matmul, softmax, sum, torch.nn.functional, ...),
   no calling or subclassing `Model`, no fallback path (no try/except around the kernel). Allocating
   outputs (torch.empty / empty_like), views and reshapes are fine. Accumulate in float32.
6. No caching between calls, prints, files, network, threads or processes.
7. Copy nothing else from the problem file: not its metadata{metadata_names}, not `get_inputs`,
   `get_init_inputs`, tests or benchmark code.
"""

LAUNCH_RULES = {
    "triton": "Launch each `@triton.jit` kernel as `kernel[grid](args, BLOCK=...)`; never call it like a function.",
    "cupy": "Launch each `cupy.RawKernel` as `kernel((grid,), (block,), (args...))` on the current torch stream.",
    "load_inline": "Launch the `__global__` kernel from the C++ function that `load_inline` exports.",
}

EXAMPLE_SHOWN = "The kernel above passed the verifier: it follows every rule below; keep its structure."

EXAMPLE_VERIFIED = """\
A kernel from this run that passed the verifier (a correct example of the rules below):
```python
{source}
```
"""

EXAMPLE_GENERIC = """\
The shape of a correct answer, for a different problem (y = 2 * x):
```python
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def _double_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y_ptr + offs, tl.load(x_ptr + offs, mask=mask) * 2.0, mask=mask)


class ModelNew(nn.Module):
    def __init__(self):  # the same arguments as Model.__init__
        super().__init__()

    def forward(self, x):  # the same arguments as Model.forward
        x = x.contiguous()
        y = torch.empty_like(x)
        n = x.numel()  # sizes come from the inputs
        _double_kernel[(triton.cdiv(n, 1024),)](x, y, n, BLOCK=1024)  # launched with kernel[grid](...)
        return y
```
"""

STRATEGY_TEMPLATES: dict[str, str] = {
    "first_draft": """\
Task: write a first, correct kernel for this problem. Favour a simple, clearly correct design
(one program per row / tile, masks on ragged edges) that is also reasonably fast.
{diversity_note}""",
    "fix_compile_error": """\
Task: the kernel below failed to import or compile. Read the compiler output, find the cause and
return the corrected complete file. Keep the design unless it cannot work.

Kernel that failed:
```python
{parent_source}
```

Compiler / import output:
{feedback}
""",
    "fix_numerics": """\
Task: the kernel below runs but gives wrong results (or the verifier rejected how it computes
them). The verifier's findings say what failed, where, and by how much the output differs. Work out the cause (indexing, masking, missing
max-subtraction, accumulation precision, a forgotten tail, ...) and return the corrected complete file.

Kernel with wrong results:
```python
{parent_source}
```

Verifier findings:
{feedback}
""",  # noqa: E501 - prompt text, sent to the model as written
    "fix_runtime_error": """\
Task: the kernel below crashed or timed out while running. Find the cause (out-of-bounds access,
wrong grid, wrong strides or dtypes, an endless loop, a launch that is far too large) and return
the corrected complete file.

Kernel that failed at run time:
```python
{parent_source}
```

Error report:
{feedback}
""",
    "optimise_memory": """\
Task: the kernel below is correct but limited by memory traffic. Make it faster by moving fewer
bytes: fuse passes, read each input once, use vectorised contiguous accesses, keep data on chip,
avoid needless intermediate tensors. It must stay exactly as correct.

Current kernel:
```python
{parent_source}
```

Timing, roofline and profile figures:
{feedback}
""",
    "optimise_compute": """\
Task: the kernel below is correct but limited by computation or latency. Make it faster: better
tiling, more work per program, tensor-core friendly shapes (tl.dot), cheaper math (exp2 instead of
exp), fewer synchronisations, better occupancy. It must stay exactly as correct.

Current kernel:
```python
{parent_source}
```

Timing, roofline and profile figures:
{feedback}
""",
    "tune_launch_config": """\
Task: keep the algorithm of the kernel below and tune its launch configuration: block sizes,
num_warps, num_stages, grid shape, work per program. Choose a configuration that has not been
tried yet and that suits the problem's sizes.

Current kernel:
```python
{parent_source}
```

Configurations tried so far (launch settings by value; "unresolved: <expression>" = computed at run time):
{tried}

Latest figures:
{feedback}
""",
    "switch_backend": """\
Task: rewrite the kernel below for a different backend: {backend}. Keep what works about its
algorithm, but the new file must launch a {backend} kernel only.

Kernel in the previous backend:
```python
{parent_source}
```

Notes on earlier attempts:
{feedback}
""",
    "diversify": """\
Task: earlier attempts stalled. Write a substantially different kernel for this problem: a
different decomposition of the work, a different reduction scheme or a one-pass (online)
algorithm. Do not repeat the approaches listed below.

Approaches tried so far:
{tried}

What went wrong with them:
{feedback}
""",
    "refine_best": """\
Task: the kernel below is the fastest correct one so far. Improve it further with focused, careful
changes; do not break correctness.

Best kernel so far:
```python
{parent_source}
```

Latest figures and notes:
{feedback}
""",
}

GENERIC_TEMPLATE = """\
Task ({strategy}): {instructions}

Kernel to start from:
```python
{parent_source}
```

Feedback:
{feedback}
"""

STRATEGY_NOTES = """\
Additional guidance for this step:
{instructions}
"""

DIVERSITY_NOTE = (
    "This is candidate {index} of several written in parallel: pick a design that differs from "
    "the most obvious one (for example a different block size, work per program or reduction order)."
)

NO_FEEDBACK = "(none given)"
NO_PARENT = "# (no earlier kernel)"
NO_TRIED = "(none recorded)"

# Seed prompt for attention with a relative positional bias computed inside the kernel.
ATTENTION_SEED = """\
Task: write a fused attention kernel (scaled dot-product attention with an online softmax,
flash-attention style) that also applies a relative positional bias to every attention score.
Do not build the bias as a tensor: compute it on the fly inside the kernel from the query and
key positions of the tile being processed.

The score modification is this function of the raw, already scaled score and its indices:

```python
def relative_positional(score, b, h, q_idx, kv_idx):
    return score + (q_idx - kv_idx)
```

If you take the usual exp2 route and fold log2(e) = 1.44269504 into the softmax scale
(qk_scale = sm_scale * 1.44269504), the bias must be scaled by the same constant, because the
reference adds it before the natural-base softmax. Inside the kernel this reads:

    qk = qk * qk_scale + rel_pos * 1.44269504

where rel_pos = q_idx - kv_idx for the tile's rows and columns. The PyTorch reference itself
applies the bias unscaled. Mask positions outside the sequence, keep the running max and sum
in float32, and return the complete file.
{mask_note}{diversity_note}"""

ATTENTION_MASK_NOTE = (
    "The reference also applies `mask_mod` (see the problem file): evaluate it on the fly from the "
    "tile's positions, set masked scores to -inf before the softmax, and skip key tiles that are "
    "masked out entirely.\n"
)

ATTENTION_MOD_NOTE = """
This is an attention variant: evaluate the problem's score_mod / mask_mod on the fly inside the
kernel from the query and key positions of each tile; never build a (seq x seq) bias or mask
tensor in memory. Masked scores become -inf before the softmax; skip fully masked key tiles.
"""

BACKWARD_NOTE = """
Training: this problem is verified with its backward pass. After ModelNew's forward, one backward pass
runs with fixed output gradients, and the gradients of every floating input and of every parameter of
the reference Model (by the same attribute names) are checked against float64. So the forward must be
differentiable, and the backward must run in your own kernels too: a torch.autograd.Function whose
forward and backward launch your kernels (PyTorch compute ops in the backward are rejected like those
in the forward). Forward + backward are timed as one call.
"""

REPEATED = (
    "Note: your answer for attempt {attempt} repeated attempt {earlier} exactly (the same source), so it "
    "can only get attempt {earlier}'s verdict again: write a different kernel this time."
)

REASK = """\
Your previous answer could not be used: {reason}.
Reply again with the complete file in exactly one fenced ```python block that defines
`class ModelNew(nn.Module)`. Do not leave anything out.
"""
