"""Which calls of a task send a message (email, SMS, push, chat), themselves or through what they call,
and whether the task already makes sure a message goes out once (a flag, a timestamp, a cache key or
an audit row checked before the send)."""

from __future__ import annotations

import ast
import fnmatch
import re

from ..engine.names import dotted, words
from ..engine.project import FunctionKey, Project
from ..engine.source import one_line
from ..engine.view import EXITS, FunctionView
from .settings import Settings

HARMLESS = frozenset({"external_read", "db_upsert"})
OUTWARD = frozenset({"send", "external", "credential"})  # effects that leave the database
# Sends the effect facts do not name (yet): pushes through SDK functions.
EXTRA_SENDS = frozenset({"firebase_admin.messaging.send", "firebase_admin.messaging.send_all", "pywebpush.webpush"})
# Words that make a condition a "was it sent already?" check: `if host.welcome_email_sent`, `sent_at`.
FLAG_WORDS = frozenset({"sent", "notified", "emailed", "mailed", "texted", "messaged", "welcomed", "reminded", "invited", "alerted"})
# Models and managers an existence check reads when it is an audit of sent messages.
AUDIT_WORDS = frozenset(
    {"log", "logs", "audit", "audits", "sent", "delivery", "deliveries", "notification", "notifications", "message",
     "messages", "email", "emails", "outbox", "history", "receipt", "receipts"}
)
CACHE_CHECKS = frozenset({"add", "get", "has_key", "get_or_set", "incr"})
STATUS_WORDS = frozenset({"status", "state"})
ONE_TIME = re.compile(
    r"(^|_)(otp|one_?time|login_code|login_link|magic_link|passcode|pass_code|verification_code|verify_code|"
    r"2fa|two_factor|mfa|auth_code|security_code|login_token|sign_in_code|signin_code)(_|$)"
)
RESEND = re.compile(r"(^|_)re_?send(_|$)|^resend|resend_")


def snake(name: str) -> str:
    return "_".join(words(name))


class Sends:
    """What sends, across the project (memoised for the run)."""

    def __init__(self, project: Project, settings: Settings):
        self.project, self.settings, self.graph = project, settings, project.graph
        self.reaching = self.graph.reaching(f"send {settings.helpers}", self._sends_itself)

    def _sends_itself(self, key: FunctionKey, function) -> bool:
        """A send in the function's own code: a send effect on a call that is not to a project function (whose
        own code says whether it sends, whatever its name), or a configured helper."""
        summary = self.project.module(key.module)
        imports = summary.imports if summary else {}
        return any(e.kind == "send" and self._really(self.project.call_targets(key, e.call)) for e in function.effects) or any(
            self.names_send(r, imports) for r in function.calls
        )

    def _really(self, targets: list[FunctionKey]) -> bool:
        """A call named like a send sends when it is not to project code, or when the project code it runs
        reaches outside the database (an HTTP call to an SMS gateway); `send_outbox_mails()` that only
        marks rows and queues other tasks is not a send."""
        return not targets or any(r.kind in OUTWARD for t in targets for r in self.graph.reached(t))

    def names_send(self, reference: str, imports: dict[str, str]) -> bool:
        """A call reference that sends although the effect facts do not say so: a configured helper, an SDK push."""
        reference = reference.removeprefix("new:")
        last = reference.rsplit(".", 1)[-1]
        if any(fnmatch.fnmatchcase(last, g) or fnmatch.fnmatchcase(reference, g) for g in self.settings.helpers):
            return True
        head, _, rest = reference.partition(".")
        return imports.get(head, head) + (f".{rest}" if rest else "") in EXTRA_SENDS

    def kind(self, view: FunctionView, call: ast.Call) -> str:
        """"send", "credential" or "effect" for a call that sends or changes something (itself or in what it
        calls), "" for one that does neither."""
        reference = view.reference(call) or ""
        targets = self.graph.targets(view, call)
        own = self.graph.kind(view, call)
        if (own == "send" and self._really(targets)) or (reference and self.names_send(reference, view.imports)) or any(t in self.reaching for t in targets):
            return "send"
        if own == "credential":
            return "credential"
        if own and own not in HARMLESS:
            return "effect"
        if any(r.kind not in HARMLESS for t in targets for r in self.graph.reached(t)):
            return "effect"
        return ""

    def does_more_than_send(self, view: FunctionView, call: ast.Call) -> bool:
        """A call that reaches a send and also changes something else: `load_excel_data(...)` that imports
        rows, then mails that it is done. A project function is judged by what it reaches, whatever its
        name says (`send_digest_emails()` that also marks rows as sent); a configured helper is a send."""
        if self.names_send(view.reference(call) or "", view.imports):
            return False
        targets = self.graph.targets(view, call)
        if not targets:
            return False  # a library call: what its name says
        return any(r.kind not in HARMLESS and r.kind != "send" for t in targets for r in self.graph.reached(t))

    def sends(self, view: FunctionView) -> list[ast.Call]:
        """The task's own calls that send (the outermost call of a chain)."""
        return [c for c in view.calls() if self.kind(view, c) == "send" and not _inside_a_sending_call(view, c, self)]

    # --- already once ---------------------------------------------------------------------------

    def already_flagged(self, view: FunctionView, sends: list[ast.Call], planned: set[str]) -> str:
        """Why the task already sends once: a flag, timestamp, cache key or audit row checked before the
        send, or a stored value compared before it and written after it, in the task or, for each call
        that leads to a send, in a function on the way ("" when some send has no such check)."""
        guards = self._guards(view, sends, planned, frozenset({view.key}))
        if guards is None:
            return ""
        return "; ".join(reason if key == view.key else f"{reason} in {key.qualname} ({self.project.display(key.module)})" for key, reason in guards)

    def _guards(self, view: FunctionView, sends: list[ast.Call], planned: set[str], seen: frozenset) -> list[tuple[FunctionKey, str]] | None:
        found = _guard(view, sends, planned)
        if found:
            return [(view.key, found)]
        guards: list[tuple[FunctionKey, str]] = []
        for call in sends:
            helpers = [t for t in self.graph.targets(view, call) if t in self.reaching]
            if not helpers:
                return None  # sends itself, and no check before it
            for key in helpers:
                helper = self.project.view(key) if key not in seen else None
                below = self._guards(helper, self.sends(helper), planned, seen | {key}) if helper is not None else None
                if below is None and key not in seen:
                    return None
                guards += [g for g in below or () if g not in guards]
        return guards or None


def _inside_a_sending_call(view: FunctionView, call: ast.Call, sends: Sends) -> bool:
    for ancestor in view.ancestors(call):
        if isinstance(ancestor, ast.Call) and sends.graph.kind(view, ancestor) == "send":
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False


def _guard(view: FunctionView, sends: list[ast.Call], planned: set[str]) -> str:
    if not sends:
        return ""
    first = min((c.lineno, c.col_offset) for c in sends)
    created = _created_names(view)
    for node in view.nodes:
        if not isinstance(node, (ast.If, ast.While)):
            continue
        encloses = any(node in view.ancestors(c) for c in sends)
        exits = bool(node.body) and isinstance(node.body[-1], EXITS)
        if not (encloses or (exits and (node.lineno, node.col_offset) < first)):
            continue
        if _flaggy(view, node.test, planned, created):
            return f"it already checks `{one_line(view.segment(node.test), 90)}` (line {node.lineno}) before sending"
        recorded = _recorded_after(view, node.test, first)
        if recorded is not None:
            chain, line = recorded
            return f"it compares `{chain}` (line {node.lineno}) before sending and records it after (line {line})"
    return ""


def _recorded_after(view: FunctionView, test: ast.AST, after: tuple[int, int]) -> tuple[str, int] | None:
    """(chain, line) when the test reads a stored value (`gs.settings.last_result`) that the function
    writes after the send: `x.a.b = ...`, `x.a.set("b", ...)` or `setattr(x.a, "b", ...)`."""
    read = {view.segment(n) for n in ast.walk(test) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)}
    read.discard("")
    if not read:
        return None
    for node in view.nodes:
        if (getattr(node, "lineno", 0), getattr(node, "col_offset", 0)) <= after:
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and view.segment(target) in read:
                    return view.segment(target), node.lineno
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args and isinstance(node.args[0], ast.Constant):
            name = node.args[0].value
            if node.func.attr == "set" and f"{view.segment(node.func.value)}.{name}" in read:
                return f"{view.segment(node.func.value)}.{name}", node.lineno
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) == 3:
            owner, name = node.args[0], node.args[1]
            if isinstance(name, ast.Constant) and f"{view.segment(owner)}.{name.value}" in read:
                return f"{view.segment(owner)}.{name.value}", node.lineno
    return None


def _created_names(view: FunctionView) -> set[str]:
    """`log, created = SentEmail.objects.get_or_create(...)`: `created` tells a first run from a repeat."""
    names = set()
    for node in view.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            value = node.value.value if isinstance(node.value, ast.Await) else node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr.endswith(("get_or_create", "update_or_create")):
                elements = node.targets[0].elts
                if len(elements) == 2 and isinstance(elements[1], ast.Name):
                    names.add(elements[1].id)
    return names


def _flaggy(view: FunctionView, test: ast.AST, planned: set[str], created: set[str]) -> bool:
    """Does the condition read a sent flag, a sent timestamp or status, a cache key or an audit row?"""
    for node in ast.walk(test):
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
            if identifier in planned or set(words(identifier)) & FLAG_WORDS:
                return True
        if _email_status(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in CACHE_CHECKS and "cache" in view.segment(node.func.value).lower():
                return True
            if node.func.attr in {"exists", "count", "aexists", "acount"} and _chain_words(node.func.value) & AUDIT_WORDS:
                return True
    return False


def _email_status(node: ast.AST) -> bool:
    """`booking.email_status == ...`: a status field about the message itself."""
    if not isinstance(node, ast.Attribute):
        return False
    parts = set(words(node.attr))
    return bool(parts & STATUS_WORDS) and bool(parts & {"email", "mail", "sms", "message", "notification", "delivery"})


def _chain_words(node: ast.AST) -> set[str]:
    found: set[str] = set()
    while isinstance(node, (ast.Call, ast.Attribute, ast.Name)):
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            found |= set(words(node.attr))
            node = node.value
        else:
            found |= set(words(node.id))
            break
    return found


def describe(view: FunctionView, call: ast.Call) -> str:
    """"sends an email (send_mail, line 12)"."""
    written = callee(view, call)
    last = written.rsplit(".", 1)[-1]
    lowered = written.lower()
    if "sms" in lowered or written.endswith("messages.create") or "text" in last.lower():
        kind = "an SMS"
    elif "slack" in lowered or last in {"chat_postMessage", "chat_postEphemeral"}:
        kind = "a Slack message"
    elif "push" in lowered or "messaging" in lowered or last in {"send_each", "send_multicast", "send_each_for_multicast", "send_notification", "webpush"}:
        kind = "a push notification"
    elif "mail" in lowered or last == "send" or "email" in lowered:
        kind = "an email"
    else:
        kind = "a message"
    return f"sends {kind} ({written}, line {call.lineno})"


def callee(view: FunctionView, call: ast.Call) -> str:
    """The callee as written, kept short: `EmailMessage(...).send` rather than the whole constructor call."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        return f"{dotted(func.value.func) or '...'}(...).{func.attr}"
    return one_line(view.segment(func))

