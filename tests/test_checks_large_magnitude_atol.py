"""LARGE_MAGNITUDE_ATOL: the large-input trial may get its own absolute tolerance, and only that trial."""
import kernelwright

PROBLEM = '''
import torch, torch.nn as nn
ATOL = 1e-4
RTOL = 1e-4
LARGE_MAGNITUDE = 100.0
{extra}
N = 4096

class Model(nn.Module):
    def forward(self, x):
        return 2.0 * x

def get_inputs():
    return [torch.randn(N)]

def get_init_inputs():
    return []
'''

# exact for ordinary inputs; off by 0.01 where |x| > 10, which only the x100 trial reaches
CANDIDATE = '''
import torch, torch.nn as nn, triton, triton.language as tl

@triton.jit
def double(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offs, mask=offs < n)
    tl.store(y_ptr + offs, 2.0 * x + tl.where(tl.abs(x) > 10.0, 0.01, 0.0), mask=offs < n)

class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        double[(triton.cdiv(x.numel(), 1024),)](x, y, x.numel(), BLOCK=1024)
        return y
'''


def test_large_trial_uses_its_own_atol():
    verdict = kernelwright.verify(PROBLEM.format(extra="LARGE_MAGNITUDE_ATOL = 0.02"), CANDIDATE, device="cpu",
                                  extra_shapes=False)
    assert verdict.status == "correct", verdict.summary()
    assert [t.kind for t in verdict.trials][-2:] == ["large_magnitude", "shifted"]


def test_without_it_the_large_trial_fails_under_atol():
    verdict = kernelwright.verify(PROBLEM.format(extra=""), CANDIDATE, device="cpu", extra_shapes=False)
    assert verdict.status == "incorrect" and "large_magnitude" in verdict.flags, verdict.summary()
    assert all(t.passed for t in verdict.trials if t.kind == "random")
