"""kernelwright.agents."""
