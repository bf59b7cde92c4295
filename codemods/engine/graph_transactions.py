"""Transactions in the call graph: whether a name opens one (django's atomic, an alias, a configured
or project wrapper), the `with` block one runs in, and whether every run of a function is inside one."""

from __future__ import annotations

import ast

from .project import FunctionKey
from .view import FunctionView, is_atomic_expression

ATOMIC = "django.db.transaction.atomic"


class TransactionQueries:
    """Part of `CallGraph`: the transaction questions, memoised for the run."""

    def in_transaction(self, key: FunctionKey, seen: frozenset = frozenset()) -> str:
        """Why every run of `key` from a task already happens inside a transaction ("" when one does not,
        or when that cannot be shown): decorated atomic, or every caller calls it inside one."""
        if key in self._in_transaction:
            return self._in_transaction[key]
        if key in seen:
            return ""
        view = self.project.view(key)
        reason = ""
        if view is not None and self.decorated_atomic(view):
            reason = f"{key.qualname} is decorated with a transaction"
        elif key not in self.project.task_keys:
            reasons = []
            for caller in self.callers(key):
                why = self._caller_holds(caller, key, seen | {key})
                if not why:
                    reasons = []
                    break
                reasons.append(why)
            reason = "; ".join(reasons)
        if not seen:
            self._in_transaction[key] = reason
        return reason

    def _caller_holds(self, caller: FunctionKey, callee: FunctionKey, seen: frozenset) -> str:
        view = self.project.view(caller)
        if view is None:
            return ""
        where = f"{caller.qualname} ({self.project.display(caller.module)}:{view.function.line})"
        sites = self.call_sites(view, callee)
        if sites and all(self.atomic_around(view, c) is not None for c in sites):
            return f"{where} calls it inside a transaction (line {sites[0].lineno})"
        outer = self.in_transaction(caller, seen)
        return f"{where}, itself always run in a transaction" if outer else ""

    def decorated_atomic(self, view: FunctionView) -> bool:
        return any(self.is_atomic(view.key.module, d.target) for d in view.function.decorators)

    def atomic_around(self, view: FunctionView, node: ast.AST) -> ast.AST | None:
        """The `with` block of a transaction the node runs in, within its function (django's atomic,
        an alias of it, a configured wrapper, or a project wrapper read as one)."""
        for ancestor in view.ancestors(node):
            if isinstance(ancestor, (ast.With, ast.AsyncWith)) and any(self._atomic_item(view, i.context_expr) for i in ancestor.items):
                return ancestor
            if ancestor is view.node:
                break
        return None

    def _atomic_item(self, view: FunctionView, expression: ast.AST) -> bool:
        if is_atomic_expression(expression):
            return True
        func = expression.func if isinstance(expression, ast.Call) else expression
        name = view.segment(func)
        return bool(name) and self.is_atomic(view.key.module, name)

    def is_atomic(self, module: str, name: str) -> bool:
        """Whether a name written in `module` opens a transaction: django's atomic under any alias, a name
        in `atomic-wrappers`, or a project function that wraps atomic (a context manager that yields
        inside `with atomic()`, a helper that returns atomic(), a decorator that calls the function it
        wraps inside `with atomic()`)."""
        if not name:
            return False
        if name.rsplit(".", 1)[-1] == "atomic" or name in self.configured_wrappers:
            return True
        symbol = self.project.resolve(module, name)
        if symbol.kind == "external":
            return symbol.name == ATOMIC or symbol.name in self.configured_wrappers
        if symbol.kind != "function":
            return False
        if f"{symbol.module}.{symbol.name}" in self.configured_wrappers:
            return True
        memo = (symbol.module, symbol.name)
        if memo not in self._wrappers:
            self._wrappers[memo] = False  # a wrapper that names itself
            self._wrappers[memo] = self._reads_as_wrapper(FunctionKey(symbol.module, symbol.name))
        return self._wrappers[memo]

    def _reads_as_wrapper(self, key: FunctionKey) -> bool:
        view = self.project.view(key)
        if view is None:
            return False
        parameters = set(view.parameters(with_self=True))
        for node in view.parents:
            if isinstance(node, ast.Return) and node.value is not None and self._atomic_item(view, node.value):
                return True
            if not (isinstance(node, (ast.With, ast.AsyncWith)) and any(self._atomic_item(view, i.context_expr) for i in node.items)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Yield, ast.YieldFrom)):
                    return True  # a generator context manager: its caller's block runs inside
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in parameters:
                    return True  # a decorator: the wrapped function runs inside
        return False

