"""Tasks that send a message: which are left alone, which get a claim, and how sure that is.

A redelivered message keeps its task id. The default claim is keyed on it (`cache.add`), so it stops a
redelivery of this message and never the next real event: safe when every worker shares the cache and
nothing the claim skips (a change before the send, a retry that keeps the id, the rest of a loop) would
be lost by a run that dies after it. A permanent per-object flag (`--flag-store field`) is right only
for messages an object gets once by nature; for events that repeat it would silence every later one.
"""

from __future__ import annotations

import ast

from ..engine.caches import shared_cache
from ..engine.guard_checks import FLAG_WORDS
from ..engine.levels import Applicability, Refusal, Risk
from ..engine.names import words
from ..engine.project import FunctionKey, Model, Project, Task
from ..engine.rules import Finding, Options, money_risk
from . import claim, field, retries
from .sends import ONE_TIME, RESEND, Sends, callee, describe, snake
from .settings import Settings, read_settings

NAME = "sent-flag"
# Words of a task name that say only that it sends: a sent marker is matched on the other words (`remind` ~ `reminder_sent_at`).
GENERIC_WORDS = frozenset({"send", "sends", "task", "email", "emails", "mail", "mails", "notify", "notification", "message", "user", "users"})


def detect(project: Project, options: Options) -> list[Finding]:
    settings = read_settings(project, options)
    sends = Sends(project, settings)
    fields: dict[tuple[str, str, str], str] = {}  # (module, model, field) -> the task that claims it
    checks = [TaskCheck(project, sends, settings, task, fields) for task in project.tasks if task.key in sends.reaching]
    for check in checks:  # the tasks already flagged keep their field names, whatever order the files come in
        check.reserve()
    return [finding for check in checks for finding in check.run()]


class TaskCheck:
    def __init__(self, project: Project, sends: Sends, settings: Settings, task: Task, fields: dict):
        self.project, self.sends, self.settings, self.task, self.fields = project, sends, settings, task, fields
        self.view = project.view(task.key)
        qualname = task.key.qualname
        self.short = qualname.split(".")[0] if qualname.endswith(".run") else qualname
        self.calls = self.sends.sends(self.view) if self.view is not None else []
        self.line = self.calls[0].lineno if self.calls else task.line
        self.flagged = self.sends.already_flagged(self.view, self.calls, self._planned_names()) if self.view is not None else ""

    def finding(self, message: str, applicability, reason: str, risk: Risk = Risk.MODERATE, plan=None, module: str = "", line: int = 0) -> Finding:
        module = module or self.task.key.module
        risk = Risk.LOW if applicability is None else risk
        return Finding(NAME, module, self.project.display(module), line or self.line, risk, message, applicability, reason, plan, task=self.task.name)

    def run(self) -> list[Finding]:
        name, view = self.short, self.view
        if view is None:
            return [self.finding(f"{name} sends a message", Applicability.MANUAL, "its source could not be read again")]
        left = f"{name} left alone"
        if view.suppressed(NAME) or any(view.suppressed(NAME, c) for c in self.calls):
            return [self.finding(left, None, "suppressed by an `# idem-fix: ignore` comment")]
        if RESEND.search(snake(name)):
            return [self.finding(left, None, "an explicit resend: sending again is its job")]
        if ONE_TIME.search(snake(name)) or any(ONE_TIME.search(snake(callee(view, c).rsplit(".", 1)[-1])) for c in self.calls):
            return [self.finding(left, None, "it sends a one-time login or verification code; each request must get a fresh code, and the code's own expiry makes a repeat harmless")]
        if self.flagged:
            return [self.finding(left, None, self.flagged)]
        if self.settings.error:
            return [self.finding(f"{name} sends a message", Applicability.MANUAL, self.settings.error)]
        if isinstance(view.node, ast.AsyncFunctionDef):
            return [self.finding(f"{name} sends a message", Applicability.MANUAL, "an async task: claim the message by hand")]
        if not self.calls:
            return [self.finding(f"{name} sends a message", Applicability.MANUAL, "it reaches a send, but not through a call in its own body where a claim can go")]
        what = describe(view, self.calls[0])
        looped = self._looped()
        if looped:
            return [self.finding(f"{name} {what}", Applicability.MANUAL, looped)]
        marker = self._unchecked_marker() if self.settings.store != "field" else ""  # the field store reuses one itself
        if marker:
            return [self.finding(f"{name} {what}", Applicability.MANUAL, marker, self.risk)]
        if self.settings.store == "field":
            return self._field(what)
        return [self._message(what)]

    def _unchecked_marker(self) -> str:
        """A sent marker the model of the row the message is about already has (`Invoice.reminder_sent_at`)
        but the task does not check: the fix is to check and set that field, not to add another claim."""
        found = field.roots(self.project, self.view)
        root = field.subject(self.view, self.calls, found) if found else None
        if not isinstance(root, field.Root) or root.model is None:
            return ""
        about = {w for w in words(self.short) if len(w) > 3 and w not in GENERIC_WORDS}
        markers = [
            f for f in root.model.fields
            if set(words(f)) & FLAG_WORDS and any(w[:5] == a[:5] for w in words(f) for a in about)
            and f not in self.view.segment(self.view.node)
        ]
        if not markers:
            return ""
        return (
            f"{root.model.name}.{markers[0]} exists but the task does not check it before sending: check it and set it "
            f"with the send (`if {root.name}.{markers[0]}: return` ... then set and save it), so a redelivery stops"
        )

    @property
    def risk(self) -> Risk:
        credentials = any(self.sends.kind(self.view, c) == "credential" for c in self.view.calls()) or any(
            r.kind == "credential" for k in self.project.reachable_from(self.task.key) for r in self.project.graph.reached(k)
        )
        # one scale with the audit: a duplicate notification is moderate, one that goes with a credential
        # change or money is critical
        return Risk.CRITICAL if credentials or money_risk(self.short) else Risk.MODERATE

    # --- the cache store: a claim per message -------------------------------------------------

    def _message(self, what: str) -> Finding:
        name, view = self.short, self.view
        reference = claim.task_reference(self.project, view, self.task)
        plain = next((c for c in self.project.graph.callers(self.task.key) if c != self.task.key), None)
        if plain is not None:
            return self.finding(f"{name} {what}", Applicability.MANUAL, (
                f"{plain.qualname}() ({self.project.display(plain.module)}) also calls it as a plain function, where its "
                "request id is None: a claim on the task id would not hold there; claim in the task that is sent as a "
                "message, or by what the message is about"
            ), self.risk)
        if not reference:
            return self.finding(f"{name} {what}", Applicability.MANUAL, f"{self.task.how} does not let the function read its own task id; bind the task (bind=True) and claim self.request.id by hand")
        if view.parameters()[:3] == ["request", "exc", "traceback"]:
            return self.finding(f"{name} {what}", Applicability.MANUAL, (
                "an error callback (request, exc, traceback): Celery runs it inside the failed task's worker, where its own "
                "request.id is None, so a claim on it would never be taken; claim the failed task's id (request.id) by hand"
            ))
        if "cache" in view.names_bound_before((10**9, 0)):
            return self.finding(f"{name} {what}", Applicability.MANUAL, "the task uses the name `cache` for something else; rename that local")
        placed = self._placed(view.node.body, 0)
        if isinstance(placed, Refusal):
            return self.finding(f"{name} {what}", Applicability.MANUAL, placed.reason)
        placed, mode = placed
        check, mark, does = claim.message_code(reference, self.task, mode, claim.timeout_text(self.settings.timeout))
        plan = self._plan(placed, check, mark, mode, cache=True)
        backend, unshared = shared_cache(self.project)
        unsafe = [r for r in (unshared, self._lost_by_a_claim(mode, placed), self._covers_more(mode)) if r]
        message = self._message_text(what, does, placed, mode)
        if unsafe:
            return self.finding(message, Applicability.UNSAFE, "; ".join(unsafe), self.risk, plan)
        reason = f"the claim is on the message's own task id, in a cache every worker shares ({backend}): a redelivery of this message stops, a new message still goes out"
        return self.finding(message, Applicability.SAFE, reason, self.risk, plan)

    def _placed(self, block: list[ast.stmt], start: int) -> tuple[claim.Placement, str] | Refusal:
        """Where the claim goes, and the mode: the one asked for, else claim-before when nothing but the send
        follows the claim, mark-after when a change comes first or the task retries (so a run that dies
        before the send redoes it all rather than losing the message). A mark is refused when a retry
        can start after it: the retry would find the mark and stop."""
        placed = claim.place(self.view, self.sends, self.view.calls(), block, start, "mark-after")
        if isinstance(placed, Refusal) and not self.settings.mode_chosen:
            placed = claim.place(self.view, self.sends, self.view.calls(), block, start, "claim-before")
            return placed if isinstance(placed, Refusal) else (placed, "claim-before")
        if isinstance(placed, Refusal):
            return placed
        if self.settings.mode_chosen and self.settings.mode == "claim-before":
            placed = claim.place(self.view, self.sends, self.view.calls(), block, start, "claim-before")
            return placed if isinstance(placed, Refusal) else (placed, "claim-before")
        chosen = self.settings.mode_chosen or retries.retries(self.project, self.view, self.task) or self._before_the_send(placed)
        if not chosen:
            return placed, "claim-before"
        last = placed.block[placed.last]
        retried = retries.retried_after(self.project, self.view, self.task, (last.end_lineno, last.end_col_offset))
        if retried:
            return Refusal(
                f"{retried}: a retry keeps the task id, so a mark set after line {last.end_lineno} would stop it at the check "
                f"before it does what it was retried for; set the mark only where the send is known to have succeeded"
            )
        return placed, "mark-after"

    def _before_the_send(self, placed: claim.Placement) -> ast.Call | None:
        """The first change between where the claim goes and the end of the sends: a call before the first
        send, or a call that sends among other work (an import that mails when it is done)."""
        first_send = min((c.lineno, c.col_offset) for c in self.calls)
        start = (placed.block[placed.anchor].lineno, 0)
        before = next((c for c in self.view.calls() if start <= (c.lineno, c.col_offset) < first_send and self.sends.kind(self.view, c)), None)
        return before or next((c for c in self.calls if self.sends.does_more_than_send(self.view, c)), None)

    def _lost_by_a_claim(self, mode: str, placed: claim.Placement) -> str:
        """What a run that dies after a claim-before and before the send would lose."""
        if mode != "claim-before":
            return ""
        retried = retries.retries(self.project, self.view, self.task)
        if retried:
            return f"{retried}, and a retry keeps the task id, so a retry after the claim returns without sending; use --flag-mode mark-after"
        call = self._before_the_send(placed)
        if call is not None:
            return (
                f"at most once: {self.view.callee_text(call)}() (line {call.lineno}) does more than send, after the claim, so a run "
                f"that dies in it leaves that work half done and the message never sent; --flag-mode mark-after redoes it instead"
            )
        return ""

    def _looped(self) -> str:
        """Why no claim fits: a send in a loop. Claimed for the whole loop, a run that dies mid-loop loses
        the rest; marked after it, the redelivery sends the first ones again."""
        loop = next((self.view.loop_around(c) for c in self.calls if self.view.loop_around(c) is not None), None)
        if loop is not None:
            return f"it sends in a loop (line {loop.lineno}): one claim for the whole loop would lose (or, marked after, repeat) the rest when a run dies mid-loop; record each recipient as sent and check it before each send"
        for key in self.project.reachable_from(self.task.key)[1:]:
            if key not in self.sends.reaching:
                continue
            helper = self.project.view(key)
            looped = next((c for c in self.sends.sends(helper) if helper.loop_around(c) is not None), None) if helper else None
            if looped is not None:
                return (
                    f"it sends in a loop ({key.qualname}, {self.project.display(key.module)}:{looped.lineno}): one claim for the whole "
                    f"loop would lose (or, marked after, repeat) the rest when a run dies mid-loop; record each recipient as sent and check it before each send"
                )
        return ""

    def _covers_more(self, mode: str) -> str:
        """A check and mark around a call that also does other work guard that work too: a redelivery of a
        finished run skips all of it, which is right only if it does not already skip what a run did."""
        call = next((c for c in self.calls if self.sends.does_more_than_send(self.view, c)), None)
        if mode != "mark-after" or call is None:
            return ""
        return (
            f"the check and mark cover all of {self.view.callee_text(call)}() (line {call.lineno}), which does more than send: "
            f"a redelivery of a finished run skips all of it; whether that work already skips what a first run did was not read"
        )

    def _plan(self, placed: claim.Placement, check, mark, mode: str, cache: bool) -> claim.Claim:
        exit_statement = claim.early_exit(self.project, self.view, placed.block, placed.anchor)
        after = placed.block[placed.last].lineno if mode == "mark-after" else 0
        first = self.calls[0]
        return claim.Claim(first.lineno, self.view.column(first), placed.block[placed.anchor].lineno, after, (check[0], exit_statement), mark, cache)

    def _message_text(self, what: str, does: str, placed: claim.Placement, mode: str, about: str = "") -> str:
        text = f"{self.short}: {what}{about}; a redelivery would send it again -> {does} before line {placed.block[placed.anchor].lineno}"
        if mode == "mark-after":
            text += f" and marks it after line {placed.block[placed.last].lineno} (at least once)"
        else:
            text += " (at most once)"
        atomic = self.project.graph.atomic_around(self.view, placed.block[placed.anchor])
        if atomic is not None:
            text += (
                f"; the claim sits inside the transaction opened on line {atomic.lineno}: it commits with it, so a run that "
                "dies before the commit leaves it unclaimed and the message may go out twice"
            )
        return text

    # --- the field store: a permanent flag per object ---------------------------------------------

    def _field(self, what: str) -> list[Finding]:
        name, view = self.short, self.view
        found = field.roots(self.project, view)
        if not found:
            return [self.finding(f"{name} {what}", Applicability.MANUAL, "no single object fetched from the database (`Model.objects.get(...)`) to flag: a generic transport task or a bulk send; the default cache store claims the message instead", Risk.MODERATE)]
        root = field.subject(view, self.calls, found)
        if isinstance(root, Refusal):
            return [self.finding(f"{name} {what}", Applicability.MANUAL, root.reason)]
        if root.model is None:
            return [self.finding(f"{name} {what}", Applicability.MANUAL, f"it is about {root.name}, {root.outside or 'not a model of this project'}: the rule cannot add a field to it; use the cache store")]
        nature, why = field.once_by_nature(self.task, name, root.model)
        if nature is False:
            return [self.finding(f"{name} {what}", Applicability.MANUAL, f"{why}: a permanent flag on {root.model.name} would silence every later one; the default cache store claims each message instead")]
        owner, block, index = view.blocks[root.statement]
        placed = self._placed(block, index + 1)
        if isinstance(placed, Refusal):
            return [self.finding(f"{name} {what}", Applicability.MANUAL, placed.reason)]
        placed, mode = placed
        field_name = self._field_name(root.model)
        problem, add = self._field_to_add(root.model, field_name)
        if problem:
            return [self.finding(f"{name} {what}", Applicability.MANUAL, problem)]
        check, mark, does = field.field_code(root, field_name, mode)
        plan = self._plan(placed, check, mark, mode, cache=False)
        unsafe = [r for r in (why if nature is None else "", self._lost_by_a_claim(mode, placed), self._covers_more(mode)) if r]
        applicability = Applicability.UNSAFE if unsafe else Applicability.SAFE
        reason = "; ".join(unsafe) if unsafe else f"{why}, and the flag is claimed in the database every worker shares"
        message = self._message_text(what, does, placed, mode, f" about {root.name} ({root.model.name})")
        findings = [self.finding(message, applicability, reason, self.risk, plan)]
        if add is not None:
            app = root.model.app_label or self.project.source_of(root.model.module).path.parent.name
            findings.append(self.finding(
                f"{root.model.name}: new field {field_name} = models.BooleanField(default=False), the flag of {name}; run "
                f"`python manage.py makemigrations {app}` to create its migration",
                applicability, reason, self.risk, add, module=root.model.module, line=add.line,
            ))
        return findings

    def _field_name(self, model: Model) -> str:
        configured = self.settings.names.get(self.task.name) or self.settings.names.get(self.short)
        return configured or field.flag_name(self._naming_source(), model.name)

    def _naming_source(self) -> str:
        """The task's name, or, when it names no sending (`confirm_booking`), the project helper that sends."""
        if snake(self.short).split("_")[0] in field.VERBS:
            return self.short
        for call in self.calls:
            last = self.view.segment(call.func).rsplit(".", 1)[-1]
            if self.project.graph.targets(self.view, call) and snake(last).split("_")[0] in field.VERBS:
                return last
        return self.short

    def _field_to_add(self, model: Model, field_name: str) -> tuple[str, field.AddField | None]:
        key = (model.module, model.name, field_name)
        claimed_by = self.fields.get(key)
        use_another = f'name another in [tool.idem-fix.sent-flag-names] "{self.short}" = "..."'
        if claimed_by is not None and claimed_by != self.task.name:
            return f"{model.name}.{field_name} is the flag of another task ({claimed_by}); {use_another}", None
        existing = model.fields.get(field_name)
        if existing is not None:
            if existing.kind != "BooleanField":
                return f"{model.name} already has a field {field_name} ({existing.kind}), not a BooleanField; {use_another}", None
            self.fields[key] = self.task.name
            return "", None
        cls = self.project.cls(FunctionKey(model.module, model.name))
        if model.meta.get("proxy") is True:
            return f"{model.name} is a proxy model, which cannot have fields of its own; use the cache store", None
        if model.meta.get("managed") is False:
            return f"{model.name} is unmanaged (managed = False): makemigrations would not add the column; use the cache store", None
        if field_name in cls.methods:
            return f"{model.name} already has a method {field_name}", None
        if self.project.source_of(model.module).path not in getattr(self.project, "targets", {self.project.source_of(model.module).path}):
            return f"{model.name} is defined in {self.project.display(model.module)}, outside the paths given, so its field cannot be added", None
        self.fields[key] = self.task.name
        return "", field.AddField(cls.line, 0, model.name, field_name)

    def reserve(self) -> None:
        """A task already flagged keeps the name it would get, so that no other task is given its flag."""
        if not self.flagged or self.settings.store != "field":
            return
        root = field.subject(self.view, self.calls, field.roots(self.project, self.view)) if self.calls else None
        if isinstance(root, field.Root) and root.model is not None:
            self.fields.setdefault((root.model.module, root.model.name, self._field_name(root.model)), self.task.name)

    def _planned_names(self) -> set[str]:
        names = set(self.settings.names.values())
        configured = self.settings.names.get(self.task.name) or self.settings.names.get(self.short)
        return names | ({configured} if configured else set())

