"""Generate a synthetic Django + Celery project for benchmarking idem-fix.

Why synthetic: the performance targets are about a large monorepo (~850k lines, ~4,300 files) that we
cannot ship, and the figures must be reproducible. The tree is deterministic for a seed and shaped like
the real thing: many Django apps, each with models (FKs, `unique=True`, `unique_together`,
`UniqueConstraint`), views, serializers, admin, helpers, service classes that call each other and
create rows, and about 5% of the files being Celery task modules that reach those services. Task bodies
hold the risky patterns idem-fix looks for (creates, `send_mail`, an HTTP client result saved on a
model, `.delay()` fan-out, two creates in a row, `set_password`). Some modules are plain utility code
that mentions nothing relevant, so that a prefilter that skips them pays off.

    python bench/generate.py --out /tmp/tree                # default size
    python bench/generate.py --out /tmp/tree --scale 0.25   # a quarter of it
    python bench/generate.py --out /tmp/tree --files 60 --verify
"""

from __future__ import annotations

import argparse
import ast
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

DEFAULT_FILES = 4300
DEFAULT_LINES_PER_FILE = 195  # 4,300 files x 195 ~ 850k lines once fixed-size files are counted
DEFAULT_TASK_RATIO = 0.05
DEFAULT_SEED = 1

MARKER = ".idem-fix-bench-tree"  # in every generated tree: the folder may be emptied by the next run
PROJECT_FILES = 6  # manage.py and config/{__init__,settings,celery,urls,wsgi}.py
FIXED_PER_APP = 11  # __init__, apps, models, views, serializers, admin, urls, services/{__init__,one}, utils/{__init__,helpers}

APP_WORDS = [
    "billing", "payments", "orders", "inventory", "shipping", "accounts", "customers", "catalog",
    "pricing", "reports", "notifications", "bookings", "subscriptions", "loyalty", "support",
    "documents", "analytics", "marketing", "partners", "warehouses", "returns", "invoicing", "payroll",
    "scheduling", "reviews", "messaging", "onboarding", "compliance", "identity", "exports",
]
ROOT_NOUNS = ["Account", "Customer", "Company", "Store", "Profile", "Merchant", "Tenant", "Member"]
MODEL_NOUNS = [
    "Invoice", "Payout", "Order", "Shipment", "Subscription", "Reservation", "Ticket", "Refund",
    "Voucher", "Statement", "Membership", "Payment", "Transfer", "Delivery", "Booking", "Credit",
    "Parcel", "Contract", "Quote", "Receipt", "Coupon", "Plan", "Claim", "Batch", "Allocation",
    "Settlement", "Enrollment", "Renewal", "Adjustment", "Dispatch",
]
SERVICE_VERBS = ["Issue", "Create", "Register", "Open", "Record", "Book", "Prepare", "Schedule", "Settle", "Generate"]
SERVICE_MODULES = [
    "processing", "lifecycle", "issuing", "settlement", "sync", "imports", "ledger", "workflow", "allocation", "renewals",
]
PLAIN_MODULES = [
    "text", "dates", "money", "backoff", "iterables", "validation", "geometry", "colors", "units", "hashing", "paging", "slugs",
]
HELPER_MODULES = ["formatting", "periods", "numbers", "lookups"]
TASK_MODULES = ["tasks", "jobs", "periodic"]
STATUSES = ["pending", "active", "done", "failed", "cancelled", "synced", "draft"]
OPTIONAL_FIELDS = ["amount", "quantity", "reference", "email", "notes", "is_active", "sent_at", "created_at"]

# Share of each file kind in the line budget: models and services are the big modules in a real app.
KIND_WEIGHT = {
    "models": 1.4, "views": 1.2, "serializers": 0.9, "service": 1.3, "tasks": 1.0, "helpers": 0.9,
    "plain": 1.0, "settings": 1.0,
}
# Files whose size does not follow a target (they list what the app has); rough sizes for the budget.
FIXED_LINES = {"init": 0, "config_init": 3, "apps": 6, "admin": 50, "urls": 11, "manage": 15, "celery": 9,
               "config_urls": 0, "wsgi": 6}


# --- the plan: what exists, decided before any file is written, so modules can refer to each other ---


@dataclass
class FieldSpec:
    name: str
    kind: str  # char | email | decimal | int | bool | datetime | text | fk
    unique: bool = False
    target: str = ""  # fk: a model name in the same app, "app.Model", or "AUTH_USER_MODEL"
    nullable: bool = False


@dataclass
class ModelSpec:
    name: str
    fields: List[FieldSpec]
    parent: str = ""  # the FK a row is created under (its identity, with period or a unique field)
    unique_together: Optional[Tuple[str, str]] = None
    constraint: Optional[Tuple[str, str]] = None
    append_only: bool = False

    def has(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    def field(self, name: str) -> FieldSpec:
        return next(f for f in self.fields if f.name == name)


@dataclass
class ServiceSpec:
    name: str
    model: ModelSpec


@dataclass
class AppSpec:
    name: str
    models: List[ModelSpec] = field(default_factory=list)
    services: Dict[str, List[ServiceSpec]] = field(default_factory=dict)  # module name -> classes
    task_modules: List[str] = field(default_factory=list)
    helper_modules: List[str] = field(default_factory=lambda: ["helpers"])
    plain_modules: List[str] = field(default_factory=list)

    @property
    def client(self) -> str:
        return f"{_camel(self.name)}ApiClient"

    @property
    def client_module(self) -> str:
        return next(iter(self.services))


@dataclass
class FilePlan:
    path: str  # relative to the output folder
    kind: str
    app: Optional[AppSpec] = None
    module: str = ""  # services/helpers/plain/tasks module name
    target: int = 0  # lines wanted


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if not part.isdigit()) + "".join(
        part for part in name.split("_") if part.isdigit()
    )


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _words(name: str) -> str:
    return _snake(name).replace("_", " ")


def _constraint_name(app: str, m: ModelSpec) -> str:
    return f"uniq_{app}_{_snake(m.name)}_{'_'.join(m.constraint)}"


class Names:
    """Unique names within one module, so generated functions never shadow each other."""

    def __init__(self) -> None:
        self.seen: Dict[str, int] = {}

    def __call__(self, name: str) -> str:
        count = self.seen.get(name, 0) + 1
        self.seen[name] = count
        return name if count == 1 else f"{name}_{count}"


def _app_names(count: int) -> List[str]:
    return [APP_WORDS[i % len(APP_WORDS)] + (f"_{i // len(APP_WORDS) + 1}" if i >= len(APP_WORDS) else "") for i in range(count)]


def _plan_model(rng: random.Random, apps: List[AppSpec], name: str, parent: Optional[str]) -> ModelSpec:
    """One model: a parent FK, status/period/external id, a few optional fields, maybe an identity."""
    if parent is None:  # the app's root model hangs off the user
        fields = [FieldSpec("owner", "fk", target="AUTH_USER_MODEL"), FieldSpec("name", "char"), FieldSpec("email", "email")]
        fields.append(FieldSpec("code", "char", unique=True))
        return ModelSpec(name, fields, parent="owner")
    fk = _snake(parent)
    fields = [FieldSpec(fk, "fk", target=parent)]
    if rng.random() < 0.4:
        other = rng.choice(apps)  # by its app label: Django resolves it, no import needed
        if other.models:
            fields.append(FieldSpec("partner", "fk", target=f"{other.name}.{other.models[0].name}", nullable=True))
    if rng.random() < 0.12:
        fields += [FieldSpec("kind", "char"), FieldSpec("payload", "text"), FieldSpec("created_at", "datetime")]
        return ModelSpec(name + "Event", fields, parent=fk, append_only=True)
    periodic = rng.random() >= 0.15  # the others (readings, snapshots) have no identity at all
    fields += [FieldSpec("status", "char")] + [FieldSpec("period", "char")] * periodic + [FieldSpec("external_id", "char")]
    fields += [FieldSpec(n, _OPTIONAL_KIND[n]) for n in sorted(rng.sample(OPTIONAL_FIELDS, rng.randint(2, 5)))]
    spec = ModelSpec(name, fields, parent=fk)
    roll = rng.random() if periodic else 1.0
    if roll < 0.3:
        spec.fields.append(FieldSpec("number", "char", unique=True))
    elif roll < 0.5:
        spec.unique_together = (fk, "period")
    elif roll < 0.7:
        spec.constraint = (fk, "period")
    return spec


_OPTIONAL_KIND = {
    "amount": "decimal", "quantity": "int", "reference": "char", "email": "email", "notes": "text",
    "is_active": "bool", "sent_at": "datetime", "created_at": "datetime",
}


def _plan_models(rng: random.Random, apps: List[AppSpec], count: int) -> List[ModelSpec]:
    nouns = rng.sample(MODEL_NOUNS, min(count - 1, len(MODEL_NOUNS)))
    models = [_plan_model(rng, apps, rng.choice(ROOT_NOUNS), None)]
    for noun in nouns:
        parents = [m.name for m in models if not m.append_only]
        models.append(_plan_model(rng, apps, noun, rng.choice(parents[:3])))
    return models


def _plan_services(rng: random.Random, app: AppSpec, count: int) -> List[ServiceSpec]:
    creatable = app.models[1:] or app.models
    names = Names()
    return [
        ServiceSpec(names(f"{rng.choice(SERVICE_VERBS)}{m.name}Service"), m)
        for m in (rng.choice(creatable) for _ in range(max(1, count)))
    ]


def plan_project(rng: random.Random, files: int, lines_per_file: int, task_files: int) -> List[FilePlan]:
    """Every file of the tree with its kind and line target; the counts add up to `files` exactly."""
    apps_count = min(max(1, (files - PROJECT_FILES) // 14), (files - PROJECT_FILES - task_files) // FIXED_PER_APP)
    if apps_count < 1:
        least = PROJECT_FILES + FIXED_PER_APP + task_files
        raise ValueError(f"{files} files are too few for {task_files} task modules; use at least {least}")
    apps = [AppSpec(name) for name in _app_names(apps_count)]
    _assign_task_modules(rng, apps, task_files)
    _assign_extra_modules(rng, apps, files - PROJECT_FILES - FIXED_PER_APP * apps_count - task_files)
    plans = _project_plans() + [p for app in apps for p in _app_plans(app)]
    assert len(plans) == files, (len(plans), files)
    _set_targets(rng, plans, files * lines_per_file)
    for plan in plans:  # now that sizes are known, decide how many models and services fill them
        if plan.kind == "models":
            plan.app.models = _plan_models(rng, apps, max(2, min(14, plan.target // 26)))
    for plan in plans:
        if plan.kind == "service":
            plan.app.services[plan.module] = _plan_services(rng, plan.app, plan.target // 40)
    return plans


def _assign_task_modules(rng: random.Random, apps: List[AppSpec], count: int) -> None:
    """Task modules go to a random subset of apps; when there are more than apps, several per app."""
    order = sorted(rng.sample(range(len(apps)), min(count, len(apps))))
    for i in range(count):
        app = apps[order[i % len(order)]] if count <= len(apps) else apps[i % len(apps)]
        k = len(app.task_modules)
        app.task_modules.append(TASK_MODULES[k] if k < len(TASK_MODULES) else f"tasks_{k}")


def _assign_extra_modules(rng: random.Random, apps: List[AppSpec], count: int) -> None:
    for app in apps:
        app.services[SERVICE_MODULES[0]] = []
    for _ in range(count):
        app = rng.choice(apps)
        kind = rng.choices(["service", "plain", "helpers"], weights=[5, 3, 2])[0]
        if kind == "service":
            app.services[_next_name(SERVICE_MODULES, list(app.services))] = []
        elif kind == "plain":
            app.plain_modules.append(_next_name(PLAIN_MODULES, app.plain_modules))
        else:
            app.helper_modules.append(_next_name(HELPER_MODULES, app.helper_modules))


def _next_name(pool: List[str], taken: List[str]) -> str:
    for name in pool:
        if name not in taken:
            return name
    return f"{pool[0]}_{len(taken)}"


def _project_plans() -> List[FilePlan]:
    return [
        FilePlan("manage.py", "manage"),
        FilePlan("config/__init__.py", "config_init"),
        FilePlan("config/settings.py", "settings"),
        FilePlan("config/celery.py", "celery"),
        FilePlan("config/urls.py", "config_urls"),
        FilePlan("config/wsgi.py", "wsgi"),
    ]


def _app_plans(app: AppSpec) -> List[FilePlan]:
    a, n = app, app.name
    plans = [FilePlan(f"{n}/__init__.py", "init", a), FilePlan(f"{n}/apps.py", "apps", a)]
    plans += [FilePlan(f"{n}/{kind}.py", kind, a) for kind in ("models", "views", "serializers", "admin", "urls")]
    plans += [FilePlan(f"{n}/services/__init__.py", "init", a), FilePlan(f"{n}/utils/__init__.py", "init", a)]
    plans += [FilePlan(f"{n}/services/{m}.py", "service", a, m) for m in app.services]
    plans += [FilePlan(f"{n}/utils/{m}.py", "helpers", a, m) for m in app.helper_modules]
    plans += [FilePlan(f"{n}/utils/{m}.py", "plain", a, m) for m in app.plain_modules]
    plans += [FilePlan(f"{n}/{m}.py", "tasks", a, m) for m in app.task_modules]
    return plans


def _set_targets(rng: random.Random, plans: List[FilePlan], total: int) -> None:
    """Share the line budget by kind, with jitter, after what fixed-size files take."""
    fixed = sum(FIXED_LINES[p.kind] for p in plans if p.kind not in KIND_WEIGHT)
    weights = {id(p): KIND_WEIGHT[p.kind] * rng.uniform(0.6, 1.4) for p in plans if p.kind in KIND_WEIGHT}
    scale = max(0, total - fixed) / (sum(weights.values()) or 1)
    for plan in plans:
        if id(plan) in weights:
            plan.target = int(weights[id(plan)] * scale)


# --- rendering: each kind of file is a header plus blocks, filled up to its line target ---


def _fill(lines: List[str], target: int, make_block: Callable[[], List[str]], gap: int = 2) -> List[str]:
    """Append blocks until `target` lines; stop before a block that would overshoot more than it fills."""
    while len(lines) < target:
        block = [""] * gap + make_block()
        if len(lines) + len(block) - target > target - len(lines):
            break
        lines.extend(block)
    return lines


def _text(lines: List[str]) -> str:
    return "\n".join(lines).rstrip("\n") + "\n" if lines else ""


def _field_source(f: FieldSpec, app: str, model: str) -> str:
    if f.kind == "fk":
        target = f'"{f.target}"' if "." in f.target else f.target  # "app.Model": by label, no import
        target = "settings.AUTH_USER_MODEL" if f.target == "AUTH_USER_MODEL" else target
        extra = ", null=True, blank=True" if f.nullable else ""
        delete = "models.SET_NULL" if f.nullable else "models.CASCADE"
        return f'models.ForeignKey({target}, on_delete={delete}, related_name="{app}_{_snake(model)}_{f.name}s"{extra})'
    unique = ", unique=True" if f.unique else ""
    return {
        "char": f'models.CharField(max_length={64 if f.name in ("external_id", "reference") else 32}{unique}'
        + (', default="pending"' if f.name == "status" else ", blank=True" if f.name == "external_id" else "") + ")",
        "email": "models.EmailField(blank=True)",
        "decimal": 'models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))',
        "int": "models.PositiveIntegerField(default=0)",
        "bool": "models.BooleanField(default=True)",
        "datetime": "models.DateTimeField(default=timezone.now)",
        "text": "models.TextField(blank=True)",
    }[f.kind]


def _model_class(app: str, m: ModelSpec, rng: random.Random) -> List[str]:
    lines = [f"class {m.name}(models.Model):", f'    """A {_words(m.name)} of the {app} app."""', ""]
    lines += [f"    {f.name} = {_field_source(f, app, m.name)}" for f in m.fields]
    meta = []
    if m.unique_together:
        meta.append(f"        unique_together = [{m.unique_together!r}]")
    if m.constraint:
        fields = ", ".join(f'"{f}"' for f in m.constraint)
        meta += [
            "        constraints = [",
            f'            models.UniqueConstraint(fields=[{fields}], name="{_constraint_name(app, m)}"),',
            "        ]",
        ]
    if m.append_only or rng.random() < 0.5:
        meta.append('        ordering = ["-pk"]')
    if meta:
        lines += ["", "    class Meta:"] + meta
    lines += ["", "    def __str__(self) -> str:", f'        return f"{m.name} {{self.pk}}"']
    if m.has("status"):
        status = rng.choice(STATUSES)
        lines += [
            "",
            f"    def mark_{status}(self) -> None:",
            f'        self.status = "{status}"',
            '        self.save(update_fields=["status"])',
        ]
    return lines


def render_models(plan: FilePlan, rng: random.Random) -> str:
    app = plan.app
    lines = [f'"""Models of the {app.name} app."""', "", "from decimal import Decimal", ""]
    lines += ["from django.conf import settings", "from django.db import models", "from django.utils import timezone"]
    for m in app.models:
        lines += ["", ""] + _model_class(app.name, m, rng)
    names = Names()
    queryable = [m for m in app.models if m.has("status")] or app.models

    def query_helper() -> List[str]:
        m = rng.choice(queryable)
        status = rng.choice(STATUSES) if m.has("status") else None
        where = f'status="{status}"' if status else ""
        fn = names(f"{status or 'all'}_{_snake(m.name)}s")
        return [
            f"def {fn}(limit: int = {rng.choice([20, 50, 100, 500])}):",
            '    """The oldest matching rows first, for dashboards and exports."""',
            f'    return {m.name}.objects.filter({where}).order_by("pk")[:limit]',
        ]

    return _text(_fill(lines, plan.target, query_helper))


def _create_kwargs(m: ModelSpec, parent_expr: str, period_expr: str, indent: str) -> List[str]:
    """The kwargs a service or task passes to `Model.objects.create(...)`: some stable, some not."""
    values = {
        "status": '"pending"', "period": period_expr, "amount": 'Decimal("10.00")', "quantity": "1",
        "reference": "uuid.uuid4().hex", "email": '"billing@example.com"', "is_active": "True",
        "sent_at": "timezone.now()", "created_at": "timezone.now()", "kind": '"created"',
        "payload": f"str({parent_expr}.pk)", "name": '"default"',
        "number": f'format_reference("{m.name[:3].upper()}", {parent_expr}.pk, {period_expr})',
        "code": f'format_reference("C", {parent_expr}.pk, {period_expr})',
    }
    lines = [f"{indent}{m.parent}={parent_expr},"]
    lines += [f"{indent}{f.name}={values[f.name]}," for f in m.fields if f.name in values]
    return lines


def _service_class(app: AppSpec, s: ServiceSpec, others: List[ServiceSpec], rng: random.Random) -> List[str]:
    m = s.model
    lines = [
        f"class {s.name}:",
        f'    """Adds a {_words(m.name)} row under a {_words(m.parent)}: the step jobs and views share."""',
        "",
        "    def __init__(self, obj):",
        "        self.obj = obj",
        "",
        '    def execute(self, period: str = "2026-01"):',
        "        self._validate()",
        "        row = self._create(period)",
    ]
    if others and rng.random() < 0.3:
        lines.append(f"        {rng.choice(others).name}(self.obj).execute(period)")
    lines += [
        "        self._log(row)",
        "        return row",
        "",
        "    def _validate(self) -> None:",
        "        if self.obj is None or self.obj.pk is None:",
        '            raise ValueError("nothing to process")',
        "",
        "    def _create(self, period: str):",
        f"        return {m.name}.objects.create(",
    ]
    lines += _create_kwargs(m, "self.obj", "period", "            ") + ["        )", ""]
    lines += ["    def _log(self, row) -> None:", f'        logger.info("{_snake(s.name)}: %s", row.pk)']
    return lines


def _client_class(app: AppSpec) -> List[str]:
    return [
        f"class {app.client}:",
        f'    """Thin client for the {app.name} provider\'s HTTP API."""',
        "",
        f'    base_url = "https://api.{app.name.replace("_", "-")}.example.com/v1"',
        "",
        '    def __init__(self, token: str = "test-token"):',
        "        self.token = token",
        "",
        "    def post(self, path: str, payload: dict) -> dict:",
        "        response = requests.post(",
        '            f"{self.base_url}{path}",',
        "            json=payload,",
        '            headers={"Authorization": f"Bearer {self.token}"},',
        "            timeout=10,",
        "        )",
        "        response.raise_for_status()",
        "        return response.json()",
    ]


def render_service(plan: FilePlan, rng: random.Random) -> str:
    app, services = plan.app, plan.app.services[plan.module]
    models = sorted({s.model.name for s in services})
    lines = [f'"""{plan.module.capitalize()} services of the {app.name} app."""', ""]
    lines += ["import logging", "import uuid", "from decimal import Decimal", "", "import requests"]
    lines += ["from django.db import transaction", "from django.utils import timezone", ""]
    lines += [f"from {app.name}.models import {', '.join(models)}", f"from {app.name}.utils.helpers import format_reference"]
    lines += ["", "logger = logging.getLogger(__name__)"]
    if plan.module == app.client_module:
        lines += ["", ""] + _client_class(app)
    for i, s in enumerate(services):
        lines += ["", ""] + _service_class(app, s, services[:i], rng)
    names = Names()

    def summary_fn() -> List[str]:
        s = rng.choice(services)
        fn = names(f"summarize_{_snake(s.model.name)}s")
        return [
            f"def {fn}(rows) -> dict:",
            '    """Counts by status, for the daily report."""',
            "    counts: dict = {}",
            "    for row in rows:",
            '        key = getattr(row, "status", "n/a")',
            "        counts[key] = counts.get(key, 0) + 1",
            "    return counts",
        ]

    return _text(_fill(lines, plan.target, summary_fn))


# --- tasks: each family is a service call plus risky patterns on one model ---

_DECORATORS = ["@shared_task", "@shared_task(bind=True, max_retries=3)", "@app.task(bind=True)", "@app.task"]


def _decorated(rng: random.Random, name: str, args: str) -> List[str]:
    decorator = rng.choice(_DECORATORS)
    params = ["self"] * ("bind=True" in decorator) + ([args] if args else [])
    return [decorator, f"def {name}({', '.join(params)}):"]


def _parent_fetch(app: AppSpec, m: ModelSpec) -> str:
    parent = next(f for f in m.fields if f.name == m.parent)
    if parent.target == "AUTH_USER_MODEL":
        return "get_user_model().objects.get(pk=parent_id)"
    return f"{parent.target}.objects.get(pk=parent_id)"


def _task_family(app: AppSpec, s: ServiceSpec, names: Names, rng: random.Random) -> Tuple[List[str], List[str]]:
    """Tasks around one service's model; returns the lines and the models they use."""
    m, snake = s.model, _snake(s.model.name)
    fetch = _parent_fetch(app, m)
    used = [m.name] + ([m.field(m.parent).target] if m.field(m.parent).target != "AUTH_USER_MODEL" else [])
    blocks = [
        _decorated(rng, names(f"process_{snake}"), "parent_id: int, period: str") + [
            f"    parent = {fetch}",
            f"    row = {s.name}(parent).execute(period)",
            "    return row.pk",
        ]
    ]
    if not m.append_only and rng.random() < 0.6:
        blocks.append(_decorated(rng, names(f"record_{snake}"), "parent_id: int, period: str") + [
            f"    parent = {fetch}",
            f"    row = {m.name}.objects.create(",
            *_create_kwargs(m, "parent", "period", "        "),
            "    )",
            *([f'    {m.name}.objects.create({m.parent}=parent, {"period=period, " * m.has("period")}status="audit")']
              if rng.random() < 0.4 else []),
            "    return row.pk",
        ])
    if m.has("external_id") and rng.random() < 0.6:
        sync = names(f"sync_{snake}")
        blocks.append(_decorated(rng, sync, "row_id: int") + [
            f"    row = {m.name}.objects.get(pk=row_id)",
            f'    result = {app.client}().post("/{snake}s", {{"id": row.pk, "status": row.status}})',
            '    row.external_id = result["id"]',
            '    row.status = "synced"',
            "    row.save()",
        ])
        blocks.append(_decorated(rng, names(f"sync_pending_{snake}s"), "") + [
            f'    ids = list({m.name}.objects.filter(status="pending").values_list("pk", flat=True))',
            "    for row_id in ids:",
            f"        {sync}.delay(row_id)",
            "    return len(ids)",
        ])
    if rng.random() < 0.4:
        blocks.append(_decorated(rng, names(f"notify_{snake}"), "row_id: int") + [
            f"    row = {m.name}.objects.get(pk=row_id)",
            f'    send_mail("{m.name} {{}}".format(row.pk), "Details inside.", "noreply@example.com", ["ops@example.com"])',
        ])
    if rng.random() < 0.15:
        blocks.append(_decorated(rng, names("reset_password"), "user_id: int") + [
            "    user = get_user_model().objects.get(pk=user_id)",
            "    password = get_user_model().objects.make_random_password()",
            "    user.set_password(password)",
            "    user.save()",
            '    send_mail("Password reset", f"Your new password: {password}", "noreply@example.com", [user.email])',
        ])
    if rng.random() < 0.3:  # already safe: must be left alone
        blocks.append(_decorated(rng, names(f"purge_{snake}s"), "days: int = 30") + [
            f'    deleted, _ = {m.name}.objects.filter(pk__lt=days * 1000).delete()',
            "    return deleted",
        ])
    lines: List[str] = []
    for block in blocks:
        lines += ["", ""] + block
    return lines, used


def render_tasks(plan: FilePlan, rng: random.Random) -> str:
    app = plan.app
    services = [(module, s) for module, specs in app.services.items() for s in specs]
    names, body, used, imported = Names(), [], set(), {}

    def family() -> List[str]:
        module, s = rng.choice(services)
        lines, models = _task_family(app, s, names, rng)
        used.update(models)
        imported.setdefault(module, set()).add(s.name)
        return lines

    body = _fill([], max(1, plan.target - 20), family, gap=0) or family()
    head = [f'"""Celery tasks of the {app.name} app."""', "", "import logging", "import uuid", "from decimal import Decimal", ""]
    head += ["from celery import shared_task", "from django.contrib.auth import get_user_model"]
    head += ["from django.core.mail import send_mail", "from django.utils import timezone", ""]
    head += ["from config.celery import app", f"from {app.name}.models import {', '.join(sorted(used))}"]
    imported.setdefault(app.client_module, set()).add(app.client)
    head += [f"from {app.name}.services.{mod} import {', '.join(sorted(cls))}" for mod, cls in sorted(imported.items())]
    head += [f"from {app.name}.utils.helpers import format_reference", "", "logger = logging.getLogger(__name__)"]
    return _text(head + body)


# --- the rest of an app: views, serializers, admin, urls, helpers, plain utilities ---


def render_views(plan: FilePlan, rng: random.Random) -> str:
    app, root = plan.app, plan.app.models[0]
    others = app.models[1:] or app.models
    lines = [f'"""Views of the {app.name} app."""', "", "from django.http import JsonResponse"]
    lines += ["from django.shortcuts import get_object_or_404", "from django.views import View"]
    lines += ["from django.views.decorators.http import require_POST", ""]
    lines += [f"from {app.name}.models import {', '.join(m.name for m in app.models)}"]
    lines += ["", "", "def detail(request, pk: int):", f"    row = get_object_or_404({root.name}, pk=pk)"]
    lines += ['    return JsonResponse({"id": row.pk, "name": row.name})', "", ""]
    lines += ["class ListView(View):", "    def get(self, request):", f"        rows = {root.name}.objects.all()[:50]"]
    lines += ['        return JsonResponse({"results": [row.pk for row in rows]})']
    names = Names()

    def view() -> List[str]:
        m = rng.choice(others)
        snake, parent = _snake(m.name), m.field(m.parent).target
        parent = root.name if parent == "AUTH_USER_MODEL" else parent
        if rng.random() < 0.5 or not m.has("status"):
            return [
                f"def {names(snake + '_detail')}(request, pk: int):",
                f"    row = get_object_or_404({m.name}, pk=pk)",
                '    return JsonResponse({"id": row.pk, "created": str(getattr(row, "created_at", ""))})',
            ]
        return [
            "@require_POST",
            f"def {names(snake + '_create')}(request, parent_pk: int):",
            f"    parent = get_object_or_404({parent}, pk=parent_pk)",
            f'    row = {m.name}.objects.create({m.parent}=parent, status=request.POST.get("status", "pending"))',
            '    return JsonResponse({"id": row.pk}, status=201)',
        ]

    return _text(_fill(lines, plan.target, view))


def render_serializers(plan: FilePlan, rng: random.Random) -> str:
    app = plan.app
    lines = [f'"""API serializers of the {app.name} app."""', "", "from rest_framework import serializers", ""]
    lines += [f"from {app.name}.models import {', '.join(m.name for m in app.models)}"]
    names = Names()

    def serializer() -> List[str]:
        m = rng.choice(app.models)
        fields = ", ".join(f'"{f.name}"' for f in m.fields if f.kind != "fk")
        block = [
            f"class {names(m.name + 'Serializer')}(serializers.ModelSerializer):",
            "    display = serializers.CharField(source=\"__str__\", read_only=True)",
            "",
            "    class Meta:",
            f"        model = {m.name}",
            f'        fields = ["id", "display", {fields}]',
        ]
        if m.has("status"):
            block += [
                "",
                "    def validate_status(self, value: str) -> str:",
                f"        if value not in {tuple(STATUSES)!r}:",
                '            raise serializers.ValidationError("unknown status")',
                "        return value",
            ]
        return block

    return _text(_fill(lines, plan.target, serializer))


def render_admin(plan: FilePlan, rng: random.Random) -> str:
    app = plan.app
    lines = [f'"""Admin of the {app.name} app."""', "", "from django.contrib import admin", ""]
    lines += [f"from {app.name}.models import {', '.join(m.name for m in app.models)}"]
    for m in app.models:
        plain = [f.name for f in m.fields if f.kind != "fk"]
        lines += [
            "",
            "",
            f"@admin.register({m.name})",
            f"class {m.name}Admin(admin.ModelAdmin):",
            f'    list_display = ("id", {", ".join(repr(n) for n in plain[:4])})',
            f"    search_fields = ({plain[0]!r},)",
            f"    list_per_page = {rng.choice([25, 50, 100])}",
        ]
    return _text(lines)


def render_urls(plan: FilePlan, rng: random.Random) -> str:
    app = plan.app
    lines = [f'"""URLs of the {app.name} app."""', "", "from django.urls import path", "", "from . import views", ""]
    lines += [f'app_name = "{app.name}"', "", "urlpatterns = ["]
    lines += ['    path("<int:pk>/", views.detail, name="detail"),', '    path("", views.ListView.as_view(), name="list"),']
    return _text(lines + ["]"])


def render_helpers(plan: FilePlan, rng: random.Random) -> str:
    app = plan.app
    lines = [f'"""Small helpers the {app.name} services share."""', "", "from decimal import Decimal, ROUND_HALF_UP", ""]
    if plan.module == "helpers":
        lines += [
            "",
            "def format_reference(prefix: str, pk: int, period: str) -> str:",
            '    """A stable, human-readable reference: the same inputs always give the same string."""',
            '    return f"{prefix}-{pk:08d}-{period}"',
        ]
    names = Names()

    def helper() -> List[str]:
        places = rng.choice([2, 3, 4])
        return [
            f"def {names('round_' + rng.choice(['amount', 'rate', 'share', 'fee']))}(value) -> Decimal:",
            f'    """Round half up to {places} places, as the accounting team does."""',
            f'    return Decimal(value).quantize(Decimal("1.{"0" * places}"), rounding=ROUND_HALF_UP)',
        ]

    return _text(_fill(lines, plan.target, helper))


_PLAIN_BLOCKS = [
    lambda n, k: [
        f"def {n}(text: str, width: int = {k}) -> list:",
        '    """Split text into lines no wider than `width`, breaking on spaces."""',
        "    words, lines, current = text.split(), [], \"\"",
        "    for word in words:",
        "        if current and len(current) + 1 + len(word) > width:",
        "            lines.append(current)",
        "            current = word",
        "        else:",
        '            current = f"{current} {word}".strip()',
        "    return lines + ([current] if current else [])",
    ],
    lambda n, k: [
        f"def {n}(attempt: int, base: float = 0.{k}, cap: float = 60.0) -> float:",
        '    """Exponential delay for the n-th retry of an HTTP call, capped."""',
        "    return min(cap, base * (2 ** attempt))",
    ],
    lambda n, k: [
        f"def {n}(items, size: int = {k}):",
        '    """Yield successive chunks of `size` items."""',
        "    chunk = []",
        "    for item in items:",
        "        chunk.append(item)",
        "        if len(chunk) == size:",
        "            yield chunk",
        "            chunk = []",
        "    if chunk:",
        "        yield chunk",
    ],
    lambda n, k: [
        f"def {n}(x1: float, y1: float, x2: float, y2: float) -> float:",
        '    """Distance between two points, in the units given."""',
        f"    return ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 * {k}",
    ],
    lambda n, k: [
        f"class {n.title().replace('_', '')}:",
        '    """A tiny least-recently-used cache for lookups that repeat."""',
        "",
        f"    def __init__(self, size: int = {k}):",
        "        self.size = size",
        "        self.data: dict = {}",
        "",
        "    def get(self, key, default=None):",
        "        if key in self.data:",
        "            self.data[key] = self.data.pop(key)",
        "        return self.data.get(key, default)",
        "",
        "    def put(self, key, value) -> None:",
        "        self.data.pop(key, None)",
        "        self.data[key] = value",
        "        while len(self.data) > self.size:",
        "            self.data.pop(next(iter(self.data)))",
    ],
]
_PLAIN_NAMES = ["wrap_text", "retry_delay", "chunked", "distance", "small_cache"]


def render_plain(plan: FilePlan, rng: random.Random) -> str:
    """Utility code that says nothing about Celery or Django: a prefilter should never parse it."""
    lines = [f'"""{plan.module.capitalize()} utilities with no dependencies."""', "", "import math", "import string"]
    names = Names()

    def block() -> List[str]:
        i = rng.randrange(len(_PLAIN_BLOCKS))
        return _PLAIN_BLOCKS[i](names(_PLAIN_NAMES[i]), rng.randint(2, 99))

    return _text(_fill(lines, plan.target, block))


def render_settings(plan: FilePlan, rng: random.Random, apps: List[AppSpec]) -> str:
    lines = ['"""Settings of the synthetic project."""', "", 'SECRET_KEY = "benchmark-only"', "DEBUG = False"]
    lines += ["INSTALLED_APPS = [", '    "django.contrib.auth",', '    "django.contrib.contenttypes",']
    lines += [f'    "{app.name}",' for app in apps] + ["]"]
    lines += ['DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}']
    lines += ['CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"', "CELERY_TASK_ACKS_LATE = True"]
    lines += ['ROOT_URLCONF = "config.urls"']
    names = Names()

    def setting() -> List[str]:
        return [f"{names('FEATURE_' + rng.choice(APP_WORDS).upper())} = {rng.choice(['True', 'False'])}"]

    return _text(_fill(lines, plan.target, setting, gap=0))


def render_fixed(plan: FilePlan, apps: List[AppSpec]) -> str:
    if plan.kind == "init":
        return ""
    if plan.kind == "apps":
        name = plan.app.name
        return _text(["from django.apps import AppConfig", "", "", f"class {_camel(name)}Config(AppConfig):",
                      '    default_auto_field = "django.db.models.BigAutoField"', f'    name = "{name}"'])
    if plan.kind == "config_init":
        return _text(["from .celery import app as celery_app", "", '__all__ = ("celery_app",)'])
    if plan.kind == "celery":
        return _text(["import os", "", "from celery import Celery", "",
                      'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")', "",
                      'app = Celery("config")', 'app.config_from_object("django.conf:settings", namespace="CELERY")',
                      "app.autodiscover_tasks()"])
    if plan.kind == "config_urls":
        return _text(["from django.urls import include, path", "", "urlpatterns = ["]
                     + [f'    path("{a.name}/", include("{a.name}.urls")),' for a in apps] + ["]"])
    if plan.kind == "wsgi":
        return _text(["import os", "", "from django.core.wsgi import get_wsgi_application", "",
                      'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")',
                      "application = get_wsgi_application()"])
    if plan.kind == "manage":
        return _text(["#!/usr/bin/env python", '"""Django\'s command-line utility for administrative tasks."""',
                      "import os", "import sys", "", "", "def main() -> None:",
                      '    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")',
                      "    from django.core.management import execute_from_command_line", "",
                      "    execute_from_command_line(sys.argv)", "", "", 'if __name__ == "__main__":', "    main()"])
    raise ValueError(plan.kind)


RENDERERS = {
    "models": render_models, "service": render_service, "tasks": render_tasks, "views": render_views,
    "serializers": render_serializers, "admin": render_admin, "urls": render_urls,
    "helpers": render_helpers, "plain": render_plain,
}


def render(plan: FilePlan, rng: random.Random, apps: List[AppSpec]) -> str:
    if plan.kind in RENDERERS:
        return RENDERERS[plan.kind](plan, rng)
    if plan.kind == "settings":
        return render_settings(plan, rng, apps)
    return render_fixed(plan, apps)


# --- entry points ---


def generate(
    out_dir: Path,
    files: int = DEFAULT_FILES,
    seed: int = DEFAULT_SEED,
    lines_per_file: int = DEFAULT_LINES_PER_FILE,
    task_files: Optional[int] = None,
    task_ratio: float = DEFAULT_TASK_RATIO,
) -> dict:
    """Write the tree into `out_dir` (emptied first) and return counts: files, lines, task_files, apps.

    `task_files` fixes the number of task modules regardless of size; otherwise it is
    `task_ratio` of `files`. Same arguments and seed, same bytes.
    """
    rng = random.Random(seed)
    tasks = task_files if task_files is not None else max(1, round(files * task_ratio))
    plans = plan_project(rng, files, lines_per_file, tasks)
    apps = list({p.app.name: p.app for p in plans if p.app}.values())
    out_dir = Path(out_dir)
    _clear(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / MARKER).write_text(f"generated by bench/generate.py, seed {seed}; safe to delete\n")
    lines = 0
    for plan in plans:
        text = render(plan, rng, apps)
        path = out_dir / plan.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        lines += text.count("\n")
    return {"files": len(plans), "lines": lines, "task_files": tasks, "apps": len(apps), "seed": seed}


def _clear(out_dir: Path) -> None:
    """Empty a previous tree, but never a folder this script did not write (a mistyped --out)."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise FileExistsError(f"{out_dir} is not empty and was not written by bench/generate.py; not touching it")
        shutil.rmtree(out_dir)
    elif out_dir.exists():
        out_dir.rmdir()


def verify(out_dir: Path) -> int:
    """`ast.parse` every generated file; returns how many were checked (raises on the first failure)."""
    count = 0
    for path in sorted(Path(out_dir).rglob("*.py")):
        ast.parse(path.read_bytes(), filename=str(path))
        count += 1
    return count


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (emptied first)")
    parser.add_argument("--files", type=int, help=f"number of .py files (default {DEFAULT_FILES})")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the default file count (ignored with --files)")
    parser.add_argument("--lines-per-file", type=int, default=DEFAULT_LINES_PER_FILE, help="average lines per file")
    parser.add_argument("--task-files", type=int, help=f"task modules (default {DEFAULT_TASK_RATIO:.0%} of the files)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--verify", action="store_true", help="ast.parse every generated file")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    files = args.files or max(1, round(DEFAULT_FILES * args.scale))
    start = time.perf_counter()
    counts = generate(args.out, files=files, seed=args.seed, lines_per_file=args.lines_per_file, task_files=args.task_files)
    took = time.perf_counter() - start
    print(f"{args.out}: {counts['files']} files, {counts['lines']} lines, {counts['task_files']} task modules, "
          f"{counts['apps']} apps (seed {counts['seed']}) in {took:.1f}s")
    if args.verify:
        print(f"verified: {verify(args.out)} files parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
