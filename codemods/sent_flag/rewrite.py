"""The claims (a check before the task's first side effect, and a mark after the send in mark-after
mode) and the BooleanField a field-store flag needs in its model."""

from __future__ import annotations

import re

import libcst as cst

from ..engine.edits import PositionedTransformer
from ..engine.imports import ensure_from_import, is_docstring
from ..engine.syntax import code_of
from .claim import CACHE, Claim
from .field import AddField

FIELD_CALLS = re.compile(r"(Field|ForeignKey|ForeignObject|ParentalKey)$")


def transform(module: cst.Module, plans: list) -> tuple[cst.Module, list]:
    claims = [p for p in plans if isinstance(p, Claim)]
    adds = [p for p in plans if isinstance(p, AddField)]
    cache_name = "cache"
    if any(p.cache for p in claims):
        _, cache_name = ensure_from_import(module, "django.core.cache", "cache")
    field_callee = {name: _field_callee(module, name) for name in {p.model for p in adds}}
    result, transformer = _Rewrite.run(module, claims, adds, cache_name, field_callee)
    partial = [c for c in claims if transformer.placed.get(c) and c not in transformer.applied]
    if partial:  # a check without its mark (or the reverse) is never written: redo without those plans
        claims = [c for c in claims if c not in partial]
        result, transformer = _Rewrite.run(module, claims, adds, cache_name, field_callee)
    if any(p.cache for p in transformer.applied if isinstance(p, Claim)):
        result, _ = ensure_from_import(result, "django.core.cache", "cache")
    for package, name in sorted({need for need, used in transformer.imports_needed.items() if used}):
        result, _ = ensure_from_import(result, package, name)
    return result, transformer.applied


def _field_callee(module: cst.Module, model: str) -> tuple[str, tuple[str, str] | None]:
    """How the class's fields are written: ("models.", None) for `models.CharField`, or the import to add."""
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == model:
            for item in statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ():
                value = _assigned_call(item)
                if value is None:
                    continue
                callee = code_of(value.func)
                if FIELD_CALLS.search(callee):
                    if "." in callee:
                        return callee.rsplit(".", 1)[0] + ".", None
                    return "", ("django.db.models", "BooleanField")
    return "", ("django.db", "models")


def _assigned_call(statement: cst.CSTNode) -> cst.Call | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
        return small.value
    return None


class _Rewrite(PositionedTransformer):
    def __init__(self, claims: list[Claim], adds: list[AddField], cache_name: str, field_callee: dict):
        super().__init__()
        self.claims = claims
        self.adds = adds
        self.cache_name = cache_name
        self.field_callee = field_callee
        self.before: dict[int, list[Claim]] = {}
        self.after: dict[int, list[Claim]] = {}
        for claim in claims:
            self.before.setdefault(claim.before, []).append(claim)
            if claim.after:
                self.after.setdefault(claim.after, []).append(claim)
        self.placed: dict[Claim, int] = {}
        self.applied: list = []
        self.imports_needed: dict[tuple[str, str], bool] = {}
        self.module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> bool:
        self.module = node
        self.built: dict[Claim, tuple[cst.BaseStatement, cst.BaseStatement | None]] = {}
        for claim in self.claims:
            try:
                mark = self._compound(claim.mark) if claim.after else None
                self.built[claim] = (self._compound(claim.check), mark)
            except (cst.ParserSyntaxError, ValueError):  # code that would not parse is never inserted
                continue
        return True

    def _statement(self, code: str) -> cst.BaseStatement:
        module = self.module
        return cst.parse_statement(code.replace(CACHE, self.cache_name), config=module.config_for_parsing)

    def _compound(self, code: tuple[str, str]) -> cst.BaseStatement:
        """`if ...:` over one statement, or one statement alone when the header is empty."""
        module = self.module
        header, body = code
        if not header:
            return self._statement(body + module.default_newline)
        return self._statement(f"{header}{module.default_newline}{module.default_indent}{body}{module.default_newline}")

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not self.before and not self.after:
            return updated
        body = []
        changed = False
        for old, new in zip(original.body, updated.body):
            line = self.start_of(old)[0]
            for claim in self.before.get(line, []):
                if claim in self.built:
                    body.append(self.built[claim][0])
                    self.placed[claim] = self.placed.get(claim, 0) + 1
                    changed = True
            body.append(new)
            for claim in self.after.get(line, []):
                if claim in self.built:
                    body.append(self.built[claim][1])
                    self.placed[claim] = self.placed.get(claim, 0) + 1
                    changed = True
        return updated.with_changes(body=body) if changed else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        line = self.start_of(original)[0]
        adds = [p for p in self.adds if p.line == line and p.model == original.name.value]
        if not adds or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        prefix, needed = self.field_callee.get(original.name.value, ("", ("django.db", "models")))
        written = f"{prefix}BooleanField"
        if needed is not None:
            _, local = ensure_from_import(self.module, *needed)  # the name only: the import is added at the end
            written = f"{local}.BooleanField" if needed == ("django.db", "models") else local
        body = list(updated.body.body)
        last_field = max(
            (
                i
                for i, s in enumerate(body)
                if (c := _assigned_call(s)) is not None and FIELD_CALLS.search(code_of(c.func))
            ),
            default=None,
        )
        if last_field is None:
            position = 1 if body and is_docstring(body[0]) else 0
            while position < len(body) and _is_placeholder(body[position]):
                body.pop(position)
        else:
            position = last_field + 1
        for add in adds:
            body.insert(
                position, self._statement(f"{add.field} = {written}(default=False){self.module.default_newline}")
            )
            position += 1
            self.applied.append(add)
        if needed is not None:
            self.imports_needed[needed] = True
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        for claim in self.claims:
            expected = 2 if claim.after else 1
            if self.placed.get(claim) == expected:
                self.applied.append(claim)
        return updated


def _is_placeholder(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and (
            isinstance(statement.body[0], cst.Pass)
            or (isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Ellipsis))
        )
    )
