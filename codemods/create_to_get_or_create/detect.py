"""Which creates become `get_or_create`, keyed on what, and how sure that is.

Safe only on a unique constraint the model declares, fully covered by the call, with values a
redelivery reproduces: then the lookup finds exactly the row the first run made. Without one, a guess
keyed on the fields the project itself looks the model up by is unsafe; with no evidence at all, or for
rows that are appended on purpose, a person decides.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..engine import facts
from ..engine.levels import Applicability, Refusal, Risk
from ..engine.orm import field_name, resolve_create
from ..engine.project import FunctionKey, Model, Project
from ..engine.provenance import Origin, Provenance, names_the_row
from ..engine.rules import Finding, Options, functions_in_scope, money_risk
from ..engine.summarize_creates import INTEGRITY_GUARD
from ..engine.view import FunctionView

NAME = "create-to-get-or-create"
# Queries that look for one row (not a listing): how the project itself identifies a model's rows.
FINDS_ONE_ROW = frozenset(
    {
        "get", "aget", "get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create", "filter.first",
        "filter.last", "filter.exists", "filter.aexists", "filter.afirst", "filter.alast", "filter.get",
    }
)
FINDS_OR_MAKES = frozenset({"get_or_create", "aget_or_create", "update_or_create", "aupdate_or_create"})
# Rows a project adds one of per event, run or attempt: a second run is meant to add another.
APPEND_ONLY = re.compile(
    r"(Log|Logs|Entry|Event|Events|History|Histories|Audit|AuditLog|Attempt|Attempts|Trail|Version|Versions|Revision|"
    r"Transition|Transitions|Timeline|Activity|Activities|Action|Actions|Note|Notes|Comment|Comments|Analytics|Stat|"
    r"Stats|Metric|Metrics|Run|Runs|Execution|Executions|Delivery|Deliveries|Snapshot|Snapshots|Record|Records|Change|Changes)$"
)


@dataclass(frozen=True)
class Plan:
    line: int
    column: int
    method: str  # the method written now: create | acreate
    identity: tuple[str, ...]  # kwarg names kept as the lookup, as written
    context: str  # assign | bare | index
    throwaway: str  # the name for the `created` half of the tuple


@dataclass(frozen=True)
class Identity:
    """The kwargs that find the row, and why they do."""

    kwargs: tuple[str, ...]
    applicability: Applicability
    reason: str  # "keyed on Payout.unique_together (account, period), values from the task's arguments"
    note: str = ""


def detect(project: Project, options: Options) -> list[Finding]:
    findings = []
    for key, function, reach in functions_in_scope(project, options, lambda f: bool(f.creates)):
        for site in function.creates:
            finding = _check(project, key, function, site)
            if finding is not None:
                finding.task = reach.task.name if reach else ""
                findings.append(finding)
    return findings


def _check(project: Project, key: FunctionKey, function: facts.Function, site: facts.CreateSite) -> Finding | None:
    resolved = resolve_create(project, key.module, site)
    if resolved is None:
        return None  # not a Django model we know: stripe.Charge.create, client.messages.create ...
    module = project.module(key.module)
    call_text = f"{site.receiver}.{site.manager}.{site.method}()"
    if isinstance(resolved, Refusal):
        return _finding(project, key, site, Risk.MODERATE, f"{call_text} not rewritten", resolved)
    model, implicit = resolved
    risk = Risk.CRITICAL if money_risk(model.name) else Risk.MODERATE
    view = project.view(key)
    call = _call_at(view, site) if view is not None else None
    decision = _decide(project, view, call, model, implicit, site, function)
    if isinstance(decision, Refusal):
        verb = "left alone" if decision.already_safe else "not rewritten"
        return _finding(project, key, site, risk, f"{call_text} {verb}", decision)
    new_method = "aget_or_create" if site.method == "acreate" else "get_or_create"
    moved = [k.name or f"**{k.source.lstrip('*')}" for k in site.kwargs if k.name not in decision.kwargs]
    keys = [*(f"{f} (through {site.receiver}.{site.manager})" for f in implicit), *decision.kwargs]
    message = f"{call_text} -> {new_method}({', '.join(keys)})"
    if moved:
        message += f" with defaults {', '.join(moved)}"
    if decision.note:
        message += f". {decision.note}"
    plan = Plan(site.line, site.column, site.method, decision.kwargs, site.context, module.throwaway)
    return _finding(project, key, site, risk, message, decision, plan)


def _finding(project: Project, key: FunctionKey, site: facts.CreateSite, risk: Risk, message: str,
             decision: Identity | Refusal, plan: Plan | None = None) -> Finding:
    if isinstance(decision, Refusal):
        applicability = None if decision.already_safe else Applicability.MANUAL
        risk = Risk.LOW if decision.already_safe else risk
    else:
        applicability = decision.applicability
    return Finding(NAME, key.module, project.display(key.module), site.line, risk, message, applicability, decision.reason, plan)


def _call_at(view: FunctionView, site: facts.CreateSite) -> ast.Call | None:
    return next((c for c in view.parents if isinstance(c, ast.Call) and c.lineno == site.line and view.column(c) == site.column), None)


# --- the decision -------------------------------------------------------------------------------


def _decide(project: Project, view: FunctionView | None, call: ast.Call | None, model: Model, implicit: tuple[str, ...],
            site: facts.CreateSite, function: facts.Function) -> Identity | Refusal:
    if view is not None and call is not None and view.suppressed(NAME, call):
        return Refusal("suppressed by an `# idem-fix: ignore` comment", already_safe=True)
    if site.guard and (site.guard.startswith(INTEGRITY_GUARD) or view is None or call is None
                       or not _fresh_field(_Values(project, view, call, model, site, implicit), rows_only=True)):
        return Refusal(site.guard, already_safe=True)  # a lookup keyed on a row this run made finds nothing a first run did
    if site.positional:
        return Refusal("it passes positional arguments, which cannot be split into a lookup and defaults")
    named = {k.name: k for k in site.kwargs if k.name}
    if "defaults" in named:
        return Refusal("it passes a field named `defaults`, which get_or_create would take as its own argument")
    if view is None or call is None:
        return Refusal("its source could not be read again")
    values = _Values(project, view, call, model, site, implicit)
    constrained = _by_constraint(model, values)
    if constrained is not None:
        return constrained
    override = project.config.lookup_for(model.label, model.name)
    if override:
        return _by_override(model, values, override)
    if APPEND_ONLY.search(model.name):
        return Refusal(
            f"{model.name} rows look appended on purpose (one per run, event or attempt): a redelivery adds one more. "
            f"If that is wrong, record the task's id on the row and look it up by that"
        )
    beside = _finds_or_creates_in_the_other_branch(project, view, call, model)
    if beside:
        return Refusal(beside)
    outcome = _records_an_outcome(project, view.key.module, model, site)
    if outcome:
        return Refusal(outcome)
    guessed = _by_project_lookups(project, model, values)
    if guessed is not None:
        return guessed
    fresh = _fresh_field(values)
    if fresh is not None:
        field, provenance = fresh
        return Refusal(
            f"its {field} {provenance.why}: no lookup finds the first run's row, since each run makes a new one to key it "
            f"on; stop the repeat where that row is made (give it an identity a redelivery finds), or claim the task "
            f"(rule sent-flag)"
        )
    return Refusal(_no_identity(model))


def _fresh_field(values: "_Values", rows_only: bool = False) -> tuple[str, Provenance] | None:
    """(field, provenance) of the first value the call is given that is a row this very run created (with
    `rows_only`, the row itself or its key, not a value read off it)."""
    return next(((f, p) for f in values.by_field if values.kwarg(f) in values.kwargs
                 and (not rows_only or names_the_row(values.kwargs[values.kwarg(f)]))
                 for p in [values.provenance(f)] if p.made_this_run), None)


def _records_an_outcome(project: Project, module: str, model: Model, site: facts.CreateSite) -> str:
    """The rows record outcomes: this create sets a field to one literal (`status="SUCCESS"`) and another
    create of the model in the same module to another (`status="FAILED"`, in the `except` of the same try or
    in an error callback). A guessed lookup keyed on the rest would find a row of the other outcome, an
    earlier attempt's, and record nothing for this one."""
    mine = {k.name: k.source for k in site.kwargs if k.name and k.kind == "literal"}
    summary = project.module(module)
    functions = [*summary.functions.values(), *(m for c in summary.classes.values() for m in c.methods.values())] if summary else []
    for other in (c for f in functions for c in f.creates if c.line != site.line):
        differs = next((k for k in other.kwargs if k.name in mine and k.kind == "literal" and k.source != mine[k.name]), None)
        if differs is not None and _same_model(project.model_of(module, other.receiver), model):
            return (f"{model.name} rows record outcomes: this call sets {differs.name} to {mine[differs.name]}, the one at line "
                    f"{other.line} to {differs.source}, so a lookup without {differs.name} would find the row of another outcome "
                    f"(an earlier attempt's) and record nothing for this one; if a repeat must not add a row, record the "
                    f"task's id on it and look it up by that")
    return ""


def _same_model(found: Model | None, model: Model) -> bool:
    return found is not None and (found.module, found.name) == (model.module, model.name)


class _Values:
    """What the call passes for each field, and where each value comes from."""

    def __init__(self, project: Project, view: FunctionView, call: ast.Call, model: Model, site: facts.CreateSite,
                 implicit: tuple[str, ...]):
        self.project, self.view, self.model, self.site = project, view, model, site
        self.kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        self.splat = any(k.arg is None for k in call.keywords)
        self.by_field = {_field(model, name): name for name in self.kwargs}
        self.implicit = implicit
        receiver = call.func.value
        while isinstance(receiver, ast.Call):  # `.using(...)`
            receiver = receiver.func.value if isinstance(receiver.func, ast.Attribute) else receiver.func
        self.owner = receiver.value if isinstance(receiver, ast.Attribute) else None  # `order` in order.lines.create()

    def covers(self, fields) -> bool:
        return all(f in self.by_field or f in self.implicit for f in fields)

    def provenance(self, field: str) -> Provenance:
        if field in self.implicit:
            return self.project.provenance.of(self.view, self.owner) if self.owner is not None else Provenance(Origin.UNKNOWN)
        return self.project.provenance.of(self.view, self.kwargs[self.by_field[field]])

    def kwarg(self, field: str) -> str:
        return self.by_field[field]

    def is_none(self, field: str) -> bool:
        value = self.kwargs.get(self.by_field.get(field, ""))
        return isinstance(value, ast.Constant) and value.value is None

    def task_arguments(self) -> set[str]:
        """Fields whose value comes from the message (the task's arguments, or rows read by them): a guessed
        lookup must never drop one, or two messages that differ there would find one row."""
        return {f for f in self.by_field if self.provenance(f).origin in (Origin.ARGUMENT, Origin.READ)}


def _field(model: Model, kwarg: str) -> str:
    if kwarg == "pk":
        return next((f.name for f in model.fields.values() if f.primary_key), "id")
    return field_name(model, kwarg)


def _constraints(model: Model, values: _Values) -> list[facts.Constraint]:
    found = sorted(model.constraints, key=lambda c: (c.conditional, len(c.fields)))
    if "id" in values.by_field and not any(f.primary_key for f in model.fields.values()):
        found.insert(0, facts.Constraint(("id",), "primary key", origin="primary key"))
    return found


def _by_constraint(model: Model, values: _Values) -> Identity | Refusal | None:
    """The first unique constraint the call covers whose values a redelivery reproduces."""
    unsure: Identity | None = None
    refusals: list[str] = []
    for constraint in _constraints(model, values):
        needed = [*constraint.fields, *(f for f in constraint.condition_fields if f not in constraint.fields)]
        if not values.covers(needed):
            continue
        described = _describe(model, constraint)
        nullable = [f for f in constraint.fields if values.is_none(f) and model.fields.get(f) and model.fields[f].null]
        if nullable:
            refusals.append(f"{described} cannot find the row: {nullable[0]} is None, and NULLs never match a unique constraint")
            continue
        origins = {f: values.provenance(f) for f in needed}
        new = [(f, p) for f, p in origins.items() if p.origin is Origin.NEW]
        if new:
            refusals.append(f"{described} would never match on a second run: {new[0][0]} {new[0][1].why}")
            continue
        kwargs = tuple(values.kwarg(f) for f in needed if f not in values.implicit)
        unknown = [(f, p) for f, p in origins.items() if not p.stable]
        if constraint.conditional:
            note = f"{constraint.name} only holds for rows matching its condition, so the lookup carries the condition's fields"
            unsure = unsure or Identity(kwargs, Applicability.UNSAFE, f"keyed on the conditional {described}", note)
        elif unknown:
            field, where = unknown[0]
            unsure = unsure or Identity(
                kwargs, Applicability.UNSAFE, f"keyed on {described}, but {field} could not be traced to the task's arguments ({where.why})"
            )
        else:
            return Identity(kwargs, Applicability.SAFE, f"keyed on {described}; {_sources(origins)}")
    if unsure is not None:
        return unsure
    if refusals:
        return Refusal("; ".join(refusals) + ". A narrower lookup would merge rows the constraint keeps apart")
    return None


def _varies_per_iteration(values: _Values, fields) -> bool:
    """A create in a loop makes a row per iteration: a lookup that does not change between them would
    merge those rows into one."""
    if not values.site.in_loop:
        return True
    kinds = {k.name: k.kind for k in values.site.kwargs if k.name}
    return any(kinds.get(values.by_field.get(f, "")) == "loop" for f in fields)


def _by_override(model: Model, values: _Values, override: list[str]) -> Identity | Refusal:
    missing = [f for f in override if not values.covers([_field(model, f)])]
    if missing:
        return Refusal(
            f'[tool.idem-fix.lookups] "{model.label}" names {", ".join(missing)}, which this call does not pass; '
            f"a narrower lookup would merge rows"
        )
    fields = [_field(model, f) for f in override]
    new = [(f, values.provenance(f)) for f in fields if values.provenance(f).origin is Origin.NEW]
    if new:
        return Refusal(f'[tool.idem-fix.lookups] "{model.label}" keys on {new[0][0]}, which {new[0][1].why}: the lookup would never match')
    if not _varies_per_iteration(values, fields):
        return Refusal(f'[tool.idem-fix.lookups] "{model.label}" does not change between iterations of the loop around this create, which makes a row per iteration')
    kwargs = tuple(values.kwarg(f) for f in fields if f not in values.implicit)
    return Identity(
        kwargs, Applicability.UNSAFE,
        f'keyed on [tool.idem-fix.lookups] "{model.label}" = {override!r}, with no unique constraint behind it',
        _constraint_advice(model, fields),
    )


def _by_project_lookups(project: Project, model: Model, values: _Values) -> Identity | Refusal | None:
    """A guess: the fields the project's own queries find this model's rows by, when the call passes all
    of them with reproducible values and keeps every task argument in the lookup."""
    candidates = [
        (key, lookup) for key, lookup in project.lookups_of(model)
        if lookup.method in FINDS_ONE_ROW and not project.is_test_module(key.module)
    ]  # a test looks rows up in the few it made; that says nothing of the rows in production
    if not candidates or values.splat:
        return None
    keep = values.task_arguments()
    best = looped = None
    for key, lookup in candidates:
        found = tuple(dict.fromkeys(_field(model, name) for name in lookup.fields))
        fields = found + tuple(f for f in values.by_field if f in keep and f not in found)  # no task argument left out
        if not found or not values.covers(fields) or values.splat:
            continue
        if any(not values.provenance(f).stable or values.is_none(f) for f in fields):
            continue
        if not _varies_per_iteration(values, fields):
            looped = looped or fields
            continue
        if best is None or len(fields) > len(best[0]):
            best = (fields, key, lookup)
    if best is None:
        if looped:
            return Refusal(
                f"no unique constraint on {model.name}; the project looks its rows up by ({', '.join(looped)}), but inside "
                f"this loop that lookup does not change between iterations, so get_or_create would make one row where the "
                f"loop makes one per iteration"
            )
        return None
    fields, key, lookup = best
    where = f"{project.display(key.module)}:{lookup.line}"
    stated = tuple(dict.fromkeys(_field(model, name) for name in lookup.fields))
    added = [f for f in fields if f not in stated]
    kwargs = tuple(values.kwarg(f) for f in fields if f not in values.implicit)
    reason = f"no unique constraint on {model.name}; the project looks its rows up by ({', '.join(stated)}) at {where}"
    if added:
        reason += f", and the task's own arguments ({', '.join(added)}) stay in the lookup"
    return Identity(kwargs, Applicability.UNSAFE, reason, _constraint_advice(model, list(stated)))


def _finds_or_creates_in_the_other_branch(project: Project, view: FunctionView, call: ast.Call, model: Model) -> str:
    """`if repeatable: create(...) else: get_or_create(...)`: the code already chose, per case, between a
    new row and the existing one, so a lookup here would undo that choice."""
    for lookup in view.function.lookups:
        if lookup.method.split(".")[0] not in FINDS_OR_MAKES:
            continue
        named = project.model_of(view.key.module, lookup.receiver)
        if named is None or (named.module, named.name) != (model.module, model.name):
            continue
        for other in view.calls():
            if other.lineno == lookup.line and isinstance(other.func, ast.Attribute) and other.func.attr == lookup.method:
                branch = view.branches_apart(call, other)
                if branch is not None:
                    return (
                        f"the other branch of the `if` on line {branch.lineno} finds or creates {model.name} with "
                        f"{lookup.method}() (line {lookup.line}), so this branch makes a new row on purpose"
                    )
    return ""


def _no_identity(model: Model) -> str:
    return (
        f"no unique constraint on {model.name} covers this call, and no query in the project says which fields "
        f"identify its rows: add a unique constraint on the fields that do, after checking that existing rows do "
        f'not share them; or declare them in [tool.idem-fix.lookups] "{model.label}" = [...]'
    )


def _constraint_advice(model: Model, fields: list[str]) -> str:
    if not fields:
        return "add a unique constraint on the fields that identify a row"
    names = ", ".join(f'"{f}"' for f in fields)
    counted = ", ".join(f'"{f}"' for f in fields)
    return (
        f"add models.UniqueConstraint(fields=[{names}], name=\"{model.name.lower()}_{'_'.join(fields)}_uniq\") to "
        f"{model.name}, after checking that no rows share them: "
        f"{model.name}.objects.values({counted}).annotate(n=Count(\"pk\")).filter(n__gt=1)"
    )


def _describe(model: Model, constraint: facts.Constraint) -> str:
    fields = ", ".join(constraint.fields)
    if constraint.origin == "unique_together":
        return f"{model.name}.unique_together ({fields})"
    if constraint.origin == "primary key":
        return f"the primary key of {model.name}"
    if constraint.origin == "unique":
        return f"{model.name}.{constraint.fields[0]} (unique=True)"
    return f"UniqueConstraint {constraint.name or fields} ({fields})"


def _sources(origins: dict[str, Provenance]) -> str:
    kinds = {p.origin for p in origins.values()}
    if kinds <= {Origin.CONSTANT}:
        return "constant values"
    if Origin.READ in kinds:
        return "values from the task's arguments and rows read by them"
    return "values from the task's arguments"
