"""A task that sends a message (email, SMS, push, Slack) -> claim a "sent" flag before its first side effect.

A redelivered task sends its message again, and redoes what came before the send: a welcome task
that resets a password and then emails it leaves two emails behind, the first one's password dead.
The fix claims a flag on the object the message is about (the object the task fetched whose email or
phone is used), atomically, before the task's first side effect:

    if not Host.objects.filter(pk=host.pk, welcome_email_sent=False).update(welcome_email_sent=True):
        return

and adds `welcome_email_sent = models.BooleanField(default=False)` to the model class in its models.py
(the user runs makemigrations). `mark-after` mode checks the flag first and sets it after the send
instead (at least once); the `cache` store claims `cache.add(key)` for projects that cannot add a field.

Options: `Options.flag_mode` / `Options.flag_store` (`--flag-mode`, `--flag-store`), else
`[tool.idem-fix] sent-flag-mode` / `sent-flag-store`; `sent-flag-names` (task -> field name),
`sent-flag-helpers` (more send helpers, as name globs) and `sent-flag-cache-timeout` (seconds).
"""

from __future__ import annotations

from pathlib import Path

import ast
import fnmatch
import io
import re
import sys
import tokenize
import unicodedata
from dataclasses import dataclass, field

import libcst as cst

from ..engine import effects, facts
from ..engine.edits import PositionedTransformer
from ..engine.imports import ensure_from_import, is_docstring
from ..engine.names import call_reference, dotted, local_types
from ..engine.project import FunctionKey, Model, Project, Task
from ..engine.levels import Applicability
from ..engine.rules import Finding, Options, Rule, from_status, money_risk, suppressed
from ..engine.source import SourceText, parse_function
from ..engine.walk import child_nodes, walk

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

NAME = "sent-flag"
MODES = ("claim-before", "mark-after")
STORES = ("field", "cache")
DEFAULT_TIMEOUT = 60 * 60 * 24 * 7  # a week: far longer than any broker redelivers a task
CACHE_PREFIX = "sent-flag"
CACHE = "\x00cache\x00"  # stands for the cache's local name in planned code, until the file's imports are known

# Words that make a condition a "was it sent already?" check: `if host.welcome_email_sent`, `sent_at`.
FLAG_WORDS = frozenset(
    {"sent", "notified", "emailed", "mailed", "texted", "messaged", "welcomed", "reminded", "invited", "alerted"}
)
# Models and managers an existence check reads when it is an audit of sent messages.
AUDIT_WORDS = frozenset(
    {
        "log",
        "logs",
        "audit",
        "audits",
        "sent",
        "delivery",
        "deliveries",
        "notification",
        "notifications",
        "message",
        "messages",
        "email",
        "emails",
        "outbox",
        "history",
        "receipt",
        "receipts",
    }
)
# Bases that make a model the user model, which `get_user_model()` returns.
USER_BASES = frozenset({"AbstractUser", "AbstractBaseUser"})
# The `class Meta` options the rule reads.
READ_META_OPTIONS = ("proxy", "managed")
CACHE_CHECKS = frozenset({"add", "get", "has_key", "get_or_set", "incr"})
ONE_TIME = re.compile(
    r"(^|_)(otp|one_?time|login_code|login_link|magic_link|passcode|pass_code|verification_code|verify_code|"
    r"2fa|two_factor|mfa|auth_code|security_code|login_token|sign_in_code|signin_code)(_|$)"
)
RESEND = re.compile(r"(^|_)re_?send(_|$)|^resend|resend_")
# Sends the engine's effect facts do not name (yet): pushes through SDK functions.
EXTRA_SENDS = frozenset({"firebase_admin.messaging.send", "firebase_admin.messaging.send_all", "pywebpush.webpush"})
# Which argument of a send names its recipient, to tell the object the message is about.
RECIPIENT_KEYWORDS = frozenset(
    {
        "to",
        "recipient_list",
        "recipients",
        "recipient",
        "phone",
        "phone_number",
        "number",
        "email",
        "user",
        "channel",
        "token",
        "tokens",
        "registration_id",
        "registration_ids",
        "device",
        "devices",
        "bcc",
        "cc",
    }
)
# Effect kinds a redelivery may repeat without harm: a claim need not come before them.
HARMLESS_KINDS = frozenset({"external_read"})
FETCH_METHODS = frozenset({"get", "first", "last", "earliest", "latest", "aget", "afirst", "alast"})
VERBS = frozenset({"send", "notify", "email", "mail", "text", "push", "deliver", "dispatch", "post"})
FILLERS = frozenset({"of", "about", "for", "to", "on", "the", "a", "an", "new"})
TRAILING = frozenset({"task", "job", "async"})
FIELD_CALLS = re.compile(r"(Field|ForeignKey|ForeignObject|ParentalKey)$")
_LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- plans --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """In the task's file: a check before the statement starting on `before`, and (mark-after) a mark
    after the statement starting on `after`. CACHE in the code stands for the cache's local name."""

    line: int  # the send (or the call leading to it) the finding reports
    column: int
    before: int
    after: int  # 0 when nothing goes after the send (claim-before)
    check: tuple[str, str]  # `if ...:` and the statement under it
    mark: str
    cache: bool


@dataclass(frozen=True)
class AddField:
    """In the model's file: `<field> = models.BooleanField(default=False)` in class `model`."""

    line: int  # the `class` line
    column: int
    model: str
    field: str


# --- settings -----------------------------------------------------------------------------------


@dataclass
class _Settings:
    mode: str = "claim-before"
    store: str = "field"
    names: dict[str, str] = field(default_factory=dict)
    helpers: tuple[str, ...] = ()
    timeout: int = DEFAULT_TIMEOUT
    error: str = ""


def _section(project: Project) -> dict:
    """The `[tool.idem-fix]` table: from the engine's config when it keeps it, else read here."""
    config = project.config
    section = getattr(config, "section", None)
    if isinstance(section, dict):
        return section
    path = getattr(config, "path", None)
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("idem-fix", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def read_settings(project: Project, options: Options) -> _Settings:
    """Command-line options win over `[tool.idem-fix]`, which wins over the defaults."""
    section = _section(project)
    where = "[tool.idem-fix] in pyproject.toml"
    settings = _Settings()
    problems = []

    def choose(key: str, option: str, allowed: tuple[str, ...]) -> str:
        cli = getattr(options, option, None)
        value = cli if cli is not None else section.get(key, allowed[0])
        if value not in allowed:
            problems.append(f'{key} = {value!r} is not one of {", ".join(allowed)}')
            return allowed[0]
        return value

    settings.mode = choose("sent-flag-mode", "flag_mode", MODES)
    settings.store = choose("sent-flag-store", "flag_store", STORES)
    names = section.get("sent-flag-names", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) and _IDENTIFIER.match(v) for v in names.values()):
        problems.append(
            'sent-flag-names maps a task to a field name, e.g. "send_host_welcome_email" = "welcome_email_sent"'
        )
    else:
        settings.names = dict(names)
    helpers = section.get("sent-flag-helpers", [])
    if not isinstance(helpers, list) or not all(isinstance(h, str) for h in helpers):
        problems.append('sent-flag-helpers is a list of function names or globs, e.g. ["deliver_*"]')
    else:
        settings.helpers = tuple(helpers)
    timeout = section.get("sent-flag-cache-timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        problems.append("sent-flag-cache-timeout is a number of seconds")
    else:
        settings.timeout = timeout
    if problems:
        settings.error = f"{where}: " + "; ".join(problems)
    return settings


# --- the project, as this rule reads it ---------------------------------------------------------


class _Context:
    """Memoised facts over the index: what each function reaches, sends and changes."""

    def __init__(self, project: Project, settings: _Settings):
        self.project = project
        self.settings = settings
        self._reach: dict[FunctionKey, list[FunctionKey]] = {}
        self._targets: dict[tuple[FunctionKey, str], list[FunctionKey]] = {}
        self._direct: dict[FunctionKey, bool] = {}
        self._callees: dict[FunctionKey, list[FunctionKey]] = {}
        self._reaches: dict[FunctionKey, bool] = {}
        self._effects: dict[FunctionKey, bool] = {}
        self._send_references: dict[tuple[str, str], bool] = {}
        self._texts: dict[str, str | None] = {}
        self._sources: dict[str, SourceText] = {}
        self._split: dict[str, list[str]] = {}
        self._views: dict[FunctionKey, _View | None] = {}
        self._user_model: list[Model] | None = None
        self._meta_trees: dict[str, ast.Module | None] = {}  # None: no Meta option the rule reads

    def targets(self, key: FunctionKey, reference: str) -> list[FunctionKey]:
        memo = (key, reference)
        if memo not in self._targets:
            try:
                self._targets[memo] = self.project.call_targets(key, reference)
            except (RecursionError, KeyError):
                self._targets[memo] = []
        return self._targets[memo]

    def callees(self, key: FunctionKey) -> list[FunctionKey]:
        """What the function's calls may run, in call order, each once."""
        found = self._callees.get(key)
        if found is None:
            function = self.project.function(key)
            unique: dict[FunctionKey, None] = {}
            for reference in function.calls if function else ():
                for target in self.targets(key, reference):
                    unique[target] = None
            found = self._callees[key] = list(unique)
        return found

    def reach(self, start: FunctionKey) -> list[FunctionKey]:
        if start not in self._reach:
            order, seen = [start], {start}
            for key in order:
                for target in self.callees(key):
                    if target not in seen:
                        seen.add(target)
                        order.append(target)
            self._reach[start] = order
        return self._reach[start]

    def sends_directly(self, key: FunctionKey) -> bool:
        if key not in self._direct:
            function = self.project.function(key)
            self._direct[key] = bool(function) and (
                any(e.kind == "send" for e in function.effects)
                or any(self.is_send_reference(key.module, r) for r in function.calls)
            )
        return self._direct[key]

    def reaches_send(self, start: FunctionKey) -> bool:
        """Does anything the function reaches send? Searched until a send turns up; a search that finds
        none clears everything it went through, so later searches stop there. A function that does send
        gets its whole reach resolved at once all the same: what a call may run can change once reading
        models has loaded more modules."""
        if start not in self._reaches:
            order, seen = [start], {start}
            found = False
            for key in order:
                known = self._reaches.get(key)
                if known is False:
                    continue
                if known or self.sends_directly(key):
                    found = True
                    break
                for target in self.callees(key):
                    if target not in seen:
                        seen.add(target)
                        order.append(target)
            if found:
                self._reaches[start] = True
                self.reach(start)
            else:
                self._reaches.update(dict.fromkeys(order, False))
        return self._reaches[start]

    def has_effects(self, key: FunctionKey) -> bool:
        if key not in self._effects:
            self._effects[key] = any(self._changes(k) for k in self.reach(key))
        return self._effects[key]

    def _changes(self, key: FunctionKey) -> bool:
        function = self.project.function(key)
        return bool(function) and (
            any(e.kind not in HARMLESS_KINDS for e in function.effects) or self.sends_directly(key)
        )

    def is_send_reference(self, module: str, reference: str) -> bool:
        """Is the reference, written in the module, a send the effect facts do not name?"""
        memo = (module, reference)
        if memo not in self._send_references:
            summary = self.project.module(module)
            self._send_references[memo] = self._names_send(reference, summary.imports if summary else {})
        return self._send_references[memo]

    def _names_send(self, reference: str, imports: dict[str, str]) -> bool:
        reference = reference.removeprefix("new:")
        helpers = self.settings.helpers
        if helpers:
            last = reference.rsplit(".", 1)[-1]
            if any(fnmatch.fnmatchcase(last, g) or fnmatch.fnmatchcase(reference, g) for g in helpers):
                return True
        head, _, rest = reference.partition(".")
        full = imports.get(head, head) + (f".{rest}" if rest else "")
        return full in EXTRA_SENDS

    def text(self, module: str) -> str | None:
        if module not in self._texts:
            try:
                data = self.project.source_bytes(module)
                encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
                self._texts[module] = data.decode(encoding, errors="replace")
            except (OSError, SyntaxError, KeyError):
                self._texts[module] = None
        return self._texts[module]

    def source(self, module: str) -> SourceText:
        """One SourceText per module (given its text), shared by the views of its functions."""
        if module not in self._sources:
            self._sources[module] = SourceText(self.text(module) or "")
        return self._sources[module]

    def splitlines(self, module: str) -> list[str]:
        """`str.splitlines()` of the module's text, split once per module."""
        if module not in self._split:
            self._split[module] = (self.text(module) or "").splitlines()
        return self._split[module]

    def view(self, key: FunctionKey) -> "_View | None":
        if key not in self._views:
            self._views[key] = None
            function = self.project.function(key)
            text = self.text(key.module)
            summary = self.project.module(key.module)
            if function and text is not None and summary:
                node = self._function_node(key, function)
                if node is not None:
                    self._views[key] = _View(self, key, node, summary.imports, self.source(key.module))
        return self._views[key]

    def _function_node(self, key: FunctionKey, function: facts.Function):
        """The function's `ast`: parsed from its own lines, as parsing its whole module costs far more; from the
        module's tree when its lines do not parse alone."""
        node = parse_function(self.source(key.module).lines, function)
        if node is None:
            tree = self.project.tree(key.module)
            node = next(
                (
                    n
                    for n in (walk(tree) if tree is not None else ())
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and n.lineno == function.line
                    and n.name == function.name
                ),
                None,
            )
        return node

    def user_models(self) -> list[Model]:
        """Project models that are the user model (subclasses of AbstractUser / AbstractBaseUser)."""
        if self._user_model is None:
            found = []
            # Loading every model file costs seconds on a big repo: first make sure some file names a user base.
            for model in self.project.all_models() if _names_user_base(self.project) else ():
                bases = {b.rsplit(".", 1)[-1] for b in self.project.external_bases(model.module, model.name)}
                if bases & USER_BASES:
                    found.append(model)
            self._user_model = found
        return self._user_model

    def meta_options(self, model: Model, line: int) -> dict[str, object]:
        """The model's `class Meta` options, for the ones the rule reads (proxy, managed): its module is
        parsed only when its text names one of them."""
        if model.module not in self._meta_trees:
            try:
                named = _may_spell(self.project.source_bytes(model.module), READ_META_OPTIONS)
            except (OSError, KeyError):
                named = False
            self._meta_trees[model.module] = self.project.tree(model.module) if named else None
        return _meta_options(self._meta_trees[model.module], line, model.name)


@dataclass
class _Root:
    """An object the task fetched: `host = Host.objects.select_related("user").get(pk=host_id)`."""

    name: str
    statement: ast.stmt
    model_expr: str  # "Host", "models.Host", "get_user_model()"
    manager: str  # "objects"
    model: Model | None  # None when it is not a project model
    outside: str  # what it is when not a project model: "django.contrib.auth.models.User"
    ids: tuple[str, ...]  # task parameters the fetch uses


class _View:
    """One function's `ast` with what the rule asks of it: statements and blocks, calls and what they do."""

    def __init__(
        self,
        context: _Context,
        key: FunctionKey,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        imports,
        source: SourceText,
    ):
        self.context = context
        self.key = key
        self.node = node
        self.imports = imports
        self.source = source
        self.text_lines = context.splitlines(key.module)
        self.parents: dict[ast.AST, ast.AST] = {}
        self.nodes: list[ast.AST] = []  # the body, nested functions and classes left out
        pending: list[ast.AST] = list(node.body)
        for child in node.body:
            self.parents[child] = node
        while pending:
            current = pending.pop()
            self.nodes.append(current)
            if isinstance(current, _SCOPES):
                continue
            for child in child_nodes(current):
                self.parents[child] = current
                pending.append(child)
        self.nodes.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
        self.blocks: dict[ast.stmt, tuple[ast.AST, list[ast.stmt], int]] = {}
        self._index_blocks(node)
        self.calls = [n for n in self.nodes if isinstance(n, ast.Call)]
        self.local_types = self._local_types()
        self.email_names = {n for n, c in self.local_types.items() if c.rsplit(".", 1)[-1] in effects.EMAIL_CLASSES}
        self._kinds: dict[ast.Call, tuple[str, str] | None] = {}
        self._classified: dict[ast.Call, tuple[str, str] | None] = {}

    def _index_blocks(self, owner: ast.AST) -> None:
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(owner, name, None)
            if not isinstance(block, list):
                continue
            for index, statement in enumerate(block):
                if isinstance(statement, ast.stmt):
                    self.blocks[statement] = (owner, block, index)
                if isinstance(statement, _SCOPES):
                    continue
                if isinstance(statement, (ast.stmt, ast.excepthandler)) or type(statement).__name__ == "match_case":
                    self._index_blocks(statement)

    def segment(self, node: ast.AST | None) -> str:
        return self.source.segment(node) if node is not None else ""

    def _local_types(self) -> dict[str, str]:
        return local_types(self.nodes)

    def reference(self, func: ast.expr) -> str | None:
        return call_reference(func, self.local_types)

    def kind(self, call: ast.Call) -> tuple[str, str] | None:
        """("send" | "effect", what) for a call that sends or changes something, itself or in what it calls."""
        if call not in self._kinds:
            self._kinds[call] = self._kind(call)
        return self._kinds[call]

    def _kind(self, call: ast.Call) -> tuple[str, str] | None:
        found = self._classify(call)
        if found and found[0] in HARMLESS_KINDS:
            found = None
        written = _callee(self, call)
        if found and found[0] == "send":
            return "send", written
        reference = self.reference(call.func)
        if reference and self.context.is_send_reference(self.key.module, reference):
            return "send", written
        targets = self.context.targets(self.key, reference) if reference else []
        if any(self.context.reaches_send(t) for t in targets):
            return "send", written
        if found:
            return "effect" if found[0] != "credential" else "credential", written
        if any(self.context.has_effects(t) for t in targets):
            return "effect", written
        return None

    def raw_kind(self, call: ast.Call) -> str:
        found = self._classify(call)
        return found[0] if found else ""

    def _classify(self, call: ast.Call) -> tuple[str, str] | None:
        """The engine's effect classification of the call, made once."""
        if call not in self._classified:
            try:
                self._classified[call] = effects.classify(call, self.imports, self.segment, self.email_names)
            except Exception:  # noqa: BLE001 - an engine change must not crash the rule
                self._classified[call] = None
        return self._classified[call]

    def ancestors(self, node: ast.AST) -> list[ast.AST]:
        chain = []
        while node in self.parents and node is not self.node:
            node = self.parents[node]
            chain.append(node)
        return chain

    def in_loop(self, node: ast.AST) -> ast.AST | None:
        return next((a for a in self.ancestors(node) if isinstance(a, _LOOPS)), None)

    def statement_in(self, node: ast.AST, block: list[ast.stmt]) -> int | None:
        """The index in `block` of the statement holding `node`, if one does."""
        for candidate in [node, *self.ancestors(node)]:
            where = self.blocks.get(candidate)
            if where is not None and where[1] is block:
                return where[2]
        return None

    def parameters(self) -> list[str]:
        args = self.node.args
        names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
        if names and names[0] in {"self", "cls"}:
            names = names[1:]
        return names


# --- the rule -----------------------------------------------------------------------------------


class SentFlag(Rule):
    def detect(self, project: Project, options: Options) -> list[Finding]:
        settings = read_settings(project, options)
        context = _Context(project, settings)
        findings: list[Finding] = []
        fields: dict[tuple[str, str, str], str] = {}  # (module, model, field) -> the task that claims it
        checks = [_TaskCheck(context, task, fields) for task in project.tasks if context.reaches_send(task.key)]
        # First the tasks that already check a flag: they keep theirs, whatever order the files come in.
        for check in checks:
            try:
                check.flagged()
            except RecursionError:
                pass
        for check in checks:
            try:
                findings.extend(check.run())
            except RecursionError:  # pathological nesting: report, never crash the run
                findings.append(
                    _finding(
                        project,
                        check.task.key.module,
                        check.task.line,
                        "moderate",
                        f"{check.task.name}: too deeply nested to analyse; not rewritten",
                        "manual",
                        task=check.task,
                    )
                )
        return findings

    def transform(self, module: cst.Module, plans: list) -> tuple[cst.Module, list]:
        claims = [p for p in plans if isinstance(p, Claim)]
        adds = [p for p in plans if isinstance(p, AddField)]
        cache_name = "cache"
        if any(p.cache for p in claims):
            _, cache_name = ensure_from_import(module, "django.core.cache", "cache")
        field_callee = {name: _field_callee(module, name) for name in {p.model for p in adds}}
        result, transformer = _Rewrite.run(module, claims, adds, cache_name, field_callee)
        partial = [c for c in claims if transformer.placed.get(c) and c not in transformer.applied]
        if partial:  # a check without its mark (or the reverse) is never written: redo without those plans
            claims = [c for c in claims if c not in partial]
            result, transformer = _Rewrite.run(module, claims, adds, cache_name, field_callee)
        if any(p.cache for p in transformer.applied if isinstance(p, Claim)):
            result, _ = ensure_from_import(result, "django.core.cache", "cache")
        for package, name in sorted({need for need, used in transformer.imports_needed.items() if used}):
            result, _ = ensure_from_import(result, package, name)
        return result, transformer.applied


def _finding(
    project: Project, module: str, line: int, risk: str, message: str, status: str, plan=None, task: Task | None = None
) -> Finding:
    return Finding(
        NAME, module, project.display(module), line, risk, message, from_status(status), plan=plan, task=task.name if task else ""
    )


class _TaskCheck:
    """Everything the rule decides about one task that reaches a send."""

    def __init__(self, context: _Context, task: Task, fields: dict):
        self.context = context
        self.project = context.project
        self.settings = context.settings
        self.task = task
        self.fields = fields
        self.function = self.project.function(task.key)
        self.short = task.key.qualname.split(".")[0] if task.key.qualname.endswith(".run") else self.function.name
        self._flagged: str | None = None

    def flagged(self) -> str:
        """Why the task already sends once ("" when it does not); reserves its flag name when it does."""
        if self._flagged is None:
            self._flagged = ""
            view = self.context.view(self.task.key)
            if view is not None:
                sends = [c for c in view.calls if (view.kind(c) or ("",))[0] == "send"]
                self._flagged = self._already_flagged(view, sends)
                if self._flagged:
                    self._reserve(view, sends)
        return self._flagged

    # --- reporting --------------------------------------------------------------------------

    def report(
        self, line: int, message: str, status: str, risk: str = "high", plan=None, module: str | None = None
    ) -> Finding:
        return _finding(
            self.project,
            module or self.task.key.module,
            line,
            risk if status != "ok" else "low",
            message,
            status,
            plan,
            self.task,
        )

    def run(self) -> list[Finding]:
        view = self.context.view(self.task.key)
        name = self.short
        if view is None:
            return [
                self.report(
                    self.task.line,
                    f"{name} sends a message but its source could not be read again; not rewritten",
                    "manual",
                )
            ]
        sends = [c for c in view.calls if (view.kind(c) or ("",))[0] == "send"]
        line = sends[0].lineno if sends else self.task.line
        if suppressed(NAME, self.function.suppressed) or self._suppressed_line(view, sends):
            return [self.report(line, f"{name}: left alone, suppressed by an `# idem-fix: ignore` comment", "ok")]
        lowered = _snake(name)
        if RESEND.search(lowered):
            return [self.report(line, f"{name} left alone: an explicit resend, sending again is its job", "ok")]
        if ONE_TIME.search(lowered) or any(
            ONE_TIME.search(_snake(view.segment(c.func).rsplit(".", 1)[-1])) for c in sends
        ):
            return [
                self.report(
                    line,
                    f"{name} left alone: it sends a one-time login or verification code; each request "
                    "must get a fresh code, and the code's own expiry makes a repeat harmless",
                    "ok",
                )
            ]
        if self.settings.error:
            return [self.report(line, f"{name} sends a message; not rewritten: {self.settings.error}", "manual")]
        guard = self.flagged()
        if guard:
            return [self.report(line, f"{name} left alone: {guard}", "ok")]
        if isinstance(view.node, ast.AsyncFunctionDef):
            return [
                self.report(
                    line, f"{name} is an async task; sent-flag rewrites only plain tasks, flag it by hand", "manual"
                )
            ]
        if not sends:
            return [
                self.report(
                    line, f"{name} reaches a send, but not through a call this rule can place; not rewritten", "manual"
                )
            ]
        what = _describe(view, sends[0])
        looped = self._looped_send(view, sends)
        if looped:
            return [
                self.report(
                    looped[0],
                    f"{name} {what} inside a loop ({looped[1]}): one flag for the task would drop the "
                    "remaining recipients when a run dies mid-loop, and the rule cannot tell the "
                    "message's subject per recipient; flag each recipient (a per-recipient sent "
                    "row or field) by hand",
                    "manual",
                )
            ]
        roots = self._roots(view)
        if not roots:
            return [
                self.report(
                    line,
                    f"{name} {what} with no single object fetched from the database (`Model.objects.get(...)`) "
                    "to flag: a generic transport task (recipients and text come from its caller) or a "
                    "bulk send; deduplicate where it is queued, or pass an id and flag that object",
                    "manual",
                    risk="moderate",
                )
            ]
        root = self._subject(view, sends, roots)
        if isinstance(root, str):
            return [self.report(line, f"{name} {what}; not rewritten: {root}", "manual")]
        return self._fix(view, sends, root, what)

    # --- what is left alone -----------------------------------------------------------------

    def _suppressed_line(self, view: _View, sends: list[ast.Call]) -> bool:
        lines = view.text_lines
        for call in sends:
            statement = next((a for a in [call, *view.ancestors(call)] if isinstance(a, ast.stmt)), None)
            first = statement.lineno if statement is not None else call.lineno
            for number in (first - 1, *range(first, (call.end_lineno or call.lineno) + 1)):
                if 0 < number <= len(lines):
                    text = lines[number - 1]
                    if number == first - 1 and not text.lstrip().startswith("#"):
                        continue
                    match = re.search(r"#\s*idem-fix:\s*ignore(?:\[([^\]]*)\])?", text)
                    if match and (match.group(1) is None or NAME in {r.strip() for r in match.group(1).split(",")}):
                        return True
        return False

    def _already_flagged(self, view: _View, sends: list[ast.Call]) -> str:
        """Why the task already sends once: a flag, timestamp, cache key or audit row checked before the send."""
        planned = self._planned_names()
        found = _guard(view, sends, planned)
        if found:
            return found
        # Sends in helpers: a flag checked there, around or before the send, counts when every send is behind one.
        for call in sends:
            reference = view.reference(call.func)
            if not (reference and self.context.targets(self.task.key, reference)):
                return ""  # a send in the task itself, and no flag checked before it
        reasons = []
        for key in self.context.reach(self.task.key)[1:]:
            if not self.context.sends_directly(key):
                continue
            helper = self.context.view(key)
            if helper is None:
                return ""
            helper_sends = [c for c in helper.calls if (helper.kind(c) or ("",))[0] == "send"]
            found = _guard(helper, helper_sends, planned)
            if not found:
                return ""
            reasons.append(f"{found} in {key.qualname} ({self.project.display(key.module)})")
        return "; ".join(reasons)

    def _reserve(self, view: _View, sends: list[ast.Call]) -> None:
        """A task already flagged keeps the name it would get, so that no other task is given the same flag
        (on a second apply, its flag is a field of the model by then, and would look free to reuse)."""
        roots = self._roots(view)
        root = self._subject(view, sends, roots) if roots else None
        if isinstance(root, _Root) and root.model is not None:
            field_name = self._field_name(view, sends, root.model)
            self.fields.setdefault((root.model.module, root.model.name, field_name), self.task.name)

    def _field_name(self, view: _View, sends: list[ast.Call], model: Model | None) -> str:
        return (
            self.settings.names.get(self.task.name)
            or self.settings.names.get(self.short)
            or _flag_name(self._naming_source(view, sends), model.name if model else "")
        )

    def _planned_names(self) -> set[str]:
        names = set(self.settings.names.values())
        configured = self.settings.names.get(self.task.name) or self.settings.names.get(self.short)
        if configured:
            names.add(configured)
        return names

    def _looped_send(self, view: _View, sends: list[ast.Call]) -> tuple[int, str] | None:
        for call in sends:
            loop = view.in_loop(call)
            if loop is not None:
                return call.lineno, f"line {loop.lineno}"
        for key in self.context.reach(self.task.key)[1:]:
            function = self.project.function(key)
            if not function:
                continue
            for effect in function.effects:
                if effect.kind == "send" and effect.in_loop:
                    return sends[0].lineno, f"in {key.qualname}, {self.project.display(key.module)}:{effect.line}"
        return None

    # --- the object the message is about -----------------------------------------------------

    def _roots(self, view: _View) -> dict[str, _Root]:
        roots: dict[str, _Root] = {}
        parameters = set(view.parameters())
        for node in view.nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if not isinstance(target, ast.Name) or target.id in roots or node not in view.blocks:
                continue
            value = value.value if isinstance(value, ast.Await) else value
            found = self._fetch(view, value)
            if found is None:
                continue
            model_expr, manager, model, outside = found
            ids = tuple(dict.fromkeys(n.id for n in walk(value) if isinstance(n, ast.Name) and n.id in parameters))
            roots[target.id] = _Root(target.id, node, model_expr, manager, model, outside, ids)
        return roots

    def _fetch(self, view: _View, value: ast.AST):
        """(model expression, manager, Model or None, what it is otherwise) for a fetch of one object."""
        if not isinstance(value, ast.Call):
            return None
        callee = dotted(value.func) or ""
        if callee.rsplit(".", 1)[-1] in {"get_object_or_404", "aget_object_or_404"} and value.args:
            expression = value.args[0]
            model, outside = self._model_of(view, expression)
            if model is None and not outside:
                return None
            return view.segment(expression), _default_manager(model), model, outside
        if not isinstance(value.func, ast.Attribute) or value.func.attr not in FETCH_METHODS:
            return None
        node = value.func.value
        while True:
            if isinstance(node, ast.Call):
                node = node.func
            elif isinstance(node, ast.Attribute):
                model, outside = self._model_of(view, node.value)
                if model is not None or outside:
                    return view.segment(node.value), node.attr, model, outside
                node = node.value
            else:
                return None

    def _model_of(self, view: _View, expression: ast.AST) -> tuple[Model | None, str]:
        if isinstance(expression, ast.Call) and (dotted(expression.func) or "").rsplit(".", 1)[-1] == "get_user_model":
            users = self.context.user_models()
            if len(users) == 1:
                return users[0], ""
            return None, "the user model from get_user_model(), not a model of this project"
        name = dotted(expression)
        if not name:
            return None, ""
        symbol = self.project.resolve(self.task.key.module, name)
        if symbol.kind == "class":
            model = self.project.model(symbol.module, symbol.name)
            return model, ""
        if (
            symbol.kind == "external"
            and symbol.name.rsplit(".", 1)[-1] in {"User", "Group"}
            and "django.contrib.auth" in symbol.name
        ):
            return None, f"django.contrib.auth's {symbol.name.rsplit('.', 1)[-1]} model"
        return None, ""

    def _subject(self, view: _View, sends: list[ast.Call], roots: dict[str, _Root]) -> _Root | str:
        """The fetched object the message is about: the one whose data the sends use (their recipient first)."""
        derived = _derivations(view, roots)

        def roots_in(node: ast.AST | None) -> set[str]:
            found: set[str] = set()
            for name in _names_in(node) if node is not None else ():
                found |= derived.get(name, set())
            return found

        used: set[str] = set()
        recipients: set[str] = set()
        for call in sends:
            used |= roots_in(call)
            for keyword in call.keywords:
                if keyword.arg in RECIPIENT_KEYWORDS:
                    recipients |= roots_in(keyword.value)
            last = view.segment(call.func).rsplit(".", 1)[-1]
            if last == "send_mail" and len(call.args) >= 4:
                recipients |= roots_in(call.args[3])
            if last in {"send_sms", "send_push", "send_push_notification"} and call.args:
                recipients |= roots_in(call.args[0])
        names = ", ".join(sorted(roots))
        if not used:
            return (
                f"the send uses none of the objects the task fetched ({names}), so the rule cannot tell what "
                "the message is about; flag it by hand"
            )
        if len(used) == 1:
            return roots[next(iter(used))]
        if len(recipients & used) == 1:
            return roots[next(iter(recipients & used))]
        return (
            f"the message involves several fetched objects ({', '.join(sorted(used))}) and the rule cannot tell "
            "which one it is about; flag that one by hand, or name the field in [tool.idem-fix.sent-flag-names]"
        )

    # --- the fix ------------------------------------------------------------------------------

    def _fix(self, view: _View, sends: list[ast.Call], root: _Root, what: str) -> list[Finding]:
        name = self.short
        line = sends[0].lineno
        settings = self.settings
        model = root.model
        model_label = model.name if model else root.outside
        if settings.store == "field" and model is None:
            return [
                self.report(
                    line,
                    f"{name} {what} about {root.name}, which is {root.outside or 'not a model of this project'}: "
                    "the rule cannot add a field to it. Flag a project model (a profile) by hand, or use "
                    '--flag-store cache (sent-flag-store = "cache")',
                    "manual",
                )
            ]
        if settings.store == "cache" and "cache" in _local_names(view):
            return [
                self.report(
                    line,
                    f"{name} {what}; not rewritten: the task uses the name `cache` for something else, so the claim "
                    "could not call django's cache under it; rename that local, or use the field store",
                    "manual",
                )
            ]
        placement = self._placement(view, sends, root)
        if isinstance(placement, str):
            return [self.report(line, f"{name} {what}; not rewritten: {placement}", "manual")]
        block, anchor, last = placement
        field_name = self._field_name(view, sends, model)
        add = None
        if settings.store == "field":
            problem, add = self._field(model, field_name)
            if problem:
                return [self.report(line, f"{name} {what}; not rewritten: {problem}", "manual")]
        check, mark, describe = self._code(view, root, field_name)
        check = (check[0], self._early_exit(view, block, anchor))
        after = block[last].lineno if settings.mode == "mark-after" else 0
        plan = Claim(line, _column(view, sends[0]), block[anchor].lineno, after, check, mark, settings.store == "cache")
        first = _first_effect(view, block[anchor])
        risk = "critical" if self._changes_credentials(view) or money_risk(name, model_label) else "high"
        redo = f", and redo what comes first ({first[1]}, line {first[0]})" if first and first[0] != line else ""
        message = (
            f"{name}: {what} about {root.name} ({model_label}); a redelivery would send it again{redo}. "
            f"{describe} before line {block[anchor].lineno}"
        )
        if settings.mode == "claim-before":
            message += (
                ", so a second run returns before repeating anything"
                " (at most once: a run that dies between the claim and the send loses the message)"
            )
        else:
            message += (
                f" and sets it after line {block[last].lineno}"
                " (at least once: a run that dies between the send and the mark sends again)"
            )
        notes = []
        if add is not None:
            app = self._app_label(model)
            notes.append(
                f"adds {field_name} = models.BooleanField(default=False) to {model.name} "
                f"({self.project.display(model.module)}): run `python manage.py makemigrations {app}`"
            )
        elif settings.store == "field":
            notes.append(f"uses {model.name}.{field_name}, which exists already")
        if settings.store == "cache":
            notes.append("the cache must be shared by every worker (Redis, Memcached), not a per-process LocMemCache")
        atomic = next(
            (
                a
                for a in view.ancestors(block[anchor])
                if isinstance(a, (ast.With, ast.AsyncWith))
                and any(
                    (
                        dotted(i.context_expr.func if isinstance(i.context_expr, ast.Call) else i.context_expr) or ""
                    ).endswith("atomic")
                    for i in a.items
                )
            ),
            None,
        )
        if atomic is not None:
            notes.append(
                f"the claim sits inside the transaction opened on line {atomic.lineno}: it commits with it, so a run "
                "that dies before the commit leaves it unclaimed and the message may go out twice"
            )
        if settings.mode == "claim-before" and self._retries(view):
            notes.append(
                "this task retries on errors: a retry after the claim returns without sending; if the send itself "
                "can fail, prefer --flag-mode mark-after"
            )
        if notes:
            message += "; " + "; ".join(notes)
        findings = [self.report(line, message, "fix", risk, plan)]
        if add is not None:
            use = "claims before sending" if settings.mode == "claim-before" else "checks before and sets after sending"
            findings.append(
                self.report(
                    add.line,
                    f"{model.name}: new field {field_name} = models.BooleanField(default=False), the flag {name} "
                    f"({self.project.display(self.task.key.module)}:{line}) {use}; run "
                    f"`python manage.py makemigrations {self._app_label(model)}` to create its migration",
                    "fix",
                    risk,
                    add,
                    module=model.module,
                )
            )
        return findings

    def _early_exit(self, view: _View, block: list[ast.stmt], anchor: int) -> str:
        """`return`, or the task's own final `return <value>` when that value is known before the claim
        (`return appointment.pk`): a repeat run answers what the first one did."""
        last = view.node.body[-1]
        if not isinstance(last, ast.Return) or last.value is None:
            return "return"
        value = last.value
        if any(
            isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda))
            for n in walk(value)
        ):
            return "return"
        known = set(view.parameters()) | set(self.context.project.module(self.task.key.module).imports)
        # Names bound on every path to the claim: plain assignments before it in its block and in the
        # blocks around it (not inside an `if`, a loop or the `with` it sits in).
        current: ast.AST = block[anchor]
        while current in view.blocks:
            owner, statements, index = view.blocks[current]
            for statement in statements[:index]:
                if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                    known |= {name for t in targets for name in _names_in(t)}
            if isinstance(owner, (ast.With, ast.AsyncWith)):
                known |= {name for i in owner.items if i.optional_vars for name in _names_in(i.optional_vars)}
            current = owner
        names = _names_in(value)
        text = view.segment(value)
        if names <= known and text and "\n" not in text:
            return f"return {text}"
        return "return"

    def _app_label(self, model: Model) -> str:
        """The app to run makemigrations for: the model's app label, else the folder its models.py is in."""
        if model.app_label:
            return model.app_label
        folder = self.project.source_of(model.module).path.parent.name
        return folder if _IDENTIFIER.match(folder) else "<app>"

    def _naming_source(self, view: _View, sends: list[ast.Call]) -> str:
        """The task's name, or, when it names no sending (`confirm_booking`), the project helper that sends."""
        if _snake(self.short).split("_")[0] in VERBS:
            return self.short
        for call in sends:
            reference = view.reference(call.func)
            last = view.segment(call.func).rsplit(".", 1)[-1]
            if reference and self.context.targets(self.task.key, reference) and _snake(last).split("_")[0] in VERBS:
                return last
        return self.short

    def _placement(self, view: _View, sends: list[ast.Call], root: _Root):
        """(block, index of the statement the check goes before, index of the last statement that sends), or why not."""
        owner, block, index = view.blocks[root.statement]
        if block and getattr(block[0], "lineno", 0) == getattr(owner, "lineno", -1) and owner is not view.node:
            return f"the fetch of {root.name} sits in a block written on one line"
        if owner is view.node and block[0].lineno == view.node.lineno:
            return "the task is written on one line"
        active = [c for c in view.calls if view.kind(c)]
        anchor = next(
            (i for i in range(index + 1, len(block)) if any(view.statement_in(c, block) == i for c in active)), None
        )
        if anchor is None:
            return f"its sends come before, or outside the block of, the fetch of {root.name} (line {root.statement.lineno})"
        start = (block[anchor].lineno, block[anchor].col_offset)
        for call in active:
            if (call.lineno, call.col_offset) >= start:
                continue
            if view.statement_in(call, block) == index and view.raw_kind(call) == "db_upsert":
                continue  # the fetch itself is a get_or_create: already idempotent
            kind = view.kind(call)
            return (
                f"{kind[1]}() on line {call.lineno} changes something before the task fetches {root.name}, so no claim "
                f"on {root.name} can come before it; fetch it first, or flag by hand"
            )
        positions = []
        for call in sends:
            position = view.statement_in(call, block)
            if position is None or position < anchor:
                return (
                    f"the send on line {call.lineno} is outside the block where {root.name} is fetched "
                    f"(line {root.statement.lineno}); flag by hand"
                )
            positions.append(position)
        last = max(positions)
        if anchor > 0 and block[anchor - 1].end_lineno == block[anchor].lineno:
            return f"line {block[anchor].lineno} holds more than one statement"
        if self.settings.mode == "mark-after":
            if last + 1 < len(block) and block[last + 1].lineno == block[last].end_lineno:
                return f"line {block[last].end_lineno} holds more than one statement"
            first_send = min((c.lineno, c.col_offset) for c in sends)
            for statement in block[anchor : last + 1]:
                for node in walk(statement):
                    if isinstance(node, ast.Return) and (
                        (node.lineno, node.col_offset) > first_send or any(c in sends for c in walk(node))
                    ):
                        return (
                            f"the return on line {node.lineno} comes after the send, so a mark after it would "
                            "never run; use --flag-mode claim-before or flag by hand"
                        )
        return block, anchor, last

    def _field(self, model: Model, field_name: str) -> tuple[str, AddField | None]:
        existing = model.fields.get(field_name)
        key = (model.module, model.name, field_name)
        claimed_by = self.fields.get(key)
        if claimed_by is not None and claimed_by != self.task.name:
            return (
                f"{model.name}.{field_name} is the flag of another task ({claimed_by}); name this one's in "
                f'[tool.idem-fix.sent-flag-names] "{self.short}" = "..."'
            ), None
        if existing is not None:
            if existing.kind != "BooleanField":
                return (
                    f"{model.name} already has a field {field_name} ({existing.kind}), not a BooleanField; name another "
                    f'in [tool.idem-fix.sent-flag-names] "{self.short}" = "..."'
                ), None
            self.fields[key] = self.task.name
            return "", None
        cls = self.project.cls(FunctionKey(model.module, model.name))
        if cls is None:
            return f"the class of {model.name} could not be found", None
        meta = self.context.meta_options(model, cls.line)
        if meta.get("proxy") is True:
            return (
                f"{model.name} is a proxy model, which cannot have fields of its own; flag its concrete model, or use "
                '--flag-store cache (sent-flag-store = "cache")'
            ), None
        if meta.get("managed") is False:
            return (
                f"{model.name} is unmanaged (managed = False): makemigrations would not add the column; add it to the "
                'table yourself and then the field, or use --flag-store cache (sent-flag-store = "cache")'
            ), None
        if field_name in cls.methods:
            return f"{model.name} already has a method {field_name}", None
        targets = getattr(self.project, "targets", None)
        path = self.project.source_of(model.module).path
        if targets is not None and path not in targets:
            return (
                f"{model.name} is defined in {self.project.display(model.module)}, outside the paths given, so its "
                'field cannot be added; run on both, or use --flag-store cache (sent-flag-store = "cache")'
            ), None
        self.fields[key] = self.task.name
        return "", AddField(cls.line, 0, model.name, field_name)

    def _code(self, view: _View, root: _Root, field_name: str) -> tuple[tuple[str, str], str, str]:
        manager = f"{root.model_expr}.{root.manager}"
        label = root.model.name if root.model else root.model_expr
        if self.settings.store == "field":
            if self.settings.mode == "claim-before":
                check = (
                    f"if not {manager}.filter(pk={root.name}.pk, {field_name}=False).update({field_name}=True):",
                    "return",
                )
                return check, "", f"Claims {label}.{field_name} with an atomic update"
            check = (f"if {root.name}.{field_name}:", "return")
            mark = f"{manager}.filter(pk={root.name}.pk).update({field_name}=True)"
            return check, mark, f"Checks {label}.{field_name}"
        ids = [name for name in root.ids if "{" not in name] or [f"{root.name}.pk"]
        literal = f"{CACHE_PREFIX}:{self.task.name}:".replace("\\", "\\\\").replace('"', '\\"')
        literal = literal.replace("{", "{{").replace("}", "}}")
        key = f'f"{literal}' + ":".join(f"{{{i}}}" for i in ids) + '"'
        timeout = _timeout_text(self.settings.timeout)
        if self.settings.mode == "claim-before":
            return (
                (f"if not {CACHE}.add({key}, True, timeout={timeout}):", "return"),
                "",
                f"Claims the cache key {key} with cache.add()",
            )
        return (
            (f"if {CACHE}.get({key}):", "return"),
            f"{CACHE}.set({key}, True, timeout={timeout})",
            f"Checks the cache key {key}",
        )

    def _changes_credentials(self, view: _View) -> bool:
        if any(view.raw_kind(c) == "credential" for c in view.calls):
            return True
        for key in self.context.reach(self.task.key):
            function = self.project.function(key)
            if function and any(e.kind == "credential" for e in function.effects):
                return True
        return False

    def _retries(self, view: _View) -> bool:
        for decorator in view.node.decorator_list:
            if isinstance(decorator, ast.Call) and any(
                k.arg in {"autoretry_for", "max_retries"} for k in decorator.keywords
            ):
                return True
        return any(
            isinstance(c.func, ast.Attribute) and c.func.attr == "retry" and view.segment(c.func.value) == "self"
            for c in view.calls
        )


# --- helpers for detection ---------------------------------------------------------------------


def _names_in(node: ast.AST) -> set[str]:
    """The names (`ast.Name`) anywhere under the node."""
    names = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, ast.Name):
            names.add(current.id)
        else:
            pending.extend(child_nodes(current))
    return names


def _local_names(view: _View) -> set[str]:
    """Names the task binds itself (parameters, assignments, loop and `with` targets, imports)."""
    args = view.node.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    for node in view.nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _names_user_base(project: Project) -> bool:
    """Does any project file spell a user base? A base is only ever found under a name written in some file."""
    for source in project.files:
        if source.problem:
            continue
        try:
            data = project.overlay[source.path] if source.path in project.overlay else source.path.read_bytes()
        except OSError:
            continue
        if _may_spell(data, USER_BASES):
            return True
    return False


def _may_spell(data: bytes, names) -> bool:
    """Could the source use one of these names? The parser NFKC-normalises identifiers, so a non-ASCII
    source is normalised before looking."""
    if data.isascii():
        return any(name.encode() in data for name in names)
    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
        text = unicodedata.normalize("NFKC", data.decode(encoding, errors="replace"))
    except (SyntaxError, LookupError):
        return True
    return any(name in text for name in names)


def _meta_options(tree: ast.Module | None, line: int, name: str) -> dict[str, object]:
    """Literal options of the model's `class Meta` (proxy, managed, abstract)."""
    for node in walk(tree) if tree is not None else ():
        if isinstance(node, ast.ClassDef) and node.name == name and node.lineno == line:
            for meta in node.body:
                if isinstance(meta, ast.ClassDef) and meta.name == "Meta":
                    return {
                        t.id: s.value.value
                        for s in meta.body
                        if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
                        for t in s.targets
                        if isinstance(t, ast.Name)
                    }
    return {}


def _snake(name: str) -> str:
    return "_".join(w.lower() for w in _WORD.findall(name))


def _words(identifier: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(identifier)}


def _column(view: _View, call: ast.Call) -> int:
    lines = view.text_lines
    text = lines[call.lineno - 1] if 0 < call.lineno <= len(lines) else ""
    return len(text.encode("utf-8")[: call.col_offset].decode("utf-8", errors="ignore"))


def _callee(view: _View, call: ast.Call) -> str:
    """The callee as written, kept short: `EmailMessage(...).send` rather than the whole constructor call."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        inner = dotted(func.value.func) or "..."
        return f"{inner}(...).{func.attr}"
    return _shorten(view.segment(func), 60)


def _describe(view: _View, call: ast.Call) -> str:
    written = _callee(view, call)
    last = written.rsplit(".", 1)[-1]
    lowered = written.lower()
    if "sms" in lowered or written.endswith("messages.create") or "text" in last.lower():
        kind = "an SMS"
    elif "slack" in lowered or last in {"chat_postMessage", "chat_postEphemeral"}:
        kind = "a Slack message"
    elif (
        "push" in lowered
        or "messaging" in lowered
        or last in {"send_each", "send_multicast", "send_each_for_multicast", "send_notification", "webpush"}
    ):
        kind = "a push notification"
    elif "mail" in lowered or last == "send" or "email" in lowered:
        kind = "an email"
    else:
        kind = "a message"
    return f"sends {kind} ({written}, line {call.lineno})"


def _flaggy(view: _View, test: ast.AST, planned: set[str], created: set[str]) -> bool:
    """Does the condition read a sent flag, a sent timestamp, a cache key or an audit row?"""
    for node in walk(test):
        identifiers: list[str] = []
        if isinstance(node, ast.Name):
            identifiers.append(node.id)
            if node.id in created:
                return True
        elif isinstance(node, ast.Attribute):
            if not (isinstance(node.value, ast.Name) and node.value.id == "settings"):  # a switch, not a flag
                identifiers.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            identifiers.append(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 40:
            identifiers.append(node.value)
        for identifier in identifiers:
            if identifier in planned or _words(identifier) & FLAG_WORDS:
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = view.segment(node.func.value)
            if node.func.attr in CACHE_CHECKS and "cache" in receiver.lower():
                return True
            if node.func.attr in {"exists", "count", "aexists", "acount"}:
                chain = set()
                current = node.func.value
                while isinstance(current, (ast.Call, ast.Attribute, ast.Name)):
                    if isinstance(current, ast.Call):
                        current = current.func
                    elif isinstance(current, ast.Attribute):
                        chain |= _words(current.attr)
                        current = current.value
                    else:
                        chain |= _words(current.id)
                        break
                if chain & AUDIT_WORDS:
                    return True
    return False


def _created_names(view: _View) -> set[str]:
    """`log, created = SentEmail.objects.get_or_create(...)`: `created` tells a first run from a repeat."""
    names = set()
    for node in view.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr.endswith(("get_or_create", "update_or_create"))
            ):
                elements = node.targets[0].elts
                if len(elements) == 2 and isinstance(elements[1], ast.Name):
                    names.add(elements[1].id)
    return names


def _guard(view: _View, sends: list[ast.Call], planned: set[str]) -> str:
    if not sends:
        return ""
    first = min((c.lineno, c.col_offset) for c in sends)
    created = _created_names(view)
    for node in view.nodes:
        if not isinstance(node, (ast.If, ast.While)) or not _flaggy(view, node.test, planned, created):
            continue
        condition = view.segment(node.test)
        encloses = any(node in view.ancestors(c) for c in sends)
        exits = bool(node.body) and isinstance(node.body[-1], (ast.Return, ast.Raise, ast.Continue))
        if encloses or (exits and (node.lineno, node.col_offset) < first):
            return f"it already checks `{_shorten(condition)}` (line {node.lineno}) before sending"
    return ""


def _shorten(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _derivations(view: _View, roots: dict[str, _Root]) -> dict[str, set[str]]:
    """Local name -> the fetched objects it comes from: `user = host.user`, `msg = EmailMessage(to=[user.email])`."""
    derived = {name: {name} for name in roots}
    assignments = []
    for node in view.nodes:
        if isinstance(node, ast.Assign):
            assignments.append((node.targets, node.value))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            assignments.append(([node.target], node.value))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            assignments.append(([node.target], node.iter))
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            assignments.append(([node.optional_vars], node.context_expr))
    flows = [  # (names read, names bound), each assignment walked once for the three passes
        (
            _names_in(value),
            [name for target in targets for name in _names_in(target) if name not in roots],
        )
        for targets, value in assignments
    ]
    for _ in range(3):
        for read, bound in flows:
            sources: set[str] = set()
            for name in read:
                sources |= derived.get(name, set())
            if not sources:
                continue
            for name in bound:
                derived.setdefault(name, set()).update(sources)
    return derived


def _first_effect(view: _View, statement: ast.stmt) -> tuple[int, str] | None:
    for node in walk(statement):
        if isinstance(node, ast.Call) and view.kind(node):
            return node.lineno, _callee(view, node)
    return None


def _default_manager(model: Model | None) -> str:
    if model is None or not model.managers or "objects" in model.managers:
        return "objects"
    return "_default_manager"


def _timeout_text(seconds: int) -> str:
    if seconds % (60 * 60 * 24) == 0:
        days = seconds // (60 * 60 * 24)
        return f"60 * 60 * 24 * {days}" if days != 1 else "60 * 60 * 24"
    return str(seconds)


def _flag_name(task_name: str, model_name: str) -> str:
    """`send_host_welcome_email` on Host -> `welcome_email_sent`; `notify_guest_of_checkin` -> `checkin_notified`."""
    words = _snake(task_name).split("_")
    suffix = "sent"
    verb = bool(words) and words[0] in VERBS
    if verb:
        suffix = "notified" if words[0] == "notify" else "sent"
        words = words[1:]
    while words and words[-1] in TRAILING:
        words = words[:-1]
    model_words = _snake(model_name).split("_") if model_name and verb else []
    kept = list(words)
    if model_words:
        size = len(model_words)
        for start in range(len(kept) - size + 1):
            if kept[start : start + size] == model_words:
                kept = kept[:start] + kept[start + size :]
                break
    while kept and (kept[0] in FILLERS or not kept[0][:1].isalpha()):  # a field name starts with a letter
        kept = kept[1:]
    while kept and kept[-1] in FILLERS:
        kept = kept[:-1]
    if not kept:
        kept = [w for w in words if w not in FILLERS and w[:1].isalpha()] or ["message"]
    if kept[-1] in {"sent", "notified"}:
        return "_".join(kept)
    return "_".join([*kept, suffix])


# --- the rewrite -------------------------------------------------------------------------------


def _field_callee(module: cst.Module, model: str) -> tuple[str, tuple[str, str] | None]:
    """How the class's fields are written: ("models.", None) for `models.CharField`, or the import to add."""
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == model:
            for item in statement.body.body if isinstance(statement.body, cst.IndentedBlock) else ():
                value = _assigned_call(item)
                if value is None:
                    continue
                callee = _code(value.func)
                if FIELD_CALLS.search(callee):
                    if "." in callee:
                        return callee.rsplit(".", 1)[0] + ".", None
                    return "", ("django.db.models", "BooleanField")
    return "", ("django.db", "models")


def _assigned_call(statement: cst.CSTNode) -> cst.Call | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, (cst.Assign, cst.AnnAssign)) and isinstance(small.value, cst.Call):
        return small.value
    return None


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


class _Rewrite(PositionedTransformer):
    def __init__(self, claims: list[Claim], adds: list[AddField], cache_name: str, field_callee: dict):
        super().__init__()
        self.claims = claims
        self.adds = adds
        self.cache_name = cache_name
        self.field_callee = field_callee
        self.before: dict[int, list[Claim]] = {}
        self.after: dict[int, list[Claim]] = {}
        for claim in claims:
            self.before.setdefault(claim.before, []).append(claim)
            if claim.after:
                self.after.setdefault(claim.after, []).append(claim)
        self.placed: dict[Claim, int] = {}
        self.applied: list = []
        self.imports_needed: dict[tuple[str, str], bool] = {}
        self.module: cst.Module | None = None

    def visit_Module(self, node: cst.Module) -> bool:
        self.module = node
        self.built: dict[Claim, tuple[cst.BaseStatement, cst.BaseStatement | None]] = {}
        for claim in self.claims:
            try:
                mark = self._statement(claim.mark + node.default_newline) if claim.after else None
                self.built[claim] = (self._check(claim), mark)
            except (cst.ParserSyntaxError, ValueError):  # code that would not parse is never inserted
                continue
        return True

    def _statement(self, code: str) -> cst.BaseStatement:
        module = self.module
        return cst.parse_statement(code.replace(CACHE, self.cache_name), config=module.config_for_parsing)

    def _check(self, claim: Claim) -> cst.BaseStatement:
        module = self.module
        header, body = claim.check
        return self._statement(f"{header}{module.default_newline}{module.default_indent}{body}{module.default_newline}")

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not self.before and not self.after:
            return updated
        body = []
        changed = False
        for old, new in zip(original.body, updated.body):
            line = self.start_of(old)[0]
            for claim in self.before.get(line, []):
                if claim in self.built:
                    body.append(self.built[claim][0])
                    self.placed[claim] = self.placed.get(claim, 0) + 1
                    changed = True
            body.append(new)
            for claim in self.after.get(line, []):
                if claim in self.built:
                    body.append(self.built[claim][1])
                    self.placed[claim] = self.placed.get(claim, 0) + 1
                    changed = True
        return updated.with_changes(body=body) if changed else updated

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        line = self.start_of(original)[0]
        adds = [p for p in self.adds if p.line == line and p.model == original.name.value]
        if not adds or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        prefix, needed = self.field_callee.get(original.name.value, ("", ("django.db", "models")))
        written = f"{prefix}BooleanField"
        if needed is not None:
            _, local = ensure_from_import(self.module, *needed)  # the name only: the import is added at the end
            written = f"{local}.BooleanField" if needed == ("django.db", "models") else local
        body = list(updated.body.body)
        last_field = max(
            (
                i
                for i, s in enumerate(body)
                if (c := _assigned_call(s)) is not None and FIELD_CALLS.search(_code(c.func))
            ),
            default=None,
        )
        if last_field is None:
            position = 1 if body and is_docstring(body[0]) else 0
            while position < len(body) and _is_placeholder(body[position]):
                body.pop(position)
        else:
            position = last_field + 1
        for add in adds:
            body.insert(
                position, self._statement(f"{add.field} = {written}(default=False){self.module.default_newline}")
            )
            position += 1
            self.applied.append(add)
        if needed is not None:
            self.imports_needed[needed] = True
        return updated.with_changes(body=updated.body.with_changes(body=body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        for claim in self.claims:
            expected = 2 if claim.after else 1
            if self.placed.get(claim) == expected:
                self.applied.append(claim)
        return updated


def _is_placeholder(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and (
            isinstance(statement.body[0], cst.Pass)
            or (isinstance(statement.body[0], cst.Expr) and isinstance(statement.body[0].value, cst.Ellipsis))
        )
    )


rule = SentFlag(
    name=NAME,
    summary='Tasks that send an email, SMS, push or Slack message -> claim a per-object sent flag before the first side effect',
    applicabilities=(Applicability.UNSAFE, Applicability.MANUAL),
    readme=Path(__file__).with_name("README.md"),
    all_or_nothing=True,
)
