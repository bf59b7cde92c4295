"""The field store: a permanent flag on the object a message is about (`welcome_email_sent`), claimed
with an atomic update. Right only for a message sent once per object by nature (a welcome at sign-up,
a confirmation per order); for an event that repeats (a password reset, an activation, a digest, a
status change) the flag would silence every later one."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..engine.names import dotted, words
from ..engine.levels import Refusal
from ..engine.project import Model, Project, Task
from ..engine.view import FunctionView, names_in
from .sends import snake

FETCH_METHODS = frozenset({"get", "first", "last", "earliest", "latest", "aget", "afirst", "alast"})
RECIPIENT_KEYWORDS = frozenset(
    {"to", "recipient_list", "recipients", "recipient", "phone", "phone_number", "number", "email", "user", "channel",
     "token", "tokens", "registration_id", "registration_ids", "device", "devices", "bcc", "cc"}
)
VERBS = frozenset({"send", "notify", "email", "mail", "text", "push", "deliver", "dispatch", "post"})
FILLERS = frozenset({"of", "about", "for", "to", "on", "the", "a", "an", "new"})
TRAILING = frozenset({"task", "job", "async"})
# Messages an object gets once by nature, and messages of events that repeat.
ONCE = frozenset({"welcome", "signup", "registration", "registered", "onboarding", "confirmation", "confirm", "receipt", "shipped", "invoice"})
REPEATS = frozenset(
    {"reset", "password", "activation", "activate", "activated", "deactivation", "deactivate", "deactivated", "reactivation",
     "reactivate", "reactivated", "digest", "weekly", "daily", "monthly", "reminder", "remind", "change", "changed", "code",
     "verify", "verification", "status", "update", "updated", "alert", "report", "summary", "again", "renewal", "expiry"}
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AddField:
    """In the model's file: `<field> = models.BooleanField(default=False)` in class `model`."""

    line: int  # the `class` line
    column: int
    model: str
    field: str


@dataclass
class Root:
    """An object the task fetched: `host = Host.objects.select_related("user").get(pk=host_id)`."""

    name: str
    statement: ast.stmt
    model_expr: str  # "Host", "models.Host", "get_user_model()"
    manager: str
    model: Model | None  # None when it is not a project model
    outside: str  # what it is when not a project model: "django.contrib.auth's User model"


def roots(project: Project, view: FunctionView) -> dict[str, Root]:
    """The objects the task fetches by a query, in its own body."""
    found: dict[str, Root] = {}
    for node in view.nodes:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id in found or node not in view.blocks:
            continue
        fetched = _fetch(project, view, value.value if isinstance(value, ast.Await) else value)
        if fetched is not None:
            found[target.id] = Root(target.id, node, *fetched)
    return found


def _fetch(project: Project, view: FunctionView, value: ast.AST):
    """(model expression, manager, Model or None, what it is otherwise) for a fetch of one object."""
    if not isinstance(value, ast.Call):
        return None
    if (dotted(value.func) or "").rsplit(".", 1)[-1] in {"get_object_or_404", "aget_object_or_404"} and value.args:
        model, outside = _model_of(project, view, value.args[0])
        if model is None and not outside:
            return None
        manager = "objects" if model is None or not model.managers or "objects" in model.managers else "_default_manager"
        return view.segment(value.args[0]), manager, model, outside
    if not isinstance(value.func, ast.Attribute) or value.func.attr not in FETCH_METHODS:
        return None
    node = value.func.value
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        model, outside = _model_of(project, view, node.value)
        if model is not None or outside:
            return view.segment(node.value), node.attr, model, outside
        node = node.value
    return None


def _model_of(project: Project, view: FunctionView, expression: ast.AST) -> tuple[Model | None, str]:
    if isinstance(expression, ast.Call) and (dotted(expression.func) or "").rsplit(".", 1)[-1] == "get_user_model":
        users = project.user_models()
        return (users[0], "") if len(users) == 1 else (None, "the user model from get_user_model(), not a model of this project")
    name = dotted(expression)
    symbol = project.resolve(view.key.module, name) if name else None
    if symbol is not None and symbol.kind == "class":
        return project.model(symbol.module, symbol.name), ""
    if symbol is not None and symbol.kind == "external" and "django.contrib.auth" in symbol.name and symbol.name.rsplit(".", 1)[-1] in {"User", "Group"}:
        return None, f"django.contrib.auth's {symbol.name.rsplit('.', 1)[-1]} model"
    return None, ""


def subject(view: FunctionView, sends: list[ast.Call], found: dict[str, Root]) -> Root | Refusal:
    """The fetched object the message is about: the one whose data the sends use (their recipient first)."""
    derived = _derivations(view, found)

    def roots_in(node: ast.AST | None) -> set[str]:
        return set().union(*(derived.get(name, set()) for name in names_in(node))) if node is not None else set()

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
    if not used:
        return Refusal(f"the send uses none of the objects the task fetched ({', '.join(sorted(found))}), so the rule cannot tell what the message is about")
    if len(used) == 1:
        return found[next(iter(used))]
    if len(recipients & used) == 1:
        return found[next(iter(recipients & used))]
    return Refusal(
        f"the message involves several fetched objects ({', '.join(sorted(used))}) and the rule cannot tell which one it "
        "is about; name the field in [tool.idem-fix.sent-flag-names]"
    )


def _derivations(view: FunctionView, found: dict[str, Root]) -> dict[str, set[str]]:
    """Local name -> the fetched objects it comes from: `user = host.user`, `msg = EmailMessage(to=[user.email])`."""
    derived = {name: {name} for name in found}
    flows = []
    for node in view.nodes:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets, value = [node.target], node.iter
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            targets, value = [node.optional_vars], node.context_expr
        else:
            continue
        flows.append((names_in(value), [n for t in targets for n in names_in(t) if n not in found]))
    for _ in range(3):
        for read, bound in flows:
            sources = set().union(*(derived.get(name, set()) for name in read))
            for name in bound if sources else ():
                derived.setdefault(name, set()).update(sources)
    return derived


def once_by_nature(task: Task, short: str, model: Model | None) -> tuple[bool | None, str]:
    """(True: once per object by nature, False: an event that repeats, None: cannot tell, and why)."""
    said = set(words(short)) | set(words(task.name.rsplit(".", 1)[-1]))
    repeats = sorted(said & REPEATS)
    if repeats:
        return False, f"{short} is about an event that repeats ({repeats[0]})"
    once = sorted(said & ONCE)
    if once:
        return True, f"the {once[0]} message goes out once per {model.name if model else 'object'}"
    return None, f"nothing in {short}'s name says the message goes out once per {model.name if model else 'object'}"


def flag_name(task_name: str, model_name: str) -> str:
    """`send_host_welcome_email` on Host -> `welcome_email_sent`; `notify_guest_of_checkin` -> `checkin_notified`."""
    parts = snake(task_name).split("_")
    suffix = "sent"
    verb = bool(parts) and parts[0] in VERBS
    if verb:
        suffix = "notified" if parts[0] == "notify" else "sent"
        parts = parts[1:]
    while parts and parts[-1] in TRAILING:
        parts = parts[:-1]
    model_words = snake(model_name).split("_") if model_name and verb else []
    kept = list(parts)
    if model_words:
        for start in range(len(kept) - len(model_words) + 1):
            if kept[start : start + len(model_words)] == model_words:
                kept = kept[:start] + kept[start + len(model_words) :]
                break
    while kept and (kept[0] in FILLERS or not kept[0][:1].isalpha()):  # a field name starts with a letter
        kept = kept[1:]
    while kept and kept[-1] in FILLERS:
        kept = kept[:-1]
    if not kept:
        kept = [w for w in parts if w not in FILLERS and w[:1].isalpha()] or ["message"]
    return "_".join(kept) if kept[-1] in {"sent", "notified"} else "_".join([*kept, suffix])


def field_code(root: Root, field_name: str, mode: str) -> tuple[tuple[str, str], tuple[str, str], str]:
    """(check, mark, what it does) for a flag on the root object."""
    manager = f"{root.model_expr}.{root.manager}"
    label = root.model.name if root.model else root.model_expr
    if mode == "claim-before":
        check = (f"if not {manager}.filter(pk={root.name}.pk, {field_name}=False).update({field_name}=True):", "return")
        return check, ("", ""), f"claims {label}.{field_name} with an atomic update"
    return (f"if {root.name}.{field_name}:", "return"), ("", f"{manager}.filter(pk={root.name}.pk).update({field_name}=True)"), f"checks {label}.{field_name}"


def valid_name(name: str) -> bool:
    return bool(_IDENTIFIER.match(name))
