"""Translate small Python `score_mod` / `mask_mod` functions into Triton expressions.

The functions are the ones FlexAttention takes: ``score_mod(score, b, h, q_idx, kv_idx)`` and
``mask_mod(b, h, q_idx, kv_idx)``, written with Python operators and a few torch calls. We walk
their AST (no execution) and emit Triton source over fixed kernel names:

    score -> score      b -> b_idx      h -> h_idx      q_idx -> q_idx      kv_idx -> kv_idx

Supported: local assignments followed by one ``return``; arithmetic, comparisons (chained too),
``and``/``or``/``not`` and ``&``/``|``/``~``, ``x if c else y``; ``torch.where``, ``torch.tanh``,
``torch.abs``/``abs``/``.abs()``, ``torch.exp``/``exp2``/``log``/``sqrt``/``sigmoid``,
``torch.minimum``/``maximum``, two-argument ``min``/``max``, ``torch.clamp``/``.clamp(lo, hi)``;
calls to other single-``return`` module-level helpers are inlined. Module constants become
literals, except names mapped to kernel arguments (shapes, init arguments).
A score_mod may take tensors after its five arguments (``score_mod(score, b, h, q_idx, kv_idx, slopes)``,
the Model passing ``self.slopes``): each use must index it (``slopes[h]``, ``bias[h, q_idx - kv_idx]``)
and becomes a load from kernel argument ``T_slopes`` with strides ``T_slopes_s<k>`` and sizes
``T_slopes_n<k>`` (indices clamped into range; rows and keys past the sequence are masked later).
Integer ``//`` and ``%`` follow C semantics in Triton: equal to Python's for non-negative operands.
The walk is shared: attention_translate_c.py overrides the dialect hooks of `_Translator` to emit CUDA C++.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

SCORE_PARAMS = ("score", "b_idx", "h_idx", "q_idx", "kv_idx")
MASK_PARAMS = ("b_idx", "h_idx", "q_idx", "kv_idx")
LOG2E = 1.44269504

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
           ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Pow: None}
_CMPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_UNARY_CALLS = {"tanh": "_kw_tanh({0}, FAST_TANH)", "abs": "tl.abs({0})", "exp": "tl.exp({0})",
                "exp2": "tl.exp2({0})", "log": "tl.log({0})", "sqrt": "tl.sqrt({0})",
                "sigmoid": "tl.sigmoid({0})"}


class TranslateError(ValueError):
    """A mod function uses Python the translator does not support; the message is one line."""


@dataclass
class Translation:
    """Triton statements (local assignments) plus the result expression of one mod function."""

    statements: list[str] = field(default_factory=list)
    result: str = ""
    additive_bias: str | None = None  # for score_mod = score +/- bias: the bias (sign folded in)
    uses_tanh: bool = False
    tensors: dict[str, int] = field(default_factory=dict)  # tensor argument -> number of indices it takes


class _Translator:
    """Walks a mod function's AST; the dialect hooks at the end emit Triton (subclasses emit other languages)."""

    def __init__(self, functions: dict[str, ast.FunctionDef], names: dict[str, str], prefix: str):
        self.functions = functions
        self.names = names          # module-level name -> Triton text (kernel arg or literal)
        self.prefix = prefix
        self.uses_tanh = False
        self.tensors: dict[str, int] = {}  # kernel name (T_<arg>) of each tensor argument -> its index count

    def function(self, fn: ast.FunctionDef, params: tuple[str, ...]) -> Translation:
        args = [a.arg for a in fn.args.args]
        if len(args) != len(params):
            raise TranslateError(f"{fn.name} takes {len(args)} arguments; expected {len(params)} ({', '.join(params)})")
        env = dict(zip(args, params))
        tainted = {args[0]} if params[0] == "score" else set()
        out = Translation()
        for stmt in fn.body:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # docstring
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                local = self.local_name(stmt.targets[0].id)
                out.statements.append(self.assign(local, self.expr(stmt.value, env)))
                if _names(stmt.value) & tainted:
                    tainted.add(stmt.targets[0].id)
                env[stmt.targets[0].id] = local
            elif isinstance(stmt, ast.Return) and stmt.value is not None:
                out.result = self.expr(stmt.value, env)
                out.additive_bias = self._additive(stmt.value, env, args[0], tainted) if tainted else None
                break
            else:
                raise TranslateError(f"{fn.name}: line {stmt.lineno}: only `name = expr` and `return "
                                     "expr` are supported")
        if not out.result:
            raise TranslateError(f"{fn.name}: no return statement")
        out.uses_tanh = self.uses_tanh
        out.tensors = {name[2:]: n for name, n in self.tensors.items()}
        return out

    def _additive(self, node: ast.expr, env: dict[str, str], score_arg: str, tainted: set[str]) -> str | None:
        """Bias text when the result is `score + bias` / `bias + score` / `score - bias`."""
        if not isinstance(node, ast.BinOp) or not isinstance(node.op, (ast.Add, ast.Sub)):
            return None

        def is_score(n: ast.expr) -> bool:
            return isinstance(n, ast.Name) and n.id == score_arg

        def free_of_score(n: ast.expr) -> bool:
            return not (_names(n) & tainted)

        if is_score(node.left) and free_of_score(node.right):
            bias = self.expr(node.right, env)
            return bias if isinstance(node.op, ast.Add) else f"-({bias})"
        if isinstance(node.op, ast.Add) and is_score(node.right) and free_of_score(node.left):
            return self.expr(node.left, env)
        return None

    def expr(self, node: ast.expr, env: dict[str, str]) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, bool)):
            return self.constant(node.value)
        if isinstance(node, ast.Subscript):
            return self._element(node, env)
        if isinstance(node, ast.Name):
            if node.id in env and env[node.id] in self.tensors:
                raise TranslateError(f"tensor argument `{node.id}` must be indexed in a mod function, as "
                                     f"`{node.id}[h]`")
            if node.id in env:
                return env[node.id]
            if node.id in self.names:
                return self.module_name(node.id)
            raise TranslateError(f"unknown name `{node.id}` in a mod function: make it a module constant or argument")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            left, right = self.expr(node.left, env), self.expr(node.right, env)
            if op is None:
                raise TranslateError("`**` is not supported in mod functions: use torch.exp2 or multiplication")
            return self.binop(op, left, right)
        if isinstance(node, ast.UnaryOp):
            inner = self.expr(node.operand, env)
            if isinstance(node.op, ast.UAdd):
                return inner
            return self.unary(node.op, inner)
        if isinstance(node, ast.BoolOp):
            return self.boolop(isinstance(node.op, ast.And), [self.expr(v, env) for v in node.values])
        if isinstance(node, ast.Compare):
            parts, left = [], self.expr(node.left, env)
            for op, comp in zip(node.ops, node.comparators):
                if type(op) not in _CMPS:
                    raise TranslateError(f"comparison {type(op).__name__} is not supported in mod functions")
                right = self.expr(comp, env)
                parts.append(self.compare(_CMPS[type(op)], left, right))
                left = right
            return parts[0] if len(parts) == 1 else self.boolop(True, parts)
        if isinstance(node, ast.IfExp):
            return self.where(self.expr(node.test, env), self.expr(node.body, env), self.expr(node.orelse, env))
        if isinstance(node, ast.Call):
            return self.call(node, env)
        raise TranslateError(f"unsupported expression `{ast.unparse(node)}` in a mod function")

    def _element(self, node: ast.Subscript, env: dict[str, str]) -> str:
        tensor = env.get(node.value.id) if isinstance(node.value, ast.Name) else None
        if tensor is None or tensor not in self.tensors:
            raise TranslateError(f"`{ast.unparse(node)}`: only tensor arguments of score_mod can be indexed")
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if any(isinstance(p, (ast.Slice, ast.Starred)) for p in parts):
            raise TranslateError(f"`{ast.unparse(node)}`: index with one integer expression per dimension")
        if self.tensors[tensor] not in (0, len(parts)):
            raise TranslateError(f"`{ast.unparse(node.value)}` is indexed with {self.tensors[tensor]} and with "
                                 f"{len(parts)} indices")
        self.tensors[tensor] = len(parts)
        return self.load(tensor, [self.expr(p, env) for p in parts])

    def call(self, node: ast.Call, env: dict[str, str]) -> str:
        func = node.func
        if node.keywords and not (_callee(func) == "clamp"):
            raise TranslateError(f"keyword arguments are not supported in `{ast.unparse(node)}`")
        if isinstance(func, ast.Attribute) and not _is_module(func.value):
            # method call on a value: x.abs(), x.clamp(lo, hi), x.tanh()
            return self._builtin(func.attr, [func.value, *node.args], node, env)
        name = _callee(func)
        if isinstance(func, ast.Name) and name in self.functions:
            return self._inline(self.functions[name], node.args, env)
        return self._builtin(name, list(node.args), node, env)

    def _builtin(self, name: str, args: list[ast.expr], node: ast.Call, env: dict[str, str]) -> str:
        kw = {k.arg: k.value for k in node.keywords}
        if name == "clamp":
            args = args + [kw[k] for k in ("min", "max") if k in kw]
        texts = [self.expr(a, env) for a in args]
        if name in _UNARY_CALLS and len(texts) == 1:
            self.uses_tanh |= name == "tanh"
        if name == "where" and len(texts) == 3:
            return self.where(*texts)
        if name in ("minimum", "min") and len(texts) == 2:
            name = "minimum"
        elif name in ("maximum", "max") and len(texts) == 2:
            name = "maximum"
        elif name == "clamp" and len(texts) == 3:
            return self.call_text("minimum", [self.call_text("maximum", texts[:2]), texts[2]])
        elif name not in _UNARY_CALLS or len(texts) != 1:
            raise TranslateError(f"unsupported call `{ast.unparse(node)}` in a mod function")
        return self.call_text(name, texts)

    def _inline(self, fn: ast.FunctionDef, args: list[ast.expr], env: dict[str, str]) -> str:
        body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            raise TranslateError(f"helper `{fn.name}` must be a single `return expr` to be inlined")
        params = [a.arg for a in fn.args.args]
        if len(params) != len(args):
            raise TranslateError(f"helper `{fn.name}` called with {len(args)} arguments, takes {len(params)}")
        inner_env = {p: self.paren(self.expr(a, env)) for p, a in zip(params, args)}
        return self.expr(body[0].value, inner_env)

    # --- dialect hooks: Triton text ---
    def local_name(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def assign(self, local: str, text: str) -> str:
        return f"{local} = {text}"

    def constant(self, value: int | float | bool) -> str:
        return repr(value) if not isinstance(value, bool) else ("True" if value else "False")

    def module_name(self, name: str) -> str:
        return self.names[name]

    def paren(self, text: str) -> str:
        return f"({text})"

    def binop(self, op: str, left: str, right: str) -> str:
        return f"({left} {op} {right})"

    def unary(self, op: ast.unaryop, inner: str) -> str:
        return f"(-{inner})" if isinstance(op, ast.USub) else f"({inner} == 0)"  # Not / Invert

    def boolop(self, is_and: bool, parts: list[str]) -> str:
        return "(" + (" & " if is_and else " | ").join(parts) + ")"

    def compare(self, op: str, left: str, right: str) -> str:
        return f"({left} {op} {right})"

    def where(self, cond: str, yes: str, no: str) -> str:
        return f"tl.where({cond}, {yes}, {no})"

    def load(self, tensor: str, indices: list[str]) -> str:
        return f"tl.load({tensor} + {element_offset(tensor, indices)}).to(tl.float32)"

    def call_text(self, name: str, texts: list[str]) -> str:
        """`name` is a key of _UNARY_CALLS (one argument) or minimum / maximum (two)."""
        if name in _UNARY_CALLS:
            return _UNARY_CALLS[name].format(texts[0])
        return f"tl.{name}({texts[0]}, {texts[1]})"


def element_offset(tensor: str, indices: list[str]) -> str:
    """Offset of `tensor[indices]` from its kernel pointer, each index clamped into its dimension."""
    return " + ".join(f"tl.minimum(tl.maximum({i}, 0), {tensor}_n{k} - 1) * {tensor}_s{k}"
                      for k, i in enumerate(indices))


def _names(node: ast.expr) -> set[str]:
    return {x.id for x in ast.walk(node) if isinstance(x, ast.Name)}


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _is_module(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("torch", "math", "tl", "F")


def float_index_safe(tree: ast.Module, fn_name: str) -> bool:
    """True when the function uses indices only in float-exact arithmetic (no //, %, bit ops,
    comparisons, helpers): then q_idx / kv_idx may enter as float32 (exact below 2**24), which
    saves an int->float conversion per score element."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    fn = functions.get(fn_name)
    if fn is None:
        return False
    for node in ast.walk(fn):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.FloorDiv, ast.Mod, ast.BitAnd, ast.BitOr,
                                                                ast.BitXor)):
            return False
        if isinstance(node, (ast.Compare, ast.BoolOp, ast.IfExp, ast.Subscript)):
            return False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions:
            return False
    return True


def translate(tree: ast.Module, fn_name: str, names: dict[str, str], float_indices: bool = False) -> Translation:
    """Translate module-level function `fn_name` (score_mod or mask_mod) of a parsed problem.

    With `float_indices`, q_idx / kv_idx map to the kernel's float32 copies `q_idx_f` / `kv_idx_f`."""
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    if fn_name not in functions:
        raise TranslateError(f"no function `{fn_name}` in the problem")
    score_like = fn_name.startswith("score_mod")  # score_mod, or its derivative score_mod_grad (differentiate.py)
    params = SCORE_PARAMS if score_like else MASK_PARAMS
    if float_indices:
        params = tuple(p + "_f" if p in ("q_idx", "kv_idx") else p for p in params)
    prefix = "_sm_" if score_like else "_mm_"
    translator = _Translator(functions, names, prefix)
    fn = functions[fn_name]
    if score_like:  # tensors after the five arguments: T_<name> kernel arguments
        extra = [a.arg for a in fn.args.args[len(params):]]
        params = params + tuple(f"T_{a}" for a in extra)
        translator.tensors = {f"T_{a}": 0 for a in extra}
    return translator.function(fn, params)
