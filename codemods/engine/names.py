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


def call_reference(func: ast.expr, local_types: dict[str, str], row_types: dict[str, str] | None = None) -> str | None:
    """How a call names its target, for the index to resolve: "f", "mod.f", "self.f", "super.f",
    "new:Cls.f" (a method of an instance built here: `Cls(...).f()`, or `x = Cls(...)` then `x.f()`),
    "row:Model.f" (a method of a row a query read: `job = Job.objects.get(...)` or `for job in
    Job.objects.running():` then `job.f()`)."""
    if row_types and func.__class__ is ast.Attribute and func.value.__class__ is ast.Name and func.value.id in row_types:
        return f"row:{row_types[func.value.id]}.{func.attr}"
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        inner = func.value
        if isinstance(inner.func, ast.Name) and inner.func.id == "super":
            return f"super.{func.attr}"
        read = queried_model(inner)
        if read is not None and read[1] in ONE_ROW:  # `EngineConfig.objects.first().run(job)`
            return f"row:{read[0]}.{func.attr}"
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
    """`service = CreatePayout(account)` (or `with Session() as service:`) among `nodes` -> {"service":
    "CreatePayout"}: a name bound to an instance of a class (a capitalised callee), enough to follow
    `service.run()`."""
    types: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            bound = [(node.targets[0], node.value.value if isinstance(node.value, ast.Await) else node.value)]
        elif isinstance(node, (ast.With, ast.AsyncWith)):  # `with requests.Session() as session:`
            bound = [(item.optional_vars, item.context_expr) for item in node.items if isinstance(item.optional_vars, ast.Name)]
        else:
            continue
        for target, value in bound:
            if isinstance(value, ast.Call):
                callee = dotted(value.func)
                if callee and callee.rsplit(".", 1)[-1][:1].isupper():
                    types[target.id] = callee
    return types


# A query chain's last call that gives one row, and calls that give something other than rows.
ONE_ROW = frozenset({"get", "aget", "first", "afirst", "last", "alast", "latest", "alatest", "earliest", "aearliest"})
ROW_PAIRS = frozenset({"get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"})  # (row, created)
NOT_ROWS = frozenset({"values", "values_list", "count", "exists", "aggregate", "annotate_values", "delete", "update", "in_bulk", "dates", "datetimes"})


def queried_model(value: ast.AST) -> tuple[str, str] | None:
    """(model, last method) of a manager chain: `Job.objects.filter(...).first()` -> ("Job", "first"); None
    for anything else, or for a chain that turns rows into values (`values_list`, `count`)."""
    last = value.func.attr if value.__class__ is ast.Call and value.func.__class__ is ast.Attribute else ""
    node = value
    while True:
        if node.__class__ is ast.Call:
            node = node.func
        elif node.__class__ is ast.Attribute:
            if node.attr in NOT_ROWS:
                return None
            if node.attr == "objects":
                model = dotted(node.value) or ""
                return (model, last) if model.rsplit(".", 1)[-1][:1].isupper() and last else None
            node = node.value
        else:
            return None


def row_types(assignments, loops) -> dict[str, str]:
    """{name: model} for names bound to a row a query read: `job = Job.objects.get(...)`, `job, _ =
    Job.objects.get_or_create(...)`, `for job in Job.objects.filter(...):`. Enough to follow `job.retry()`
    into the model's own method."""
    types: dict[str, str] = {}
    querysets: dict[str, str] = {}  # `jobs = Job.objects.running()`: what a loop over `jobs` gives
    for targets, value in assignments:
        if len(targets) != 1 or value.__class__ is not ast.Call:
            continue
        found = queried_model(value)
        target = targets[0]
        if found is None:
            continue
        if target.__class__ is ast.Name and found[1] in ONE_ROW:
            types[target.id] = found[0]
        elif target.__class__ is ast.Tuple and found[1] in ROW_PAIRS and target.elts and target.elts[0].__class__ is ast.Name:
            types[target.elts[0].id] = found[0]
        elif target.__class__ is ast.Name:
            querysets[target.id] = found[0]
    for loop in loops:
        if loop.target.__class__ is not ast.Name:
            continue
        rows = loop.iter.value if loop.iter.__class__ is ast.Subscript else loop.iter  # `jobs[:10]`
        if rows.__class__ is ast.Name and rows.id in querysets:
            types[loop.target.id] = querysets[rows.id]
            continue
        found = queried_model(rows)
        if found is not None and found[1] not in ONE_ROW and found[1] not in ROW_PAIRS:
            types[loop.target.id] = found[0]
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
