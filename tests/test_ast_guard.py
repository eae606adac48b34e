"""ast.parse from several threads at once must not fail on CPython releases with gh-106905."""
import ast
import subprocess
import sys
import textwrap

import kernelwright  # noqa: F401  (installs the guard where needed)
from kernelwright.ast_guard import affected

# Finalizers that yield the GIL run inside each parse's garbage collections, so another thread
# parses in the middle of it: on an unguarded 3.11.7 this fails within the first few parses.
STRESS = textwrap.dedent("""
    import ast, gc, sys, threading, time
    if sys.argv[1] == "guarded":
        import kernelwright
    source = "\\n".join(f"def f{i}(a):\\n    return [x * a for x in range({i})] + [{{'k': (1, 2)}}]"
                        for i in range(300))

    class Yield:
        def __del__(self):
            time.sleep(0)

    errors = []

    def parse():
        for _ in range(60):
            for _ in range(20):
                a, b = Yield(), Yield()
                a.b, b.a = b, a
            del a, b
            try:
                ast.parse(source)
            except SystemError as exc:
                errors.append(exc)
                return

    gc.set_threshold(100)
    threads = [threading.Thread(target=parse) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    print(len(errors))
""")


def test_affected_releases():
    assert affected((3, 11, 7)) and affected((3, 12, 1))
    assert not affected((3, 11, 8)) and not affected((3, 12, 2)) and not affected((3, 13, 0))


def test_guard_is_installed_exactly_where_cpython_needs_it():
    assert bool(getattr(ast.parse, "kw_serialized", False)) == affected()


def test_concurrent_parses_with_finalizers_do_not_fail():
    run = subprocess.run([sys.executable, "-c", STRESS, "guarded"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["0"]


def test_a_parse_inside_a_parse_on_the_same_thread_does_not_deadlock():
    from kernelwright.ast_guard import _LOCK

    with _LOCK:  # a finalizer running inside a guarded parse holds the lock already
        assert isinstance(ast.parse("x = 1"), ast.Module)
