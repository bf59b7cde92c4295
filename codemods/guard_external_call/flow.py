"""External calls that act on another system, and where their results go: onto `obj.attr` (saved or
not), into another call, back to the caller. A project helper that returns such a result is a source
too, wherever it is called."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..engine import effects
from ..engine.names import chain_names, dotted, words
from ..engine.project import FunctionKey, Project
from ..engine.view import FunctionView, end_position, position, store_names

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
SINKS = frozenset({"db_create", "db_upsert", "db_update", "external", "send"})


@dataclass
class Source:
    node: ast.Call
    scope: ast.AST  # the function (or nested function) it is made in
    name: str  # "client.create_booking()", as shown in messages
    via: str = ""  # for a helper: what it returns, "the result of requests.post() (line 12)"


@dataclass
class Store:
    obj: str  # "reservation", "self.reservation"
    attr: str
    node: ast.stmt  # the assignment
    value: ast.AST
    save: ast.Call | None = None
    unsaved_reason: str = ""


@dataclass
class Flow:
    stores: list[Store] = field(default_factory=list)
    tainted: set[str] = field(default_factory=set)
    returned: bool = False
    into: str = ""  # another call the result goes into: "Booking.objects.create() (line 9)"


class Results:
    """Which project functions return an external call's result (memoised for the run), and where
    results go within one function's view."""

    def __init__(self, project: Project):
        self.project = project
        self.graph = project.graph
        self._returns: dict[FunctionKey, str] = {}
        self._flows: dict[tuple[int, int], list[tuple[Source, Flow]]] = {}
        self._scope_returns: dict[tuple[int, int], str] = {}
        self.calling_external = self.graph.reaching("external", self._calls_external)

    def _calls_external(self, key: FunctionKey, function) -> bool:
        if any(e.kind == "external" for e in function.effects):
            return True
        if not self.graph.clients:
            return False
        imports = self.project.module(key.module).imports
        return any(self.graph.configured_chain(list(reversed(r.removeprefix("new:").split("."))), imports) for r in function.calls)

    # --- which calls are sources ----------------------------------------------------------------

    def is_external(self, view: FunctionView, call: ast.Call) -> bool:
        chain = chain_names(call.func)
        if not chain or chain[0][:1].isupper():  # PartnerAPI(...), requests.Session(): building, not acting
            return False
        if self.graph.kind(view, call) != "external":
            return False
        root = chain[-1]
        if root in view.imports and view.imports[root].split(".")[0] in effects.EXTERNAL_LIBRARIES:
            return True
        if self.graph.names_a_configured_client(view, call):
            return True
        # A project client: some object along the way is named like one (`partner_client`, `self.api`,
        # `get_ovh_client()`); `self.api_url.format()` or `settings.PARTNER_API_KEY.strip()` are not.
        return any(words(name)[-1:] and words(name)[-1] in effects.CLIENT_WORDS for name in chain[1:])

    @staticmethod
    def acts(call: ast.Call) -> bool:
        """Whether an external call may change something over there (not a read, a setup or a response)."""
        name = chain_names(call.func)[0]
        first = words(name)
        if not first or first[0] in READ_WORDS or name.startswith("_"):
            return False  # a read, building an object, or the client's own private helper
        if name == "request":
            method = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "method"), None)
            if isinstance(method, ast.Constant) and isinstance(method.value, str) and method.value.upper() in READ_HTTP_METHODS:
                return False
        return True

    def sources(self, view: FunctionView, scope: ast.AST) -> list[Source]:
        """External calls that act, made in `scope`, and calls of helpers that return such a call's result."""
        found = []
        for call in view.calls(scope):
            if self.is_external(view, call):
                if not self.acts(call):
                    continue
                inner = [c for c in ast.walk(call.func) if isinstance(c, ast.Call) and c is not call]
                if any(self.is_external(view, c) and self.acts(c) for c in inner):
                    continue  # `client.post(...).execute()`: part of the inner call
                found.append(Source(call, scope, _display(view, call)))
                continue
            via = self.helper_result(view, call, scope)
            if via:
                found.append(Source(call, scope, _display(view, call), via))
        return found

    def helper_result(self, view: FunctionView, call: ast.Call, scope: ast.AST) -> str:
        """What a call of a nested or project helper returns from an external call, if it does."""
        if isinstance(call.func, ast.Name):
            nested = _nested(view, scope, call.func.id)
            if nested is not None:
                self.flows(view, nested)
                return self._scope_returns.get((id(view), id(nested)), "")
        for target in self.graph.targets(view, call):
            via = self.returns_external(target)
            if via:
                return via
        return ""

    def returns_external(self, key: FunctionKey) -> str:
        """For a project helper that returns what an external call gave it: "the result of requests.post() at path:12"."""
        if key not in self.calling_external:
            return ""
        if key not in self._returns:
            self._returns[key] = ""  # a cycle
            view = self.project.view(key)
            if view is not None:
                for scope in scopes(view):
                    self.flows(view, scope)
                self._returns[key] = self._scope_returns.get((id(view), id(view.node)), "")
        return self._returns[key]

    # --- where a result goes --------------------------------------------------------------------

    def flows(self, view: FunctionView, scope: ast.AST) -> list[tuple[Source, Flow]]:
        """Each source of `scope` with where its result goes; notes whether the scope returns one."""
        memo = (id(view), id(scope))
        if memo not in self._flows:
            self._flows[memo] = []  # a nested function that calls itself
            found = [(source, self.trace(view, source)) for source in self.sources(view, scope)]
            self._flows[memo] = found
            for source, flow in found:
                if flow.returned and not any(s.save is not None for s in flow.stores) and memo not in self._scope_returns:
                    where = f"{self.project.display(view.key.module)}:{source.node.lineno}"
                    self._scope_returns[memo] = source.via or f"the result of {source.name} at {where}"
        return self._flows[memo]

    def trace(self, view: FunctionView, source: Source) -> Flow:
        flow = Flow()
        kinds = (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.Return, ast.Call)
        nodes = sorted(
            (n for n in view.scope_nodes(source.scope) if isinstance(n, kinds)),
            key=lambda n: (*position(n), 0 if isinstance(n, ast.NamedExpr) else 1),
        )
        start = position(source.node)

        def carries(value: ast.AST | None) -> bool:
            return value is not None and any(
                n is source.node or (isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in flow.tainted)
                for n in ast.walk(value)
            )

        for node in nodes:
            if end_position(node) <= start:
                continue
            if isinstance(node, ast.Return):
                flow.returned |= carries(node.value)
            elif isinstance(node, ast.Call):
                if node is not source.node and not flow.into and any(carries(a) for a in [*node.args, *(k.value for k in node.keywords)]):
                    if self.graph.kind(view, node) in SINKS:
                        flow.into = f"{_display(view, node)} (line {node.lineno})"
            else:
                value = node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.value
                if carries(value):
                    self._bind(flow, node, value)
        for store in flow.stores:
            _find_save(view, source.scope, store)
        return flow

    @staticmethod
    def _bind(flow: Flow, node: ast.AST, value: ast.AST) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and dotted(target.value):
                if dotted(target.value).split(".")[0] not in flow.tainted:
                    flow.stores.append(Store(dotted(target.value), target.attr, node, value))
            elif not isinstance(target, ast.Subscript):
                flow.tainted |= store_names(target)


def _find_save(view: FunctionView, scope: ast.AST, store: Store) -> None:
    after = end_position(store.node)
    for node in sorted(view.calls(scope), key=position):
        func = node.func
        if position(node) < after or not isinstance(func, ast.Attribute) or func.attr not in {"save", "asave"}:
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


def scopes(view: FunctionView) -> list[ast.AST]:
    """The function and its nested functions, innermost first (a helper is known before its caller)."""
    order, pending = [], [view.node]
    while pending:
        scope = pending.pop()
        order.append(scope)
        pending += view.nested_scopes(scope)
    return list(reversed(order))


def _nested(view: FunctionView, scope: ast.AST, name: str) -> ast.AST | None:
    """The nested function `name` visible from `scope`: its own, or an enclosing function's."""
    owner = scope
    while True:
        for nested in view.nested_scopes(owner):
            if nested.name == name:
                return nested
        if owner is view.node:
            return None
        owner = view.scope_of(owner)


def _display(view: FunctionView, call: ast.Call) -> str:
    return view.callee_text(call) + "()"


def nested_effects(graph, view: FunctionView, scope: ast.AST, name: str) -> bool:
    nested = _nested(view, scope, name)
    return nested is not None and any(graph.kind(view, c) not in {None, *HARMLESS} for c in view.calls(nested))
