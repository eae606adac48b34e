"""ModelNew's constructor: the reference Model's ``__init__`` copied, so that the verifier can load the
reference's state_dict into it by name, and the module-level definitions that constructor uses.

The copy (i) renames ``Model`` to ``ModelNew`` inside it (``super(Model, self).__init__()``),
(ii) keeps the constructor arguments as ``self.kw_init_args`` (the program reads the
hyper-parameters it was generalised over from there, see generalize.InitArg), and (iii) brings
along the module-level names it uses (constants, helper functions, helper nn.Module classes),
except Model / get_inputs / get_init_inputs; helper classes lose their ``forward`` (only their
parameters matter here, and torch compute in it would be flagged by the static checks).
"""
from __future__ import annotations

import ast

SKIP = {"Model", "get_inputs", "get_init_inputs"}
GENERIC_INIT = ("    def __init__(self, *args, **kwargs):\n        super().__init__()\n"
                "        self.kw_init_args = tuple(args)\n")


class _Rename(ast.NodeTransformer):
    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id == "Model":
            node.id = "ModelNew"
        return node


def _model(tree: ast.Module) -> ast.ClassDef | None:
    return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"), None)


def _method(cls: ast.ClassDef | None, name: str) -> ast.FunctionDef | None:
    if cls is None:
        return None
    return next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def forward_signature(source: str) -> str:
    """The reference forward's parameter list (without self), as source text."""
    forward = _method(_model(ast.parse(source)), "forward")
    if forward is None:
        return "*args"
    args = forward.args
    args.args = args.args[1:]
    return ast.unparse(args)


def model_init(source: str) -> str:
    """Source of ModelNew.__init__ (indented for the class body)."""
    init = _method(_model(ast.parse(source)), "__init__")
    if init is None:
        return GENERIC_INIT
    init = _Rename().visit(init)
    names = [a.arg for a in init.args.posonlyargs + init.args.args][1:]
    value = "(" + "".join(f"{n}, " for n in names) + ")"
    if init.args.vararg is not None:
        value += f" + tuple({init.args.vararg.arg})"
    init.body.append(ast.parse(f"self.kw_init_args = {value}").body[0])
    text = ast.unparse(ast.fix_missing_locations(init))
    return "\n".join("    " + line for line in text.splitlines()) + "\n"


def _defined(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in stmt.names}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def dependencies(source: str) -> str:
    """Module-level statements of the problem that ModelNew.__init__ needs (transitively), in order."""
    tree = ast.parse(source)
    init = _method(_model(tree), "__init__")
    if init is None:
        return ""
    wanted = _used(init)
    chosen: list[int] = []
    changed = True
    while changed:
        changed = False
        for i, stmt in enumerate(tree.body):
            names = _defined(stmt)
            if i in chosen or not (names & wanted) or names & SKIP:
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                module = stmt.module if isinstance(stmt, ast.ImportFrom) else stmt.names[0].name
                if (module or "").split(".")[0] == "kernelwright":
                    continue
            chosen.append(i)
            wanted |= _used(stmt)
            changed = True
    parts = []
    for i in sorted(chosen):
        stmt = tree.body[i]
        if isinstance(stmt, ast.ClassDef):
            stmt.body = [s for s in stmt.body if not (isinstance(s, ast.FunctionDef) and s.name == "forward")] \
                or [ast.Pass()]
        parts.append(ast.unparse(stmt))
    return "\n\n".join(parts)
