"""Calls between project functions, both ways, and the transitive questions rules ask of them: what a
call leads to (through the functions it runs, `save()` overrides and the signal handlers a write fires),
who calls a function, and whether a transaction is always open around it.

One graph per project index (`Project.graph`); every answer is memoised for the run."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from . import facts
from .names import chain_names, words
from .graph_transactions import TransactionQueries
from .project import FunctionKey
from .view import FunctionView

if TYPE_CHECKING:
    from .project import Model, Project

SAVE_SIGNALS = frozenset({"pre_save", "post_save"})
DELETE_SIGNALS = frozenset({"pre_delete", "post_delete"})
HANDLED_WRITES = {"db_create": SAVE_SIGNALS, "db_upsert": SAVE_SIGNALS, "db_save": SAVE_SIGNALS, "db_delete": DELETE_SIGNALS}
_FETCHES = frozenset({"get", "aget", "first", "last", "earliest", "latest", "get_or_create", "update_or_create", "create"})


@dataclass(frozen=True)
class Reached:
    """A side effect a call leads to, where it happens."""

    kind: str  # an effect kind (see engine/effects.py)
    key: FunctionKey  # the function that makes the call
    line: int
    call: str  # the callee as written
    via: str = ""  # how it is reached when not by a call: "post_save handler of Order"
    deferred: bool = False  # runs only after the commit (on_commit): a rollback never meets it

    def where(self, project: Project) -> str:
        return f"{self.call}() at {project.display(self.key.module)}:{self.line}" + (f" ({self.via})" if self.via else "")


class CallGraph(TransactionQueries):
    def __init__(self, project: Project):
        self.project = project
        self._reached: dict[FunctionKey, tuple[Reached, ...]] = {}
        self._callers: dict[FunctionKey, list[FunctionKey]] | None = None
        self._call_sites: dict[FunctionKey, dict[FunctionKey, list[ast.Call]]] = {}
        self._reaching: dict[str, frozenset[FunctionKey]] = {}
        self.clients = tuple(c.strip() for c in project.config.external_clients if c.strip())
        self._in_transaction: dict[FunctionKey, str] = {}
        self._wrappers: dict[tuple[str, str], bool] = {}
        section = project.config.section
        configured = section.get("atomic-wrappers", []) if isinstance(section, dict) else []
        self.configured_wrappers = {w for w in configured if isinstance(w, str)} if isinstance(configured, list) else set()

    # --- what a call leads to -----------------------------------------------------------------

    def targets(self, view: FunctionView, call: ast.Call) -> list[FunctionKey]:
        reference = view.reference(call)
        return self.project.call_targets(view.key, reference) if reference else []

    def reached(self, key: FunctionKey) -> tuple[Reached, ...]:
        """Every side effect of `key` and of what it runs, each once, nearest first; an effect only reached
        through work handed to on_commit is marked deferred (it runs after the commit)."""
        found = self._reached.get(key)
        if found is None:
            self._reached[key] = ()  # a call cycle back to `key` adds nothing new
            every = self._walk(key, follow_deferred=True)
            functions = {current: self.project.function(current) for current in every}
            defers = any(f is not None and (f.deferred_calls or any(e.deferred for e in f.effects)) for f in functions.values())
            now = self._walk(key, follow_deferred=False) if defers else every
            effects: dict[tuple, Reached] = {}
            for current, function in functions.items():
                for effect in function.effects if function is not None else ():
                    item = Reached(effect.kind, current, effect.line, effect.call, deferred=effect.deferred or current not in now)
                    effects.setdefault((item.kind, current, item.line, item.call), item)
            found = self._reached[key] = tuple(effects.values())
        return found

    def _walk(self, key: FunctionKey, follow_deferred: bool) -> dict[FunctionKey, None]:
        """The functions `key` runs (itself first, breadth first): through its calls and the handlers Django
        runs for its writes, also through work handed to on_commit when `follow_deferred`."""
        order = {key: None}
        pending = [key]
        for current in pending:
            function = self.project.function(current)
            if function is None:
                continue
            later = set()
            if not follow_deferred and function.deferred_calls:
                later = {t for reference in function.deferred_calls for t in self.project.call_targets(current, reference)}
                later -= {t for reference in function.calls if reference not in function.deferred_calls
                          for t in self.project.call_targets(current, reference)}
            handlers = [h for effect in function.effects if follow_deferred or not effect.deferred
                        for h, _ in self._handlers(current.module, effect)]
            for target in [*handlers, *(t for t in self.project.callees(current) if t not in later)]:
                if target not in order:
                    order[target] = None
                    pending.append(target)
        return order

    def call_effects(self, view: FunctionView, call: ast.Call) -> list[Reached]:
        """The call's own side effect and everything the functions it runs do."""
        found = []
        effect = view.effect(call)
        if effect is not None:
            found.append(Reached(effect.kind, view.key, effect.line, effect.call, deferred=effect.deferred))
            for handler, via in self._handlers(view.key.module, effect, view, call):
                found += [Reached(r.kind, r.key, r.line, r.call, r.via or via, r.deferred) for r in self.reached(handler)]
        for target in self.targets(view, call):
            found += self.reached(target)
        return found

    def _handlers(self, module: str, effect, view: FunctionView | None = None, call: ast.Call | None = None):
        """(function, how) that Django runs for a write: the model's own save()/delete() and the signal
        handlers registered for it (for every model when the model is not known)."""
        signals = HANDLED_WRITES.get(effect.kind)
        if signals is None or effect.call.endswith(("bulk_create", "abulk_create")):
            return []  # bulk_create and queryset update() run neither save() nor signals
        model = self._written_model(module, effect, view, call)
        found = []
        if model is not None:
            method = "delete" if signals is DELETE_SIGNALS else "save"
            for owner in self.project.mro(model.module, model.name):
                cls = self.project.cls(owner)
                if cls is not None and method in cls.methods:
                    found.append((FunctionKey(owner.module, f"{owner.qualname}.{method}"), f"{model.name}.{method}()"))
                    break
        what = f"of {model.name}" if model is not None else "of any model"
        found += [(key, f"{'/'.join(sorted(signals))} handler {what}") for key in self.project.signal_handlers(model, signals)]
        return found

    def _written_model(self, module: str, effect, view: FunctionView | None, call: ast.Call | None) -> Model | None:
        """`Order.objects.create()` -> Order; `order.save()` when `order` was built or fetched from Order here."""
        receiver = effect.receiver
        if effect.kind in {"db_create", "db_upsert"} and "." in receiver:
            return self.project.model_of(module, receiver.rsplit(".", 1)[0])
        if view is None or call is None or not isinstance(call.func, ast.Attribute) or not isinstance(call.func.value, ast.Name):
            return None
        binding = view.binding_before(call.func.value.id, call)
        value = getattr(binding, "value", None)
        if isinstance(value, ast.Await):
            value = value.value
        if not isinstance(value, ast.Call):
            return None
        func = value.func
        while isinstance(func, ast.Attribute) and func.attr in _FETCHES | {"objects", "select_related", "filter", "all"}:
            func = func.value.func if isinstance(func.value, ast.Call) else func.value
        name = view.segment(func)
        return self.project.model_of(module, name) if name else None

    def kind(self, view: FunctionView, call: ast.Call) -> str | None:
        """The call's side effect (the summary's, classified once), or "external" for a name listed in
        `external-clients` under [tool.idem-fix]."""
        if self.names_a_configured_client(view, call):
            return "external"
        effect = view.effect(call)
        return effect.kind if effect is not None else None

    def names_a_configured_client(self, view: FunctionView, call: ast.Call) -> bool:
        """The callee goes through a name listed in `external-clients` (a dotted entry is an import path)."""
        return self.configured_chain(chain_names(call.func), view.imports)

    def configured_chain(self, chain: list[str], imports: dict[str, str]) -> bool:
        """`chain` as `chain_names` gives it (last name first); also read off a summary's call references."""
        if not self.clients:
            return False
        for entry in self.clients:
            if "." in entry:
                if chain and chain[-1] in imports:
                    full = ".".join([imports[chain[-1]], *reversed(chain[:-1])])
                    if full == entry or full.startswith(entry + "."):
                        return True
            elif any(name == entry or entry.lower() in words(name) for name in chain[1:] or chain):
                return True
        return False

    # --- who calls ----------------------------------------------------------------------------

    def functions(self):
        """What the graph covers: the functions a task reaches (every loaded one with --scope all)."""
        if self.project.load_everything:
            return [(key, function) for key, function in self.project.all_functions()]
        return [(key, function) for key, function, _ in self.project.reachable_functions()]

    def callers(self, key: FunctionKey) -> list[FunctionKey]:
        """The functions that call `key`, among those the graph covers."""
        if self._callers is None:
            self._callers = {}
            for caller, _ in self.functions():
                for target in self.project.callees(caller):
                    self._callers.setdefault(target, []).append(caller)
        return self._callers.get(key, [])

    def call_sites(self, view: FunctionView, callee: FunctionKey) -> list[ast.Call]:
        """The calls in `view`'s own body (not in nested functions) that run `callee`: all of a function's calls
        are resolved once, whichever callee is asked about."""
        by_callee = self._call_sites.get(view.key)
        if by_callee is None:
            by_callee = self._call_sites[view.key] = {}
            for node in view.parents:
                if isinstance(node, ast.Call) and view.scope_of(node) is view.node:
                    for target in self.targets(view, node):
                        by_callee.setdefault(target, []).append(node)
        return by_callee.get(callee, [])

    def arguments_for(self, key: FunctionKey, name: str) -> list[tuple[FunctionView, ast.expr]] | None:
        """What each call of `key` the graph sees passes for its parameter `name`, with the caller's view;
        None when a caller cannot be read or a call passes it through *args / **kwargs or leaves it to its
        default."""
        view = self.project.view(key)
        if view is None or name not in view.parameters(with_self=True):
            return None
        parameters = view.parameters(with_self=True)
        method = "." in key.qualname and parameters[:1] in (["self"], ["cls"])
        index = parameters.index(name) - (1 if method else 0)
        found = []
        for caller in self.callers(key):
            caller_view = self.project.view(caller)
            if caller_view is None:
                return None
            for call in caller_view.calls():
                if key not in self.targets(caller_view, call) or not _calls_directly(caller_view, call, key):
                    continue
                keyword = next((k.value for k in call.keywords if k.arg == name), None)
                if keyword is not None:
                    found.append((caller_view, keyword))
                elif 0 <= index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
                    found.append((caller_view, call.args[index]))
                else:
                    return None
        return found

    def reaching(self, name: str, own: Callable[[FunctionKey, facts.Function], bool]) -> frozenset[FunctionKey]:
        """The functions whose own code satisfies `own`, and every function that calls one of them,
        transitively (`name` keys the answer for the run)."""
        if name not in self._reaching:
            pending = [key for key, function in self.functions() if own(key, function)]
            found = set(pending)
            while pending:
                for caller in self.callers(pending.pop()):
                    if caller not in found:
                        found.add(caller)
                        pending.append(caller)
            self._reaching[name] = frozenset(found)
        return self._reaching[name]


def _calls_directly(view: FunctionView, call: ast.Call, target: FunctionKey) -> bool:
    """The call passes its arguments to `target` itself: `Service(a).run()` runs `__init__` too, but with
    the inner call's arguments, not the outer one's."""
    reference = view.reference(call) or ""
    method = target.qualname.rsplit(".", 1)[-1]
    if reference.startswith("new:"):
        return reference.rsplit(".", 1)[-1] == method
    return method == "__init__" or reference.rsplit(".", 1)[-1] == method
