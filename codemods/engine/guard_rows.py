"""Why a call that makes rows makes none on a repeat: a lookup of the same model decides whether it runs, the
same rows are deleted first (delete-then-insert), or it makes only what a query did not find (a difference, a
skip of what was found, a `__isnull=True` selection). Asked by `engine/guards.py`."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Callable

from .guard_checks import always_run, earlier_statements
from .names import dotted
from .source import one_line
from .view import EXITS, FunctionView

if TYPE_CHECKING:
    from .project import FunctionKey

# What each call of a function passes for a parameter, with the caller's view (`Graph.arguments_for`).
PassedIn = Callable[["FunctionKey", str], "list[tuple[FunctionView, ast.expr]] | None"]

QUERIES = frozenset({"get", "filter", "exists", "first", "last", "count", "aget", "aexists", "afirst", "alast", "acount", "values_list"})
READ_ROWS = QUERIES | {"all", "values", "in_bulk", "select_related", "prefetch_related", "only", "order_by"}
COMPREHENSION_TYPES = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def rows_already_there(view: FunctionView, call: ast.Call, model: str, passed: PassedIn | None = None,
                       fresh: frozenset[str] = frozenset()) -> str:
    """Why a call that makes `model` rows makes none on a repeat (see RowReading.rows_already_there)."""
    return RowReading(view, passed, fresh).rows_already_there(call, model)


def made_for_the_missing(view: FunctionView, call: ast.Call, passed: PassedIn | None = None, fresh: frozenset[str] = frozenset()) -> str:
    """Why a call runs for nothing a first run did (see RowReading.made_for_the_missing)."""
    return RowReading(view, passed, fresh).made_for_the_missing(call)


class RowReading:
    """One function's lookups of rows, read with what its callers pass: a parameter every call of which is
    handed rows a query read (`_sync_template(path, installed_templates)` with `installed_templates =
    Template.objects.all()`) counts as read from the database. A lookup keyed on a name in `fresh` (a row this
    very run created: `filter(board=board)` after `board = Board.objects.create(...)`) finds nothing a first run
    made, so it guards nothing."""

    def __init__(self, view: FunctionView, passed: PassedIn | None = None, fresh: frozenset[str] = frozenset()):
        self.view = view
        self.passed = passed
        self.fresh = fresh

    def _on_fresh(self, node: ast.AST) -> bool:
        return bool(self.fresh) and any(isinstance(n, ast.Name) and n.id in self.fresh for n in ast.walk(node))

    def rows_already_there(self, call: ast.Call, model: str) -> str:
        """Why a call that makes `model` rows makes none on a repeat: a lookup of that model decides whether it
        runs, or the same rows are deleted before it."""
        if not model:
            return ""
        diffed = self._made_from_a_difference(call, model)
        if diffed:
            return diffed
        chain = [call, *self.view.ancestors(call)]
        for child, ancestor in zip(chain, chain[1:]):
            if isinstance(ancestor, ast.If) and _decided_by(ancestor.test, model, ast.And) and not self._on_fresh(ancestor.test):
                return f"it runs only after `{one_line(self.view.segment(ancestor.test), 80)}` (line {ancestor.lineno}) looks for the row"
            if isinstance(ancestor, ast.ExceptHandler) and "DoesNotExist" in self.view.segment(ancestor.type or ancestor):
                attempt = self.view.parents.get(ancestor)
                if isinstance(attempt, ast.Try) and any(_queries(s, model) and not self._on_fresh(s) for s in attempt.body):
                    return f"it runs only when the lookup at line {attempt.lineno} finds no row"
            for earlier in earlier_statements(ancestor, child):
                if _exits_when_found(earlier, model) and not self._on_fresh(earlier):
                    return f"the lookup at line {earlier.lineno} skips it when the row is there"
                deleted = self._deletes(earlier, model)
                if deleted:
                    return f"it replaces the rows: `{one_line(deleted, 70)}` (line {earlier.lineno}) deletes them first"
        return ""


    def _made_from_a_difference(self, call: ast.Call, model: str) -> str:
        """The rows made are only those a query did not find: the call sits under `if key not in existing` (or
        `if row is None` for `row = existing.get(key)`), or what it is given was built as `wanted - existing` or
        `[x for x in wanted if x not in existing]` (there or in a name bound to it), with `existing` read from
        the database in the function (a diff-based sync)."""
        chain = [call, *self.view.ancestors(call)]
        for child, ancestor in zip(chain, chain[1:]):
            if isinstance(ancestor, ast.If) and (self._not_in_queried(ancestor.test, ancestor) or self._found_missing(ancestor, child, model)):
                return f"it makes only what `{one_line(self.view.segment(ancestor.test), 60)}` (line {ancestor.lineno}) finds missing"
        for argument in [*call.args, *(k.value for k in call.keywords)]:
            found = self._difference_in(argument, call)
            if found is None:
                names = {n.id for n in ast.walk(argument) if isinstance(n, ast.Name)}
                bound = [self.view.binding_before(name, call) for name in names]
                found = next((f for b in bound if getattr(b, "value", None) is not None for f in [self._difference_in(b.value, b)] if f), None)
            if found is not None:
                return f"it makes only `{one_line(self.view.segment(found), 60)}` (line {found.lineno}), what a query did not find"
            kept = self._collected_past_a_skip(argument, model)
            if kept:
                return f"it makes only the items {kept}"
        return ""


    def made_for_the_missing(self, call: ast.Call) -> str:
        """Why a call runs for nothing a first run did: it sits in a loop over a list that holds only the items
        missing among a model's rows a query read (`to_add.append(p)` under `if p.key not in enabled_keys`), and
        each turn of the loop makes that model's row, so a repeat finds them and the list is empty."""
        for loop in (a for a in self.view.ancestors(call) if isinstance(a, (ast.For, ast.AsyncFor)) and isinstance(a.iter, ast.Name)):
            for model, made in self._models_made_each_turn(loop):
                kept = self._collected_past_a_skip(loop.iter, model)
                if kept:
                    return (f"it runs in the loop over `{loop.iter.id}` (line {loop.lineno}), which holds only the items {kept}, "
                            f"and each turn makes that {model} row (line {made.lineno}): a repeat finds them")
        return ""


    def _models_made_each_turn(self, loop: ast.For | ast.AsyncFor):
        """(model, the call) for each `Model.objects.create(...)` a turn of the loop always runs."""
        for statement in always_run(loop.body):
            for node in ast.walk(statement):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"create", "acreate"}
                        and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "objects"):
                    model = (dotted(node.func.value.value) or "").rsplit(".", 1)[-1]
                    if model[:1].isupper():
                        yield model, node


    def _collected_past_a_skip(self, argument: ast.AST, model: str, depth: int = 0) -> str:
        """How a list the call is given keeps out what a query found ("" when it may not): every item is added
        (`rows.append(row)`, or another such list added with `rows += more`) in a loop past a skip of what was
        found (`if key in existing: continue`), or where a look-up in what was found failed (`try:
        existing.pop(key) except KeyError: rows.append(new)`, `if existing.get(key) is None:`, the `else` of `if key
        in existing:`)."""
        if not isinstance(argument, ast.Name) or depth > 2:
            return ""
        adds = [c for c in self.view.calls() if isinstance(c.func, ast.Attribute) and c.func.attr in {"append", "extend", "add"}
                and isinstance(c.func.value, ast.Name) and c.func.value.id == argument.id]
        joined = [n for n in self.view.nodes if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add)
                  and isinstance(n.target, ast.Name) and n.target.id == argument.id]
        if not adds and not joined:
            return ""
        reasons = [self._kept_out(add, model) for add in adds] + [self._collected_past_a_skip(more.value, model, depth + 1) for more in joined]
        return reasons[0] if all(reasons) else ""


    def _kept_out(self, add: ast.Call, model: str) -> str:
        chain = [add, *self.view.ancestors(add)]
        for child, ancestor in zip(chain, chain[1:]):
            if isinstance(ancestor, ast.If) and self._found_missing(ancestor, child, model):
                return f"`{one_line(self.view.segment(ancestor.test), 60)}` (line {ancestor.lineno}) finds missing among the {model} rows a query read"
            looked_up = self._failed_lookup(ancestor, model) if isinstance(ancestor, ast.ExceptHandler) else None
            if looked_up is not None:
                return (f"`{one_line(self.view.segment(looked_up), 60)}` (line {looked_up.lineno}) does not find among rows a query "
                        f"read (except {self.view.segment(ancestor.type)})")
            skip = next((s for s in earlier_statements(ancestor, child) if self._skips_what_was_found(s)), None)
            if skip is not None:
                return f"the loop keeps past `{one_line(self.view.segment(skip.test), 60)}` (line {skip.lineno}), which skips what a query found"
            if isinstance(ancestor, (ast.For, ast.AsyncFor, ast.While)):
                return ""
        return ""


    def _failed_lookup(self, handler: ast.ExceptHandler, model: str) -> ast.AST | None:
        """The look-up of `except KeyError:` after a try that looks a key up (`existing[key]`, `existing.pop(key)`)
        in `model` rows read from the database; None when the handler is not one."""
        attempt = self.view.parents.get(handler)
        caught = {n.id for n in ast.walk(handler.type) if isinstance(n, ast.Name)} if handler.type is not None else set()
        if not isinstance(attempt, ast.Try) or not caught & LOOKUP_ERRORS:
            return None
        for node in (n for statement in attempt.body for n in ast.walk(statement)):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                looked_in = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"pop", "index"} and node.args:
                looked_in = node.func.value
            else:
                continue
            if self._queried(looked_in, attempt, model=model):
                return node
        return None


    def _skips_what_was_found(self, statement: ast.stmt) -> bool:
        """`if key in existing: continue` with `existing` read from the database."""
        return (
            isinstance(statement, ast.If) and bool(statement.body) and isinstance(statement.body[-1], (ast.Continue, ast.Return))
            and any(isinstance(n, ast.Compare) and any(isinstance(op, ast.In) for op in n.ops) and self._queried(n.comparators[-1], statement)
                    for n in ast.walk(statement.test))
        )


    def _difference_in(self, value: ast.AST, at: ast.AST) -> ast.AST | None:
        """`wanted - existing` or a comprehension's `if x not in existing`, with `existing` queried."""
        for node in ast.walk(value):
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and self._queried(node.right, at):
                return node
            if isinstance(node, COMPREHENSION_TYPES) and any(self._not_in_queried(test, at) for g in node.generators for test in g.ifs):
                return node
            if isinstance(node, COMPREHENSION_TYPES) and any(_selects_the_missing(g.iter) for g in node.generators):
                return node
        return None


    def _not_in_queried(self, test: ast.AST, at: ast.AST) -> bool:
        return any(
            isinstance(node, ast.Compare) and any(isinstance(op, ast.NotIn) for op in node.ops) and self._queried(node.comparators[-1], at)
            for node in ast.walk(test)
        )


    def _found_missing(self, branch: ast.If, child: ast.AST, model: str) -> bool:
        """`child` runs only for a key not among the `model` rows a query read: in the body of `if row is None` /
        `if not row` for `row = existing.get(key)`, `row = next((r for r in rows if ...), None)` or `row =
        query.first()`, in the body of `if key not in existing`, or in the `else` of `if key in existing`."""
        test = branch.test
        if child in branch.orelse:
            return isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.In) and self._queried(test.comparators[0], branch, model=model)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn):
            return child in branch.body and self._queried(test.comparators[0], branch, model=model)
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            tested = test.operand
        elif isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is) and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
            tested = test.left
        else:
            return False
        return isinstance(tested, ast.Name) and child in branch.body and self.found_among_queried(tested.id, branch, model)

    def found_among_queried(self, name: str, at: ast.AST, model: str) -> bool:
        """`name` holds a `model` row looked up in rows a query read, or None: `existing.get(key)`, `next((r for r
        in rows if ...), None)`, `query.first()`."""
        binding = self.view.binding_before(name, at)
        value = getattr(binding, "value", None)
        if not isinstance(value, ast.Call):
            return False
        if isinstance(value.func, ast.Attribute) and value.func.attr in {"get", "first", "last"}:
            return self._queried(value if value.func.attr != "get" else value.func.value, binding, model=model)
        if isinstance(value.func, ast.Name) and value.func.id == "next" and value.args and isinstance(value.args[0], ast.GeneratorExp):
            return any(self._queried(g.iter, binding, model=model) for g in value.args[0].generators)
        return False


    def _queried(self, node: ast.AST, at: ast.AST, depth: int = 0, model: str | None = None) -> bool:
        """Whether a value is read from the database here: a query in it, or a name bound to one before `at`;
        with `model`, a query that names that model (`Section.objects.filter(...)`)."""
        for part in ast.walk(node):
            if isinstance(part, ast.Call) and isinstance(part.func, ast.Attribute) and part.func.attr in READ_ROWS:
                if (model is None or _mentions(part.func.value, model)) and not self._on_fresh(part):
                    return True
            if isinstance(part, ast.Name) and depth < 3:
                binding = self.view.binding_before(part.id, at)
                value = getattr(binding, "value", None) or getattr(binding, "iter", None)
                if value is not None and self._queried(value, binding, depth + 1, model):
                    return True
                if binding is None and self._passed_queried(part.id, model):
                    return True
        return False

    def _passed_queried(self, parameter: str, model: str | None) -> bool:
        """Every call of the function hands this parameter rows a query read (`list(Category.objects.all())`),
        read in each caller as here, but not through the caller's own callers."""
        if self.passed is None or parameter not in self.view.parameters():
            return False
        given = self.passed(self.view.key, parameter)
        return bool(given) and all(RowReading(caller)._queried(value, value, 1, model) for caller, value in given)


    def _deletes(self, statement: ast.stmt, model: str) -> str:
        """The text of a `<model>....delete()` call in the statement, "" when there is none."""
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"delete", "adelete"} and _mentions(node.func.value, model):
                chosen = [c for c in ast.walk(node.func.value) if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute)]
                if any(c.func.attr == "exclude" or any(k.arg in BY_OWN_KEY for k in c.keywords) for c in chosen):
                    continue  # deletes the rows left out, or some rows by their own key: not the ones made next
                return one_line(self.view.segment(node))
        return ""


def _mentions(node: ast.AST, model: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == model or isinstance(n, ast.Attribute) and n.attr == model for n in ast.walk(node))


def _queries(node: ast.AST, model: str) -> bool:
    """`Video.objects.filter(...).exists()` and the like, on `model`; or `hasattr(ingredient, "image")`, which
    looks up the row a one-to-one relation of that name holds."""
    return any(
        isinstance(n, ast.Call) and (
            (isinstance(n.func, ast.Attribute) and n.func.attr in QUERIES and _mentions(n.func.value, model))
            or (isinstance(n.func, ast.Name) and n.func.id == "hasattr" and len(n.args) == 2
                and isinstance(n.args[1], ast.Constant) and n.args[1].value == model.lower())
        )
        for n in ast.walk(node)
    )


LOOKUP_ERRORS = frozenset({"KeyError", "LookupError", "IndexError"})


def _selects_the_missing(node: ast.AST) -> bool:
    """A query for rows that have none yet: `Translation.objects.filter(memory_entries__isnull=True)`."""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "filter" and any(
            k.arg and k.arg.endswith("__isnull") and isinstance(k.value, ast.Constant) and k.value.value is True for k in n.keywords
        )
        for n in ast.walk(node)
    )


def _decided_by(test: ast.AST, model: str, combined: type) -> bool:
    """Whether the lookup alone decides the condition: `if Video.objects.filter(...).exists()`, `if not ...`, or
    joined by `combined` (`or` for an early exit: found is enough to leave; `and` around the call: missing is
    needed to run it). `if not trophy.is_repeatable and Trophy.objects.filter(...).exists(): return` exits only
    for some rows, and guards nothing for the others."""
    if isinstance(test, ast.BoolOp):
        return isinstance(test.op, combined) and any(_decided_by(value, model, combined) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return not isinstance(test.operand, ast.BoolOp) and _queries(test.operand, model)
    return _queries(test, model)


def _exits_when_found(statement: ast.stmt, model: str) -> bool:
    """`if Video.objects.filter(...).exists(): continue` or `try: Video.objects.get(...); continue`."""
    if isinstance(statement, ast.If):
        return bool(statement.body) and isinstance(statement.body[-1], EXITS) and _decided_by(statement.test, model, ast.Or)
    if isinstance(statement, ast.Try):
        return bool(statement.body) and isinstance(statement.body[-1], EXITS) and any(_queries(s, model) for s in statement.body)
    return False


BY_OWN_KEY = frozenset({"pk", "id", "pk__in", "id__in"})


