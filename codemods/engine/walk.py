"""Fast `ast` walks for the summaries and the rules: `ast.walk` and `ast.iter_child_nodes` are
generators over generators, and on a big repository they cost more than the analysis around them."""

from __future__ import annotations

import ast
from typing import Iterator

# Fields whose values are never nodes a walk here looks for: contexts and operators (shared leaf
# objects), and fields that only hold names.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "module", "level", "type_comment", "kind", "conversion", "is_async"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(kind)
    if fields is None:
        fields = _CHILD_FIELDS[kind] = tuple(name for name in kind._fields if name not in _LEAF_FIELDS)
    return fields


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` as a list, without expression contexts and operators."""
    fields = _child_fields(type(node))
    children = []
    for name in fields:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.AST))
    return children


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`'s order (breadth first), less expression contexts and operators."""
    pending = [node]
    for current in pending:  # grows while it is read
        pending.extend(child_nodes(current))
        yield current


def breadth_first(
    root: ast.AST, first_level=None, stop_at: tuple[type, ...] = ()
) -> tuple[list[ast.AST], dict[ast.AST, ast.AST], list[int]]:
    """`ast.walk`'s order and each node's parent, in one pass: `ast.walk` and `ast.iter_child_nodes` are
    generators over generators and cost more than everything else a summary does. As in `child_nodes`,
    expression contexts and operators are left out. With
    `first_level` (the root's statements), also each node's index among them (-1 outside them). Nodes
    of the `stop_at` types are listed but not entered."""
    order = [root]
    parents: dict[ast.AST, ast.AST] = {}
    tops = [-1]
    first = {id(s): i for i, s in enumerate(first_level)} if first_level is not None else {}
    node_type = ast.AST
    for position, parent in enumerate(order):
        if position and isinstance(parent, stop_at):
            continue
        top = tops[position]
        for name in _child_fields(type(parent)):
            value = getattr(parent, name, None)
            if value.__class__ is list:
                for child in value:
                    if isinstance(child, node_type):
                        parents[child] = parent
                        order.append(child)
                        tops.append(first.get(id(child), -1) if parent is root else top)
            elif isinstance(value, node_type):
                parents[value] = parent
                order.append(value)
                tops.append(first.get(id(value), -1) if parent is root else top)
    return order, parents, tops


# Fields whose values are never nodes a summary looks at: contexts and operators (shared leaf
# objects), and plain names.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "module", "level", "type_comment", "kind", "conversion", "is_async"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
