"""kernelwright.configs."""
