"""`Model.objects.create(...)` reachable from a task -> `get_or_create(<identity>, defaults={...})`.

A redelivered task that creates again leaves a duplicate row (a second payout, a second invoice).
`get_or_create` finds the row the first run made. Its lookup must be the row's identity: the fields
of a unique constraint the call covers, else its relations and literal values - never a value that
differs between two runs (`now()`, `uuid4()`), which would make the lookup miss every time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from .engine import facts
from .engine.edits import PositionedTransformer
from .engine.orm import RELATIONS, field_name, resolve_create
from .engine.project import Model, Project
from .engine.rules import Doc, Finding, Options, Rule, functions_in_scope, money_risk, suppressed
from .engine.syntax import call_arguments_text

NAME = "create-to-get-or-create"
APPEND_ONLY = re.compile(r"(Log|Logs|Event|History|Audit|AuditLog|Attempt|Trail)$")


@dataclass(frozen=True)
class Plan:
    line: int
    column: int
    method: str  # the method written now: create | acreate
    identity: tuple[str, ...]  # kwarg names kept as the lookup
    context: str  # assign | bare | index
    throwaway: str  # the name for the `created` half of the tuple


@dataclass
class _Identity:
    kwargs: tuple[str, ...]
    source: str  # why these: "UniqueConstraint payout_period", "lookup override", "relations and literal values"
    constraint: facts.Constraint | None = None
    note: str = ""


class CreateToGetOrCreate(Rule):
    def detect(self, project: Project, options: Options) -> list[Finding]:
        findings = []
        for key, function, reach in functions_in_scope(project, options):
            module = project.module(key.module)
            for site in function.creates:
                finding = self._check(project, module, function, site)
                if finding is not None:
                    finding.task = reach.task.name if reach else ""
                    findings.append(finding)
        return findings

    def _check(self, project: Project, module: facts.Module, function: facts.Function, site: facts.CreateSite):
        resolved = resolve_create(project, module.name, site)
        if resolved is None:
            return None  # not a Django model we know: stripe.Charge.create, client.messages.create ...
        if isinstance(resolved, str):
            return self._finding(project, module, site, "moderate", resolved, "manual")
        model, implicit = resolved
        call = f"{site.receiver}.{site.manager}.{site.method}()"
        risk = "critical" if money_risk(model.name) else "moderate"

        def report(message: str, status: str, plan: Plan | None = None) -> Finding:
            return self._finding(project, module, site, risk if status != "ok" else "low", message, status, plan)

        if suppressed(NAME, site.suppressed, function.suppressed):
            return report(f"{call} left alone: suppressed by an `# idem-fix: ignore` comment", "ok")
        if site.guard:
            return report(f"{call} left alone: {site.guard}", "ok")
        if site.positional:
            return report(f"{call} has positional arguments; cannot split it into a lookup and defaults", "manual")
        named = {k.name: k for k in site.kwargs if k.name}
        if "defaults" in named:
            return report(f"{call} passes a `defaults` field, which get_or_create would take as its own argument", "manual")
        identity = _identity(project, model, implicit, site, named)
        if isinstance(identity, _Identity) and identity.constraint is None and APPEND_ONLY.search(model.name) and not (
            project.config.lookup_for(model.label, model.name)
        ):
            return report(f"{call} left alone: {model.name} looks like an append-only record (one row per run is its job)", "ok")
        if isinstance(identity, str):
            return report(f"{call} not rewritten: {identity}", "manual")
        plan = Plan(site.line, site.column, site.method, identity.kwargs, site.context, module.throwaway)
        moved = [k.name or f"**{k.source.lstrip('*')}" for k in site.kwargs if k.name not in identity.kwargs]
        keys = [*(f"{f} (implied by {site.receiver}.{site.manager})" for f in implicit), *identity.kwargs]
        new_method = "aget_or_create" if site.method == "acreate" else "get_or_create"
        message = f"{call} -> {new_method}() keyed on {', '.join(keys)} ({identity.source})"
        if moved:
            message += f"; defaults: {', '.join(moved)}"
        if identity.note:
            message += f". {identity.note}"
        return report(message, "fix", plan)

    def _finding(self, project, module, site, risk, message, status, plan=None) -> Finding:
        return Finding(NAME, module.name, project.display(module.name), site.line, risk, message, status, plan)

    def transform(self, module: cst.Module, plans: list) -> tuple[cst.Module, list]:
        result, transformer = _Rewrite.run(module, plans)
        return result, transformer.applied


def _identity(project: Project, model: Model, implicit: tuple[str, ...], site: facts.CreateSite, named: dict[str, facts.Kwarg]):
    by_field = {field_name(model, name): kwarg for name, kwarg in named.items()}
    override = project.config.lookup_for(model.label, model.name)
    if override:
        missing = [f for f in override if f not in by_field and f not in implicit]
        if missing:
            return f"the lookup override for {model.label} names {', '.join(missing)}, which this call does not pass"
        unstable = [f"{f} ({by_field[f].why})" for f in override if f in by_field and by_field[f].kind == "volatile"]
        if unstable:
            return f"the lookup override for {model.label} uses values that differ between runs: {'; '.join(unstable)}"
        kwargs = tuple(by_field[f].name for f in override if f in by_field)
        return _Identity(kwargs, "lookup override in pyproject.toml", note=_race_note(model, implicit, override))

    constraints = sorted(model.constraints, key=lambda c: (c.conditional, len(c.fields)))
    if "id" in by_field:
        constraints.insert(0, facts.Constraint(("id",), "primary key", origin="primary key"))
    skipped_volatile = []
    for constraint in constraints:
        needed = [*constraint.fields, *(f for f in constraint.condition_fields if f not in constraint.fields)]
        if all(f in by_field or f in implicit for f in needed):
            unstable = [f for f in needed if f in by_field and by_field[f].kind == "volatile"]
            if unstable:
                skipped_volatile.append(f"{constraint.name or ', '.join(constraint.fields)} ({by_field[unstable[0]].why})")
                continue
            kwargs = tuple(by_field[f].name for f in needed if f in by_field)
            note = ""
            if constraint.conditional:
                note = (
                    f"{constraint.name} is a conditional UniqueConstraint: it stops duplicates only for rows matching "
                    f"its condition, so the lookup also carries the condition's fields"
                )
            return _Identity(kwargs, _describe(constraint), constraint, note)
    if skipped_volatile:
        return (
            f"no stable identity for {model.name}: its unique constraint {'; '.join(skipped_volatile)} would get a "
            f"different value on a second run, and a narrower lookup would merge rows the constraint keeps apart"
        )

    chosen = []
    for kwarg in site.kwargs:
        if kwarg.name is None or kwarg.kind == "volatile":
            continue
        field = model.fields.get(field_name(model, kwarg.name))
        is_relation = field is not None and field.kind in RELATIONS
        if is_relation or kwarg.kind == "literal" or (kwarg.kind == "loop" and site.in_loop):
            chosen.append(kwarg.name)
    if not chosen and not implicit:
        runtime = [k.name for k in site.kwargs if k.name and k.kind != "volatile"]
        volatile = [f"{k.name} ({k.why})" for k in site.kwargs if k.kind == "volatile"]
        splats = [k.source for k in site.kwargs if k.name is None]
        parts = []
        if runtime:
            verb = "is a runtime value" if len(runtime) == 1 else "are runtime values"
            parts.append(f"{', '.join(runtime)} {verb}, not relations or literals")
        if volatile:
            parts.append(f"{'; '.join(volatile)}")
        if splats:
            parts.append(f"{', '.join(splats)} cannot be looked into")
        reasons = "; ".join(parts) or "it passes no field values"
        return (
            f"no stable identity for {model.name} ({reasons}). Add a unique constraint, or set "
            f'[tool.idem-fix.lookups] "{model.label}" = [...] in pyproject.toml'
        )
    if site.in_loop and not any(named[n].kind == "loop" for n in chosen if n in named):
        return (
            f"inside a loop, and no lookup value changes between iterations: get_or_create would make one "
            f"{model.name} where the loop makes one per iteration"
        )
    fields = [*implicit, *(field_name(model, n) for n in chosen)]
    source = "relations and literal values"
    if any(named[n].kind == "loop" for n in chosen if n in named):
        source += ", and values that change with each loop iteration"
    return _Identity(tuple(chosen), source, note=_race_note(model, implicit, fields))


def _describe(constraint: facts.Constraint) -> str:
    if constraint.origin == "UniqueConstraint":
        return f"UniqueConstraint {constraint.name}" if constraint.name else f"UniqueConstraint on {', '.join(constraint.fields)}"
    if constraint.origin == "unique_together":
        return f"unique_together {', '.join(constraint.fields)}"
    if constraint.origin == "primary key":
        return "primary key"
    return f"unique field {constraint.fields[0]}"


def _race_note(model: Model, implicit, fields) -> str:
    wanted = set(fields) | set(implicit)
    if any(set(c.fields) <= wanted and not c.conditional for c in model.constraints):
        return ""
    ordered = [f for f in [*implicit, *fields] if f in wanted]
    ordered = list(dict.fromkeys(ordered))
    name = f"{model.name.lower()}_{'_'.join(ordered)}_uniq"
    return (
        f"{model.name} has no unique constraint on ({', '.join(ordered)}), so two workers running at once can still "
        f'both create: add models.UniqueConstraint(fields={ordered!r}, name="{name}")'.replace("'", '"')
    )


class _Rewrite(PositionedTransformer):
    def __init__(self, plans: list[Plan]):
        super().__init__()
        self.plans = {(p.line, p.column): p for p in plans}
        self.applied: list[Plan] = []

    def _plan_for(self, node: cst.CSTNode) -> Plan | None:
        if isinstance(node, cst.Await):
            node = node.expression
        if not isinstance(node, cst.Call):
            return None
        plan = self.plans.get(self.start_of(node))
        if plan and isinstance(node.func, cst.Attribute) and node.func.attr.value == plan.method:
            return plan
        return None

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        plan = self._plan_for(original)
        if plan is None:
            return updated
        self.applied.append(plan)
        new_method = "aget_or_create" if plan.method == "acreate" else "get_or_create"
        rewritten = updated.with_changes(func=updated.func.with_changes(attr=cst.Name(new_method)))
        if any(arg.keyword is None or arg.keyword.value not in plan.identity for arg in updated.args):
            parsed = cst.parse_expression(f"f({call_arguments_text(updated, plan.identity, shift=self._shift(plan))})")
            rewritten = rewritten.with_changes(args=parsed.args, whitespace_before_args=parsed.whitespace_before_args)
        if plan.context == "index" and plan.method == "create":
            return _first_of(rewritten)
        return rewritten

    @staticmethod
    def _shift(plan: Plan) -> int:
        """How far the opening bracket moves right: the longer method name, and `, _` before `=`."""
        longer = len("get_or_create") - len("create")
        return longer + (len(", ") + len(plan.throwaway) if plan.context == "assign" else 0)

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        plan = self._plan_for(original)
        if plan and plan.context == "index":
            return _first_of(updated.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
        return updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        plan = self._plan_for(original.value)
        if plan is None or plan.context != "assign" or len(updated.targets) != 1:
            return updated
        target = updated.targets[0]
        pair = cst.Tuple(
            [
                cst.Element(target.target, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Element(cst.Name(plan.throwaway)),
            ],
            lpar=[],
            rpar=[],
        )
        return updated.with_changes(targets=[target.with_changes(target=pair)])


def _first_of(expression: cst.BaseExpression) -> cst.Subscript:
    return cst.Subscript(expression, [cst.SubscriptElement(cst.Index(cst.Integer("0")))])


rule = CreateToGetOrCreate(
    name=NAME,
    summary="Model.objects.create() in task code -> get_or_create() keyed on the row's identity",
    fix_safety="unsafe",
    default_risk="moderate",
    doc=Doc(
        what=(
            "Rewrites `Model.objects.create(...)` (and related managers, `order.lines.create(...)`) in code a "
            "Celery task reaches into `get_or_create(<identity>, defaults={...})`. The identity is, in order: "
            "a lookup override in `[tool.idem-fix.lookups]`; the fields of a unique constraint or unique field "
            "the call fully covers; else the ForeignKey / OneToOne kwargs plus kwargs with literal values. A value "
            "that differs between runs (`now()`, `uuid4()`, `random`, `secrets`) is never part of it."
        ),
        why=(
            "With `task_acks_late`, a task whose worker dies is delivered again. A plain create then leaves a "
            "second row: a second payout, a second invoice, a second booking."
        ),
        example='payout = Payout.objects.create(account=account, period=period, amount=amount)',
        use_instead='payout, _ = Payout.objects.get_or_create(account=account, period=period, defaults={"amount": amount})',
        fix_safety=(
            "Unsafe: get_or_create returns an existing row where create made a new one, which is the point but "
            "changes behaviour. Review each diff. When the identity has no unique constraint, two concurrent runs "
            "can still both create; the finding names the constraint to add. Creates behind an exists() guard or "
            "an early-return state check, inside try/except IntegrityError, of append-only models (…Log, …Event, "
            "…History), or with no stable identity are left alone, with the reason reported."
        ),
    ),
)
