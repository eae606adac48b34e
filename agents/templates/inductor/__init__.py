"""The `inductor` template family: Inductor's Triton for any capturable problem, exported as a
self-contained candidate (generate.py runs Inductor in a subprocess, export.py writes the file)."""
