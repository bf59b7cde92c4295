"""Where a value comes from, as a redelivery sees it: the same again (a constant, the task's arguments,
a row read by them), or something new each run (now(), a uuid, random, a sequence value, a row created
earlier in the same run), or not known. A rewrite that keys on a value needs the first kind."""

from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .names import dotted
from .orm import field_name
from .source import one_line
from .values import SEQUENCE_CALLS, VALUE_TRANSFORMS, VOLATILE_CALLS, VOLATILE_MODULES
from .project import FunctionKey
from .view import COMPREHENSIONS, FunctionView, assigned_value, is_atomic_expression, store_names

if TYPE_CHECKING:
    from .project import Project

# ORM calls that read rows: the row found is the same on a second run when the query is.
READS = frozenset(
    {
        "get", "aget", "first", "afirst", "last", "alast", "earliest", "latest", "filter", "exclude", "all",
        "select_related", "prefetch_related", "only", "defer", "order_by", "values", "values_list", "using",
        "select_for_update", "get_object_or_404", "aget_object_or_404", "in_bulk", "distinct", "get_or_create",
        "aget_or_create", "update_or_create", "aupdate_or_create", "refresh_from_db", "get_user_model",
    }
)
CREATES = frozenset({"create", "acreate", "bulk_create", "abulk_create"})
_PARTS = (ast.JoinedStr, ast.BinOp, ast.BoolOp, ast.IfExp, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Compare, ast.UnaryOp, ast.FormattedValue, ast.Starred)
_MAX_DEPTH = 3  # callers followed for a parameter of a function that is not a task


class Origin(enum.IntEnum):
    """Ordered from most to least reproducible; a value built of several takes the worst."""

    CONSTANT = 0
    ARGUMENT = 1  # the task's own arguments: a redelivered message carries the same
    READ = 2  # a row (or part of one) the task reads by stable values
    UNKNOWN = 3
    NEW = 4  # different on every run


@dataclass(frozen=True)
class Provenance:
    origin: Origin
    why: str = ""  # for a value that is not stable: "comes from uuid4()"; for a stable one, what it is

    @property
    def stable(self) -> bool:
        return self.origin <= Origin.READ

    @property
    def made_this_run(self) -> bool:
        """A row this very run created (`project = Project.objects.create(...)`): a redelivery makes another, so
        nothing keyed on it finds what the first run made."""
        return self.origin is Origin.NEW and self.why.endswith(FRESH_ROW)


_CONSTANT = Provenance(Origin.CONSTANT, "a constant")
FRESH_ROW = "a row created in this same run"


def names_the_row(node: ast.AST) -> bool:
    """`project` or `project.pk`: the row itself or its key, not a value read off it (`story.project` of a story
    made this run may well be a project that was there before)."""
    return isinstance(node, ast.Name) or (isinstance(node, ast.Attribute) and node.attr in {"pk", "id"} and isinstance(node.value, ast.Name))


def worst(found: list[Provenance]) -> Provenance:
    return max(found, key=lambda p: p.origin, default=_CONSTANT)


class Provenances:
    """`project.provenance.of(view, node)`: memoised per node for the run."""

    def __init__(self, project: Project):
        self.project = project
        self._memo: dict[tuple[int, int], Provenance] = {}

    def of(self, view: FunctionView, node: ast.AST, depth: int = 0) -> Provenance:
        memo = (id(view), id(node))
        found = self._memo.get(memo)
        if found is None:
            self._memo[memo] = Provenance(Origin.UNKNOWN, "a value computed from itself")  # a cycle
            found = self._memo[memo] = self._of(view, node, depth)
        return found

    def _of(self, view: FunctionView, node: ast.AST, depth: int) -> Provenance:
        kind = node.__class__
        if kind is ast.Constant:
            return _CONSTANT
        if kind is ast.Name:
            return self._name(view, node, depth)
        if kind is ast.Attribute:
            name = dotted(node) or ""
            if name.startswith("settings.") or name.rsplit(".", 1)[-1].isupper():
                return _CONSTANT
            if name.count(".") == 1 and name.startswith("self.") and "." in view.key.qualname:
                return self._instance_attribute(view, node.attr, depth)
            base = self.of(view, node.value, depth)
            if base.origin in (Origin.ARGUMENT, Origin.READ):
                return Provenance(Origin.READ, f"{view.segment(node)}, read from {base.why}")
            return base
        if kind is ast.Subscript:
            return worst([self.of(view, node.value, depth), self.of(view, node.slice, depth)])
        if kind is ast.Await:
            return self.of(view, node.value, depth)
        if kind is ast.Call:
            return self._call(view, node, depth)
        if kind in _PARTS:
            parts = [c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
            return worst([self.of(view, part, depth) for part in parts])
        if kind is ast.Slice:
            return worst([self.of(view, part, depth) for part in (node.lower, node.upper, node.step) if part is not None])
        return Provenance(Origin.UNKNOWN, f"`{one_line(view.segment(node))}`")

    def _name(self, view: FunctionView, node: ast.Name, depth: int) -> Provenance:
        name = node.id
        for ancestor in view.ancestors(node):  # a comprehension's own variable, bound after it is written
            if isinstance(ancestor, COMPREHENSIONS):
                for generator in ancestor.generators:
                    if name in store_names(generator.target):
                        return self._binding(view, generator, name, depth)
        scope = view.scope_of(node)
        bindings = [
            b for b in view.bindings(name, scope)
            if not isinstance(b, ast.comprehension) and (b.lineno, b.col_offset) < (node.lineno, node.col_offset)
        ]
        if bindings:
            return worst([self._binding(view, b, name, depth) for b in bindings])
        if name in view.parameters(scope, with_self=True):
            return self._parameter(view, scope, name, depth)
        if scope is not view.node:  # a name from the enclosing function
            return self._name(view, ast.Name(name, lineno=scope.lineno, col_offset=scope.col_offset), depth)
        if name.isupper() or name in view.imports or name in {"True", "False", "None"}:
            return _CONSTANT
        summary = self.project.module(view.key.module)
        if summary is not None and (name in summary.functions or name in summary.classes):
            return _CONSTANT
        return Provenance(Origin.UNKNOWN, f"{name}, a module-level name")

    def _binding(self, view: FunctionView, binding: ast.AST, name: str, depth: int) -> Provenance:
        if isinstance(binding, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return _CONSTANT
        if isinstance(binding, (ast.With, ast.AsyncWith)) and any(is_atomic_expression(i.context_expr) for i in binding.items):
            return Provenance(Origin.UNKNOWN, name)
        value = assigned_value(binding)
        if value is None:
            return Provenance(Origin.UNKNOWN, f"{name}, bound at line {getattr(binding, 'lineno', '?')}")
        found = self.of(view, value, depth)
        if isinstance(binding, ast.AugAssign):
            found = worst([found, Provenance(Origin.UNKNOWN, f"{name}, changed in place at line {binding.lineno}")])
        if found.origin in (Origin.ARGUMENT, Origin.READ) and isinstance(binding, (ast.For, ast.AsyncFor, ast.comprehension)):
            return Provenance(Origin.READ, f"{name}, each item of {found.why}")
        return found

    def _instance_attribute(self, view: FunctionView, attr: str, depth: int) -> Provenance:
        """`self.account` in a method: what the class's methods assign to it (usually `__init__`, from
        what the code that builds the object passes)."""
        owner = view.key.qualname.split(".")[0]
        found = []
        assigns = re.compile(rf"\bself\.{re.escape(attr)}\s*(?::[^=\n]*)?=(?!=)")
        for cls_key in self.project.mro(view.key.module, owner):
            cls = self.project.cls(cls_key)
            for method in cls.methods.values() if cls else ():
                method_key = FunctionKey(cls_key.module, method.qualname)
                text = self.project.function_text(method_key)
                if text and not assigns.search(text):
                    continue  # its text never assigns the attribute: no need to parse it
                method_view = self.project.view(method_key)
                if method_view is None:
                    return Provenance(Origin.UNKNOWN, f"self.{attr}")
                for node in method_view.nodes:
                    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and any(
                        isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name) and t.value.id == "self"
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    ):
                        found.append(self.of(method_view, node.value, depth))
        if not found:
            return Provenance(Origin.UNKNOWN, f"self.{attr}, set outside the class")
        return worst(found)

    def _parameter(self, view: FunctionView, scope: ast.AST, name: str, depth: int) -> Provenance:
        if scope is view.node and view.key in self.project.task_keys:
            return Provenance(Origin.ARGUMENT, f"the task's argument {name}")
        if scope is not view.node or depth >= _MAX_DEPTH:
            return Provenance(Origin.UNKNOWN, f"{name}, a parameter of {getattr(scope, 'name', 'a nested function')}()")
        if name in {"self", "cls"}:
            return Provenance(Origin.UNKNOWN, f"{name} of {view.key.qualname}")
        passed = self._passed(view, name, depth)
        if not passed:
            return Provenance(Origin.UNKNOWN, f"{name}, a parameter of {view.key.qualname}() that no caller the analysis sees passes")
        found = worst(passed)
        if found.stable:
            return Provenance(found.origin, f"{name}, which its callers pass from {found.why}")
        return found

    def _passed(self, view: FunctionView, name: str, depth: int) -> list[Provenance]:
        """What the callers a task reaches pass for parameter `name`."""
        passed = self.project.graph.arguments_for(view.key, name)
        return [self.of(caller_view, value, depth + 1) for caller_view, value in passed or ()]

    def _created(self, view: FunctionView, call: ast.Call, depth: int) -> Provenance:
        """A row created in this run is new on every run, unless a unique constraint (or the identity the
        project declares in [tool.idem-fix.lookups]) covers the create with stable values: then a rerun
        meets the first run's row (as get_or_create, or as an IntegrityError that stops the run before
        anything keyed on the row)."""
        new = Provenance(Origin.NEW, f"comes from {one_line(view.segment(call))}, {FRESH_ROW}")
        manager = call.func.value if isinstance(call.func, ast.Attribute) else None
        if not isinstance(manager, ast.Attribute) or call.func.attr not in {"create", "acreate"}:
            return new
        model = self.project.model_of(view.key.module, view.segment(manager.value))
        if model is None:
            return new
        values = {field_name(model, k.arg): k.value for k in call.keywords if k.arg}
        declared = self.project.config.lookup_for(model.label, model.name)
        identities = [c.fields for c in model.constraints if not c.conditional] + ([tuple(field_name(model, f) for f in declared)] if declared else [])
        for fields in identities:
            if not all(f in values for f in fields):
                continue
            if any(isinstance(values[f], ast.Constant) and values[f].value is None for f in fields):
                continue
            if all(self.of(view, values[f], depth).stable for f in fields):
                return Provenance(Origin.READ, f"the {model.name} row its {', '.join(fields)} finds again")
        return new

    def _call(self, view: FunctionView, call: ast.Call, depth: int) -> Provenance:
        callee = dotted(call.func) or ""
        last = call.func.attr if isinstance(call.func, ast.Attribute) else callee
        root = callee.split(".")[0]
        if last in VOLATILE_CALLS or view.imports.get(root, root).split(".")[0] in VOLATILE_MODULES:
            return Provenance(Origin.NEW, f"comes from {one_line(view.segment(call))}, which differs between runs")
        if last in SEQUENCE_CALLS or "next_" in last or "sequence" in last.lower():
            return Provenance(Origin.NEW, f"comes from {one_line(view.segment(call))}, a sequence value the first run changes")
        if last in CREATES:
            return self._created(view, call, depth)
        if last[:1].isupper() and self.project.model_of(view.key.module, callee) is not None:
            return Provenance(Origin.NEW, f"comes from {one_line(view.segment(call))}, {FRESH_ROW}")  # `Project(...)`, saved later
        operands = [call.func.value] if isinstance(call.func, ast.Attribute) else []
        operands += [*call.args, *(k.value for k in call.keywords)]
        if last in READS or last in VALUE_TRANSFORMS:
            parts = [self.of(view, part, depth) for part in operands]
            found = worst(parts)
            if not found.stable:
                return found
            if last in READS:
                return Provenance(Origin.READ, f"a row read by {found.why}" if found.origin else "a row read by constants")
            return found
        returned = self._returned_new(view, call, depth)
        if returned is not None:
            return returned
        return Provenance(Origin.UNKNOWN, f"the result of {one_line(view.segment(call.func))}()")

    def _returned_new(self, view: FunctionView, call: ast.Call, depth: int) -> Provenance | None:
        """A project function that returns something new on every run (`return seq.next_value(name)`,
        `return uuid4().hex`): its result is new too. Only the returns written in the function are read."""
        if depth >= _MAX_DEPTH:
            return None
        for target in self.project.graph.targets(view, call):
            callee = self.project.view(target)
            returns = [n.value for n in callee.walk_scope(callee.node) if isinstance(n, ast.Return) and n.value is not None] if callee else []
            for value in returns:
                found = self.of(callee, value, depth + 1)
                if found.origin is Origin.NEW:
                    return Provenance(Origin.NEW, f"comes from {one_line(view.segment(call))}, which returns what {found.why.removeprefix('comes from ')}")
        return None
