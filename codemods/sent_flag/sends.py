"""Which calls of a task send a message (email, SMS, push, chat), themselves or through what they call,
and whether the task already makes sure a message goes out once (a flag, a timestamp, a cache key or
an audit row checked before the send)."""

from __future__ import annotations

import ast
import fnmatch
import re

from ..engine.guard_checks import checked_before
from ..engine.guard_selection import collected_then_deleted
from ..engine.names import dotted, words
from ..engine.project import FunctionKey, Project
from ..engine.source import one_line
from ..engine.view import FunctionView
from .settings import Settings

HARMLESS = frozenset({"external_read", "db_upsert"})
OUTWARD = frozenset({"send", "external", "credential"})  # effects that leave the database
# Sends the effect facts do not name (yet): pushes through SDK functions.
EXTRA_SENDS = frozenset({"firebase_admin.messaging.send", "firebase_admin.messaging.send_all", "pywebpush.webpush"})
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

    def _sends_anywhere(self, view: FunctionView) -> list[ast.Call]:
        """sends(), or when there are none in the function's own flow, the sends in its lambdas
        (`transaction.on_commit(lambda: connection.send_messages(emails))`), or the calls its summary names as
        sends (`email.send()` on a project message class whose own send() reaches nothing known): where a guard
        must cover them."""
        return self.sends(view) or [c for c in view.parents if isinstance(c, ast.Call) and self.kind(view, c) == "send"] or [
            c for c in view.parents if isinstance(c, ast.Call) and self.graph.kind(view, c) == "send"]

    def sends(self, view: FunctionView) -> list[ast.Call]:
        """The task's own calls that send (the outermost call of a chain)."""
        return [c for c in view.calls() if self.kind(view, c) == "send" and not _inside_a_sending_call(view, c, self)]

    # --- already once ---------------------------------------------------------------------------

    def already_flagged(self, view: FunctionView, sends: list[ast.Call], planned: set[str]) -> str:
        """Why the task already sends once: a flag, timestamp, cache key or audit row checked before the
        send, or a stored value compared before it and written after it, in the task or, for each call
        that leads to a send, in a function on the way ("" when some send has no such check)."""
        guards = self._guards(view, sends, planned, frozenset({view.key}), view.key)
        if guards is None:
            return ""
        return "; ".join(reason if key == view.key else f"{reason} in {key.qualname} ({self.project.display(key.module)})" for key, reason in guards)

    def _guards(self, view: FunctionView, sends: list[ast.Call], planned: set[str], seen: frozenset, task: FunctionKey) -> list[tuple[FunctionKey, str]] | None:
        found = checked_before(view, sends, planned) or self.project.guards.marked_first(task, view, sends) or _deleted_first(view, sends)
        if found:
            return [(view.key, found)]
        guards: list[tuple[FunctionKey, str]] = []
        for call in sends:
            helpers = [t for t in self.graph.targets(view, call) if t in self.reaching]
            if not helpers:
                return None  # sends itself, and no check before it
            for key in helpers:
                helper = self.project.view(key) if key not in seen else None
                below = self._guards(helper, self._sends_anywhere(helper), planned, seen | {key}, task) if helper is not None else None
                if below is None and key not in seen:
                    return None
                guards += [g for g in below or () if g not in guards]
        return guards or None


def _deleted_first(view: FunctionView, sends: list[ast.Call]) -> str:
    """Every send runs for rows the function deleted before it (`collected_then_deleted`)."""
    reasons = [collected_then_deleted(view, call) for call in sends]
    return "; ".join(dict.fromkeys(reasons)) if reasons and all(reasons) else ""


def _inside_a_sending_call(view: FunctionView, call: ast.Call, sends: Sends) -> bool:
    for ancestor in view.ancestors(call):
        if isinstance(ancestor, ast.Call) and sends.graph.kind(view, ancestor) == "send":
            return True
        if isinstance(ancestor, ast.stmt):
            return False
    return False


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

