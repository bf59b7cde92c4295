"""Where a claim goes in a task and what it says, for both stores.

The cache store claims the message itself: a redelivered message keeps its task id, so the key
`sent-flag:<task>:<the task's request id>` is taken again only by a redelivery, never by the next real
event. Claimed before the task's first side effect (claim-before: at most once), or checked there and
marked right after the last send (mark-after: at least once).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..engine.levels import Refusal
from ..engine.project import Project, Task
from ..engine.view import FunctionView, names_in, store_names
from .sends import Sends

CACHE = "\x00cache\x00"  # stands for the cache's local name in planned code, until the file's imports are known


@dataclass(frozen=True)
class Claim:
    """In the task's file: a check before the statement starting on `before`, and (mark-after) a mark
    after the statement starting on `after`. CACHE in the code stands for the cache's local name."""

    line: int  # the send (or the call leading to it) the finding reports
    column: int
    before: int
    after: int  # 0 when nothing goes after the send (claim-before)
    check: tuple[str, str]  # `if ...:` and the statement under it
    mark: tuple[str, str]  # ("", statement) or (`if ...:`, statement); ("", "") for none
    cache: bool


@dataclass(frozen=True)
class Placement:
    block: list[ast.stmt]
    anchor: int  # index of the statement the check goes before
    last: int  # index of the last statement that sends


def place(view: FunctionView, sends: Sends, calls: list[ast.Call], block: list[ast.stmt], start: int, mode: str) -> Placement | Refusal:
    """Before the first statement (from `start` on) of `block` that does something, and, for mark-after,
    after the last one that sends; or why not."""
    if not block or block[0].lineno == view.node.lineno:
        return Refusal("the task is written on one line")
    active = [c for c in calls if sends.kind(view, c)]
    anchor = next((i for i in range(start, len(block)) if any(view.index_in(c, block) == i for c in active)), None)
    if anchor is None:
        return Refusal("its sends are not in the task's own body")
    early = [c for c in active if (c.lineno, c.col_offset) < (block[anchor].lineno, block[anchor].col_offset)]
    if early:
        return Refusal(f"{view.callee_text(early[0])}() on line {early[0].lineno} changes something before the place a claim can go")
    sent = [view.index_in(c, block) for c in calls if sends.kind(view, c) == "send"]
    if None in sent or not sent:
        return Refusal("a send is outside the block the claim would go in; claim by hand")
    last = max(sent)
    if not view.starts_line(block[anchor]):
        return Refusal(f"line {block[anchor].lineno} holds more than one statement")
    if mode == "mark-after":
        if last + 1 < len(block) and block[last + 1].lineno == block[last].end_lineno:
            return Refusal(f"line {block[last].end_lineno} holds more than one statement")
        sending = [c for c in calls if sends.kind(view, c) == "send"]
        first_send = min((c.lineno, c.col_offset) for c in sending)
        for statement in block[anchor : last + 1]:
            for node in ast.walk(statement):
                if isinstance(node, ast.Return) and ((node.lineno, node.col_offset) > first_send or any(c in sending for c in ast.walk(node))):
                    return Refusal(f"the return on line {node.lineno} comes after the send, so a mark after it would never run; use --flag-mode claim-before or flag by hand")
    return Placement(block, anchor, last)


def task_reference(project: Project, view: FunctionView, task: Task) -> str:
    """How the task's body names its own task object, to read `.request.id`: `self` for a bound task or a
    Task class, the function's own name for a decorated module-level function; "" when it cannot."""
    parameters = view.parameters(with_self=True)
    if "." in task.key.qualname or (parameters[:1] == ["self"] and any(d.options.get("bind") is True for d in view.function.decorators)):
        return "self"
    if task.how.startswith("@") and task.key.qualname == view.function.name:
        return view.function.name
    return ""


def message_code(reference: str, task: Task, mode: str, timeout: str) -> tuple[tuple[str, str], tuple[str, str], str]:
    """(check, mark, what it does) for a claim on the message's own task id."""
    literal = f"sent-flag:{task.name}:".replace("\\", "\\\\").replace('"', '\\"').replace("{", "{{").replace("}", "}}")
    key = f'f"{literal}{{{reference}.request.id}}"'
    if mode == "claim-before":
        check = (f"if {reference}.request.id and not {CACHE}.add({key}, True, timeout={timeout}):", "return")
        return check, ("", ""), f"claims the message's own task id ({reference}.request.id) with cache.add()"
    check = (f"if {reference}.request.id and {CACHE}.get({key}):", "return")
    mark = (f"if {reference}.request.id:", f"{CACHE}.set({key}, True, timeout={timeout})")
    return check, mark, f"checks the message's own task id ({reference}.request.id) in the cache"


def timeout_text(seconds: int) -> str:
    if seconds % (60 * 60 * 24) == 0:
        days = seconds // (60 * 60 * 24)
        return f"60 * 60 * 24 * {days}" if days != 1 else "60 * 60 * 24"
    return str(seconds)


def early_exit(project: Project, view: FunctionView, block: list[ast.stmt], anchor: int) -> str:
    """`return`, or the task's own final `return <value>` when that value is known before the claim
    (`return appointment.pk`): a repeat run answers what the first one did."""
    last = view.node.body[-1]
    if not isinstance(last, ast.Return) or last.value is None:
        return "return"
    value = last.value
    if any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)) for n in ast.walk(value)):
        return "return"
    known = set(view.parameters(with_self=True)) | set(view.imports)
    current: ast.AST = block[anchor]
    while current in view.blocks:  # plain assignments on every path to the claim
        owner, statements, index = view.blocks[current]
        for statement in statements[:index]:
            if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                known |= {name for t in targets for name in store_names(t)}
        if isinstance(owner, (ast.With, ast.AsyncWith)):
            known |= {name for i in owner.items if i.optional_vars for name in store_names(i.optional_vars)}
        current = owner
    text = view.segment(value)
    if names_in(value) <= known and text and "\n" not in text:
        return f"return {text}"
    return "return"
