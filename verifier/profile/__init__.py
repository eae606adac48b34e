"""Nsight Compute profiling: `ncu` runs `driver` under ncu, `parse` reads its CSV, `diagnose` words it."""
