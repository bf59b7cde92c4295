"""Guards kept on a row a redelivery meets again: a branch taken on the row's stored value that a method of
the row leaves (`elif job.status == PENDING: job.retry()`), a save of only the fields the function clears,
and whether a row a project getter returns (`ViewHandler().get_view(id)`) is one a query read. A mixin of
`guards.Guards`."""

from __future__ import annotations

import ast

from .guard_checks import fixed_value, on_the_way, stored
from .guard_rows import READ_ROWS
from .names import ONE_ROW, dotted
from .project import FunctionKey
from .source import one_line
from .values import RUN_TIME
from .view import FunctionView


class RowStateGuards:
    """What `Guards` asks about a row's own state; it provides `project`, `reached` and `_same_object`."""

    def _branch_left_by_a_method(self, task: FunctionKey, view: FunctionView, call: ast.Call) -> str:
        """The call sits in a branch taken on a stored value of a row (`elif job.status == PENDING:`) and, on the
        way, a method of that row sets the value and saves it (`job.retry()`, whose body does `self.status =
        RUNNING; self.save()`), or a function handed the row does (`refresh_token(account)` setting
        `account.expiration = now() + lifetime` past an `expiration < now()` test): a repeat meets the row with
        the new value and does not take the branch."""
        chain = [call, *view.ancestors(call)]
        for child, branch in zip(chain, chain[1:]):
            if not isinstance(branch, ast.If) or child not in branch.body:
                continue
            if any(isinstance(n, ast.BoolOp) and isinstance(n.op, ast.Or) for n in ast.walk(branch.test)):
                continue  # one condition left is not the branch left
            read = {view.segment(n) for n in ast.walk(branch.test) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
            after_test = (branch.test.end_lineno or branch.lineno, branch.test.end_col_offset or 0)
            statements = [s for s in [*on_the_way(view, call), view.statement_of(call)] if (s.lineno, s.col_offset) > after_test]
            later_time = bool(RUN_TIME.search(view.segment(branch.test)))
            for method_call in (n for s in statements for n in ast.walk(s) if isinstance(n, ast.Call)):
                for owner, inside in self._rows_handed_to(view, method_call, read):
                    fields = {r.split(".", 1)[1] for r in read if r.startswith(f"{owner.id}.")}
                    for target in self.project.graph.targets(view, method_call):
                        field, line = self._set_and_saved(target, inside, fields, later_time)
                        if field and self._same_object(view, owner, self.reached(task)):
                            what = field if inside == "self" else f"{owner.id}.{field}"
                            return (f"it runs only when `{one_line(view.segment(branch.test), 60)}` (line {branch.lineno}), and "
                                    f"{one_line(view.segment(method_call.func), 50)}() sets {what} and saves it "
                                    f"({target.qualname}, line {line}): a repeat does not take this branch again")
        return ""

    def _rows_handed_to(self, view: FunctionView, call: ast.Call, read: set[str]):
        """(the row, its name inside the callee) for a row the test reads that the call acts on: its receiver
        (`job.retry()`: `self`) or a positional argument (`manager.refresh(account)`: the parameter's name)."""
        owner = call.func.value if isinstance(call.func, ast.Attribute) else None
        if isinstance(owner, ast.Name) and any(r.startswith(f"{owner.id}.") for r in read):
            yield owner, "self"
        for index, argument in enumerate(call.args):
            if isinstance(argument, ast.Name) and any(r.startswith(f"{argument.id}.") for r in read):
                for target in self.project.graph.targets(view, call):
                    callee = self.project.view(target)
                    names = callee.parameters() if callee is not None else []
                    if index < len(names):
                        yield argument, names[index]

    def _only_what_it_clears(self, view: FunctionView, call: ast.Call) -> str:
        """The call runs only when a list is not empty (`if fields_to_save: workflow.save(update_fields=...)`),
        and the list gets an item only in a branch that reads a stored value and clears it (`if
        workflow.simulate_until_node: workflow.simulate_until_node = None; fields_to_save.append(...)`): a repeat
        finds the values cleared and the list empty."""
        branch = next((a for a in view.ancestors(call) if isinstance(a, ast.If)), None)
        listed = branch.test if branch is not None else None
        if isinstance(listed, ast.Call) and dotted(listed.func) == "len" and listed.args:
            listed = listed.args[0]
        if not isinstance(listed, ast.Name):
            return ""
        adds = [c for c in view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr in {"append", "add", "extend"}
                and isinstance(c.func.value, ast.Name) and c.func.value.id == listed.id]
        cleared = [self._cleared_where_added(view, add) for add in adds]
        if not adds or not all(cleared):
            return ""
        fields = " or ".join(dict.fromkeys(cleared))
        return (f"it runs only when `{listed.id}` (line {branch.lineno}) has items, added only where {fields} is set and then "
                "cleared and saved: a repeat finds them cleared")

    @staticmethod
    def _cleared_where_added(view: FunctionView, add: ast.Call) -> str:
        """`o.f` when the add sits in `if o.f:` whose branch clears `o.f` (None or False): a repeat that meets the row
        again finds it cleared, and a row a repeat makes anew has it unset."""
        branch = next((a for a in view.ancestors(add) if isinstance(a, ast.If)), None)
        if branch is None or not isinstance(branch.test, ast.Attribute) or not isinstance(branch.test.value, ast.Name):
            return ""
        chain = view.segment(branch.test)
        for statement in branch.body:
            if (isinstance(statement, ast.Assign) and len(statement.targets) == 1 and view.segment(statement.targets[0]) == chain
                    and isinstance(statement.value, ast.Constant) and statement.value.value in (None, False)):
                return f"`{chain}`"
        return ""

    def _set_and_saved(self, function: FunctionKey, row: str, fields: set[str], later_time: bool) -> tuple[str, int]:
        """(field, line) of `<row>.<field> = <a named value>` that the function then saves, for one of `fields`;
        with `later_time`, a time from now on counts too (`timezone.now() + timedelta(...)`)."""
        body = self.project.view(function)
        for node in body.nodes if body is not None else ():
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
                target = node.targets[0]
                settled = fixed_value(body, node.value) or (later_time and bool(RUN_TIME.search(body.segment(node.value))))
                if (isinstance(target.value, ast.Name) and target.value.id == row and target.attr in fields
                        and settled and stored(body, f"{row}.{target.attr}", node)):
                    return target.attr, node.lineno
        return "", 0

    def _read_by_a_getter(self, view: FunctionView, value: ast.AST) -> bool:
        """`view = ViewHandler().get_view(view_id)`: a row from a project function each return of which is a
        row a query read (`return queryset.select_related(...).get(pk=...)`, or a name bound to one): a row a
        redelivery reads again, not one the run builds."""
        if isinstance(value, ast.Name):
            value = getattr(view.binding_before(value.id, view.node.body[-1]), "value", None)
        targets = self.project.graph.targets(view, value) if isinstance(value, ast.Call) else []
        return bool(targets) and all(self._returns_a_read_row(target) for target in targets)

    def _returns_a_read_row(self, key: FunctionKey) -> bool:
        getter = self.project.view(key)
        returns = [n for n in getter.walk_scope(getter.node) if isinstance(n, ast.Return)] if getter is not None else []
        if not returns:
            return False
        for returned in returns:
            value = returned.value
            if isinstance(value, ast.Name):
                value = getattr(getter.binding_before(value.id, returned), "value", None)
            if not _one_row_of_a_query(value):
                return False
        return True


def _one_row_of_a_query(value: ast.AST | None) -> bool:
    """`qs.select_related("table").get(pk=i)`, `Model.objects.filter(...).first()`: a chain of query methods
    (one at least before the last, so that a dict's `.get(key)` is not one) that ends in one row."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ONE_ROW):
        return False
    inner = value.func.value
    return (isinstance(inner, ast.Attribute) and inner.attr == "objects") or (
        isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr in READ_ROWS)
