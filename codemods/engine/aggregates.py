"""A task that builds a fresh aggregate per run: it creates a root row (an import batch, a report, a project)
and then rows keyed on it. Each row is new on every run, so a redelivery builds a second whole aggregate
(a second full import), and no per-row fix helps: the root needs an identity a redelivery finds (the job's
id, or the input's) and the run must return early when it is there. Read here once for the audit and the
atomic-multi-create rule."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from . import facts
from .entities import FunctionKey
from .view import FunctionView, names_in


@dataclass(frozen=True)
class Aggregate:
    root: facts.Effect  # the create (or the save of a new row) that starts it
    child: facts.Effect  # the first create keyed on the root
    model: str  # the root's class as written: "ImportBatch"

    @property
    def many(self) -> bool:
        """Rows made in a loop or in bulk under the root (an import batch and its rows), not a row and its one
        link (a notification and its recipient), which is a duplicate row, not a second import."""
        return (self.child.in_loop and not self.root.in_loop) or self.child.call.endswith(("bulk_create", "abulk_create"))


def makes_a_row(effect: facts.Effect) -> bool:
    return effect.kind == "db_create" or (effect.kind == "db_save" and effect.family == "new_row")


def fresh_aggregates(view: FunctionView, function: facts.Function) -> list[Aggregate]:
    """The roots of the function with the first row made after them that is keyed on them."""
    made = [e for e in function.effects if makes_a_row(e)]
    if len(made) < 2:
        return []
    calls = {(c.lineno, view.column(c)): c for c in view.calls()}
    found = []
    for root in made:
        name = _root_name(root)
        if not name or root.call.endswith(("bulk_create", "abulk_create")):
            continue
        for child in made:
            if (child.line, child.column) <= (root.line, root.column):
                continue
            node = calls.get((child.line, child.column))
            if node is not None and name in _names_building(view, node, child):
                found.append(Aggregate(root, child, _model_of(view, root)))
                break
    return found


def _root_name(effect: facts.Effect) -> str:
    """`batch` of `batch = ImportBatch.objects.create(...)` or of `batch = ImportBatch(...); batch.save()`."""
    if effect.kind == "db_save":
        return effect.receiver if effect.receiver.isidentifier() else ""
    return effect.target if effect.target.isidentifier() else ""


def _names_building(view: FunctionView, call: ast.Call, effect: facts.Effect) -> set[str]:
    """The names a row is made from: the create's arguments, or for `row.save()` what `row` was built from."""
    if effect.kind == "db_save" and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        binding = view.binding_before(call.func.value.id, call)
        value = getattr(binding, "value", None)
        return names_in(value) if value is not None else set()
    return {name for argument in [*call.args, *(k.value for k in call.keywords)] for name in names_in(argument)}


def _model_of(view: FunctionView, root: facts.Effect) -> str:
    if root.kind == "db_save":
        return view.local_types.get(root.receiver, root.receiver).rsplit(".", 1)[-1]
    return root.receiver.removesuffix(".objects").rsplit(".", 1)[-1]


class Aggregates:
    """Fresh aggregates by function (memoised for the run); a function with fewer than two rows made is
    never parsed."""

    def __init__(self, project):
        self.project = project
        self._found: dict[FunctionKey, list[Aggregate]] = {}

    def of(self, key: FunctionKey) -> list[Aggregate]:
        if key not in self._found:
            function = self.project.function(key)
            found: list[Aggregate] = []
            if function is not None and sum(1 for e in function.effects if makes_a_row(e)) >= 2:
                view = self.project.view(key)
                found = fresh_aggregates(view, function) if view is not None else []
            self._found[key] = found
        return self._found[key]

    def rooted_at(self, key: FunctionKey, effect: facts.Effect) -> Aggregate | None:
        return next((a for a in self.of(key) if (a.root.line, a.root.column) == (effect.line, effect.column)), None)
