"""The elementwise family: one Triton kernel for an expression over the forward arguments."""
from kernelwright.agents.templates.elementwise import family  # noqa: F401 - registers the family
