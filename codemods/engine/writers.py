"""Where the project writes an attribute, and with what: `obj.booking_ref = ...`, `create(booking_ref=...)`,
`update(...)`, `defaults={"booking_ref": ...}`, `setattr(obj, "booking_ref", ...)`, and model forms and
serializers that let a user fill the field. A guard that reads the attribute as "already done" is only
right when nothing else fills it.

Every file of the project is searched (not only the modules the index loaded: views and serializers
write fields a task later reads), by its bytes first, so only the files that spell the name are parsed.
Tests and test factories are left out: they fill fields to set up a case, not to run the project.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .names import dotted
from .project import TEST_MODULE

if TYPE_CHECKING:
    from .project import Model, Project

# Methods whose keyword arguments only select rows: `filter(booking_ref=...)` reads, it does not write.
READS = frozenset(
    {
        "filter", "exclude", "get", "aget", "exists", "count", "first", "last", "order_by", "values", "values_list",
        "only", "defer", "annotate", "aggregate", "Q", "get_object_or_404", "refresh_from_db", "select_related",
    }
)
EMPTY = (None, "", 0, False)
USER_INPUT = ("request.", "cleaned_data", "validated_data", "initial_data", ".POST", ".GET", ".data[")


@dataclass(frozen=True)
class Write:
    module: str
    line: int
    how: str  # "reservation.booking_ref = ...", "create(booking_ref=...)", "a form or serializer field"
    value: str  # the value as written ("" when a user fills it)
    clears: bool = False  # writes an empty value (None, "", 0, False): never makes a guard fire
    by_user: bool = False  # filled from a request, a form or a serializer, or copied with the whole row

    def where(self, project: Project) -> str:
        return f"{project.display(self.module)}:{self.line}"


def attribute_writes(project: Project, attr: str, model: Model | None = None) -> list[Write]:
    """Every write of an attribute named `attr` the project's own code makes (by name: the receiver's
    type is rarely known, so any object's `attr` counts), and the forms and serializers of `model`
    (of any model when None) whose fields include it."""
    found: list[Write] = []
    for module in project.modules_mentioning(attr):
        tree = project.tree(module) if not _test_module(project, module) else None
        if tree is not None:
            found += _writes_in(project, module, tree, attr, model)
    if model is not None:
        found += _row_copies(project, model)
    return found


def _test_module(project: Project, module: str) -> bool:
    return bool(TEST_MODULE.search(project.source_of(module).path.as_posix()))


def _row_copies(project: Project, model: Model) -> list[Write]:
    """`obj.pk = None` (or `obj.id = None`) then a save, in a module that names the model: a copy of a
    row with every field of it, the attribute included."""
    found = []
    for module in project.modules_mentioning(model.name):
        tree = project.tree(module) if not _test_module(project, module) else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.Assign) and _empty(node.value) and any(
                isinstance(t, ast.Attribute) and t.attr in {"pk", "id"} for t in node.targets
            ):
                found.append(Write(module, node.lineno, "a copy of a whole row (pk set to None, then saved)", "", by_user=True))
    return found


def _writes_in(project: Project, module: str, tree: ast.Module, attr: str, model: Model | None) -> list[Write]:
    source = project.source(module)
    text = source.segment
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute) and part.attr == attr and isinstance(part.ctx, ast.Store):
                        value = text(node.value)
                        found.append(Write(module, node.lineno, f"{text(part)} = ...", value, _empty(node.value), _from_user(value)))
        elif isinstance(node, ast.Call):
            found += _call_writes(module, node, attr, text)
        elif isinstance(node, ast.ClassDef) and node.name == "Meta":
            if _meta_lets_users_write(project, module, node, attr, model):
                found.append(Write(module, node.lineno, "a form or serializer field a user fills", "", by_user=True))
    return found


def _call_writes(module: str, call: ast.Call, attr: str, text) -> list[Write]:
    name = dotted(call.func) or ""
    last = call.func.attr if isinstance(call.func, ast.Attribute) else name
    found = []
    if last == "setattr" and len(call.args) == 3 and isinstance(call.args[1], ast.Constant) and call.args[1].value == attr:
        found.append(Write(module, call.lineno, "setattr(...)", text(call.args[2]), _empty(call.args[2])))
    if last in READS:
        return found
    for keyword in call.keywords:
        if keyword.arg == attr:
            value = text(keyword.value)
            found.append(Write(module, call.lineno, f"{last}({attr}=...)", value, _empty(keyword.value), _from_user(value)))
        elif keyword.arg == "defaults" and isinstance(keyword.value, ast.Dict):
            for key, value in zip(keyword.value.keys, keyword.value.values):
                if isinstance(key, ast.Constant) and key.value == attr:
                    found.append(Write(module, call.lineno, f"{last}(defaults={{{attr!r}: ...}})", text(value), _empty(value)))
    return found


def _meta_lets_users_write(project: Project, module: str, meta: ast.ClassDef, attr: str, model: Model | None) -> bool:
    """A ModelForm's or serializer's Meta whose `fields` include the attribute (or "__all__", or an
    `exclude` that leaves it in), unless it is read-only there."""
    options = {t.id: s.value for s in meta.body if isinstance(s, ast.Assign) for t in s.targets if isinstance(t, ast.Name)}
    if "model" not in options or attr in _strings(options.get("read_only_fields")):
        return False
    if model is not None:
        named = project.model_of(module, dotted(options["model"]) or "")
        if named is not None and (named.module, named.name) != (model.module, model.name):
            return False
    fields = options.get("fields")
    if isinstance(fields, ast.Constant) and fields.value == "__all__":
        return True
    if fields is None and "exclude" in options:
        return attr not in _strings(options["exclude"])
    return attr in _strings(fields)


def _from_user(value: str) -> bool:
    return any(word in value for word in USER_INPUT)


def _strings(node) -> set[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def _empty(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value in EMPTY
