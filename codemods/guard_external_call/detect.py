"""Which external calls get `if obj.attr: return`, and how sure that is.

The guard reads `obj.attr` as "the first run already did this". That is proven only when the attribute
is filled by nothing but this call's result (not an input of the call, not copied from another row,
not filled by a view or a form before the task is queued), is saved before the function returns, and
is empty until then (its default is empty). Otherwise the guard is a guess (unsafe) or would silence
the call for good (manual)."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..engine import effects
from ..engine.levels import Applicability, Refusal, Risk
from ..engine.names import dotted, words
from ..engine.project import FunctionKey, Model, Project
from ..engine.rules import Finding, Options, functions_in_scope, money_risk
from ..engine.orm import queried_model
from ..engine.view import FunctionView, assigned_value, names_in, position
from ..engine.writers import attribute_writes
from .flow import Flow, Results, Source, Store, scopes
from .place import Placement, Placer, existing_guard

NAME = "guard-external-call"
ID_WORDS = frozenset({"id", "ids", "ref", "reference", "number", "key", "uuid", "code", "token", "sid", "pk", "external"})
EMPTY_DEFAULTS = frozenset({"None", '""', "''", "0", "False", "dict", "list"})


@dataclass
class Outcome:
    source: Source
    applicability: Applicability | None  # None: already safe
    message: str
    reason: str = ""
    store: Store | None = None
    placement: Placement | None = None
    risk: Risk = Risk.HIGH


def detect(project: Project, options: Options) -> list[Finding]:
    results = Results(project)
    findings = []
    for key, function, reach in functions_in_scope(project, options):
        if not _candidate(project, results, key, function):
            continue
        view = project.view(key)
        if view is None:
            continue
        for finding in _FunctionCheck(project, results, view, key in project.task_keys).run():
            finding.task = reach.task.name if reach else ""
            findings.append(finding)
    return findings


def _candidate(project: Project, results: Results, key: FunctionKey, function) -> bool:
    if key not in results.calling_external:
        return False
    if any(e.kind == "external" for e in function.effects) or results._calls_external(key, function):
        return True
    return any(results.returns_external(target) for target in project.callees(key))


class _FunctionCheck:
    """Findings for one function: a guard per stored result, a report per unstored one."""

    def __init__(self, project: Project, results: Results, view: FunctionView, is_task: bool):
        self.project, self.results, self.view, self.is_task = project, results, view, is_task
        self.placer = Placer(project, results, view, is_task)

    def run(self) -> list[Finding]:
        outcomes = []
        for scope in scopes(self.view):
            for source, flow in self.results.flows(self.view, scope):
                outcome = self.check(source, flow)
                if outcome is not None:
                    outcomes.append(outcome)
        _several_fields(outcomes)
        return [self.finding(o) for o in outcomes]

    def finding(self, outcome: Outcome) -> Finding:
        key = self.view.key
        risk = outcome.risk if outcome.applicability is not None else Risk.LOW
        plan = outcome.placement.plan if outcome.applicability in (Applicability.SAFE, Applicability.UNSAFE) else None
        return Finding(NAME, key.module, self.project.display(key.module), outcome.source.node.lineno, risk, outcome.message,
                       outcome.applicability, outcome.reason, plan)

    def check(self, source: Source, flow: Flow) -> Outcome | None:
        call = source.name + (f" (which returns {source.via})" if source.via else "")
        risk = Risk.CRITICAL if money_risk(source.name) else Risk.HIGH
        if self.view.suppressed(NAME, source.node):
            return Outcome(source, None, f"{source.name} left alone", "suppressed by an `# idem-fix: ignore` comment")
        saved = [s for s in flow.stores if s.save is not None]
        if not saved:
            if flow.returned and (source.scope is not self.view.node or not self.is_task):
                return None  # the caller gets the result: the guard belongs where it is stored
            if not self.is_task and self._transport_helper():
                return None  # a client wrapper's own call: dedup belongs to its callers
            return Outcome(source, Applicability.MANUAL, f"{call} not guarded", _unstored(flow), risk=risk)
        store = min(saved, key=lambda s: (not _id_like(s.attr), position(s.node)))
        obj, attr = store.obj, store.attr
        if money_risk(attr):
            risk = Risk.CRITICAL
        guard = existing_guard(self.view, source.node, obj, attr)
        if guard:
            return Outcome(source, None, f"{source.name} left alone", guard, store)
        placed = self.placer.place(source, flow, store)
        if isinstance(placed, Refusal):
            return Outcome(source, Applicability.MANUAL, f"{call} not guarded", f"its result is saved in {obj}.{attr}, but {placed.reason}", store, risk=risk)
        applicability, reason = self.proof(source, store, placed)
        if applicability is Applicability.MANUAL:
            return Outcome(source, applicability, f"{call} not guarded on {obj}.{attr}", reason, store, risk=risk)
        message = (
            f"{call} -> added `if {obj}.{attr}: {placed.plan.exit}` {placed.where}: its result is stored in {obj}.{attr} and "
            f"saved at line {store.save.lineno}, so a redelivery stops before calling again"
        )
        message += "".join(f"; {note}" for note in placed.notes)
        return Outcome(source, applicability, message, reason, store, placed, risk)

    # --- the proof ------------------------------------------------------------------------------

    def proof(self, source: Source, store: Store, placed: Placement) -> tuple[Applicability, str]:
        """Safe only when the attribute is filled by this call alone, saved, and empty until then."""
        obj, attr = store.obj, store.attr
        read = self._reads(source, obj, attr)
        if read:
            return Applicability.MANUAL, (
                f"the call reads {obj}.{attr} itself ({read}): a guard on it would stop the call from ever running again"
            )
        model = self._model(obj, placed.binding, source.scope)
        field = model.fields.get(attr) if model is not None else None
        if field is not None and field.default is not None and field.default not in EMPTY_DEFAULTS:
            return Applicability.MANUAL, (
                f"{model.name}.{attr} defaults to {field.default}, so the guard would return before the first run's call"
            )
        here = (self.view.key.module, store.node.lineno)
        others = [w for w in attribute_writes(self.project, attr, model) if (w.module, w.line) != here and not w.clears]
        by_user = next((w for w in others if w.by_user), None)
        if by_user is not None:
            return Applicability.MANUAL, (
                f"{attr} is also filled by {by_user.how} at {by_user.where(self.project)}: a row filled that way before the "
                f"task runs would make the guard return before the first call"
            )
        if others:
            first = others[0]
            more = f" and {len(others) - 1} more" if len(others) > 1 else ""
            return Applicability.UNSAFE, (
                f"{attr} is also filled elsewhere ({first.how} at {first.where(self.project)}{more}): if that runs before "
                f"this task, the guard returns before the call"
            )
        if model is None or field is None:
            what = f"{obj}'s model is not known here" if model is None else f"{attr} is not a field of {model.name}"
            return Applicability.UNSAFE, f"only this call fills {attr}, but {what}, so its default cannot be read"
        return Applicability.SAFE, (
            f"{model.name}.{attr} is filled only from this call's result, saved at line {store.save.lineno}, and empty by default"
        )

    def _reads(self, source: Source, obj: str, attr: str) -> str:
        """Where the call uses `obj.attr` as an input: in its arguments, or through a name bound from it."""
        call = source.node
        def mentions(node: ast.AST) -> bool:
            return any(isinstance(n, ast.Attribute) and n.attr == attr and dotted(n.value) == obj for n in ast.walk(node))
        parts = [*call.args, *(k.value for k in call.keywords), call.func]
        if any(mentions(part) for part in parts):
            return f"`{self.view.segment(call)[:80]}`"
        for name in set().union(*(names_in(part) for part in parts)):
            binding = self.view.binding_before(name, call, source.scope)
            value = getattr(binding, "value", None)
            if value is not None and mentions(value):
                return f"through {name}, bound at line {binding.lineno}"
        return ""

    def _model(self, obj: str, binding: ast.AST | None, scope: ast.AST) -> Model | None:
        """The model of `obj` when this function says it: fetched or iterated from it here, or a parameter
        annotated with it."""
        module = self.view.key.module
        if "." in obj:
            return None
        if binding is None:
            argument = next((a for a in scope.args.args + scope.args.kwonlyargs if a.arg == obj), None)
            name = dotted(argument.annotation) if argument is not None and argument.annotation is not None else ""
            return self.project.model_of(module, name) if name else None
        return queried_model(self.project, module, assigned_value(binding))

    def _transport_helper(self) -> bool:
        """A method of a client class, or a function of a client module (`keyless_client_wrapper.py`)."""
        key = self.view.key
        owner = key.qualname.split(".")[0] if "." in key.qualname else ""
        return bool(owner and effects.names_a_client(owner)) or effects.names_a_client(key.module.rsplit(".", 1)[-1])


def _unstored(flow: Flow) -> str:
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
        f"{what}, so a redelivery calls it again. To make it safe, store the external id it returns on a model field "
        f"and save it right after the call (idem-fix then adds the guard), or pass an idempotency key the other side "
        f"dedups on, derived from the task's arguments (never uuid4())"
    )


def _several_fields(outcomes: list[Outcome]) -> None:
    """Two calls saved into different fields: an early return on one would skip the other after a partial run."""
    fixes = [o for o in outcomes if o.placement is not None and o.applicability in (Applicability.SAFE, Applicability.UNSAFE)]
    by_scope: dict[int, set[tuple[str, str]]] = {}
    for outcome in fixes:
        by_scope.setdefault(id(outcome.source.scope), set()).add((outcome.store.obj, outcome.store.attr))
    for outcome in fixes:
        fields = by_scope[id(outcome.source.scope)]
        if len(fields) > 1:
            others = ", ".join(sorted(f"{o}.{a}" for o, a in fields))
            outcome.applicability = Applicability.MANUAL
            outcome.message = f"{outcome.source.name} not guarded"
            outcome.reason = (
                f"its result is saved in {outcome.store.obj}.{outcome.store.attr}, but this function saves several external "
                f"results ({others}), and an early return on one would skip the others after a partial run. Wrap each call "
                f"in `if not obj.field:` by hand, or split the task"
            )


def _id_like(attr: str) -> bool:
    return any(w in ID_WORDS for w in words(attr))
