"""Celery settings as a project writes them: Django settings (`CELERY_*`, old uppercase names),
`app.conf.name = value` and `app.conf.update(...)`, normalised to Celery's lowercase names."""

from __future__ import annotations

import ast

from . import facts

# Old uppercase names (Celery 3) that still work, and what they are called now.
OLD_NAMES = {
    "CELERY_ACKS_LATE": "task_acks_late",
    "CELERYD_PREFETCH_MULTIPLIER": "worker_prefetch_multiplier",
    "BROKER_URL": "broker_url",
    "BROKER_TRANSPORT_OPTIONS": "broker_transport_options",
    "CELERYD_TASK_TIME_LIMIT": "task_time_limit",
    "CELERYD_TASK_SOFT_TIME_LIMIT": "task_soft_time_limit",
    "CELERY_TASK_REJECT_ON_WORKER_LOST": "task_reject_on_worker_lost",
}
WATCHED = frozenset(
    {
        "task_acks_late", "task_reject_on_worker_lost", "task_acks_on_failure_or_timeout",
        "worker_prefetch_multiplier", "broker_url", "broker_transport_options", "task_time_limit",
        "task_soft_time_limit",
    }
)
# Bytes of a file that may write Celery settings (`app.conf.x = ...`, `app.conf.update(...)`); not
# `django.conf`, which nearly every Django module imports.
MARKERS = (b"CELERY", b"BROKER_", b".conf.")


def _normalise(written: str) -> str | None:
    if written in OLD_NAMES:
        return OLD_NAMES[written]
    if written.startswith("CELERY_"):
        name = written[len("CELERY_"):].lower()
    elif written.islower():
        name = written
    else:
        return None
    return name if name in WATCHED else None


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def collect(statements, text_of) -> list[facts.Setting]:
    found: list[facts.Setting] = []

    def add(written: str, key: str, value: ast.AST, line: int) -> None:
        name = _normalise(key)
        if name:
            found.append(facts.Setting(name, text_of(value), _literal(value), line, written))

    for statement in statements:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                add(target.id, target.id, statement.value, statement.lineno)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "conf":
                add(text_of(target), target.attr, statement.value, statement.lineno)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "update" and isinstance(func.value, ast.Attribute) and func.value.attr == "conf":
                for keyword in call.keywords:
                    if keyword.arg:
                        add(f"{text_of(func)}({keyword.arg}=...)", keyword.arg, keyword.value, keyword.value.lineno)
                for arg in call.args:
                    if isinstance(arg, ast.Dict):
                        for key, value in zip(arg.keys, arg.values):
                            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                                add(f"{text_of(func)}({key.value!r}: ...)", key.value, value, value.lineno)
    return found
