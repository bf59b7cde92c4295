"""ORM creates in a function's summary, and the guards that already make them safe."""

from __future__ import annotations

import ast
import re

from . import facts
from .names import dotted
from .walk import walk

QUERY_METHODS = frozenset({"exists", "filter", "count", "first", "last", "get", "exclude"})
LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
EARLY_EXITS = (ast.Return, ast.Raise, ast.Continue)
_UPPER_CONSTANT = re.compile(r"^_*[A-Z][A-Z0-9_]*$")


INTEGRITY_GUARD = "inside try/except IntegrityError"  # the database refuses the duplicate: no lookup decides


class CreateFacts:
    """Part of a function's analysis: its create sites, each with its kwargs and guard."""

    def _create_site(self, call: ast.Call) -> facts.CreateSite | None:
        """A `<receiver>.<manager>.create(...)` call (the caller checked `.create` / `.acreate`)."""
        func = call.func
        manager_node = func.value
        if (
            isinstance(manager_node, ast.Call)
            and isinstance(manager_node.func, ast.Attribute)
            and manager_node.func.attr in {"using", "db_manager"}
        ):
            manager_node = manager_node.func.value
        if not isinstance(manager_node, ast.Attribute):
            return None
        receiver = dotted(manager_node.value)
        if not receiver:
            return None
        expression: ast.AST = call
        parent = self.parents.get(call)
        if isinstance(parent, ast.Await):
            expression, parent = parent, self.parents.get(parent)
        if isinstance(parent, ast.Expr):
            context = "bare"
        elif (
            isinstance(parent, ast.Assign)
            and parent.value is expression
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], (ast.Name, ast.Attribute, ast.Subscript))
        ):
            context = "assign"
        else:
            context = "index"
        ancestors = self._ancestors(call)
        loop_names = self._loop_names(ancestors)
        return facts.CreateSite(
            line=call.lineno,
            column=self.module.char_column(call.lineno, call.col_offset),
            end_line=call.end_lineno or call.lineno,
            method=func.attr,
            receiver=receiver,
            manager=manager_node.attr,
            receiver_type=self.local_types.get(receiver.split(".")[0], ""),
            kwargs=[self._kwarg(k, loop_names) for k in call.keywords],
            positional=bool(call.args),
            context=context,
            in_loop=any(isinstance(a, LOOPS) for a in ancestors),
            guard=self._guard(call, ancestors),
            suppressed=self._suppressed(call, ancestors),
        )

    def _kwarg(self, keyword: ast.keyword, loop_names: set[str]) -> facts.Kwarg:
        source = self.module.segment(keyword.value)
        reason = self.volatile_reason(keyword.value)
        if reason:
            return facts.Kwarg(keyword.arg, source, "volatile", reason)
        if is_literal(keyword.value):
            return facts.Kwarg(keyword.arg, source, "literal")
        if loop_names and loop_names & names_in(keyword.value):
            return facts.Kwarg(keyword.arg, source, "loop")
        return facts.Kwarg(keyword.arg, source, "other")

    def _ancestors(self, node: ast.AST) -> list[ast.AST]:
        """From the function down to the node's parent."""
        chain = []
        while node is not self.node and node in self.parents:
            node = self.parents[node]
            chain.append(node)
        return list(reversed(chain))

    def _loop_names(self, ancestors: list[ast.AST]) -> set[str]:
        """Names that change from one iteration to the next: loop targets and what is computed from them."""
        names: set[str] = set()
        for ancestor in ancestors:
            if isinstance(ancestor, (ast.For, ast.AsyncFor)):
                names |= names_in(ancestor.target)
            elif isinstance(ancestor, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                for generator in ancestor.generators:
                    names |= names_in(generator.target)
        if names:
            loops = [a for a in ancestors if isinstance(a, (ast.For, ast.AsyncFor, ast.While))]
            for loop in loops:
                for child in walk(loop):
                    if isinstance(child, ast.Assign) and names & names_in(child.value):
                        for target in child.targets:
                            names |= names_in(target)
        return names

    def _statement_of(self, node: ast.AST, ancestors: list[ast.AST]) -> ast.stmt:
        for ancestor in reversed([*ancestors, node]):
            if isinstance(ancestor, ast.stmt):
                return ancestor
        return self.node

    def _suppressed(self, call: ast.Call, ancestors: list[ast.AST]) -> frozenset[str]:
        suppressions = self.module.suppressions
        if not suppressions:
            return frozenset()
        statement = self._statement_of(call, ancestors)
        lines = set(range(statement.lineno, (call.end_lineno or call.lineno) + 1))
        if self.module.comment_only(statement.lineno - 1):
            lines.add(statement.lineno - 1)
        found: set[str] = set(suppressions.get(0, ()))  # ignore-file
        for line in lines:
            found |= suppressions.get(line, frozenset())
        return frozenset(found)

    # --- guards -------------------------------------------------------------------------------

    def _guard(self, node: ast.AST, ancestors: list[ast.AST]) -> str:
        path = [*ancestors, node]
        for parent, child in zip(path, path[1:]):
            if isinstance(parent, ast.Try) and child in parent.body:
                for handler in parent.handlers:
                    if handler.type is not None and "IntegrityError" in self.module.segment(handler.type):
                        return f"{INTEGRITY_GUARD} (line {parent.lineno})"
            if isinstance(parent, ast.ExceptHandler) and parent.type is not None and "DoesNotExist" in self.module.segment(parent.type):
                attempt = self.parents.get(parent)
                if isinstance(attempt, ast.Try) and any(self._queries(s) for s in attempt.body):
                    return f"created only when the lookup in the try block (line {attempt.lineno}) finds no row"
            if isinstance(parent, ast.If):
                test = parent.test
                negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
                absent = negated or _compares_to_none(test, ast.Is)
                present = not negated and not _compares_to_none(test, ast.Is)
                checked = test.operand if negated else test
                if child in parent.body and absent and self._queries(checked):
                    return f"already guarded by `if {self.module.segment(test)}` (line {parent.lineno})"
                if child in parent.orelse and present and self._queries(checked):
                    return f"already guarded by `if {self.module.segment(test)}` (line {parent.lineno})"
            for block in _blocks(parent):
                if child in block:
                    for earlier in block[: block.index(child)]:
                        reason = self._early_return_guard(earlier)
                        if reason:
                            return reason
        return self._claimed_row_guard(node, ancestors)

    def _claimed_row_guard(self, node: ast.AST, ancestors: list[ast.AST]) -> str:
        """`job = Job.objects.select_for_update().get(...)` in the transaction around the create, and that row
        deleted later in it (or a field its lookup filters on changed): a redelivery after the commit no
        longer finds the row, and one before the commit finds nothing done."""
        atomic = next((a for a in reversed(ancestors) if isinstance(a, (ast.With, ast.AsyncWith)) and any(is_atomic(i.context_expr) for i in a.items)), None)
        if atomic is None:
            function = next((a for a in reversed(ancestors) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
            if function is None or not any(is_atomic(d) for d in function.decorator_list):
                return ""
            atomic = function
        for targets, value in self.assignments:
            if len(targets) != 1 or not isinstance(targets[0], ast.Name) or not (atomic.lineno <= value.lineno <= node.lineno):
                continue
            filtered = _locked_get(value)
            if filtered is None:
                continue
            row = targets[0].id
            for later in walk(atomic):
                if getattr(later, "lineno", 0) <= (node.end_lineno or node.lineno):
                    continue
                if _deletes(later, row):
                    return f"the row `{row}` is locked with select_for_update() (line {value.lineno}) and deleted in the same transaction (line {later.lineno})"
                changed = _changed_field(later, row)
                if changed and changed in filtered:
                    return f"the row `{row}` is locked with select_for_update() (line {value.lineno}) on {changed}, which the same transaction changes (line {later.lineno})"
        return ""

    def _queries(self, test: ast.AST) -> bool:
        """Whether the test runs a query, or reads a name bound to one (`row = M.objects.filter(...).first()`)."""
        return any(
            (isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in QUERY_METHODS)
            or (c.__class__ is ast.Name and c.id in self.query_names)
            for c in walk(test)
        )

    @property
    def query_names(self) -> set[str]:
        """Local names bound to a query's result, found on first use (most functions never ask)."""
        if self._query_names is None:
            self._query_names = {
                name
                for targets, value in self.assignments
                if self._queries_directly(value)
                for target in targets
                for name in names_in(target)
            }
        return self._query_names

    def _queries_directly(self, value: ast.AST) -> bool:
        return any(isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute) and c.func.attr in QUERY_METHODS for c in walk(value))

    def _early_return_guard(self, statement: ast.stmt) -> str:
        """`if payout.paid_at: return` or `if Payout.objects.filter(...).exists(): return` before the create."""
        if not isinstance(statement, ast.If) or not statement.body or not isinstance(statement.body[-1], EARLY_EXITS):
            return ""
        test = statement.test
        reads_state = self._queries(test) or any(
            isinstance(c, ast.Attribute)
            and isinstance(c.value, ast.Name)
            and c.value.id not in self.module.imports
            and c.value.id != "settings"
            for c in walk(test)
        )
        if not reads_state:
            return ""
        return f"behind the early-return state check `if {self.module.segment(test)}` (line {statement.lineno})"



def _locked_get(value: ast.AST) -> set[str] | None:
    """The fields `<manager>.select_for_update()...get(...)` filters on; None for any other value."""
    if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "get"):
        return None
    fields: set[str] = set()
    locked = False
    call: ast.AST = value
    while isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
        locked = locked or call.func.attr == "select_for_update"
        fields |= {k.arg.split("__")[0] for k in call.keywords if k.arg}
        call = call.func.value
    return fields if locked else None


def _deletes(node: ast.AST, row: str) -> bool:
    """`row.delete()`."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "delete"
        and isinstance(node.func.value, ast.Name) and node.func.value.id == row
    )


def _changed_field(node: ast.AST, row: str) -> str:
    """The field of `row` an assignment `row.<field> = ...` changes, else ""."""
    if not isinstance(node, (ast.Assign, ast.AnnAssign)):
        return ""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return next(
        (t.attr for t in targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == row), ""
    )


def is_atomic(node: ast.AST) -> bool:
    """`transaction.atomic`, `atomic`, `transaction.atomic(using=...)`, `db.transaction.atomic()`."""
    if isinstance(node, ast.Call):
        node = node.func
    name = dotted(node) or ""
    return name.rsplit(".", 1)[-1] == "atomic"


def _compares_to_none(test: ast.AST, operator: type) -> bool:
    """`x is None` (operator ast.Is) / `x is not None` (ast.IsNot), and `==` / `!=` likewise."""
    equal = {ast.Is: ast.Eq, ast.IsNot: ast.NotEq}[operator]
    return (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (operator, equal))
        and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    )


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    blocks = []
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            blocks.append(value)
    return blocks


def is_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(is_literal(e) for e in node.elts)
    name = dotted(node)
    # References to constants: PENDING, Status.PENDING, Payout.Status.PENDING
    return bool(name) and bool(_UPPER_CONSTANT.match(name.rsplit(".", 1)[-1]))


def names_in(node: ast.AST) -> set[str]:
    return {n.id for n in walk(node) if n.__class__ is ast.Name}
