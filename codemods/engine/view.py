"""One function as rules read it: its `ast`, parsed once per run, with the questions every rule asks of
it answered in one place (parents, blocks, scopes, bindings, the summary's effect of each call,
suppression comments, source text and columns). Rules get views from `Project.view`; they never parse."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator

from . import facts
from .names import call_reference, dotted, local_types, row_types
from .source import SourceText
from .walk import child_nodes

if TYPE_CHECKING:
    from .project import FunctionKey

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def is_atomic_expression(node: ast.AST) -> bool:
    """`transaction.atomic`, `atomic()`, `transaction.atomic(using=...)`, `db.transaction.atomic()`."""
    if isinstance(node, ast.Call):
        node = node.func
    return (dotted(node) or "").rsplit(".", 1)[-1] == "atomic"


def store_names(target: ast.AST) -> set[str]:
    """Names an assignment target binds: `a`, `a, (b, *c)`; not `a.attr` or `a[0]`, which change `a`."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(store_names(e) for e in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return store_names(target.value)
    return set()


def names_in(node: ast.AST) -> set[str]:
    """Every `ast.Name` under the node."""
    found, pending = set(), [node]
    while pending:
        current = pending.pop()
        if current.__class__ is ast.Name:
            found.add(current.id)
        else:
            pending += child_nodes(current)
    return found


def _located(node: ast.AST) -> ast.AST:
    """A node with a position for one that has none (a comprehension clause, a `with` item, an argument list)."""
    if hasattr(node, "lineno"):
        return node
    return next((n for n in ast.walk(node) if hasattr(n, "lineno")), node)


def position(node: ast.AST) -> tuple[int, int]:
    node = _located(node)
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def end_position(node: ast.AST) -> tuple[int, int]:
    node = _located(node)
    return getattr(node, "end_lineno", None) or getattr(node, "lineno", 0), getattr(node, "end_col_offset", None) or 0


def binding_targets(node: ast.AST) -> list[ast.AST]:
    """What a statement or expression binds, as targets (names, tuples, attributes)."""
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        return [node.target] if node.value is not None or isinstance(node, ast.AugAssign) else []
    if isinstance(node, ast.NamedExpr):
        return [node.target]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [ast.Name(node.name, ast.Store())]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [ast.Name((a.asname or a.name).split(".")[0], ast.Store()) for a in node.names]
    if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
        return [ast.Name(node.name, ast.Store())]
    return []


def assigned_value(node: ast.AST) -> ast.AST | None:
    """The value a binding statement gives its targets (the iterable for a loop, the context for `with`)."""
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
        return node.value
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return node.iter
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return node.items[0].context_expr if node.items else None
    return None


class FunctionView:
    """A function's node with its parents, statement blocks and nested scopes. Positions are the module's
    (the function may have been parsed from its own lines)."""

    def __init__(self, key: FunctionKey, function: facts.Function, node: ast.FunctionDef | ast.AsyncFunctionDef,
                 source: SourceText, imports: dict[str, str]):
        self.key = key
        self.function = function
        self.node = node
        self.source = source
        self.imports = imports
        self.parents: dict[ast.AST, ast.AST] = {}
        self.blocks: dict[ast.AST, tuple[ast.AST, list, int]] = {}  # statement -> (owner, its block, index)
        pending = [node]
        while pending:
            owner = pending.pop()
            for child in child_nodes(owner):
                self.parents[child] = owner
                pending.append(child)
            for name in _BLOCK_FIELDS:
                block = getattr(owner, name, None)
                if block.__class__ is list:
                    for index, statement in enumerate(block):
                        self.blocks[statement] = (owner, block, index)
        self._scope_nodes: dict[ast.AST, list[ast.AST]] = {}
        self._effects = {(e.line, e.column): e for e in function.effects}
        self._local_types: dict[str, str] | None = None
        self._row_types: dict[str, str] | None = None
        self._own_calls: list[ast.Call] | None = None
        self._bindings: dict[ast.AST, dict[str, list[ast.AST]]] = {}

    # --- the nodes ------------------------------------------------------------------------------

    def scope_nodes(self, scope: ast.AST | None = None) -> list[ast.AST]:
        """The nodes that run in `scope` (the function by default): nested functions, lambdas and classes
        are listed but not entered. In source order."""
        scope = scope or self.node
        found = self._scope_nodes.get(scope)
        if found is None:
            found, pending = [], list(scope.body if isinstance(scope.body, list) else [scope.body])
            while pending:
                current = pending.pop()
                found.append(current)
                if not isinstance(current, SCOPES):
                    pending += child_nodes(current)
            found.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
            self._scope_nodes[scope] = found
        return found

    @property
    def nodes(self) -> list[ast.AST]:
        return self.scope_nodes()

    def calls(self, scope: ast.AST | None = None) -> list[ast.Call]:
        """The calls of a scope (the function's own by default: kept, most questions ask for them)."""
        if scope is None or scope is self.node:
            if self._own_calls is None:
                self._own_calls = [n for n in self.scope_nodes(scope) if n.__class__ is ast.Call]
            return self._own_calls
        return [n for n in self.scope_nodes(scope) if n.__class__ is ast.Call]

    def nested_scopes(self, scope: ast.AST | None = None) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        return [n for n in self.scope_nodes(scope) if isinstance(n, FUNCTIONS)]

    def walk_scope(self, node: ast.AST) -> Iterator[ast.AST]:
        """`node` and what runs with it: nested functions, lambdas and classes are not entered."""
        pending = [node]
        while pending:
            current = pending.pop()
            yield current
            if current is node or not isinstance(current, SCOPES):
                pending += child_nodes(current)

    # --- where a node is ------------------------------------------------------------------------

    def ancestors(self, node: ast.AST) -> list[ast.AST]:
        """From the node's parent up to the function, nearest first."""
        chain = []
        while node is not self.node and node in self.parents:
            node = self.parents[node]
            chain.append(node)
        return chain

    def branches_apart(self, first: ast.AST, second: ast.AST) -> ast.If | None:
        """The `if` that keeps one run from reaching both: one node in its body and the other in its else,
        or one in a branch that ends in return/raise and the other after the `if`."""
        first_chain, second_chain = [first, *self.ancestors(first)], [second, *self.ancestors(second)]
        for child, owner in zip(first_chain, first_chain[1:]):
            if owner in second_chain:
                if not isinstance(owner, ast.If):
                    break
                other = second_chain[second_chain.index(owner) - 1]
                sides = {"body" if c in owner.body else "orelse" if c in owner.orelse else "test" for c in (child, other)}
                return owner if sides == {"body", "orelse"} else None
        for inside, outside in ((first_chain, second_chain), (second_chain, first_chain)):
            for child, owner in zip(inside, inside[1:]):
                branch = owner.body if isinstance(owner, ast.If) and child in owner.body else None
                if branch and isinstance(branch[-1], (ast.Return, ast.Raise)) and owner in self.blocks:
                    _, block, index = self.blocks[owner]
                    if any(statement in outside for statement in block[index + 1 :]):
                        return owner
        return None

    def scope_of(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef:
        return next((a for a in self.ancestors(node) if isinstance(a, FUNCTIONS)), self.node)

    def statement_of(self, node: ast.AST) -> ast.stmt:
        for candidate in [node, *self.ancestors(node)]:
            if isinstance(candidate, ast.stmt):
                return candidate
        return self.node

    def block_of(self, statement: ast.AST) -> tuple[ast.AST, list, int] | None:
        return self.blocks.get(statement)

    def index_in(self, node: ast.AST, block: list) -> int | None:
        """The index in `block` of the statement holding `node`, if one does."""
        for candidate in [node, *self.ancestors(node)]:
            where = self.blocks.get(candidate)
            if where is not None and where[1] is block:
                return where[2]
        return None

    def loop_around(self, node: ast.AST, scope: ast.AST | None = None) -> ast.AST | None:
        """The innermost loop or comprehension that repeats `node` within its scope."""
        for ancestor in self.ancestors(node):
            if ancestor is (scope or self.scope_of(node)):
                return None
            if isinstance(ancestor, (*LOOPS, *COMPREHENSIONS)):
                return ancestor
        return None

    def atomic_around(self, node: ast.AST) -> ast.AST | None:
        """The `with transaction.atomic():` the node runs in, within this function."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, (ast.With, ast.AsyncWith)) and any(is_atomic_expression(i.context_expr) for i in ancestor.items):
                return ancestor
        return None

    # --- calls ----------------------------------------------------------------------------------

    def effect(self, call: ast.Call) -> facts.Effect | None:
        """The summary's side effect of this call (classified once, when the file was summarized)."""
        return self._effects.get((call.lineno, self.column(call)))

    @property
    def local_types(self) -> dict[str, str]:
        if self._local_types is None:
            self._local_types = local_types(self.walk_scope(self.node))
        return self._local_types

    @property
    def row_types(self) -> dict[str, str]:
        """{name: model} of names bound to a row a query read (see `names.row_types`)."""
        if self._row_types is None:
            nodes = list(self.walk_scope(self.node))
            assigned = [(n.targets, n.value) for n in nodes if n.__class__ is ast.Assign]
            self._row_types = row_types(assigned, [n for n in nodes if n.__class__ in (ast.For, ast.AsyncFor)])
        return self._row_types

    def reference(self, call: ast.Call) -> str | None:
        """How the index names the call's target (see `names.call_reference`)."""
        return call_reference(call.func, self.local_types, self.row_types)

    def callee_text(self, call: ast.Call) -> str:
        return " ".join(self.segment(call.func).split())

    # --- names ----------------------------------------------------------------------------------

    def parameters(self, scope: ast.AST | None = None, with_self: bool = False) -> list[str]:
        args = (scope or self.node).args
        names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        if not with_self and names and names[0] in {"self", "cls"} and "." in self.key.qualname:
            names = names[1:]
        return names

    def bindings(self, name: str, scope: ast.AST | None = None) -> list[ast.AST]:
        """The nodes of `scope` that bind `name`, in source order (indexed once per scope)."""
        scope = scope or self.node
        if scope not in self._bindings:
            index: dict[str, list[ast.AST]] = {}
            for node in self.scope_nodes(scope):
                for bound in {name for target in binding_targets(node) for name in store_names(target)}:
                    index.setdefault(bound, []).append(node)
            self._bindings[scope] = index
        return list(self._bindings[scope].get(name, ()))

    def binding_before(self, name: str, at: ast.AST, scope: ast.AST | None = None) -> ast.AST | None:
        """The last binding of `name` in `scope` that starts before `at`; None for a parameter or a name
        from outside."""
        found = None
        for node in self.bindings(name, scope or self.scope_of(at)):
            if position(node) < position(at):
                found = node
        return found

    def dict_written(self, name: str, at: ast.AST) -> list[tuple[str, ast.expr]]:
        """(key, value) of `name = {"board": board, ...}` bound before `at`, for its string keys; [] when the
        name holds anything else."""
        literal = getattr(self.binding_before(name, at), "value", None)
        if not isinstance(literal, ast.Dict):
            return []
        return [(k.value, v) for k, v in zip(literal.keys, literal.values) if isinstance(k, ast.Constant) and isinstance(k.value, str)]

    def names_bound_before(self, at: tuple[int, int], scope: ast.AST | None = None) -> set[str]:
        scope = scope or self.node
        names = set(self.parameters(scope, with_self=True))
        for node in self.scope_nodes(scope):
            if end_position(node) <= at:
                for target in binding_targets(node):
                    names |= store_names(target)
        return names

    # --- text -----------------------------------------------------------------------------------

    def segment(self, node: ast.AST | None) -> str:
        return self.source.segment(node) if node is not None else ""

    def column(self, node: ast.AST) -> int:
        """The node's column as libcst counts it (characters, where `ast` counts UTF-8 bytes)."""
        return self.source.char_column(node.lineno, node.col_offset)

    def starts_line(self, statement: ast.stmt) -> bool:
        """Nothing but indentation before the statement on its line (no `a = 1; b()`)."""
        text = self.source.lines[statement.lineno - 1] if 0 < statement.lineno <= len(self.source.lines) else ""
        return not text.encode("utf-8")[: statement.col_offset].strip()

    def suppressed(self, rule: str, node: ast.AST | None = None) -> bool:
        """`# idem-fix: ignore[rule]` on the statement holding `node` (or alone on the line above it), or on
        the `def` line of the function or of a nested function around it."""
        if rule in self.function.suppressed or "*" in self.function.suppressed:
            return True
        if node is None:
            return False
        statement = self.statement_of(node)
        if self.source.suppressed_lines(statement.lineno, node.end_lineno or node.lineno, rule):
            return True
        return any(self.source.suppressed_lines(a.lineno, a.lineno, rule) for a in self.ancestors(node) if isinstance(a, FUNCTIONS))
