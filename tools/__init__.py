"""kernelwright.tools."""
