"""Guards that come from a selection: a row selected by a field the run then changes and stores is not selected
again by a repeat (`get(pk=i, active=True)` then `active = False`; due rows stamped as they are handed on),
also through the project's own queryset methods and rows handed to a nested function, and a loop over rows
collected after such a change. A mixin of `guards.Guards`, which walks the way from each task."""

from __future__ import annotations

import ast
import re

from .guard_checks import always_run, before, on_the_way, stored
from .project import FunctionKey
from .view import EXITS, FunctionView


class SelectionGuards:
    """What `Guards` asks about selections; it provides `project`, `_text`, `reached`, the memo dicts."""

    def _may_change_its_selection(self, key: FunctionKey) -> bool:
        """Text that could hold a row selected by a field the function changes: a field written and stored
        here, and a lookup by that field (`active=True`, `last_sync__lt=`) here or in a caller two calls up,
        where `_selecting_query` looks. Read before parsing: most functions that save never select by what
        they write."""
        if key not in self._selection_changes:
            fields = _changed_fields(self._text(key))
            found = False
            if fields:
                lookup = re.compile(r"[(,]\s*(?:" + "|".join(map(re.escape, sorted(fields))) + r")(?:__\w+)?\s*=[^=]")
                near, frontier = {key}, {key}
                for _ in range(2):
                    frontier = {caller for k in frontier for caller in self.project.graph.callers(k)} - near
                    near |= frontier
                texts = [self._text(k) for k in near]
                found = any(lookup.search(text) for text in texts) or any(
                    fields & self._queryset_method_fields(method).keys()
                    for text in texts for method in set(_CUSTOM_QUERY.findall(text)) - ORM_CHAIN)
            self._selection_changes[key] = found
        return self._selection_changes[key]

    def _selected_then_changed(self, task: FunctionKey, view: FunctionView, call: ast.Call, only: str = "") -> str:
        """The row was selected by a field (`get(pk=i, active=True)`, `filter(last_sync__lt=t)`) that the
        function changes and saves on the call's way (`webhook.active = False`): a repeat does not select it
        again. Also for a call in a loop over a list of such rows (`for row in to_disable:`, each appended
        after its field was changed). `only` keeps to the row of that name."""
        for statement in always_run(on_the_way(view, call)):
            if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
                continue
            target = statement.targets[0]
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)) or only not in ("", target.value.id):
                continue
            owner, field = target.value.id, target.attr
            if not stored(view, view.segment(target), statement):
                continue
            query = self._selecting_query(task, view, owner, 2, view.scope_of(statement))
            selected = self._selected_by(query[1]) if query is not None else {}
            if field in selected and view.segment(statement.value) not in selected[field]:  # `active=True` then `active = True` changes nothing
                where, line = query[0], query[1].lineno
                if field not in _filtered_fields(query[1]):
                    where += f"through {'(), '.join(_project_query_methods(query[1]))}(), "
                return (f"it selects {owner} by {field} ({where}line {line}) and changes {field} (line {statement.lineno}): "
                        "a repeat does not select it again")
        return "" if only else self._over_changed_rows(task, view, call) or (
            _MARKS_ROWS.search(self._text(view.key)) is not None and _selection_emptied(view, call))

    def _over_changed_rows(self, task: FunctionKey, view: FunctionView, call: ast.Call) -> str:
        """A call in a loop over a list (`for row in to_disable:`) each item of which was appended after a
        field it was selected by changed: a repeat's list holds none of the first run's rows."""
        for loop in (a for a in view.ancestors(call) if isinstance(a, (ast.For, ast.AsyncFor)) and isinstance(a.iter, ast.Name)):
            appends = [c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr == "append"
                       and isinstance(c.func.value, ast.Name) and c.func.value.id == loop.iter.id
                       and len(c.args) == 1 and isinstance(c.args[0], ast.Name)]
            reasons = [self._selected_then_changed(task, view, a, only=a.args[0].id) for a in appends]
            if reasons and all(reasons):
                return f"{reasons[0]}, and the loop at line {loop.lineno} goes over those rows"
        return ""

    def _selecting_query(self, task: FunctionKey, view: FunctionView, name: str, depth: int,
                         scope: ast.AST | None = None, at: ast.AST | None = None) -> tuple[str, ast.Call] | None:
        """(where, the query call) a name's row came from: `x = Model.objects.get(...)`, `for x in qs.filter(...)`,
        or, for a parameter, the argument every caller on this task's way passes (for a parameter of a function
        nested in this one, what its calls here pass)."""
        if scope is not None and scope is not view.node and name in view.parameters(scope):
            return self._passed_to_nested(task, view, scope, name, depth)
        binding = view.binding_before(name, at or view.node.body[-1])
        value = getattr(binding, "value", None) if not isinstance(binding, (ast.For, ast.AsyncFor)) else binding.iter
        if isinstance(value, ast.Name) and depth:
            return self._selecting_query(task, view, value.id, depth - 1)
        if isinstance(value, ast.Call):
            return "", value
        if binding is None and name in view.parameters() and depth:
            reach = self.reached(task)
            passed = [(v, a) for v, a in self.project.graph.arguments_for(view.key, name) or () if v.key in reach]
            found = [self._selecting_query(task, v, a.id, depth - 1) if isinstance(a, ast.Name) else None for v, a in passed]
            if passed and all(found) and len({f[1].lineno for f in found}) == 1:
                caller = passed[0][0].key.qualname
                return f"{caller}(), ", found[0][1]
        return None

    def _passed_to_nested(self, task: FunctionKey, view: FunctionView, nested: ast.AST, name: str, depth: int) -> tuple[str, ast.Call] | None:
        """The query behind what every call of a nested function (`def fail_job(job):` ... `fail_job(running_job)`)
        passes for its parameter `name`."""
        index = view.parameters(nested).index(name)
        calls = [c for c in view.calls() if isinstance(c.func, ast.Name) and c.func.id == getattr(nested, "name", None)]
        passed = [c.args[index] if index < len(c.args) else next((k.value for k in c.keywords if k.arg == name), None) for c in calls]
        if not depth or not passed or not all(isinstance(p, ast.Name) for p in passed):
            return None
        found = [self._selecting_query(task, view, p.id, depth - 1, view.scope_of(p), p) for p in passed]
        return found[0] if all(found) and len({f[1].lineno for f in found}) == 1 else None

    def _selected_by(self, query: ast.Call) -> dict[str, set[str]]:
        """_filtered_fields() of a query chain, with what the project's own queryset methods in it select by
        (`Job.objects.running()`, whose body excludes the final statuses)."""
        fields = _filtered_fields(query)
        for method in _project_query_methods(query):
            for field, values in self._queryset_method_fields(method).items():
                fields.setdefault(field, set()).update(values)
        return fields

    def _queryset_method_fields(self, method: str) -> dict[str, set[str]]:
        """The fields a project QuerySet or Manager method of that name filters or excludes by; {} when no such
        method is loaded, or when several classes define one."""
        if method not in self._queryset_methods:
            owners = [FunctionKey(module, f"{cls.qualname}.{method}") for module, summary in self.project.modules.items()
                      for cls in summary.classes.values() if cls.name.endswith(("QuerySet", "Manager")) and method in cls.methods]
            fields: dict[str, set[str]] = {}
            body = self.project.view(owners[0]) if len(owners) == 1 else None
            for call in body.calls() if body is not None else ():
                if isinstance(call.func, ast.Attribute) and call.func.attr in {"filter", "exclude", "get"}:
                    for field, values in _filtered_fields(call).items():
                        fields.setdefault(field, set()).update(values)
            self._queryset_methods[method] = fields
        return self._queryset_methods[method]


_CUSTOM_QUERY = re.compile(r"\.objects\.(\w+)\(")

_ATTRIBUTE_WRITE = re.compile(r"^\s*[A-Za-z_]\w*\.(\w+)\s*=[^=]", re.M)

def _changed_fields(text: str) -> set[str]:
    """The fields a function writes on a row it may store (saved, or collected for bulk_update)."""
    if ".save(" not in text and "bulk_update(" not in text:
        return set()
    return set(_ATTRIBUTE_WRITE.findall(text))

# Query methods Django itself defines: any other method in a chain on a manager is the project's own.
ORM_CHAIN = frozenset({
    "get", "aget", "filter", "exclude", "all", "select_related", "prefetch_related", "select_for_update", "only", "defer",
    "order_by", "distinct", "using", "annotate", "alias", "values", "values_list", "first", "last", "latest", "earliest",
    "iterator", "none", "reverse", "union", "intersection", "difference", "extra", "dates", "datetimes", "in_bulk", "count",
    "exists", "afirst", "alast", "acount", "aexists", "aiterator",
})

def _project_query_methods(query: ast.Call) -> list[str]:
    """The methods of a query chain Django does not define (`running` of `Job.objects.running()`), first first."""
    found = []
    node: ast.AST = query
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr not in ORM_CHAIN:
            found.insert(0, node.func.attr)
        node = node.func.value
    return found

def _filtered_fields(query: ast.Call) -> dict[str, set[str]]:
    """The fields a query chain selects on, with the values exact lookups ask for ("" for a range or a test):
    `get(pk=i, active=True)` -> {pk: {"i"}, active: {"True"}}; `last_sync__lt=t` -> {last_sync: {""}}; also inside
    Q(...), where `Q(kind=A) | Q(kind=B)` asks for either."""
    fields: dict[str, set[str]] = {}
    node: ast.AST = query
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"get", "filter", "exclude", "aget"}:
            for keyword in (k for part in [*node.args, *node.keywords] for k in ast.walk(part) if isinstance(k, ast.keyword) and k.arg):
                name, _, lookup = keyword.arg.partition("__")
                fields.setdefault(name, set()).add(ast.unparse(keyword.value) if not lookup and node.func.attr != "exclude" else "")
        node = node.func.value
    return fields


_MARKS_ROWS = re.compile(r"bulk_update\(|\.a?update\(")  # what `_selection_emptied` needs the text to hold


def _selection_emptied(view: FunctionView, call: ast.Call) -> str:
    """The function leaves when a query finds no rows (`if not fields: return`) and, before the call, changes
    the field the query selects by on every row it found and stores them (`for f in fields: f.done_at = now`
    then `bulk_update(fields, ["done_at"])`, or `fields.update(done_at=now)`): a repeat finds none and leaves."""
    statements = sorted(dict.fromkeys(statement for statement, _ in before(view, call)), key=lambda s: (s.lineno, s.col_offset))
    for index, exit_when_empty in enumerate(statements):
        name = _left_when_empty(exit_when_empty)
        query = getattr(view.binding_before(name, exit_when_empty), "value", None) if name else None
        if not isinstance(query, ast.Call):
            continue
        for later in statements[index + 1:]:
            for node in ast.walk(later):
                field, value = _stored_on_every_row(view, node, name)
                if field and _leaves_the_selection(query, field, value):
                    return (f"it leaves when `{view.segment(exit_when_empty.test)}` (line {exit_when_empty.lineno}) finds no rows, "
                            f"and sets {field} on every row it found and stores it (line {node.lineno}): a repeat finds none")
    return ""


def _left_when_empty(statement: ast.stmt) -> str:
    """The name of `if not rows: return` (also `if not rows.exists():`), "" for another statement."""
    if not (isinstance(statement, ast.If) and statement.body and isinstance(statement.body[-1], EXITS)):
        return ""
    test = statement.test
    if not (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)):
        return ""
    tested = test.operand
    if isinstance(tested, ast.Call) and isinstance(tested.func, ast.Attribute) and tested.func.attr == "exists" and not tested.args:
        tested = tested.func.value
    return tested.id if isinstance(tested, ast.Name) else ""


def _stored_on_every_row(view: FunctionView, node: ast.AST, rows: str) -> tuple[str, str]:
    """(field, value as written) of `rows.update(field=value)`, or of `bulk_update(rows, ["field"])` after a loop
    `for row in rows: row.field = value`; ("", "") otherwise."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return "", ""
    if node.func.attr in {"update", "aupdate"} and isinstance(node.func.value, ast.Name) and node.func.value.id == rows:
        return next(((k.arg, view.segment(k.value)) for k in node.keywords if k.arg), ("", ""))
    if node.func.attr not in {"bulk_update", "abulk_update"} or not node.args or view.segment(node.args[0]) != rows:
        return "", ""
    named = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for loop in (n for n in view.nodes if isinstance(n, (ast.For, ast.AsyncFor)) and isinstance(n.iter, ast.Name) and n.iter.id == rows):
        for assign in (s for s in loop.body if isinstance(s, ast.Assign) and len(s.targets) == 1):
            target = assign.targets[0]
            if (isinstance(target, ast.Attribute) and view.segment(target.value) == view.segment(loop.target)
                    and target.attr in named and (loop.lineno, loop.col_offset) < (node.lineno, node.col_offset)):
                return target.attr, view.segment(assign.value)
    return "", ""


def _leaves_the_selection(query: ast.Call, field: str, value: str) -> bool:
    """Whether a row the query selects by `field` is no longer selected once `field` is set to `value`:
    `done_at__isnull=True` then a time, `active=True` then False, `sent_at__lt=...` then a later time."""
    node: ast.AST = query
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr in {"filter", "get"}:
            for keyword in (k for k in node.keywords if k.arg and k.arg.partition("__")[0] == field):
                lookup = keyword.arg.partition("__")[2]
                asked = ast.unparse(keyword.value)
                if lookup == "isnull":
                    return (value == "None") != (asked == "True")
                return value != asked if not lookup else True
        node = node.func.value
    return False


def collected_then_deleted(view: FunctionView, call: ast.Call) -> str:
    """The call runs in a loop over a list collected from the rows of a query (`for u in users.all():
    info.append(...)`), and the function deletes those rows (`users.delete()`) before it: a repeat's query
    selects none, so the list is empty."""
    loops = [a for a in view.ancestors(call) if isinstance(a, (ast.For, ast.AsyncFor)) and isinstance(a.iter, ast.Name)]
    if not loops:
        return ""
    deletes = {c.func.value.id: c for _, c in before(view, call) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)
               and c.func.attr in {"delete", "adelete"} and isinstance(c.func.value, ast.Name)}
    if not deletes:
        return ""
    for loop in loops:
        appends = [c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr == "append"
                   and isinstance(c.func.value, ast.Name) and c.func.value.id == loop.iter.id]
        sources = {_rows_iterated(view, append) for append in appends}
        if appends and len(sources) == 1 and next(iter(sources)) in deletes:
            rows = next(iter(sources))
            query = getattr(view.binding_before(rows, deletes[rows]), "value", None)
            if isinstance(query, ast.Call) and _project_query_methods(query) == [] and isinstance(query.func, ast.Attribute) and query.func.attr in {"filter", "exclude", "all"}:
                return (f"it runs for what `{loop.iter.id}` collected from the rows of `{rows}` (line {query.lineno}), which the "
                        f"function deletes first (line {deletes[rows].lineno}): a repeat selects none")
    return ""


def _rows_iterated(view: FunctionView, node: ast.AST) -> str:
    """`users` of the loop `for u in users.all():` (or `in users`) around the node, "" when there is none."""
    loop = next((a for a in view.ancestors(node) if isinstance(a, (ast.For, ast.AsyncFor))), None)
    source = loop.iter if loop is not None else None
    if isinstance(source, ast.Call) and isinstance(source.func, ast.Attribute) and source.func.attr in {"all", "iterator"}:
        source = source.func.value
    return source.id if isinstance(source, ast.Name) else ""
