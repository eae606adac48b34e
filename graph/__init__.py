"""kernelwright.graph."""
