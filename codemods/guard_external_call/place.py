"""Where `if obj.attr: return` goes, whether `obj` must be refreshed first, and what the guard returns:
right after `obj` is bound and before the function's first side effect, at the top of a loop over
objects, returning what the function returns after saving when that needs no call."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

from ..engine.levels import Refusal
from ..engine.names import dotted
from ..engine.project import Project
from ..engine.view import COMPREHENSIONS, EXITS, FunctionView, end_position, position, store_names
from .flow import HARMLESS, Flow, Results, Source, Store, nested_effects

_BUILTINS = frozenset(dir(builtins))


@dataclass(frozen=True)
class Plan:
    line: int  # the external call: the finding's position
    column: int
    anchor_line: int  # the statement the guard goes before
    anchor_column: int
    obj: str  # "reservation", "self.reservation"
    attr: str  # "booking_ref"
    refresh: str  # "" | "sync" | "async": refresh_from_db(fields=[attr]) before the guard
    exit: str  # "return", "return reservation.booking_ref", "continue"


@dataclass(frozen=True)
class Placement:
    plan: Plan
    where: str  # "right after reservation is bound (line 9)"
    notes: tuple[str, ...]
    binding: ast.AST | None  # what bound obj's root in this function (None: a parameter, self, or outer)


class Placer:
    def __init__(self, project: Project, results: Results, view: FunctionView, is_task: bool):
        self.project, self.results, self.view, self.is_task = project, results, view, is_task
        self.graph = project.graph

    def place(self, source: Source, flow: Flow, store: Store) -> Placement | Refusal:
        """Where the guard goes, or why none can."""
        view, scope = self.view, source.scope
        statement = view.statement_of(source.node)
        obj, attr = store.obj, store.attr
        root = obj.split(".")[0]
        binding = None if root in {"self", "cls"} else view.binding_before(root, statement, scope)
        if binding is None and root not in view.parameters(scope, with_self=True) and root not in {"self", "cls"}:
            later = view.bindings(root, scope)
            if later:
                return Refusal(f"{root} is bound at line {later[0].lineno}, after the call; load it before the call so a guard can read {obj}.{attr}")
        if binding is not None and self.created(binding):
            return Refusal(
                f"{root} is created at line {binding.lineno} in the same run, so a guard on it never sees the first run's "
                f"value; make that create idempotent first (rule create-to-get-or-create), then apply this rule again"
            )
        if isinstance(binding, ast.ExceptHandler):
            return Refusal(f"{root} is bound by the except clause at line {binding.lineno}")
        loop = view.loop_around(source.node, scope)
        if isinstance(loop, COMPREHENSIONS):
            return Refusal("the call is inside a comprehension")
        exit_statement = None
        if loop is not None:
            if binding is loop:
                anchor, where = loop.body[0], f"at the top of the loop over {root} (line {loop.lineno})"
            elif binding is not None and position(loop) < position(binding) and end_position(binding) <= end_position(loop):
                anchor, where = self.after(binding, statement), f"right after {root} is bound (line {binding.lineno})"
            else:
                return Refusal(
                    f"the call runs once per iteration of the loop at line {loop.lineno} while its result is saved on one "
                    f"object, and a guard would skip the remaining iterations after a partial run. Save a reference per "
                    f"item, or pass a per-item idempotency key"
                )
            exit_statement = "continue"
        elif binding is None:
            anchor, where = _first_statement(scope), f"at the top of {scope.name}()"
        elif isinstance(binding, (ast.For, ast.AsyncFor)):
            return Refusal(f"{root} is the variable of the loop at line {binding.lineno}, which has ended by the call")
        else:
            anchor, where = self.after(binding, statement), f"right after {root} is bound (line {binding.lineno})"
        if isinstance(anchor, Refusal):
            return anchor
        if anchor is None:
            return Refusal("the function body is written on its `def` line")
        if not view.starts_line(anchor):
            return Refusal(f"line {anchor.lineno} holds several statements")
        notes: list[str] = []
        if exit_statement is None:
            exit_statement, contract = self.exit(flow, store, scope, anchor)
            if exit_statement is None:
                return Refusal(contract)
            notes.append(contract)
        refresh = ""
        if binding is None or "." in obj or not self.fresh(binding, scope):
            refresh = "async" if isinstance(scope, ast.AsyncFunctionDef) else "sync"
            notes.insert(0, f"refreshes {obj}.{attr} from the database first ({self._stale(obj, root, binding, scope)}), so the guard reads the saved value")
        earlier = self.first_effect(scope, position(scope.body[0]), position(anchor))
        if earlier:
            notes.append(f"an earlier side effect, {earlier}, comes before the guard and still repeats")
        later = self.first_effect(scope, end_position(store.save), (10**9, 0), skip=store.save)
        if later:
            notes.append(f"if a first run stops after saving, the redelivery also skips {later}")
        plan = Plan(
            source.node.lineno, view.column(source.node), anchor.lineno, view.column(anchor), obj, attr, refresh, exit_statement,
        )
        return Placement(plan, where, tuple(n for n in notes if n), binding)

    @staticmethod
    def _stale(obj: str, root: str, binding: ast.AST | None, scope: ast.AST) -> str:
        if binding is None and root in {"self", "cls"}:
            return f"{obj} is set outside {scope.name}()"
        if binding is None:
            return f"{obj} comes from the function's arguments" if "." not in obj else f"{obj} comes from outside {scope.name}()"
        return f"{obj} is not loaded from the database in this function"

    def fresh(self, binding: ast.AST, scope: ast.AST) -> bool:
        """Bound by a query or a call in this run (not an alias of an argument or of another object's attribute)."""
        if isinstance(binding, (ast.For, ast.AsyncFor)):
            value = binding.iter
            if isinstance(value, ast.Name):
                inner = self.view.binding_before(value.id, binding, scope)
                return inner is not None and self.fresh(inner, scope)
        elif isinstance(binding, (ast.With, ast.AsyncWith)):
            value = binding.items[0].context_expr
        else:
            value = getattr(binding, "value", None)
        return value is not None and any(isinstance(n, ast.Call) for n in ast.walk(value))

    def created(self, binding: ast.AST) -> bool:
        """Bound to a row this run creates: `Model.objects.create(...)`, or a new `Model(...)` it saves."""
        value = getattr(binding, "value", None)
        if value is None:
            return False
        if isinstance(value, ast.Call) and self.project.model_of(self.view.key.module, self.view.segment(value.func)) is not None:
            return True
        return any(isinstance(n, ast.Call) and self.graph.kind(self.view, n) == "db_create" for n in ast.walk(value))

    def after(self, binding: ast.AST, statement: ast.stmt) -> ast.stmt | Refusal:
        """Where the guard goes for an object bound by `binding`: the statement right after the one holding the
        binding, in the deepest block that also holds the call; or the first statement of the block that the
        binding statement opens around the call (`with ... as obj:`, `if (obj := ...):`)."""
        view = self.view
        holder = view.statement_of(binding)
        call_path = [statement, *view.ancestors(statement)]
        if holder in call_path:  # the binding statement contains the call
            inner = call_path[call_path.index(holder) - 1]
            where = view.block_of(inner)
            if where is not None and where[0] is holder:
                return where[1][0]
            return Refusal(f"{_bound_name(binding)} is bound in the same statement as the call (line {statement.lineno})")
        for node in [holder, *view.ancestors(holder)]:
            where = view.block_of(node)
            if where is None:
                continue
            _, block, index = where
            shared = [s for s in block if s in call_path]
            if shared:
                if block.index(shared[0]) <= index:
                    return Refusal(f"{_bound_name(binding)} is bound after the call (line {binding.lineno})")
                return block[index + 1]
        return Refusal(f"cannot find a place between the binding of {_bound_name(binding)} (line {binding.lineno}) and the call")

    def first_effect(self, scope: ast.AST, start: tuple[int, int], stop: tuple[int, int], skip: ast.AST | None = None) -> str:
        """The first side-effecting call of `scope` between two positions, as "reservation.save() (line 9)"."""
        view = self.view
        for node in sorted(view.calls(scope), key=position):
            if node is skip or not (start <= position(node) < stop):
                continue
            kind = self.graph.kind(view, node)
            acting = kind and kind not in HARMLESS and (kind != "external" or (self.results.is_external(view, node) and self.results.acts(node)))
            nested = isinstance(node.func, ast.Name) and nested_effects(self.graph, view, scope, node.func.id)
            called = any(r.kind not in HARMLESS for t in self.graph.targets(view, node) for r in self.graph.reached(t))
            if acting or nested or called:
                return f"{view.callee_text(node)}() (line {node.lineno})"
        return ""

    # --- what the guard returns -----------------------------------------------------------------

    def exit(self, flow: Flow, store: Store, scope: ast.AST, anchor: ast.stmt) -> tuple[str | None, str]:
        """The guard's exit statement and what it says about the function's contract (or why none fits)."""
        returns = [n for n in self.view.scope_nodes(scope) if isinstance(n, ast.Return)]
        stored = f"{store.obj}.{store.attr}"
        if not any(r.value is not None and not _is_none(r.value) for r in returns):
            return "return", ""
        success = min((r for r in returns if position(r) > position(store.save)), key=position, default=None)
        if success is None or success.value is None or _is_none(success.value):
            return "return", "the guard returns None, as the function does after saving"
        original = " ".join(self.view.segment(success.value).split())
        rebuilt = self.rebuild(success.value, flow, store, scope, anchor)
        if rebuilt is not None:
            if rebuilt == self.view.segment(success.value):
                return f"return {rebuilt}", f"the guard returns `{rebuilt}`, as the function does after saving"
            return f"return {rebuilt}", (
                f"the guard returns `{rebuilt}` where the function returns `{original}` after saving (the stored "
                f"reference in place of the call's result)"
            )
        if scope is self.view.node and self.is_task:
            return f"return {stored}", f"the guard returns {stored} (the stored reference) in place of `{original}`, which needs the call"
        return None, (
            f"{scope.name}() returns `{original}` after saving, which a guard cannot rebuild without calling again; "
            f"add `if {stored}: return <what its callers expect>` by hand"
        )

    def rebuild(self, value: ast.AST, flow: Flow, store: Store, scope: ast.AST, anchor: ast.stmt) -> str | None:
        """The success path's return value from saved state only: the call's result becomes the stored reference."""
        view = self.view
        stored = f"{store.obj}.{store.attr}"
        direct = {store.value.id} if isinstance(store.value, ast.Name) else set()
        target = ast.dump(store.value)
        replaced: list[ast.AST] = []
        stack = [value]
        while stack:
            node = stack.pop()
            if (isinstance(node, ast.Name) and node.id in direct) or ast.dump(node) == target:
                replaced.append(node)
                continue
            if isinstance(node, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda, *COMPREHENSIONS)):
                return None
            stack.extend(ast.iter_child_nodes(node))
        skip = {id(n) for r in replaced for n in ast.walk(r)}
        available = self._names_before(scope, anchor) | self.project.module_level_names(view.key.module) | _BUILTINS
        available.add(store.obj.split(".")[0])
        for node in ast.walk(value):
            if id(node) not in skip and isinstance(node, ast.Name) and (node.id not in available or node.id in flow.tainted):
                return None
        text = view.segment(value)
        if not replaced:
            return text
        if value.lineno != value.end_lineno:
            return None
        encoded = view.source.lines[value.lineno - 1].encode("utf-8")
        pieces, start = [], value.col_offset
        for node in sorted(replaced, key=position):
            pieces += [encoded[start:node.col_offset].decode("utf-8"), stored]
            start = node.end_col_offset
        pieces.append(encoded[start:value.end_col_offset].decode("utf-8"))
        return "".join(pieces)

    def _names_before(self, scope: ast.AST, anchor: ast.stmt) -> set[str]:
        """Names the guard can read: bound before it in its function, or in the functions around it."""
        names = self.view.names_bound_before(position(anchor), scope)
        owner = scope
        while owner is not self.view.node:
            owner = self.view.scope_of(owner)
            names |= set(self.view.parameters(owner, with_self=True))
            names |= {n.id for n in self.view.scope_nodes(owner) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        return names


def existing_guard(view: FunctionView, call: ast.Call, obj: str, attr: str) -> str:
    """`if reservation.booking_ref: return` (or the call inside `if not ...booking_ref:`) already there."""
    path = [call, *view.ancestors(call)]
    for child, parent in zip(path, path[1:]):
        if isinstance(parent, (ast.If, ast.While)) and _mentions(parent.test, obj, attr):
            polarity = _polarity(parent.test, obj, attr)
            inside = child in parent.body
            if polarity == 0 or (inside and polarity < 0) or (not inside and polarity > 0):
                return f"already guarded by `if {view.segment(parent.test)}` (line {parent.lineno})"
        where = view.block_of(child)
        if where is not None and where[0] is parent:
            for earlier in where[1][: where[2]]:
                if (
                    isinstance(earlier, ast.If) and earlier.body and isinstance(earlier.body[-1], EXITS)
                    and _mentions(earlier.test, obj, attr) and _polarity(earlier.test, obj, attr) >= 0
                ):
                    return f"already guarded by `if {view.segment(earlier.test)}` (line {earlier.lineno})"
    return ""


def _mentions(test: ast.AST, obj: str, attr: str) -> bool:
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute) and node.attr == attr and dotted(node.value) == obj:
            return True
        if isinstance(node, ast.keyword) and node.arg and (node.arg == attr or node.arg.startswith(attr + "__")):
            return True
        if isinstance(node, ast.Constant) and node.value == attr:
            return True
    return False


def _polarity(test: ast.AST, obj: str, attr: str) -> int:
    """+1: the test is true once obj.attr is set; -1: true while it is unset; 0: cannot tell."""
    if isinstance(test, ast.Attribute) and test.attr == attr and dotted(test.value) == obj:
        return 1
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return -_polarity(test.operand, obj, attr)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "bool" and len(test.args) == 1:
        return _polarity(test.args[0], obj, attr)
    if isinstance(test, ast.BoolOp):
        signs = {_polarity(v, obj, attr) for v in test.values if _mentions(v, obj, attr)}
        return signs.pop() if len(signs) == 1 else 0
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and _polarity(test.left, obj, attr) == 1:
        empty = isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value in (None, "", 0, False)
        if empty and isinstance(test.ops[0], (ast.Is, ast.Eq)):
            return -1
        if empty and isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
            return 1
    return 0


def _first_statement(scope: ast.AST) -> ast.stmt | None:
    body = scope.body
    docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
    first = body[1] if docstring and len(body) > 1 else body[0]
    return None if first.lineno == scope.lineno else first


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _bound_name(binding: ast.AST) -> str:
    targets = binding.targets if isinstance(binding, ast.Assign) else [getattr(binding, "target", None)]
    names = set().union(*(store_names(t) for t in targets if t is not None))
    return ", ".join(sorted(names)) or "the object"

