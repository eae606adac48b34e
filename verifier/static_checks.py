"""Static (AST) anti-cheat checks on candidate source, run in the trusted parent before loading.

They catch the obvious reward hacks cheaply and name the line: fallback try/except, subclassing
or instantiating the reference Model, PyTorch / library compute calls in forward (a curated list;
allocation, view and cast calls are allowed), threads / processes / network imports, stream
creation, frame / gc / sys.modules access (also through vars(sys) or sys.__dict__), environment reads
(os.environ, os.getenv, posix.environ, ...; TRITON_INTERPRET by a literal name is allowed), forbidden
imports (kernelwright, the problem, ctypes, importlib), monkeypatching of torch / time / triton
attributes, and result caches on self or module level. Dynamic checks (dynamic_checks.py) catch what
slips through.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .backends import is_jit_decorator

THREAD_MODULES = {"threading", "_thread", "multiprocessing", "concurrent"}
EFFECT_MODULES = {"subprocess", "socket", "urllib", "http", "requests", "asyncio", "ftplib", "smtplib",
                  "shutil", "signal", "pty", "webbrowser"}
FORBIDDEN_MODULES = {"kernelwright", "ctypes", "cffi", "importlib", "builtins", "marshal", "pickle", "pkgutil",
                     "runpy", "imp", "zipimport"}
INTROSPECTION_ROOTS = {"sys": "reference_access", "gc": "reference_access", "inspect": "reference_access",
                       "builtins": "forbidden_import", "importlib": "forbidden_import", "os": "side_effects"}
REFERENCE_MODULES = {"gc", "inspect", "traceback", "weakref"}
EFFECT_CALLS = {"os.system", "os.popen", "os.fork", "os.forkpty", "os.kill", "os.remove", "os.unlink",
                "os.rmdir", "os.execv", "os.execve", "os.execvp", "os.spawnv", "os.spawnl", "os.posix_spawn",
                "os.putenv", "os.setsid", "os.chdir", "open", "os.open"}
ENVIRONMENT_NAMES = {"os.environ", "os.environb", "os.getenv", "os.getenvb", "posix.environ", "nt.environ",
                     "os.path.expandvars", "os.path.expanduser", "posixpath.expandvars", "posixpath.expanduser"}
ALLOWED_ENVIRONMENT_VARS = {"TRITON_INTERPRET"}  # how Triton runs: the same inside and outside verification
DYNAMIC_CODE = {"exec", "eval", "compile", "__import__", "globals", "breakpoint"}
HANDLE_FACTORIES = ("load_inline", "load", "RawModule", "RawKernel", "get_function", "Module")
REFERENCE_ATTRS = {"_getframe", "modules", "f_back", "f_globals", "f_locals", "f_code", "tb_frame",
                   "gi_frame", "__globals__", "__subclasses__", "__closure__", "_current_frames", "get_objects",
                   "get_referrers", "get_referents"}
# cupy.cuda.ExternalStream is allowed: it wraps torch's current stream for a launch.
STREAM_CALLS = {"torch.cuda.Stream", "torch.cuda.stream", "torch.cuda.set_stream", "torch.cuda.ExternalStream",
                "torch.Stream", "cupy.cuda.Stream", "torch.cuda.StreamContext"}
# @triton.jit device functions shipped inside torch (Inductor's helpers): Triton code, not torch ops
TRITON_HELPER_PREFIXES = ("torch._inductor.runtime.triton_helpers.",)
SOFT_RULES = {"reference_ops", "library_kernel", "fallback_try_except", "caching"}  # safe to also run dynamically
TIMER_WORDS = ("time", "perf_counter", "monotonic", "Event", "elapsed", "synchronize", "record", "Timer")
PATCHABLE_ROOTS = {"torch", "time", "triton", "numpy", "cupy", "builtins", "sys", "os", "math", "kernelwright",
                   "gc", "timeit"}
# torch.* calls that allocate, describe or move memory: allowed in forward.
TORCH_ALLOWED = {
    "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full", "full_like",
    "arange", "tensor", "as_tensor", "from_numpy", "is_tensor", "device", "dtype", "Size", "finfo", "iinfo",
    "no_grad", "inference_mode", "get_default_dtype", "result_type", "promote_types", "broadcast_shapes",
    "is_floating_point", "numel", "manual_seed", "randn", "rand", "randint", "set_grad_enabled", "is_grad_enabled",
}
TORCH_ALLOWED_PREFIXES = ("torch.cuda.", "torch.nn.init.", "torch.utils.", "torch.backends.", "torch.library.",
                          "torch.nn.Parameter", "torch.nn.Module", "torch.Tensor", "torch.float", "torch.int",
                          "torch.bfloat", "torch.uint", "torch.bool", "torch.jit.is_scripting", "torch.compiler.")
TORCH_COMPUTE_NAMESPACES = ("torch.nn.functional.", "torch.special.", "torch.linalg.", "torch.fft.", "torch.ops.",
                            "torch._C.", "torch.sparse.", "torch.nested.", "torch._refs.", "torch._prims.")
LIBRARY_CALLS = {"cupy": {"matmul", "dot", "einsum", "exp", "log", "sum", "mean", "max", "min", "amax", "tanh",
                          "sqrt", "linalg", "fft", "tensordot", "inner", "outer", "cumsum", "softmax", "maximum",
                          "multiply", "add", "divide", "subtract", "ElementwiseKernel", "ReductionKernel", "fuse"},
                 "numpy": {"matmul", "dot", "einsum", "exp", "tanh", "linalg", "fft", "tensordot", "maximum"}}
TENSOR_METHODS = {
    "sum", "mean", "max", "min", "amax", "amin", "softmax", "log_softmax", "exp", "exp2", "log", "log2",
    "matmul", "mm", "bmm", "addmm", "baddbmm", "einsum", "relu", "relu_", "sigmoid", "tanh", "gelu", "silu",
    "norm", "var", "std", "cumsum", "cumprod", "prod", "argmax", "argmin", "sort", "topk", "pow", "sqrt",
    "rsqrt", "abs", "clamp", "clamp_", "clip", "add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_",
    "exp_", "neg", "reciprocal", "logsumexp", "layer_norm", "dot", "outer", "where", "masked_fill",
    "masked_fill_", "tril", "triu", "conv2d", "linear", "maximum", "minimum", "erf", "sin", "cos", "square",
    "addcmul", "addcdiv", "lerp", "sign", "floor", "ceil", "round", "all", "any", "count_nonzero",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message} [{self.rule}]"


def check_source(source: str, problem_names: tuple[str, ...] = ()) -> list[Finding]:
    """All static findings for a candidate source, in line order (empty when none)."""
    tree = ast.parse(source)
    checker = _Checker(problem_names)
    checker.handles = _kernel_handles(tree)
    checker.visit(tree)
    return sorted(set(checker.findings), key=lambda f: (f.line, f.rule))


def _is_namespace(node: ast.AST) -> bool:
    """vars(x) / globals() / x.__dict__: writing into these patches another module or class."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("vars", "globals"):
        return True
    return isinstance(node, ast.Attribute) and node.attr == "__dict__"


def _kernel_handles(tree: ast.AST) -> set[str]:
    """Names bound to compiled-kernel objects (load_inline modules, RawModules): their methods are kernels."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in HANDLE_FACTORIES:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names.add(target.id)
    return names


class _Checker(ast.NodeVisitor):
    def __init__(self, problem_names: tuple[str, ...]):
        self.findings: list[Finding] = []
        self.aliases: dict[str, str] = {}
        self.problem_names = set(problem_names)
        self.function: ast.FunctionDef | None = None
        self.in_jit = False
        self.handles: set[str] = set()
        self.allowed_env: set[int] = set()  # ids of os.environ nodes read with an allowed literal name

    def flag(self, rule: str, node: ast.AST, message: str) -> None:
        self.findings.append(Finding(rule, getattr(node, "lineno", 0), message))

    # imports -------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                root = alias.name.split(".")[0]
                self.aliases[root] = root
            self._check_module(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(module, node)
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}" if module else alias.name
            self._check_module(f"{module}.{alias.name}", node)

    def _check_module(self, name: str, node: ast.AST) -> None:
        root = name.split(".")[0]
        if root in THREAD_MODULES:
            self.flag("threads", node, f"imports {name} (threads / processes)")
        elif root in EFFECT_MODULES:
            self.flag("side_effects", node, f"imports {name} (processes / network / files)")
        elif root in FORBIDDEN_MODULES or root.startswith("kw_problem") or root in self.problem_names:
            self.flag("forbidden_import", node, f"imports {name}")
        elif root in REFERENCE_MODULES:
            self.flag("reference_access", node, f"imports {name} (reaches other objects / frames)")
        elif name in ("os.system", "os.popen", "os.fork") or name.startswith("os.exec") or name.startswith("os.spawn"):
            self.flag("side_effects", node, f"imports {name}")
        elif name in ("sys._getframe", "sys.modules"):
            self.flag("reference_access", node, f"imports {name}")
        elif name in ENVIRONMENT_NAMES:
            self.flag("environment_read", node, f"imports {name} (reads environment variables)")

    # structure -----------------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            if self.resolve(base).split(".")[-1] == "Model":
                self.flag("subclass_reference", node, f"class {node.name} subclasses the reference Model")
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, outer_jit = self.function, self.in_jit
        decorators = [self.resolve(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        self.in_jit = outer_jit or any(is_jit_decorator(d) for d in decorators)
        self.function = node
        if node.name == "forward" and any(d.split(".")[-1] in ("lru_cache", "cache") for d in decorators):
            self.flag("caching", node, "forward is memoised with a cache decorator")
        if node.name != "__init__" and not self.in_jit:
            self._check_result_cache(node)
        self.generic_visit(node)
        self.function, self.in_jit = outer, outer_jit

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Global(self, node: ast.Global) -> None:
        if self.function is not None and self.function.name != "__init__":
            self.flag("caching", node, f"`global {', '.join(node.names)}` in {self.function.name}: module-level state")
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        imports_only = all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in node.body)
        if node.handlers and (self.function is not None or not imports_only):
            self.flag("fallback_try_except", node, "try/except around computation (a fallback path)")
        self.generic_visit(node)

    visit_TryStar = visit_Try  # type: ignore[assignment]

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.MatMult) and self._in_forward_code():
            self.flag("reference_ops", node, "uses the @ operator (a library matmul)")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in REFERENCE_ATTRS and (node.attr != "modules" or self.resolve(node.value) == "sys"):
            self.flag("reference_access", node, f"accesses .{node.attr}")
        elif node.attr == "__dict__" and self.resolve(node.value) in INTROSPECTION_ROOTS:
            root = self.resolve(node.value)
            self.flag(INTROSPECTION_ROOTS[root], node, f"reads {root}.__dict__ (the module's namespace)")
        self._check_environment(node)
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if self._allowed_var(node.slice):
            self.allowed_env.add(id(node.value))
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)) and self._allowed_var(node.left):
            self.allowed_env.add(id(node.comparators[0]))
        self.generic_visit(node)

    def _check_environment(self, node: ast.expr) -> None:
        path = self.resolve(node)
        if path in ENVIRONMENT_NAMES and id(node) not in self.allowed_env:
            self.flag("environment_read", node, f"reads the environment through {path} (behaviour outside "
                                                "verification may differ)")

    @staticmethod
    def _allowed_var(node: ast.expr | None) -> bool:
        return isinstance(node, ast.Constant) and node.value in ALLOWED_ENVIRONMENT_VARS

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_patch(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_patch(node.target, node)
        self.generic_visit(node)

    def _check_patch(self, target: ast.expr, node: ast.AST) -> None:
        if isinstance(target, ast.Subscript) and _is_namespace(target.value):
            text = ast.unparse(target)
            rule = "timer_tampering" if any(w in text for w in TIMER_WORDS) else "harness_tampering"
            self.flag(rule, node, f"writes into a namespace: {text[:80]}")
            return
        if not isinstance(target, ast.Attribute):
            return
        path = self.resolve(target)
        if path.split(".")[0] in PATCHABLE_ROOTS and not path.startswith("torch.backends."):
            rule = "timer_tampering" if any(w in path for w in TIMER_WORDS) else "harness_tampering"
            self.flag(rule, node, f"assigns {path} (monkeypatching)")

    # calls ---------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        path = self.resolve(node.func)
        name = path.split(".")[-1]
        # mypy: os.environ.get is an ast.Attribute call; a bytes constant never names an environment attribute
        if node.args and self._allowed_var(node.args[0]) and path in ("os.getenv", "os.environ.get"):
            self.allowed_env.add(id(node.func) if path == "os.getenv" else id(node.func.value))  # type: ignore[attr-defined]
        if path == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and f"{self.resolve(node.args[0])}.{node.args[1].value}" in ENVIRONMENT_NAMES:  # type: ignore[str-bytes-safe]
            self.flag("environment_read", node, f"reads the environment through getattr(..., {node.args[1].value!r})")
        if path in DYNAMIC_CODE:
            self.flag("forbidden_import", node, f"calls {path}() (dynamic code / namespace access)")
        if path in EFFECT_CALLS:
            self.flag("side_effects", node, f"calls {path}()")
        if path in STREAM_CALLS:
            self.flag("side_stream", node, f"creates or switches a stream ({path})")
        if path == "vars" and node.args and self.resolve(node.args[0]) in INTROSPECTION_ROOTS:
            root = self.resolve(node.args[0])
            self.flag(INTROSPECTION_ROOTS[root], node,
                      f"vars({root}) reads the module's namespace (e.g. its module table)")
        if path == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            root = self.resolve(node.args[0])
            if root in INTROSPECTION_ROOTS:
                self.flag(INTROSPECTION_ROOTS[root], node, f"getattr({root}, <computed name>) hides what it reaches")
        if path in ("setattr", "delattr") and node.args and self.resolve(node.args[0]) != "self":
            text = ast.unparse(node)
            rule = "timer_tampering" if any(w in text for w in TIMER_WORDS) else "harness_tampering"
            self.flag(rule, node, f"{path}() on {ast.unparse(node.args[0])[:60]} (monkeypatching)")
        if path.split(".")[-1] == "Model" and isinstance(node.func, ast.Name) and node.func.id == "Model":
            self.flag("subclass_reference", node, "instantiates the reference Model")
        if path.startswith("contextlib.suppress") or path == "suppress":
            self.flag("fallback_try_except", node, "contextlib.suppress hides a failure (a fallback path)")
        if self.in_jit and path.split(".")[0] == "torch" and not path.startswith(TRITON_HELPER_PREFIXES):
            self.flag("reference_ops", node, f"calls {path} inside a kernel body")
        elif self._in_forward_code():
            self._check_compute_call(node, path, name)
        self.generic_visit(node)

    def _check_compute_call(self, node: ast.Call, path: str, name: str) -> None:
        assert self.function is not None  # only called for code inside forward
        root = path.split(".")[0]
        if root == "torch":
            if path.startswith(TORCH_COMPUTE_NAMESPACES):
                self.flag("reference_ops", node, f"calls {path} in {self.function.name}")
            elif path.count(".") == 1 and name not in TORCH_ALLOWED and not path.startswith(TORCH_ALLOWED_PREFIXES):
                self.flag("reference_ops", node, f"calls {path} in {self.function.name}")
        elif root in LIBRARY_CALLS and path.count(".") >= 1 and path.split(".")[1] in LIBRARY_CALLS[root]:
            self.flag("library_kernel", node, f"calls library routine {path} in {self.function.name}")
        elif (isinstance(node.func, ast.Attribute) and node.func.attr in TENSOR_METHODS
              and not self._is_module_root(root)):
            self.flag("reference_ops", node, f"calls tensor method .{node.func.attr}() in {self.function.name}")

    def _check_result_cache(self, node: ast.FunctionDef) -> None:
        returned = {n.value.id for n in ast.walk(node) if isinstance(n, ast.Return) and isinstance(n.value, ast.Name)}
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Assign):
                continue
            stores_result = isinstance(sub.value, ast.Name) and sub.value.id in returned
            for target in sub.targets:
                base = target.value if isinstance(target, ast.Subscript) else target
                on_self = isinstance(base, ast.Attribute) and self.resolve(base).startswith("self.")
                on_module = isinstance(target, ast.Subscript) and isinstance(base, ast.Name) \
                    and base.id.isupper()
                if stores_result and (on_self or on_module):
                    self.flag("caching", sub, f"stores its result in {ast.unparse(target)} across calls")

    def _is_module_root(self, root: str) -> bool:
        modules = {v.split(".")[0] for v in self.aliases.values()} | {"math", "builtins", "os", "str", "self"}
        return root in modules or root in self.handles

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in ("__builtins__", "__loader__", "__spec__"):
            self.flag("forbidden_import", node, f"accesses {node.id}")
        self._check_environment(node)

    def _in_forward_code(self) -> bool:
        return self.function is not None and self.function.name != "__init__" and not self.in_jit

    def resolve(self, node: ast.AST) -> str:
        """Dotted path of a Name / Attribute chain with import aliases expanded."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            parts.append(self.aliases.get(node.id, node.id))
        elif isinstance(node, ast.Call):
            parts.append(self.resolve(node.func) + "()")
        else:
            return ""
        return ".".join(reversed(parts))
