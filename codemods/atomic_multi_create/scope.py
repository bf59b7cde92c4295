"""Names in a function that decide how the new `with` is spelled: the names it binds (the callee must
not be one of them) and a transaction import it already has."""

from __future__ import annotations

import ast

from ..engine.view import FUNCTIONS, FunctionView

BINDINGS = (
    ast.Name, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.ExceptHandler,
    ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.Global,
)


def bound_names(view: FunctionView, scope: ast.AST) -> tuple[str, ...]:
    """Names bound in `scope` and in the functions around it."""
    names: set[str] = set()
    node = scope
    while True:
        if isinstance(node, (*FUNCTIONS, ast.Lambda)):
            names |= _local_bindings(view, node)
        if node is view.node:
            return tuple(sorted(names))
        node = view.parents[node]


def _local_bindings(view: FunctionView, function: ast.AST) -> set[str]:
    """Names a function binds locally: parameters, assignments, loop and with targets, imports, defs."""
    arguments = function.args
    names = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg] if a}
    declared_global: set[str] = set()
    body = function.body if isinstance(function.body, list) else [function.body]
    for node in (n for statement in body for n in view.walk_scope(statement)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
        elif isinstance(node, ast.Global):
            declared_global |= set(node.names)
    return names - declared_global


def atomic_name_in_scope(view: FunctionView, scope: ast.AST, before_line: int) -> str:
    """`transaction.atomic` when the function itself imports django's transaction above the range."""
    node = scope
    while True:
        for child in view.walk_scope(node):
            if isinstance(child, ast.ImportFrom) and child.lineno < before_line and not child.level:
                for alias in child.names:
                    local = alias.asname or alias.name
                    if child.module == "django.db" and alias.name == "transaction":
                        return f"{local}.atomic"
                    if child.module == "django.db.transaction" and alias.name == "atomic":
                        return local
        if node is view.node:
            return ""
        node = view.scope_of(node)
