"""The derivative of a problem's `score_mod` with respect to the score, as a new Python function.

The backward kernels need dS_raw = dS_mod * d score_mod / d score at every (query, key) pair. We
read `score_mod` (no execution), inline its local assignments and module-level helpers into one
expression, differentiate that expression symbolically (forward mode over the AST), and return a
module with one more function, `score_mod_grad(score, b, h, q_idx, kv_idx)`, written with the same
torch calls the translators accept; `translate_triton.translate` (or the C translator) then turns
it into kernel text like any other mod function.

    tree = differentiated(ast.parse(problem_source))      # adds score_mod_grad
    exec(compile(tree, "<problem>", "exec"), namespace)  # the reference can check it with autograd

For score_mods that read tensors (arguments after the five, indexed as ``slopes[h]``),
`tensor_derivatives` adds, per distinct indexed element, ``score_mod_dt<n>`` (d score_mod / d element)
and ``score_mod_ix<n>_<k>`` (its k-th index), so the backward can scatter-add the element gradients.

Supported: what the translators support. Integer-valued parts (`//`, `%`, bit operations,
comparisons) must not depend on the score; `torch.abs`, `minimum` / `maximum` and `clamp` take
PyTorch's subgradients (0 at abs's kink, the first argument's side on ties).
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass

from kernelwright.agents.templates.attention.translate_triton import TranslateError

GRAD_NAME = "score_mod_grad"
_MODULES = ("torch", "math", "tl", "F")


def differentiated(tree: ast.Module) -> ast.Module:
    """A copy of `tree` with `score_mod_grad` appended (TranslateError when `score_mod` cannot be
    differentiated here)."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if "score_mod" not in functions:
        raise TranslateError("no function `score_mod` in the problem")
    fn = functions["score_mod"]
    score = fn.args.args[0].arg if fn.args.args else "score"
    expr = _Inliner(functions).function(fn)
    grad = _Derivative(score).d(expr)
    new = ast.FunctionDef(name=GRAD_NAME, args=copy.deepcopy(fn.args),
                          body=[ast.Return(value=grad or ast.Constant(0.0))], decorator_list=[], returns=None,
                          type_params=[])
    out = copy.deepcopy(tree)
    out.body.append(new)
    return ast.fix_missing_locations(out)


@dataclass
class TensorUse:
    """One distinct indexed element of a score_mod tensor, e.g. `slopes[h]`: the names of its generated
    derivative and index functions, and whether the index is the same for a whole (batch, head) tile."""

    tensor: str
    grad_fn: str
    index_fns: list[str]
    per_head: bool


def tensor_derivatives(tree: ast.Module) -> tuple[ast.Module, list[TensorUse]]:
    """A copy of `tree` with the derivative and index functions of every indexed tensor element of
    `score_mod` appended, and their descriptions (empty when score_mod reads no tensor)."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if "score_mod" not in functions:
        raise TranslateError("no function `score_mod` in the problem")
    fn = functions["score_mod"]
    args = [a.arg for a in fn.args.args]
    tensors, positions = set(args[5:]), set(args[3:5])
    expr = _Inliner(functions).function(fn)
    elements: dict[str, tuple[str, ast.Subscript]] = {}  # one entry per distinct element: (tensor, subscript)
    for node in ast.walk(expr):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in tensors:
            elements.setdefault(ast.dump(node), (node.value.id, node))
    out, uses = copy.deepcopy(tree), []
    for n, (tensor, element) in enumerate(elements.values()):
        marker = f"_kw_element{n}"
        grad = _Derivative(marker).d(_replace(expr, element, ast.Name(marker, ast.Load())))
        grad = _replace(grad, ast.Name(marker, ast.Load()), element) if grad is not None else _num(0.0)
        indices = element.slice.elts if isinstance(element.slice, ast.Tuple) else [element.slice]
        names = [f"score_mod_ix{n}_{k}" for k in range(len(indices))]
        for name, body in [(f"score_mod_dt{n}", grad), *zip(names, indices)]:
            out.body.append(ast.FunctionDef(name=name, args=copy.deepcopy(fn.args), body=[ast.Return(value=body)],
                                            decorator_list=[], returns=None, type_params=[]))
        per_head = not any(isinstance(x, ast.Name) and x.id in positions for i in indices for x in ast.walk(i))
        uses.append(TensorUse(tensor, f"score_mod_dt{n}", names, per_head))
    return ast.fix_missing_locations(out), uses


def _replace(node: ast.expr, old: ast.expr, new: ast.expr) -> ast.expr:
    """`node` with every subtree equal to `old` replaced by a copy of `new`."""
    target = ast.dump(old)

    class Swap(ast.NodeTransformer):
        def visit(self, n: ast.AST) -> ast.AST:
            return copy.deepcopy(new) if ast.dump(n) == target else super().visit(n)

    return Swap().visit(copy.deepcopy(node))


class _Inliner:
    """One expression for a function body: locals and single-`return` helpers substituted."""

    def __init__(self, functions: dict[str, ast.FunctionDef]):
        self.functions = functions

    def function(self, fn: ast.FunctionDef, bound: dict[str, ast.expr] | None = None) -> ast.expr:
        env = dict(bound or {})
        for stmt in fn.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                env[stmt.targets[0].id] = self.expr(stmt.value, env)
            elif isinstance(stmt, ast.Return) and stmt.value is not None:
                return self.expr(stmt.value, env)
            else:
                raise TranslateError(f"{fn.name}: line {stmt.lineno}: only `name = expr` and `return expr` "
                                     "can be differentiated")
        raise TranslateError(f"{fn.name}: no return statement")

    def expr(self, node: ast.expr, env: dict[str, ast.expr]) -> ast.expr:
        inliner = self

        class Substitute(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.expr:
                return copy.deepcopy(env[name.id]) if name.id in env else name

            def visit_Call(self, call: ast.Call) -> ast.expr:
                self.generic_visit(call)
                if isinstance(call.func, ast.Name) and call.func.id in inliner.functions:
                    helper = inliner.functions[call.func.id]
                    params = [a.arg for a in helper.args.args]
                    if len(params) != len(call.args) or call.keywords:
                        raise TranslateError(f"helper `{helper.name}` called with other arguments than it takes")
                    return inliner.function(helper, dict(zip(params, call.args)))
                return call

        return Substitute().visit(copy.deepcopy(node))


def _call(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Attribute(value=ast.Name("torch", ast.Load()), attr=name, ctx=ast.Load()),
                    args=list(args), keywords=[])


def _num(value: float) -> ast.Constant:
    return ast.Constant(value)


def _bin(left: ast.expr, op: ast.operator, right: ast.expr) -> ast.BinOp:
    return ast.BinOp(left=left, op=op, right=right)


def _where(cond: ast.expr, yes: ast.expr | None, no: ast.expr | None) -> ast.expr | None:
    if yes is None and no is None:
        return None
    return _call("where", cond, yes or _num(0.0), no or _num(0.0))


class _Derivative:
    """d(expr)/d(score) as an AST; None stands for an exact zero (kept out of the result)."""

    def __init__(self, score: str):
        self.score = score

    def depends(self, node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id == self.score for n in ast.walk(node))

    def d(self, node: ast.expr) -> ast.expr | None:
        if not self.depends(node):
            return None
        if isinstance(node, ast.Name):
            return _num(1.0)
        if isinstance(node, ast.UnaryOp):
            inner = self.d(node.operand)
            if isinstance(node.op, ast.UAdd) or inner is None:
                return inner
            if isinstance(node.op, ast.USub):
                return ast.UnaryOp(op=ast.USub(), operand=inner)
            raise TranslateError(f"`{ast.unparse(node)}` is a boolean of the score: it has no derivative")
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.IfExp):
            if self.depends(node.test):
                return self._unsupported(node)
            body, orelse = self.d(node.body), self.d(node.orelse)
            if body is None and orelse is None:
                return None
            return ast.IfExp(test=node.test, body=body or _num(0.0), orelse=orelse or _num(0.0))
        if isinstance(node, ast.Call):
            return self.call(node)
        return self._unsupported(node)

    def binop(self, node: ast.BinOp) -> ast.expr | None:
        a, b = node.left, node.right
        da, db = self.d(a), self.d(b)
        if isinstance(node.op, (ast.Add, ast.Sub)):
            if db is None:
                return da
            db = db if isinstance(node.op, ast.Add) else ast.UnaryOp(op=ast.USub(), operand=db)
            return db if da is None else _bin(da, ast.Add(), db)
        if isinstance(node.op, ast.Mult):
            terms = [t for t in (da and _bin(da, ast.Mult(), b), db and _bin(a, ast.Mult(), db)) if t is not None]
            return terms[0] if len(terms) == 1 else _bin(terms[0], ast.Add(), terms[1])
        if isinstance(node.op, ast.Div):
            if db is None:
                return _bin(da, ast.Div(), b)  # type: ignore[arg-type]
            top = _bin(_bin(da, ast.Mult(), b), ast.Sub(), _bin(a, ast.Mult(), db)) if da is not None else \
                ast.UnaryOp(op=ast.USub(), operand=_bin(a, ast.Mult(), db))
            return _bin(top, ast.Div(), _bin(b, ast.Mult(), b))
        return self._unsupported(node)

    def call(self, node: ast.Call) -> ast.expr | None:
        func = node.func
        args = list(node.args)
        if isinstance(func, ast.Attribute) and not (isinstance(func.value, ast.Name) and func.value.id in _MODULES):
            args = [func.value, *args]  # x.tanh(), x.abs(), x.clamp(lo, hi)
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        kw = {k.arg: k.value for k in node.keywords}
        if name == "clamp":
            args += [kw[k] for k in ("min", "max") if k in kw]
        if name == "where" and len(args) == 3:
            if self.depends(args[0]):
                return self._unsupported(node)
            return _where(args[0], self.d(args[1]), self.d(args[2]))
        if name in ("minimum", "min", "maximum", "max") and len(args) == 2:
            keep_first = ast.Compare(left=args[0], ops=[ast.LtE() if name.startswith("min") else ast.GtE()],
                                     comparators=[args[1]])
            return _where(keep_first, self.d(args[0]), self.d(args[1]))
        if name == "clamp" and len(args) == 3:
            if self.depends(args[1]) or self.depends(args[2]):
                return self._unsupported(node)
            inside = ast.BinOp(left=ast.Compare(left=args[0], ops=[ast.GtE()], comparators=[args[1]]),
                               op=ast.BitAnd(), right=ast.Compare(left=args[0], ops=[ast.LtE()], comparators=[args[2]]))
            return _where(inside, self.d(args[0]), None)
        if len(args) != 1 or name not in _CHAIN:
            return self._unsupported(node)
        inner = self.d(args[0])
        outer = _CHAIN[name](args[0])
        return outer if isinstance(inner, ast.Constant) and inner.value == 1.0 else _bin(outer, ast.Mult(), inner)

    def _unsupported(self, node: ast.expr) -> None:
        raise TranslateError(f"cannot differentiate `{ast.unparse(node)}` with respect to the score")


def _tanh_grad(x: ast.expr) -> ast.expr:
    t = _call("tanh", x)
    return _bin(_num(1.0), ast.Sub(), _bin(t, ast.Mult(), copy.deepcopy(t)))


def _sigmoid_grad(x: ast.expr) -> ast.expr:
    s = _call("sigmoid", x)
    return _bin(s, ast.Mult(), _bin(_num(1.0), ast.Sub(), copy.deepcopy(s)))


def _abs_grad(x: ast.expr) -> ast.expr:  # sign(x), 0 at the kink as in PyTorch
    positive = ast.Compare(left=x, ops=[ast.Gt()], comparators=[_num(0.0)])
    negative = ast.Compare(left=copy.deepcopy(x), ops=[ast.Lt()], comparators=[_num(0.0)])
    return _call("where", positive, _num(1.0), _call("where", negative, _num(-1.0), _num(0.0)))


# d f(x) / dx for the one-argument calls the translators accept
_CHAIN = {
    "tanh": _tanh_grad,
    "sigmoid": _sigmoid_grad,
    "abs": _abs_grad,
    "exp": lambda x: _call("exp", x),
    "exp2": lambda x: _bin(_call("exp2", x), ast.Mult(), _num(0.6931471805599453)),
    "log": lambda x: _bin(_num(1.0), ast.Div(), x),
    "sqrt": lambda x: _bin(_num(0.5), ast.Div(), _call("sqrt", x)),
}
