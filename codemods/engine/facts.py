"""Plain data extracted from one module: what the index and the rules reason about.

Everything here is picklable and free of `ast` nodes, so summaries can cross process
boundaries and be cached by content hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Decorator:
    target: str  # dotted callee as written: "shared_task", "app.task", "celery.shared_task"
    called: bool  # written with parentheses: @shared_task(...)
    options: dict[str, object] = field(default_factory=dict)  # literal keyword options: bind=True
    arguments: tuple[str, ...] = ()  # positional arguments that are dotted names: @receiver(post_save, ...)
    references: dict[str, str] = field(default_factory=dict)  # keyword arguments that are dotted names: sender=Order
    keywords: tuple[str, ...] = ()  # every keyword argument's name: autoretry_for, acks_late, ...


@dataclass
class Kwarg:
    name: str | None  # None for a **splat
    source: str
    kind: str  # "literal" | "volatile" | "loop" | "other"
    why: str = ""  # for volatile values: the call that makes them differ between runs


@dataclass
class CreateSite:
    """A `<receiver>.create(...)` call that may be a Django ORM create."""

    line: int
    column: int  # in characters, as libcst counts them
    end_line: int
    method: str  # "create" | "acreate"
    receiver: str  # dotted expression before the manager: "Payout", "models.Payout", "self.order"
    manager: str  # "objects", "lines", ...
    kwargs: list[Kwarg]
    positional: bool  # has positional or *args arguments
    context: str  # "assign" | "bare" | "index"
    in_loop: bool
    receiver_type: str = ""  # the class the receiver was built from in this function: `client = Client(...)`
    guard: str = ""  # why the create is already safe, if it is
    suppressed: frozenset[str] = frozenset()  # rules named in idem-fix: ignore comments ("*" for all)


@dataclass
class Effect:
    """A call with a side effect (see engine/effects.py for the kinds)."""

    kind: str
    line: int
    column: int
    end_line: int
    call: str  # the callee as written: "Payout.objects.create", "client.create_booking"
    receiver: str  # what the method is called on, as written ("" for plain functions)
    statement: int  # first line of the statement holding it
    target: str = ""  # the name or attribute its result is assigned to, if any
    in_loop: bool = False
    in_atomic: bool = False  # inside `with transaction.atomic()` / `with atomic()`
    skips_conflicts: bool = False  # bulk_create(..., ignore_conflicts=True) or update_conflicts=True
    deferred: bool = False  # runs only once the transaction commits: in a lambda or nested function given to on_commit
    # what more the kind says: for an external call the service its library reaches ("payment", "paid_call",
    # "webhook"); for a save, "new_row" when the row was built in the function (`row = Model(...)`), "read_row" when
    # a query returned it, "increment" when a field of it was counted up first (as for an update by `F("n") + 1`)
    family: str = ""


@dataclass
class Lookup:
    """An ORM query naming its fields: `Payout.objects.filter(account=a, period=p)` -> ("account", "period")."""

    line: int
    receiver: str  # as for CreateSite
    manager: str
    method: str  # get | get_or_create | update_or_create | filter, and what is called on its result: filter.first
    fields: tuple[str, ...]  # keyword names as written (`account_id`, `pk` included), sorted


@dataclass
class Function:
    name: str
    qualname: str  # "CreatePayout.execute"
    line: int  # of the `def`
    end_line: int
    decorators: list[Decorator]
    calls: list[str]  # call references, see names.call_reference
    refs: list[str]  # dotted names read in the body that might be task decorators
    creates: list[CreateSite]
    effects: list[Effect] = field(default_factory=list)
    atomic: bool = False  # decorated with @transaction.atomic / @atomic
    is_async: bool = False
    suppressed: frozenset[str] = frozenset()
    first_line: int = 0  # of its first decorator (the `def` line when it has none)
    lookups: list[Lookup] = field(default_factory=list)
    # calls the analysis cannot follow, as (line, the callee as written, why): an element of a plugin list,
    # what getattr() or a registry returns, a callable passed in
    unfollowed: list[tuple[int, str, str]] = field(default_factory=list)
    # (line, seconds) of each literal wait given to apply_async / retry / a signature: `countdown=`, `eta=now + timedelta(...)`
    countdowns: list[tuple[int, float]] = field(default_factory=list)
    # call references every call of which runs only after the commit (inside a lambda or function given to on_commit)
    deferred_calls: list[str] = field(default_factory=list)


@dataclass
class ModelField:
    name: str
    kind: str  # "CharField", "ForeignKey", ...
    target: str = ""  # related model as written, for relations
    unique: bool = False
    primary_key: bool = False
    related_name: str = ""
    null: bool = False
    default: str | None = None  # the default as written; None when the field has none


@dataclass
class Constraint:
    fields: tuple[str, ...]
    name: str
    conditional: bool = False
    origin: str = "UniqueConstraint"  # or "unique_together"
    condition_fields: tuple[str, ...] = ()  # fields a conditional constraint's Q(...) reads


@dataclass
class Class:
    name: str
    qualname: str
    line: int
    bases: list[str]
    methods: dict[str, Function]
    fields: dict[str, ModelField]
    constraints: list[Constraint]
    managers: list[str]
    abstract: bool = False
    meta: dict[str, object] = field(default_factory=dict)  # literal Meta options rules read: proxy, managed
    attributes: tuple[str, ...] = ()  # names the class body assigns: autoretry_for, max_retries, ...
    options: dict[str, object] = field(default_factory=dict)  # Celery task options it sets to a literal: acks_late


@dataclass
class Setting:
    """A Celery setting written in this module: `CELERY_TASK_ACKS_LATE = True`, `app.conf.update(...)`."""

    name: str  # Celery's lowercase name: "task_acks_late", "broker_transport_options"
    source: str  # the value as written
    value: object  # the literal value, or None when it is computed
    line: int
    written: str  # the name as written: "CELERY_TASK_ACKS_LATE", "app.conf.task_acks_late"
    note: str = ""  # where the value comes from when it is not written out: "from $X, default 3600"
    ignored: str = ""  # the name Celery reads instead, when it ignores this one: "CELERY_WORKER_PREFETCH_MULTIPLIER"
    block: str = ""  # "" module level, "class Name" in a class body, "nested" in an if / try / with
    statement_line: int = 0  # where the statement that writes it starts (line is the value's)


@dataclass
class ConfigSource:
    """`app.config_from_object("django.conf:settings", namespace="CELERY")`: where an app reads settings."""

    app: str  # the app as written: "app", "celery_app"
    source: str  # "django.conf:settings", "proj.celeryconfig", or a name for an object or module
    namespace: str | None  # the prefix Celery strips, None when the call gives none
    line: int


@dataclass
class Module:
    path: str  # absolute path of the file
    name: str  # dotted module name
    is_package: bool
    imports: dict[str, str]  # local name -> dotted target
    star_imports: list[str]
    functions: dict[str, Function]
    classes: dict[str, Class]
    celery_apps: list[str]  # module-level names bound to Celery(...)
    registrations: list[tuple[str, str]]  # (decorator-like callee, registered dotted name): app.task(fn)
    throwaway: str  # a name free in this module, for the unused half of a get_or_create tuple
    imported_modules: list[str]  # dotted modules this one imports (for lazy loading)
    settings: list[Setting] = field(default_factory=list)
    config_sources: list[ConfigSource] = field(default_factory=list)
    # `# idem-fix: ignore[...]` comments by line (0: ignore-file), for findings of no rule (see assess)
    suppressions: dict[int, frozenset[str]] = field(default_factory=dict)
    # (signal, handler, sender) for `post_save.connect(handler, sender=Order)`, as written, anywhere in the module
    signal_connections: list[tuple[str, str, str]] = field(default_factory=list)
    # module-level names bound to what may be a task decorator: `project_task = shared_task`,
    # `retrying = shared_task(bind=True)`, `locked = partial(app.task, ...)` -> that decorator and its options
    decorator_aliases: dict[str, Decorator] = field(default_factory=dict)
