"""Rows keyed on a row the same run made: an importer that makes a new project on every run keys its other rows
on it, so a lookup by that project (get_or_create, an exists() check before a create) never finds what a first
run made. Read on one task's way: a function handed the new project by one task and an existing one by
another is keyed on a fresh row for the first only."""

from __future__ import annotations

import ast

from . import facts
from .project import FunctionKey, Project
from .provenance import Provenance
from .view import FunctionView


def keyed_on_a_fresh_row(project: Project, task: FunctionKey, key: FunctionKey, effect: facts.Effect) -> str:
    """`Label.objects.get_or_create(board=board, ...)` with `board` a row this very run created, on this task's
    way: the relation and where its row comes from; "" when every relation the call is given may hold a row a
    first run met too."""
    return next((f"{field}, which {why}" for field, _, why in fresh_relations(project, task, key, effect)), "")


def fresh_relations(project: Project, task: FunctionKey | None, key: FunctionKey, effect: facts.Effect) -> list[tuple[str, str, str]]:
    """(field, the name holding the row, where it comes from) of each relation a create or get_or_create is
    given a row this very run created (on the task's way; with no task, on the way of any caller)."""
    model = project.model_of(key.module, effect.receiver.removesuffix(".objects")) if effect.receiver.endswith(".objects") else None
    view = project.view(key) if model is not None else None
    call = next((c for c in view.calls() if c.lineno == effect.line and view.column(c) == effect.column), None) if view else None
    found = []
    for name, value in lookup_values(view, call) if call is not None else ():
        field = model.fields.get(name.removesuffix("_id"))
        if field is not None and field.target:  # a relation: the value is a row
            made = made_this_run(project, task, view, value)
            if made is not None:
                held = value.value if isinstance(value, ast.Attribute) else value
                found.append((name, getattr(held, "id", ""), made.why))
    return found


def made_this_run(project: Project, task: FunctionKey | None, view: FunctionView, node: ast.AST, depth: int = 3) -> Provenance | None:
    """The provenance of a row a value holds (`board`, `board.pk`) when it is one this very run created; a
    parameter counts when every call on the task's way passes such a row (with no task, when any caller may)."""
    if isinstance(node, ast.Attribute) and node.attr in {"pk", "id"}:
        node = node.value
    if not isinstance(node, ast.Name):
        return None  # `story.project`: read off a row, it may be one that was there before
    if task is not None and node.id in view.parameters() and view.binding_before(node.id, node) is None and view.key != task:
        passed = [(v, value) for v, value in project.graph.arguments_for(view.key, node.id) or ()
                  if v.key in project.guards.reached(task)] if depth else []
        found = [made_this_run(project, task, v, value, depth - 1) for v, value in passed]
        return found[0] if found and all(found) else None
    found = project.provenance.of(view, node)
    return found if found.made_this_run else None


def lookup_values(view: FunctionView, call: ast.Call):
    """(field, value) of each keyword a call is given, also through `**fields` with `fields = {"project":
    project, ...}` written out before it."""
    for keyword in call.keywords:
        if keyword.arg:
            yield keyword.arg, keyword.value
        elif isinstance(keyword.value, ast.Name):
            yield from view.dict_written(keyword.value.id, call)
