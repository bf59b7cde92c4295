"""External API call whose result is saved on `obj.attr` -> `if obj.attr: return` before the function's side effects.

A redelivered task must not call an external system a second time for something it already did: book a
smart lock twice, create a second booking at a partner. When the call's result (or a value taken from it)
is assigned to `obj.attr` and `obj.save()`d, that saved field is the proof the work was done: the guard
reads it, right after `obj` is bound and before the function's first side effect. `obj` is refreshed
first (only that field) when it comes from the function's arguments or a service object, since a stale
copy would not show the first run's reference. Calls whose result is stored nowhere are reported with
what would make them safe (store the external id, or pass an idempotency key).
"""

from __future__ import annotations

from pathlib import Path

import ast
import builtins
import io
import re
import tokenize
from dataclasses import dataclass, field

import libcst as cst

from ..engine import effects, facts
from ..engine.edits import PositionedTransformer
from ..engine.names import dotted, root_name
from ..engine.project import FunctionKey, Project
from ..engine.levels import Applicability
from ..engine.rules import Finding, Options, Rule, from_status, functions_in_scope, money_risk
from ..engine.source import SourceText, parse_function

NAME = "guard-external-call"

# First words of method names that only read, build a client or look at a response: repeating them is harmless.
READ_WORDS = frozenset(
    {
        "get", "head", "options", "list", "fetch", "retrieve", "search", "describe", "query", "find", "read",
        "download", "lookup", "check", "verify", "validate", "count", "exists", "status", "ping", "health",
        "json", "raise", "close", "iter", "paginate", "build", "client", "resource", "session", "connect",
        "login", "authenticate", "auth", "load", "is", "has", "to", "as", "parse", "render", "format",
        "strip", "split", "join", "replace", "lower", "upper", "encode", "decode", "startswith", "endswith",
        "items", "keys", "values", "copy", "log", "info", "debug", "warning", "error", "exception",
        "pipeline", "pubsub", "channel", "cursor", "makefile", "setblocking", "disconnect", "drain", "ensure",
    }
)
HARMLESS = frozenset({"db_upsert", "external_read"})  # effect kinds that repeat safely
READ_HTTP_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ID_WORDS = frozenset({"id", "ids", "ref", "reference", "number", "key", "uuid", "code", "token", "sid", "pk", "external"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef)
_OPAQUE = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LEAVES = (*_OPAQUE, ast.Name, ast.Constant)  # not descended into: opaque, or no child but a context
_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_EXITS = (ast.Return, ast.Raise, ast.Continue, ast.Break)
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


def _words(identifier: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(identifier)]


def _chain_names(node: ast.AST) -> list[str]:
    """Identifiers along a callee: `self.api.bookings.create` -> [create, bookings, api, self]."""
    names = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            names.append(node.id)
            return names
        else:
            return names


def _key(node: ast.AST) -> tuple[int, int]:
    return node.lineno, node.col_offset


def _end(node: ast.AST) -> tuple[int, int]:
    return node.end_lineno or node.lineno, node.end_col_offset or 0


def _own_nodes(scope: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[ast.AST]:
    """The nodes of a function body, not descending into nested defs, lambdas or classes, in `ast.walk`'s
    depth-first order; records each visited node's parent in `parents` on the way (one pass, not two)."""
    out = []
    for statement in scope.body:
        parents[statement] = scope
    stack = list(reversed(scope.body))
    while stack:
        node = stack.pop()
        if hasattr(node, "lineno"):
            out.append(node)
        if isinstance(node, _LEAVES):
            continue
        children = []
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        children.append(item)
                        parents[item] = node
            elif isinstance(value, ast.AST) and not isinstance(value, ast.expr_context):
                children.append(value)
                parents[value] = node
        if children:
            children.reverse()
            stack += children
    return out


def _store_names(target: ast.AST) -> set[str]:
    """Names a target binds: `a`, `a, (b, *c)`; not `a.attr` or `a[0]`, which only change `a`."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_store_names(e) for e in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _store_names(target.value)
    return set()


def _blocks(node: ast.AST):
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield name, value
    for handler in getattr(node, "handlers", None) or []:
        yield "handler", handler.body
    for case in getattr(node, "cases", None) or []:
        yield "case", case.body


# --- the source file, for segments, columns and suppression comments ----------------------------


class _Source(SourceText):
    def __init__(self, project: Project, module: str):
        # This run's text of the module (an earlier rule's output in the same apply), which the ast comes from.
        data = project.source_bytes(module)
        try:
            encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        except SyntaxError:
            encoding = "utf-8"
        super().__init__(data.decode(encoding, errors="replace"))

    def column(self, line: int, byte_offset: int) -> int:
        return self.char_column(line, byte_offset)

    def suppressed(self, first: int, last: int) -> bool:
        lines = set(range(first, last + 1))
        if self.comment_only(first - 1):
            lines.add(first - 1)
        return any(NAME in self.suppressions.get(n, ()) or "*" in self.suppressions.get(n, ()) for n in lines)


# --- one function, its nested defs, and where external results go -----------------------------


@dataclass
class _Scope:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    parent: "_Scope | None"
    nodes: list[ast.AST] = field(default_factory=list)
    children: dict[str, "_Scope"] = field(default_factory=dict)
    returns_external: str = ""  # "the result of client.post() (line 12)" when it returns one

    @property
    def params(self) -> set[str]:
        args = self.node.args
        names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        return set(names)


@dataclass
class _Call:
    node: ast.Call
    scope: _Scope
    name: str  # "client.create_booking()", as shown in messages
    via: str = ""  # for a helper: what it returns, "the result of requests.post() (line 12)"


@dataclass
class _Store:
    obj: str
    attr: str
    node: ast.stmt  # the assignment
    value: ast.AST
    save: ast.Call | None = None
    unsaved_reason: str = ""


@dataclass
class _Flow:
    stores: list[_Store] = field(default_factory=list)
    tainted: set[str] = field(default_factory=set)
    returned: bool = False
    into: str = ""  # another call the result goes into: "Booking.objects.create() (line 9)"


class _Function:
    """The analysis of one project function (or method) for this rule, on its `ast`."""

    def __init__(self, detector: "_Detector", key: FunctionKey, function: facts.Function, node: ast.AST):
        self.detector = detector
        self.project = detector.project
        self.key = key
        self.function = function
        self.module = self.project.module(key.module)
        self.source = detector.source(key.module)
        self.node = node
        self.parents: dict[ast.AST, ast.AST] = {}  # every node of the function's body and of its nested defs
        self.top = self._scope(node, None)
        body_nodes = list(self.parents)
        # Class bodies are in no scope, but their assignments name email objects too.
        body_nodes += [n for c in body_nodes if isinstance(c, ast.ClassDef) for n in ast.walk(c)]
        self.email_names = {
            t.id
            for n in body_nodes
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
            and (dotted(n.value.func) or "").rsplit(".", 1)[-1] in effects.EMAIL_CLASSES
            for t in n.targets if isinstance(t, ast.Name)
        }
        self._kinds: dict[ast.Call, str | None] = {}
        self._external_memo: dict[ast.Call, bool] = {}
        self._possible_sources: dict[int, list[tuple[ast.Call, bool]]] = {}
        self._traces: dict[ast.Call, _Flow] = {}
        self._flows: dict[int, list[tuple[_Call, _Flow]]] = {}

    def _scope(self, node, parent) -> _Scope:
        scope = _Scope(node, parent, _own_nodes(node, self.parents))
        for child in scope.nodes:
            if isinstance(child, _SCOPES):
                scope.children[child.name] = self._scope(child, scope)
        return scope

    def forget_flows(self) -> None:
        """Drop the sources `flows` found, to look again once more project helpers are known."""
        self._flows.clear()
        for scope in self.scopes():
            scope.returns_external = ""

    def scopes(self, scope: _Scope | None = None):
        """Innermost first, so a nested helper is known before its caller."""
        scope = scope or self.top
        for child in scope.children.values():
            yield from self.scopes(child)
        yield scope

    # --- which calls are external, and which of those act --------------------------------------

    def classify(self, call: ast.Call) -> str | None:
        """The effect kind of a call (memoised: sources, traces and placement all ask about the same calls)."""
        if call not in self._kinds:
            found = effects.classify(call, self.module.imports, self.source.segment, self.email_names)
            self._kinds[call] = found[0] if found else None
        return self._kinds[call]

    def is_external(self, call: ast.Call) -> bool:
        if call not in self._external_memo:
            self._external_memo[call] = self._is_external(call)
        return self._external_memo[call]

    def _is_external(self, call: ast.Call) -> bool:
        chain = _chain_names(call.func)
        if not chain or chain[0][:1].isupper():  # PartnerAPI(...), requests.Session(): building, not acting
            return False
        if self.detector.configured(chain, self.module.imports):
            return True
        if self.classify(call) != "external":
            return False
        root = root_name(call.func) or ""
        if root in self.module.imports and self.module.imports[root].split(".")[0] in effects.EXTERNAL_LIBRARIES:
            return True
        # A project client: some object along the way is named like one (`partner_client`, `self.api`,
        # `get_ovh_client()`); `self.api_url.format()` or `settings.PARTNER_API_KEY.strip()` are not.
        return any(_words(name)[-1:] and _words(name)[-1] in effects.CLIENT_WORDS for name in chain[1:])

    def acts(self, call: ast.Call) -> bool:
        """Whether an external call may change something over there (not a read, a setup or a response)."""
        name = _chain_names(call.func)[0]
        words = _words(name)
        if not words or words[0] in READ_WORDS or name.startswith("_"):
            return False  # a read, building an object, or the client's own private helper
        if name == "request":
            method = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "method"), None)
            if isinstance(method, ast.Constant) and isinstance(method.value, str) and method.value.upper() in READ_HTTP_METHODS:
                return False
        return True

    def sources(self, scope: _Scope) -> list[_Call]:
        """External calls made in `scope`, and calls of helpers that return an external result."""
        found = []
        for node, external in self.possible_sources(scope):
            if external:
                found.append(_Call(node, scope, self.display(node)))
                continue
            via = self.helper_result(node, scope)
            if via:
                found.append(_Call(node, scope, self.display(node), via))
        return found

    def possible_sources(self, scope: _Scope) -> list[tuple[ast.Call, bool]]:
        """The calls of `scope` that may be sources, each with whether it is an acting external call (else it
        is one only if it calls a helper that returns an external result). Found once: unlike the helpers, this
        does not change as more project helpers are known."""
        if id(scope) not in self._possible_sources:
            found = []
            for node in scope.nodes:
                if not isinstance(node, ast.Call):
                    continue
                if not self.is_external(node):
                    found.append((node, False))
                    continue
                if not self.acts(node):
                    continue
                inner = [c for c in ast.walk(node.func) if isinstance(c, ast.Call) and c is not node]
                if any(self.is_external(c) and self.acts(c) for c in inner):
                    continue  # `client.post(...).execute()`: part of the inner call
                found.append((node, True))
            self._possible_sources[id(scope)] = found
        return self._possible_sources[id(scope)]

    def helper_result(self, call: ast.Call, scope: _Scope) -> str:
        """What a call of a nested or project helper returns from an external call, if it does."""
        if isinstance(call.func, ast.Name):
            owner = scope
            while owner is not None:
                if call.func.id in owner.children:
                    child = owner.children[call.func.id]
                    self.flows(child)
                    return child.returns_external
                owner = owner.parent
        reference = self.reference(call.func)
        if not reference:
            return ""
        for target in self.detector.targets(self.key, [reference]):
            via = self.detector.returns_external(target)
            if via:
                return via
        return ""

    def reference(self, func: ast.AST) -> str | None:
        """The call reference as the index writes it (see summarize._call_reference)."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            callee = dotted(func.value.func)
            return f"new:{callee}.{func.attr}" if callee else None
        return dotted(func)

    def display(self, call: ast.Call) -> str:
        return " ".join(self.source.segment(call.func).split()) + "()"

    # --- where a result goes --------------------------------------------------------------------

    def flows(self, scope: _Scope) -> list[tuple[_Call, _Flow]]:
        """Each source of `scope` with where its result goes; marks the scope as returning an external result."""
        if id(scope) not in self._flows:
            self._flows[id(scope)] = []  # a nested function that calls itself
            found = [(source, self.trace(source)) for source in self.sources(scope)]
            self._flows[id(scope)] = found
            for source, flow in found:
                if flow.returned and not any(s.save is not None for s in flow.stores) and not scope.returns_external:
                    where = f"{self.project.display(self.key.module)}:{source.node.lineno}"
                    scope.returns_external = source.via or f"the result of {source.name} at {where}"
        return self._flows[id(scope)]

    def trace(self, source: _Call) -> _Flow:
        """Where the result of `source` goes; the same whatever helpers are known, so traced once per call."""
        if source.node not in self._traces:
            self._traces[source.node] = self._trace(source)
        return self._traces[source.node]

    def _trace(self, source: _Call) -> _Flow:
        flow = _Flow()
        scope = source.scope
        nodes = sorted(
            (n for n in scope.nodes if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.Return, ast.Call))),
            key=lambda n: (*_key(n), 0 if isinstance(n, ast.NamedExpr) else 1),
        )
        start = _key(source.node)

        def carries(value: ast.AST | None) -> bool:
            if value is None:
                return False
            return any(
                n is source.node or (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in flow.tainted)
                for n in ast.walk(value)
            )

        for node in nodes:
            if _end(node) <= start:
                continue
            if isinstance(node, ast.Return):
                flow.returned |= carries(node.value)
                continue
            if isinstance(node, ast.Call):
                if node is not source.node and not flow.into and any(carries(a) for a in [*node.args, *(k.value for k in node.keywords)]):
                    kind = self.classify(node)
                    if kind in {"db_create", "db_upsert", "db_update", "external", "send"}:
                        flow.into = f"{self.display(node)} (line {node.lineno})"
                continue
            if isinstance(node, (ast.For, ast.AsyncFor)):
                value, targets = node.iter, [node.target]
            elif isinstance(node, ast.Assign):
                value, targets = node.value, node.targets
            else:
                value, targets = node.value, [node.target]
            if not carries(value):
                continue
            for target in targets:
                if isinstance(target, ast.Attribute) and dotted(target.value):
                    if dotted(target.value).split(".")[0] in flow.tainted:
                        continue
                    flow.stores.append(_Store(dotted(target.value), target.attr, node, value))
                elif not isinstance(target, ast.Subscript):
                    flow.tainted |= _store_names(target)
        for store in flow.stores:
            self._find_save(scope, store)
        return flow

    def _find_save(self, scope: _Scope, store: _Store) -> None:
        after = _end(store.node)
        for node in sorted((n for n in scope.nodes if isinstance(n, ast.Call)), key=_key):
            func = node.func
            if _key(node) < after or not isinstance(func, ast.Attribute) or func.attr not in {"save", "asave"}:
                continue
            if dotted(func.value) != store.obj:
                continue
            fields = next((k.value for k in node.keywords if k.arg == "update_fields"), None)
            if isinstance(fields, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in fields.elts):
                if store.attr not in {e.value for e in fields.elts}:
                    store.unsaved_reason = f"{store.obj}.save() at line {node.lineno} leaves it out of update_fields"
                    continue
            store.save = node
            return
        if not store.unsaved_reason:
            store.unsaved_reason = f"{store.obj} is not saved after it in this function"

    # --- guards, bindings and where the new one goes --------------------------------------------

    def ancestors(self, node: ast.AST) -> list[ast.AST]:
        chain = []
        while node is not self.node and node in self.parents:
            node = self.parents[node]
            chain.append(node)
        return list(reversed(chain))

    def statement_of(self, node: ast.AST) -> ast.stmt:
        while not isinstance(node, ast.stmt) and node in self.parents:
            node = self.parents[node]
        return node

    def existing_guard(self, call: ast.Call, obj: str, attr: str) -> str:
        """`if reservation.booking_ref: return` (or the call inside `if not ...booking_ref:`) already there."""
        path = [*self.ancestors(call), call]
        for parent, child in zip(path, path[1:]):
            if isinstance(parent, (ast.If, ast.While)) and _mentions(parent.test, obj, attr):
                polarity = _polarity(parent.test, obj, attr)
                inside = child in parent.body
                if polarity == 0 or (inside and polarity < 0) or (not inside and polarity > 0):
                    return f"already guarded by `if {self.source.segment(parent.test)}` (line {parent.lineno})"
            for _, block in _blocks(parent):
                if child in block:
                    for earlier in block[: block.index(child)]:
                        if (
                            isinstance(earlier, ast.If)
                            and earlier.body
                            and isinstance(earlier.body[-1], _EXITS)
                            and _mentions(earlier.test, obj, attr)
                            and _polarity(earlier.test, obj, attr) >= 0
                        ):
                            return f"already guarded by `if {self.source.segment(earlier.test)}` (line {earlier.lineno})"
        return ""

    def binding(self, scope: _Scope, name: str, before: ast.AST):
        """The last statement of `scope` that binds `name` before `before`; None for a parameter or an outer name."""
        if name == "self" or name == "cls":
            return None
        found = None
        for node in scope.nodes:
            if _key(node) >= _key(before):
                continue
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and getattr(node, "value", None) is not None:
                targets = [node.target]
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                targets = [node.target]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
            elif isinstance(node, ast.ExceptHandler) and node.name:
                targets = [ast.Name(node.name)] if node.name == name else []
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = [ast.Name((a.asname or a.name).split(".")[0]) for a in node.names]
            if any(name in _store_names(t) for t in targets):
                if found is None or _key(node) > _key(found):
                    found = node
        return found

    def first_effect(self, scope: _Scope, start: tuple[int, int], stop: tuple[int, int], skip: ast.AST | None = None) -> str:
        """The first side-effecting call of `scope` between two positions, as "reservation.save() (line 9)"."""
        for node in sorted((n for n in scope.nodes if isinstance(n, ast.Call)), key=_key):
            if node is skip or not (start <= _key(node) < stop):
                continue
            kind = self.classify(node)
            if kind and kind not in HARMLESS and (kind != "external" or (self.is_external(node) and self.acts(node))):
                return f"{self.display(node)} (line {node.lineno})"
            if isinstance(node.func, ast.Name) and self._nested_effects(scope, node.func.id):
                return f"{self.display(node)} (line {node.lineno})"
            reference = self.reference(node.func)
            if reference and any(self.detector.has_effects(t) for t in self.detector.call_targets(self.key, reference)):
                return f"{self.display(node)} (line {node.lineno})"
        return ""

    def _nested_effects(self, scope: _Scope, name: str) -> bool:
        owner = scope
        while owner is not None:
            if name in owner.children:
                child = owner.children[name]
                return any(isinstance(n, ast.Call) and self.classify(n) not in {None, *HARMLESS} for n in child.nodes)
            owner = owner.parent
        return False

    def names_bound_before(self, scope: _Scope, position: tuple[int, int]) -> set[str]:
        names = set(scope.params)
        for node in scope.nodes:
            if _end(node) <= position and isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.NamedExpr)):
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, (ast.With,)):
                    targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
                else:
                    targets = [node.target]
                for target in targets:
                    names |= _store_names(target)
        owner = scope.parent
        while owner is not None:
            names |= owner.params | {n.id for n in owner.nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            owner = owner.parent
        return names


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


def _last(reference: str) -> str:
    """The called name of a call reference: "process" for "self.process", "new:Client.post" -> "post"."""
    return reference.rsplit(".", 1)[-1]


def _id_like(attr: str) -> bool:
    return any(w in ID_WORDS for w in _words(attr))


# --- the rule -----------------------------------------------------------------------------------


class _Detector:
    def __init__(self, project: Project, options: Options):
        self.project = project
        self.options = options
        self.clients = _configured_clients(project)
        self._sources: dict[str, _Source] = {}
        self._functions: dict[FunctionKey, _Function | None] = {}
        self._returns: dict[FunctionKey, str] = {}
        self._effects: dict[FunctionKey, bool] = {}
        self._returning: set[FunctionKey] = set()
        self._definitions: dict[str, dict[tuple[str, int], ast.AST]] = {}
        self._targets: dict[tuple[str, str, str], list[FunctionKey]] = {}
        self._helper_names: frozenset[str] | None = None
        self._helper_references: set[str] = set()  # the call references that name a helper
        # The functions that make external calls, and every call reference in the project, in one pass (the
        # project's function list is not kept: a few hundred thousand live objects make the garbage collector
        # rescan the whole index).
        self._calling_external: dict[FunctionKey, facts.Function] = {}
        self._references: set[str] = set()
        for key, function in project.all_functions():
            self._references.update(function.calls)
            if self.calls_external(key, function):
                self._calling_external[key] = function

    def source(self, module: str) -> _Source:
        if module not in self._sources:
            self._sources[module] = _Source(self.project, module)
        return self._sources[module]

    def definitions(self, module: str) -> dict[tuple[str, int], ast.AST]:
        """(name, line) -> def node, for one module's `ast` (parsed on demand, indexed once)."""
        if module not in self._definitions:
            tree = self.project.tree(module)
            found, stack = {}, list(tree.body) if tree is not None else []
            while stack:  # module level and class bodies, inside if / try / with blocks; not function bodies
                node = stack.pop()
                if isinstance(node, _SCOPES):
                    found[(node.name, node.lineno)] = node
                elif isinstance(node, (ast.ClassDef, ast.If, ast.Try, ast.With, ast.AsyncWith)) or type(node).__name__ == "TryStar":
                    for _, block in _blocks(node):
                        stack.extend(block)
            self._definitions[module] = found
        return self._definitions[module]

    def configured(self, chain: list[str], imports: dict[str, str]) -> bool:
        if not self.clients:
            return False
        for entry in self.clients:
            if "." in entry:
                if chain and chain[-1] in imports:
                    full = ".".join([imports[chain[-1]], *reversed(chain[:-1])])
                    if full == entry or full.startswith(entry + "."):
                        return True
            elif any(name == entry or entry.lower() in _words(name) for name in chain[1:] or chain):
                return True
        return False

    def function(self, key: FunctionKey) -> _Function | None:
        if key not in self._functions:
            self._functions[key] = None
            function = self.project.function(key)
            if function is not None:
                node = parse_function(self.source(key.module).lines, function, decorators=False)
                if node is None:
                    node = self.definitions(key.module).get((function.name, function.line))
                if node is not None:
                    self._functions[key] = _Function(self, key, function, node)
        return self._functions[key]

    def candidate(self, key: FunctionKey, function: facts.Function) -> bool:
        if key in self._calling_external:
            return True
        if self._helper_references.isdisjoint(function.calls):
            return False
        return any(t in self._returning for t in self.targets(key, function.calls))

    def calls_external(self, key: FunctionKey, function: facts.Function) -> bool:
        for effect in function.effects:
            if effect.kind == "external":
                return True
        if self.clients:
            imports = self.project.module(key.module).imports
            return any(self.configured(list(reversed(r.removeprefix("new:").split("."))), imports) for r in function.calls)
        return False

    def helper_names(self) -> frozenset[str]:
        """Names of the project functions that return an external call's result, directly or through such a
        function (three levels deep). Found from the functions that make external calls, each checked on its
        `ast`, then from their callers: only calls of these names are resolved, so a `--scope all` run does not
        resolve every call of every function (`self.x()` scans every subclass)."""
        if self._helper_names is not None:
            return self._helper_names
        self._helper_names = frozenset()
        # With no helper known yet, tracing a function finds only its own result: one with no `return` can
        # wait for the detection, which traces it anyway.
        frontier = [k for k, f in self._calling_external.items() if self.may_return(k, f)]
        checked = set(self._calling_external)
        for _ in range(4):
            found = set()
            for key in frontier:
                checked.add(key)
                analysis = self.function(key)
                if analysis is not None:
                    for scope in analysis.scopes():
                        analysis.flows(scope)
                    if analysis.top.returns_external:
                        found.add(key)
            self._returning |= found
            self._helper_names = frozenset(_last(k.qualname) for k in self._returning)
            for analysis in self._functions.values():
                if analysis is not None:
                    analysis.forget_flows()  # found while fewer helpers were known
            if not found:
                break
            calling_found = self.references_to({_last(k.qualname) for k in found})
            frontier = [
                k for k, f in self.project.all_functions() if not calling_found.isdisjoint(f.calls) and k not in checked
            ]
        self._returns.clear()
        self._helper_references = self.references_to(self._helper_names)
        return self._helper_names

    def may_return(self, key: FunctionKey, function: facts.Function) -> bool:
        """Whether the function's text says `return` at all (cheaper than reading its `ast`)."""
        return any("return" in line for line in self.source(key.module).lines[function.line - 1 : function.end_line])

    def forget(self, key: FunctionKey) -> None:
        """Free a function's analysis once no helper lookup can need it (it returns no external result):
        the `ast`s of a whole run, kept alive, make the garbage collector rescan the project's index."""
        if key not in self._returning:
            self._functions.pop(key, None)

    def references_to(self, names: set[str] | frozenset[str]) -> set[str]:
        """The call references in the project that name one of `names` (`self.book`, `new:Api.book` for "book"):
        looked up once per distinct reference, not once per call."""
        return {r for r in self._references if _last(r) in names}

    def targets(self, key: FunctionKey, references) -> list[FunctionKey]:
        names = self.helper_names()
        found = []
        for reference in references:
            if _last(reference) in names:
                found += self.call_targets(key, reference)
        return found

    def call_targets(self, key: FunctionKey, reference: str) -> list[FunctionKey]:
        """`project.call_targets`, once per module, owning class and reference (`self.x()` scans every subclass)."""
        owner = key.qualname.split(".")[0] if "." in key.qualname else ""
        memo = (key.module, owner, reference)
        if memo not in self._targets:
            self._targets[memo] = self.project.call_targets(key, reference)
        return self._targets[memo]

    def returns_external(self, key: FunctionKey) -> str:
        """For a project helper that returns what an external call gave it: "the result of requests.post() at path:12"."""
        if key not in self._returning:
            return ""
        if key not in self._returns:
            self._returns[key] = ""  # cycles
            analysis = self.function(key)
            if analysis is not None:
                for scope in analysis.scopes():
                    analysis.flows(scope)
                self._returns[key] = analysis.top.returns_external
        return self._returns[key]

    def has_effects(self, key: FunctionKey, depth: int = 0) -> bool:
        if key in self._effects:
            return self._effects[key]
        self._effects[key] = False
        function = self.project.function(key)
        if function is None or depth > 4:
            return False
        result = any(e.kind not in HARMLESS for e in function.effects) or any(
            self.has_effects(t, depth + 1) for r in function.calls for t in self.call_targets(key, r)
        )
        self._effects[key] = result
        return result


def _configured_clients(project: Project) -> tuple[str, ...]:
    """`external-clients = ["keyless", "acme_sdk.bookings"]` in [tool.idem-fix]: more names that reach external systems."""
    return tuple(c.strip() for c in getattr(project.config, "external_clients", None) or () if c.strip())


class GuardExternalCall(Rule):
    def detect(self, project: Project, options: Options) -> list[Finding]:
        detector = _Detector(project, options)
        detector.helper_names()  # before any analysis: building it analyses functions too
        findings = []
        task_keys = {t.key for t in project.tasks}
        for key, function, reach in functions_in_scope(project, options):
            if not detector.candidate(key, function):
                continue
            analysis = detector.function(key)
            if analysis is None:
                continue
            for finding in _Check(detector, analysis, key in task_keys).run():
                finding.task = reach.task.name if reach else ""
                findings.append(finding)
            detector.forget(key)
        return findings

    def transform(self, module: cst.Module, plans: list) -> tuple[cst.Module, list]:
        result, transformer = _Insert.run(module, plans, module)
        return result, transformer.applied


@dataclass
class _Outcome:
    source: _Call
    status: str
    message: str
    store: _Store | None = None
    plan: Plan | None = None
    risk: str = "high"


class _Check:
    """Findings for one function: a guard per stored result, a report per unstored one."""

    def __init__(self, detector: _Detector, analysis: _Function, is_task: bool):
        self.detector = detector
        self.project = detector.project
        self.a = analysis
        self.is_task = is_task
        self.source = analysis.source

    def run(self) -> list[Finding]:
        outcomes: list[_Outcome] = []
        for scope in self.a.scopes():
            for source, flow in self.a.flows(scope):
                outcome = self.check(source, flow)
                if outcome is not None:
                    outcomes.append(outcome)
        self.several_fields(outcomes)
        return [self.finding(o) for o in outcomes]

    def finding(self, outcome: _Outcome) -> Finding:
        node = outcome.source.node
        return Finding(
            NAME, self.a.key.module, self.project.display(self.a.key.module), node.lineno,
            outcome.risk if outcome.status != "ok" else "low", outcome.message, from_status(outcome.status), plan=outcome.plan,
        )

    def check(self, source: _Call, flow: _Flow) -> _Outcome | None:
        call = source.name + (f" (which returns {source.via})" if source.via else "")
        risk = "critical" if money_risk(source.name) else "high"
        if self.suppressed(source):
            return _Outcome(source, "ok", f"{source.name} left alone: suppressed by an `# idem-fix: ignore` comment")
        saved = [s for s in flow.stores if s.save is not None]
        if not saved:
            if flow.returned and (source.scope is not self.a.top or not self.is_task):
                return None  # the caller gets the result: the guard belongs where it is stored
            if not self.is_task and self.transport_helper():
                return None  # a client wrapper's own call: dedup belongs to its callers
            return _Outcome(source, "manual", self.unstored(call, flow), risk=risk)
        store = min(saved, key=lambda s: (not _id_like(s.attr), _key(s.node)))
        obj, attr = store.obj, store.attr
        if money_risk(attr):
            risk = "critical"
        guard = self.a.existing_guard(source.node, obj, attr)
        if guard:
            return _Outcome(source, "ok", f"{source.name} left alone: {guard}", store)
        placed = self.place(source, flow, store)
        if isinstance(placed, str):
            return _Outcome(
                source, "manual", f"{call} not guarded: its result is saved in {obj}.{attr}, but {placed}", store, risk=risk
            )
        plan, where, notes = placed
        message = (
            f"{call} -> added `if {obj}.{attr}: {plan.exit}` {where}: its result is stored in {obj}.{attr} and "
            f"saved at line {store.save.lineno}, so a redelivery stops before calling again"
        )
        message += "".join(f"; {note}" for note in notes if note)
        return _Outcome(source, "fix", message, store, plan, risk)

    def suppressed(self, source: _Call) -> bool:
        if NAME in self.a.function.suppressed or "*" in self.a.function.suppressed:
            return True
        statement = self.a.statement_of(source.node)
        if self.source.suppressed(statement.lineno, source.node.end_lineno or source.node.lineno):
            return True
        scope = source.scope
        while scope is not None:
            if self.source.suppressed(scope.node.lineno, scope.node.lineno):
                return True
            scope = scope.parent
        return False

    def transport_helper(self) -> bool:
        """A method of a client class, or a function of a client module (`keyless_client_wrapper.py`)."""
        owner = self.a.key.qualname.split(".")[0] if "." in self.a.key.qualname else ""
        module_last = self.a.key.module.rsplit(".", 1)[-1]
        return bool(owner and effects.names_a_client(owner)) or effects.names_a_client(module_last)

    def unstored(self, call: str, flow: _Flow) -> str:
        unsaved = next((s for s in flow.stores if s.save is None), None)
        if unsaved is not None:
            what = f"its result goes into {unsaved.obj}.{unsaved.attr} (line {unsaved.node.lineno}), but {unsaved.unsaved_reason}"
        elif flow.into:
            what = f"its result goes only into {flow.into}, not onto a saved field of an object loaded before the call"
        elif flow.returned:
            what = "its result is only returned by the task, not stored"
        else:
            what = "its result is not stored"
        return (
            f"{call} not guarded: {what}, so a redelivery calls it again. To make it safe, store the external id "
            f"it returns on a model field and save it right after the call (idem-fix then adds the guard), "
            f"or pass an idempotency key the other side dedups on, derived from the task's arguments (never uuid4())"
        )

    def several_fields(self, outcomes: list[_Outcome]) -> None:
        """Two calls saved into different fields: an early return on one would skip the other after a partial run."""
        fixes = [o for o in outcomes if o.status == "fix"]
        by_scope: dict[int, set[tuple[str, str]]] = {}
        for outcome in fixes:
            by_scope.setdefault(id(outcome.source.scope), set()).add((outcome.store.obj, outcome.store.attr))
        for outcome in fixes:
            fields = by_scope[id(outcome.source.scope)]
            if len(fields) > 1:
                others = ", ".join(sorted(f"{o}.{a}" for o, a in fields))
                outcome.status, outcome.plan = "manual", None
                outcome.message = (
                    f"{outcome.source.name} not guarded: its result is saved in {outcome.store.obj}.{outcome.store.attr}, "
                    f"but this function saves several external results ({others}), and an early return on one would skip "
                    f"the others after a partial run. Wrap each call in `if not obj.field:` by hand, or split the task"
                )

    # --- placing the guard ----------------------------------------------------------------------

    def place(self, source: _Call, flow: _Flow, store: _Store):
        """(Plan, where, notes), or why no guard can be placed."""
        a, scope = self.a, source.scope
        statement = a.statement_of(source.node)
        obj, attr = store.obj, store.attr
        root = obj.split(".")[0]
        binding = a.binding(scope, root, statement)
        if binding is None and root not in scope.params and root not in {"self", "cls"}:
            later = a.binding(scope, root, ast.Pass(lineno=10**9, col_offset=0))
            if later is not None:
                return f"{root} is bound at line {later.lineno}, after the call; load it before the call so a guard can read {obj}.{attr}"
        if binding is not None and self.created(binding):
            return (
                f"{root} is created at line {binding.lineno} in the same run, so a guard on it never sees the first run's "
                f"value; make that create idempotent first (rule create-to-get-or-create), then apply this rule again"
            )
        if isinstance(binding, ast.ExceptHandler):
            return f"{root} is bound by the except clause at line {binding.lineno}"
        own = {id(n) for n in scope.nodes}
        loops = [n for n in a.ancestors(source.node) if id(n) in own and isinstance(n, (*_LOOPS, *_COMPREHENSIONS))]
        loop = loops[-1] if loops else None
        if isinstance(loop, _COMPREHENSIONS):
            return "the call is inside a comprehension"
        if loop is not None:
            if binding is loop:
                anchor, where = loop.body[0], f"at the top of the loop over {root} (line {loop.lineno})"
            elif binding is not None and _key(loop) < _key(binding) and _end(binding) <= _end(loop):
                anchor, where = self.after(binding, statement), f"right after {root} is bound (line {binding.lineno})"
            else:
                return (
                    f"the call runs once per iteration of the loop at line {loop.lineno} while its result is saved on one "
                    f"object, and a guard would skip the remaining iterations after a partial run. Save a reference per "
                    f"item, or pass a per-item idempotency key"
                )
            exit_statement = "continue"
        elif binding is None:
            anchor, where, exit_statement = self.first_statement(scope.node), f"at the top of {scope.node.name}()", None
        elif isinstance(binding, (ast.For, ast.AsyncFor)):
            return f"{root} is the variable of the loop at line {binding.lineno}, which has ended by the call"
        else:
            anchor, where, exit_statement = self.after(binding, statement), f"right after {root} is bound (line {binding.lineno})", None
        if isinstance(anchor, str):
            return anchor
        if anchor is None:
            return "the function body is written on its `def` line"
        previous = self.previous_statement(anchor)
        if previous is not None and (previous.end_lineno or previous.lineno) >= anchor.lineno:
            return f"line {anchor.lineno} holds several statements"
        notes: list[str] = []
        if exit_statement is None:
            exit_statement, contract = self.exit(flow, store, scope, anchor)
            if exit_statement is None:
                return contract
            notes.append(contract)
        refresh = ""
        if binding is None or "." in obj or not self.fresh(binding, scope):
            refresh = "async" if isinstance(scope.node, ast.AsyncFunctionDef) else "sync"
            if binding is None and obj in scope.params:
                why = f"{obj} comes from the function's arguments"
            elif binding is None and root in {"self", "cls"}:
                why = f"{obj} is set outside {scope.node.name}()"
            elif binding is None:
                why = f"{obj} comes from outside {scope.node.name}()"
            else:
                why = f"{obj} is not loaded from the database in this function"
            notes.insert(0, f"refreshes {obj}.{attr} from the database first ({why}), so the guard reads the saved value")
        earlier = a.first_effect(scope, _key(scope.node.body[0]), _key(anchor))
        if earlier:
            notes.append(f"an earlier side effect, {earlier}, comes before the guard and still repeats")
        later = a.first_effect(scope, _end(store.save), (10**9, 0), skip=store.save)
        if later:
            notes.append(f"if a first run stops after saving, the redelivery also skips {later}")
        plan = Plan(
            source.node.lineno, self.source.column(source.node.lineno, source.node.col_offset),
            anchor.lineno, self.source.column(anchor.lineno, anchor.col_offset),
            obj, attr, refresh, exit_statement,
        )
        return plan, where, notes

    def fresh(self, binding: ast.AST, scope: _Scope) -> bool:
        """Bound by a query or a call in this run (not an alias of an argument or of another object's attribute)."""
        if isinstance(binding, (ast.For, ast.AsyncFor)):
            value = binding.iter
            if isinstance(value, ast.Name):
                inner = self.a.binding(scope, value.id, binding)
                return inner is not None and self.fresh(inner, scope)
        elif isinstance(binding, (ast.With, ast.AsyncWith)):
            value = binding.items[0].context_expr
        else:
            value = getattr(binding, "value", None)
        return value is not None and any(isinstance(n, ast.Call) for n in ast.walk(value))

    def created(self, binding: ast.AST) -> bool:
        value = getattr(binding, "value", None)
        return value is not None and any(isinstance(n, ast.Call) and self.a.classify(n) == "db_create" for n in ast.walk(value))

    def first_statement(self, scope_node: ast.AST):
        body = scope_node.body
        docstring = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)
        first = body[1] if docstring and len(body) > 1 else body[0]
        return None if first.lineno == scope_node.lineno else first

    def after(self, binding: ast.AST, statement: ast.stmt):
        """Where the guard goes for an object bound by `binding`: the statement right after the one holding the
        binding, in the deepest block that also holds the call; or the first statement of the block that the
        binding statement opens around the call (`with ... as obj:`, `if (obj := ...):`)."""
        holder = self.a.statement_of(binding)
        call_path = [*self.a.ancestors(statement), statement]
        if holder in call_path:  # the binding statement contains the call
            inner = call_path[call_path.index(holder) + 1]
            for _, block in _blocks(holder):
                if inner in block:
                    return block[0]
            return f"{_bound_name(binding)} is bound in the same statement as the call (line {statement.lineno})"
        for node in reversed([*self.a.ancestors(holder), holder]):
            parent = self.a.parents.get(node)
            if not isinstance(node, ast.stmt) or parent is None:
                continue
            for _, block in _blocks(parent):
                if node in block:
                    shared = [s for s in block if s in call_path]
                    if shared:
                        index = block.index(node)
                        if block.index(shared[0]) <= index:
                            return f"{_bound_name(binding)} is bound after the call (line {binding.lineno})"
                        return block[index + 1]
        return f"cannot find a place between the binding of {_bound_name(binding)} (line {binding.lineno}) and the call"

    def previous_statement(self, anchor: ast.stmt):
        parent = self.a.parents.get(anchor)
        for _, block in _blocks(parent):
            if anchor in block:
                index = block.index(anchor)
                return block[index - 1] if index else None
        return None

    # --- what the guard returns -----------------------------------------------------------------

    def exit(self, flow: _Flow, store: _Store, scope: _Scope, anchor: ast.stmt) -> tuple[str | None, str]:
        """The guard's exit statement and what it says about the function's contract (or why none fits)."""
        returns = [n for n in scope.nodes if isinstance(n, ast.Return)]
        stored = f"{store.obj}.{store.attr}"
        if not any(r.value is not None and not _is_none(r.value) for r in returns):
            return "return", ""
        success = min((r for r in returns if _key(r) > _key(store.save)), key=_key, default=None)
        if success is None or success.value is None or _is_none(success.value):
            return "return", "the guard returns None, as the function does after saving"
        original = " ".join(self.source.segment(success.value).split())
        rebuilt = self.rebuild(success.value, flow, store, scope, anchor)
        if rebuilt is not None:
            if rebuilt == self.source.segment(success.value):
                return f"return {rebuilt}", f"the guard returns `{rebuilt}`, as the function does after saving"
            return f"return {rebuilt}", (
                f"the guard returns `{rebuilt}` where the function returns `{original}` after saving (the stored "
                f"reference in place of the call's result)"
            )
        if scope is self.a.top and self.is_task:
            return f"return {stored}", f"the guard returns {stored} (the stored reference) in place of `{original}`, which needs the call"
        return None, (
            f"{scope.node.name}() returns `{original}` after saving, which a guard cannot rebuild without calling again; "
            f"add `if {stored}: return <what its callers expect>` by hand"
        )

    def rebuild(self, value: ast.AST, flow: _Flow, store: _Store, scope: _Scope, anchor: ast.stmt) -> str | None:
        """The success path's return value from saved state only: the call's result becomes the stored reference."""
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
            if isinstance(node, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda, *_COMPREHENSIONS)):
                return None
            stack.extend(ast.iter_child_nodes(node))
        skip = {id(n) for r in replaced for n in ast.walk(r)}
        available = self.a.names_bound_before(scope, _key(anchor)) | self.module_names() | _BUILTINS | {store.obj.split(".")[0]}
        for node in ast.walk(value):
            if id(node) in skip or not isinstance(node, ast.Name):
                continue
            if node.id not in available or node.id in flow.tainted:
                return None
        text = self.source.segment(value)
        if not replaced:
            return text
        if value.lineno != value.end_lineno:
            return None
        encoded = self.source.lines[value.lineno - 1].encode("utf-8")
        pieces, position = [], value.col_offset
        for node in sorted(replaced, key=_key):
            pieces += [encoded[position:node.col_offset].decode("utf-8"), stored]
            position = node.end_col_offset
        pieces.append(encoded[position:value.end_col_offset].decode("utf-8"))
        return "".join(pieces)

    def module_names(self) -> set[str]:
        module = self.a.module
        tree = self.project.tree(self.a.key.module)
        names = set(module.imports) | set(module.functions) | set(module.classes)
        for node in tree.body if tree is not None else ():
            for target in node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []:
                names |= _store_names(target)
        return names


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _bound_name(binding: ast.AST) -> str:
    targets = binding.targets if isinstance(binding, ast.Assign) else [getattr(binding, "target", None)]
    names = set().union(*(_store_names(t) for t in targets if t is not None))
    return ", ".join(sorted(names)) or "the object"


# --- rewriting ----------------------------------------------------------------------------------


class _Insert(PositionedTransformer):
    def __init__(self, plans: list[Plan], module: cst.Module):
        super().__init__()
        self.plans: dict[tuple[int, int], list[Plan]] = {}
        for plan in plans:
            self.plans.setdefault((plan.anchor_line, plan.anchor_column), []).append(plan)
        self.indent = module.default_indent
        self.newline = module.default_newline
        self.config = module.config_for_parsing
        self.applied: list[Plan] = []

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        body, changed = [], False
        for before, after in zip(original.body, updated.body):
            plans = self.plans.get(self.start_of(before))
            if plans:
                for code in dict.fromkeys(self.render(p) for p in plans):
                    body.extend(cst.parse_statement(s, config=self.config) for s in code)
                self.applied.extend(plans)
                changed = True
            body.append(after)
        return updated.with_changes(body=body) if changed else updated

    def render(self, plan: Plan) -> tuple[str, ...]:
        nl = self.newline
        statements = []
        if plan.refresh:
            call = "await {0}.arefresh_from_db" if plan.refresh == "async" else "{0}.refresh_from_db"
            statements.append(call.format(plan.obj) + f'(fields=["{plan.attr}"]){nl}')
        statements.append(f"if {plan.obj}.{plan.attr}:{nl}{self.indent}{plan.exit}{nl}")
        return tuple(statements)


rule = GuardExternalCall(
    name=NAME,
    summary="External API call whose result is saved on obj.attr -> `if obj.attr: return` before the function's side effects",
    applicabilities=(Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
)
