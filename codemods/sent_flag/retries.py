"""When a task runs again under its own task id. A retry keeps the id, so a claim taken before the send
stops the retry from sending, and a mark set before a later retry stops that retry at the check."""

from __future__ import annotations

import ast

from ..engine.project import Project, Task
from ..engine.view import FunctionView
from .claim import task_reference


def retries(project: Project, view: FunctionView, task: Task) -> str:
    """Why the task may be retried ("" when nothing says so)."""
    return automatic(project, view, task) or next(_retry_calls(project, view, task, (0, 0)), "")


def retried_after(project: Project, view: FunctionView, task: Task, position: tuple[int, int]) -> str:
    """Why a retry may start after `position` (where a mark goes), "" when none can: that retry would find
    the mark and return before doing what it was retried for."""
    explicit = next(_retry_calls(project, view, task, position), "")
    if explicit:
        return explicit
    auto = automatic(project, view, task)
    later = next((c for c in view.calls() if (c.lineno, c.col_offset) > position), None)
    if auto and later is not None:
        return f"{auto}, and {view.callee_text(later)}() (line {later.lineno}) runs after the mark"
    return ""


def automatic(project: Project, view: FunctionView, task: Task) -> str:
    """autoretry_for on the decorator, on the Task class, or possibly on a base class idem-fix cannot read."""
    for decorator in view.function.decorators:
        if {"autoretry_for", "retry_backoff"} & set(decorator.keywords):
            return "its decorator sets autoretry_for"
        if "base" in decorator.keywords:
            return "its base class (base=...) may set autoretry_for"
    if "." in task.key.qualname:
        owner = task.key.qualname.rsplit(".", 1)[0]
        if project.class_sets(task.key.module, owner, "autoretry_for"):
            return f"{owner} sets autoretry_for"
        unread = sorted(b for b in project.external_bases(task.key.module, owner) if not b.startswith(("celery.", "<celery app>.")))
        if unread:
            return f"{owner} derives from {unread[0]}, which may set autoretry_for"
    return ""


def _retry_calls(project: Project, view: FunctionView, task: Task, after: tuple[int, int]):
    """Each call after `after` that retries the task: `self.retry()`, or handing the task to code that may."""
    reference = task_reference(project, view, task)
    if not reference:
        return
    for call in view.calls():
        if (call.lineno, call.col_offset) <= after:
            continue
        if isinstance(call.func, ast.Attribute) and call.func.attr == "retry" and view.segment(call.func.value) == reference:
            yield f"it calls {reference}.retry() (line {call.lineno})"
        handed = any(isinstance(a, ast.Name) and a.id == reference for a in (*call.args, *(k.value for k in call.keywords)))
        if handed and not _never_retries(project, view, call):
            yield f"it hands the task to {view.callee_text(call)}() (line {call.lineno}), which may call .retry() on it"


def _never_retries(project: Project, view: FunctionView, call: ast.Call) -> bool:
    """The one project function `call` runs (for `partial(f, self)`, f) reads nothing named retry off
    any of its parameters."""
    if (view.callee_text(call).rsplit(".", 1)[-1] == "partial") and call.args:
        reference = view.segment(call.args[0])
        targets = project.call_targets(view.key, reference) if reference else []
    else:
        targets = project.graph.targets(view, call)
    callee = project.view(targets[0]) if len(targets) == 1 else None
    if callee is None:
        return False
    parameters = set(callee.parameters(with_self=True))
    return not any(
        isinstance(node, ast.Attribute) and node.attr == "retry" and isinstance(node.value, ast.Name) and node.value.id in parameters
        for node in callee.nodes
    )
