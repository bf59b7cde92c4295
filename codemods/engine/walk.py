"""Fast `ast` walks for the summaries and the rules: `ast.walk` and `ast.iter_child_nodes` are
generators over generators, and on a big repository they cost more than the analysis around them."""

from __future__ import annotations

import ast
from typing import Iterator

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` as a list, without the expression contexts (Load, Store, Del: shared
    leaves that no walk looks for)."""
    fields = _CHILD_FIELDS.get(type(node))
    if fields is None:
        fields = _CHILD_FIELDS[type(node)] = tuple(f for f in node._fields if f != "ctx")
    children = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`'s order (breadth first), less the expression contexts."""
    pending = [node]
    for current in pending:  # grows while it is read
        pending.extend(child_nodes(current))
        yield current
