"""How code names things: dotted names and call targets, read off `ast` nodes."""

from __future__ import annotations

import ast
import re

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    kind = node.__class__
    if kind is ast.Name:  # the usual cases first, without building a list
        return node.id
    if kind is ast.Attribute and node.value.__class__ is ast.Name:
        return f"{node.value.id}.{node.attr}"
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def root_name(node: ast.AST) -> str | None:
    """The name a chain of attributes, calls and subscripts starts from: `client` in `client().x[0].y`."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def call_reference(func: ast.expr, local_types: dict[str, str]) -> str | None:
    """How a call names its target, for the index to resolve: "f", "mod.f", "self.f", "super.f",
    "new:Cls.f" (a method of an instance built here: `Cls(...).f()`, or `x = Cls(...)` then `x.f()`)."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        inner = func.value
        if isinstance(inner.func, ast.Name) and inner.func.id == "super":
            return f"super.{func.attr}"
        callee = dotted(inner.func)
        return f"new:{callee}.{func.attr}" if callee else None
    name = dotted(func)
    if not name:
        return None
    root, _, rest = name.partition(".")
    if root in local_types and rest:
        return f"new:{local_types[root]}.{rest}"
    return name


def local_types(nodes) -> dict[str, str]:
    """`service = CreatePayout(account)` among `nodes` -> {"service": "CreatePayout"}: a name bound to an
    instance of a class (a capitalised callee), enough to follow `service.run()`."""
    types: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(value, ast.Call):
                callee = dotted(value.func)
                if callee and callee.rsplit(".", 1)[-1][:1].isupper():
                    types[node.targets[0].id] = callee
    return types


def words(identifier: str) -> list[str]:
    """`PartnerAPIClient` -> [partner, api, client]; `create_booking` -> [create, booking]."""
    return [w.lower() for w in _WORD.findall(identifier)]


def chain_names(node: ast.AST) -> list[str]:
    """Identifiers along a callee, last first: `self.api.bookings.create` -> [create, bookings, api, self]."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names
        else:
            return names
