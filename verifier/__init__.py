"""kernelwright.verifier."""
