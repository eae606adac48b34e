"""Everything that runs inside the sandboxed worker process, and the handle the parent holds.

`worker` is the parent's handle; `env` builds the child's scrubbed environment in the parent;
`wire` and `transport` are both sides of the pipe. The rest runs only in the child: `child`
(entry point), `enter` and `os_layers` (the sandbox itself), `candidate_side` and
`candidate_timing` (load, run and time the candidate), `dynamic_checks` and `environ_watch`.
"""
