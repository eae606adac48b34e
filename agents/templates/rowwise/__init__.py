"""The row-wise family: softmax, logsumexp, row sums and layer / RMS norms over the last dimension."""
from kernelwright.agents.templates.rowwise import family  # noqa: F401 - registers the family
