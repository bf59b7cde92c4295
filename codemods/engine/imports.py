"""Imports a fix needs, added exactly once and where a person would put them."""

from __future__ import annotations

import libcst as cst

from .syntax import code_of


def _module_name(node: cst.BaseExpression | None) -> str:
    return code_of(node).replace(" ", "") if node is not None else ""


def _bound_names(module: cst.Module) -> dict[str, str]:
    """Top-level names and what binds them: "import:django.db.transaction", "def", "assign"."""
    bound: dict[str, str] = {}
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            bound[statement.name.value] = "def"
            continue
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                base = "." * len(small.relative) + _module_name(small.module)
                for alias in small.names:
                    local = code_of(alias.asname.name) if alias.asname else code_of(alias.name)
                    bound[local] = f"import:{base}.{code_of(alias.name)}"
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    local = code_of(alias.asname.name) if alias.asname else code_of(alias.name).split(".")[0]
                    bound[local] = f"import:{code_of(alias.name)}"
            elif isinstance(small, (cst.Assign, cst.AnnAssign)):
                targets = small.targets if isinstance(small, cst.Assign) else [small]
                for target in targets:
                    if isinstance(target.target, cst.Name):
                        bound[target.target.value] = "assign"
    return bound


def ensure_from_import(module: cst.Module, package: str, name: str) -> tuple[cst.Module, str]:
    """Make `name` from `package` available at module level; return the module and the local name.

    Reuses an existing import or alias; joins an existing `from package import ...` line; otherwise
    adds a line after the docstring and `__future__` imports. Never rebinds a name already in use.
    """
    wanted = f"import:{package}.{name}"
    bound = _bound_names(module)
    for local, source in bound.items():
        if source == wanted:
            return module, local
    local = name if name not in bound else f"{package.rsplit('.', 1)[-1]}_{name}"
    alias = cst.ImportAlias(cst.Name(name), asname=cst.AsName(cst.Name(local)) if local != name else None)
    body = list(module.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if (
            isinstance(small, cst.ImportFrom)
            and not small.relative
            and _module_name(small.module) == package
            and not isinstance(small.names, cst.ImportStar)
            and small.rpar is None
        ):
            names = list(small.names)
            names[-1] = names[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            body[index] = statement.with_changes(body=[small.with_changes(names=[*names, alias])])
            return module.with_changes(body=body), local
    position = 0
    if body and is_docstring(body[0]):
        position = 1
    while position < len(body) and _is_future_import(body[position]):
        position += 1
    line = cst.SimpleStatementLine([cst.ImportFrom(module=cst.parse_expression(package), names=[alias])])
    body.insert(position, line)
    return module.with_changes(body=body), local


def is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _is_future_import(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and any(isinstance(s, cst.ImportFrom) and _module_name(s.module) == "__future__" for s in statement.body)
    )
