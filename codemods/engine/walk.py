"""Fast `ast` walks for the summaries and the rules: `ast.walk` and `ast.iter_child_nodes` are
generators over generators, and on a big repository they cost more than the analysis around them."""

from __future__ import annotations

import ast
from typing import Iterator

# Fields whose values are never nodes a walk here looks for: contexts and operators (shared leaf
# objects), and fields that only hold names.
_LEAF_FIELDS = frozenset({"ctx", "op", "ops", "id", "attr", "arg", "module", "level", "type_comment", "kind", "conversion", "is_async"})


class _FieldTable(dict):
    """Node type -> the fields that may hold child nodes, in `_fields` order; filled on first use, so that
    a walk looks a type up with one plain dict subscript (leaf types map to an empty tuple)."""

    def __missing__(self, kind: type) -> tuple[str, ...]:
        fields = self[kind] = tuple(name for name in kind._fields if name not in _LEAF_FIELDS)
        return fields


CHILD_FIELDS: dict[type, tuple[str, ...]] = _FieldTable()


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` as a list, without expression contexts and operators."""
    children = []
    for name in CHILD_FIELDS[type(node)]:
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            children.append(value)
        elif isinstance(value, list):
            children += [item for item in value if isinstance(item, ast.AST)]
    return children


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`'s order (breadth first), less expression contexts and operators."""
    pending = [node]
    for current in pending:  # grows while it is read
        pending.extend(child_nodes(current))
        yield current
