"""Celery settings as a project writes them: Django settings (`CELERY_*`, old uppercase names),
`app.conf.name = value` and `app.conf.update(...)`, normalised to Celery's lowercase names."""

from __future__ import annotations

import ast

from . import facts
from .names import dotted

# Old uppercase names (Celery 3) that still work, and what they are called now (celery.app.defaults).
OLD_NAMES = {
    "CELERY_ACKS_LATE": "task_acks_late",
    "CELERY_REJECT_ON_WORKER_LOST": "task_reject_on_worker_lost",
    "CELERY_ACKS_ON_FAILURE_OR_TIMEOUT": "task_acks_on_failure_or_timeout",
    "CELERYD_PREFETCH_MULTIPLIER": "worker_prefetch_multiplier",
    "BROKER_URL": "broker_url",
    "BROKER_TRANSPORT_OPTIONS": "broker_transport_options",
    "CELERYD_TASK_TIME_LIMIT": "task_time_limit",
    "CELERYD_TASK_SOFT_TIME_LIMIT": "task_soft_time_limit",
    "CELERY_RESULT_BACKEND": "result_backend",
}
OLD_NAME_OF = {new: old for old, new in OLD_NAMES.items()}
WATCHED = frozenset(
    {
        "task_acks_late", "task_reject_on_worker_lost", "task_acks_on_failure_or_timeout",
        "worker_prefetch_multiplier", "broker_url", "broker_transport_options", "task_time_limit",
        "task_soft_time_limit", "result_backend",
    }
)
# Bytes of a file that may write Celery settings (`app.conf.x = ...`, `app.conf.update(...)`); not
# `django.conf`, which nearly every Django module imports.
# A `celeryconfig` module read by `config_from_object` writes lowercase names, which any module may use for
# its own variables: those count only in modules a config_from_object call names (see celery_config).
MARKERS = (
    b"CELERY", b"BROKER_", b".conf.", b"Celery(", b"config_from_object", b"task_acks_late", b"broker_url", b"worker_prefetch",
)
TEXT_MARKERS = tuple(m.decode() for m in MARKERS)


# Settings whose misspelt namespaced form is a common mistake: CELERY_<rest> is ignored when Celery's name
# is task_<rest> or worker_<rest> (under namespace="CELERY", CELERY_PREFETCH_MULTIPLIER is not a setting).
KNOWN = WATCHED | frozenset(
    {
        "worker_max_tasks_per_child", "worker_max_memory_per_child", "worker_concurrency", "task_always_eager",
        "task_track_started", "task_ignore_result", "task_default_queue", "task_serializer", "worker_send_task_events",
        "task_default_rate_limit",
    }
)
ENV_DEFAULT_TYPES = {"bool": bool, "int": int, "float": float, "str": str}


def _normalise(written: str) -> tuple[str | None, str]:
    """(Celery's name for a setting as written, or None; the name Celery reads instead when this one is
    ignored)."""
    if written in OLD_NAMES:
        return OLD_NAMES[written], ""
    if written.startswith("CELERY_"):
        rest = written[len("CELERY_"):].lower()
        if rest in KNOWN:
            return (rest if rest in WATCHED else None), ""
        for prefix in ("task_", "worker_"):
            if prefix + rest in WATCHED:
                return prefix + rest, f"CELERY_{(prefix + rest).upper()}"
        return None, ""
    if written.islower():
        return (written if written in WATCHED else None), ""
    return None, ""


class _Values:
    """Values as Celery will see them: literals, safe arithmetic, int()/float()/bool() of them, and
    environment lookups with a default (`os.getenv("X", "2100")`, `env.int("X", default=2)`,
    `config("X", default=1, cast=int)`), read as their default and noted "from $X, default D"; names
    assigned earlier in the module read as their value."""

    def __init__(self, text_of):
        self.text_of = text_of
        self.names: dict[str, ast.AST] = {}  # module-level name -> the value last assigned to it

    def read(self, node: ast.AST) -> tuple[object, str]:
        """(value, note); value None when it cannot be known."""
        try:
            return self._value(node, 0)
        except (ValueError, TypeError, ArithmeticError, OverflowError, RecursionError, MemoryError):
            return None, ""

    def _value(self, node: ast.AST, depth: int) -> tuple[object, str]:
        if depth > 20:
            return None, ""
        literal = _literal(node)
        if literal is not None or isinstance(node, ast.Constant):
            return literal, ""
        if isinstance(node, ast.Name):
            bound = self.names.get(node.id)
            return self._value(bound, depth + 1) if bound is not None else (None, "")
        if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC_TYPES):
            (left, note_l), (right, note_r) = self._value(node.left, depth + 1), self._value(node.right, depth + 1)
            if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool):
                if isinstance(node.op, ast.Pow) and abs(right) > 64:
                    return None, ""
                return _ARITHMETIC[type(node.op)](left, right), note_l or note_r
            return None, note_l or note_r
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
            read = [self._value(v, depth + 1) for v in node.values]
            notes = [note for _, note in read if note]
            return {k.value: v for k, (v, _) in zip(node.keys, read)}, "; ".join(notes)
        if isinstance(node, ast.Subscript) and (dotted(node.value) or "").endswith("environ"):
            key = _literal(node.slice)
            return None, f"from ${key}" if isinstance(key, str) else ""
        return None, ""

    def _call(self, call: ast.Call, depth: int) -> tuple[object, str]:
        callee = dotted(call.func) or ""
        last = callee.rsplit(".", 1)[-1]
        if callee in ENV_DEFAULT_TYPES and len(call.args) == 1 and not call.keywords:
            value, note = self._value(call.args[0], depth + 1)
            return _convert(ENV_DEFAULT_TYPES[callee], value), note
        key = _literal(call.args[0]) if call.args else None
        env_call = callee in {"os.getenv", "getenv", "os.environ.get", "environ.get", "env", "config"} or (
            callee.startswith(("env.", "environ.Env.")) and last in ENV_DEFAULT_TYPES
        )
        if not env_call or not isinstance(key, str):
            return None, ""
        default_node = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "default"), None)
        if default_node is None:
            return None, f"from ${key}, no default"
        default, _ = self._value(default_node, depth + 1)
        cast = next((k.value for k in call.keywords if k.arg == "cast"), None)
        kind = ENV_DEFAULT_TYPES.get(last) or ENV_DEFAULT_TYPES.get(dotted(cast) or "")
        value = _convert(kind, default) if kind else default
        return value, f"from ${key}, default {self.text_of(default_node)}"


_ARITHMETIC = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.FloorDiv: lambda a, b: a // b, ast.Mod: lambda a, b: a % b, ast.Pow: lambda a, b: a**b,
}
_ARITHMETIC_TYPES = tuple(_ARITHMETIC)


def _convert(kind, value):
    """`int("2100")`, and what env readers do with a text default: "false" / "0" are False for a bool."""
    if value is None or kind is None:
        return value
    if kind is bool and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "y", "t"}
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def seconds(node: ast.AST | None) -> float | None:
    """A number of seconds written as a literal or arithmetic on literals (`2 * 60 * 60`), else None."""
    if node is None:
        return None
    value, _ = _Values(lambda n: "").read(node)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


_TIMEDELTA_UNITS = {"weeks": 604800, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


def wait_seconds(keywords: list[ast.keyword]) -> float | None:
    """How long a message waits before it runs, when the call says so in literals: `countdown=2 * 60`,
    or an `eta=` that adds a `timedelta(hours=2)` to now."""
    for keyword in keywords:
        if keyword.arg == "countdown":
            return seconds(keyword.value)
        if keyword.arg == "eta":
            added = keyword.value.right if isinstance(keyword.value, ast.BinOp) and isinstance(keyword.value.op, ast.Add) else None
            if isinstance(added, ast.Call) and (dotted(added.func) or "").rsplit(".", 1)[-1] == "timedelta":
                return _timedelta(added)
    return None


def _timedelta(call: ast.Call) -> float | None:
    total = 0.0
    named = [(k.arg, k.value) for k in call.keywords] + list(zip(("days", "seconds"), call.args))
    for unit, node in named:
        amount = seconds(node)
        if unit not in _TIMEDELTA_UNITS or amount is None:
            return None
        total += amount * _TIMEDELTA_UNITS[unit]
    return total or None


def _literal(node: ast.AST) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def collect(body: list[ast.stmt], text_of) -> tuple[list[facts.Setting], list[facts.ConfigSource]]:
    """The Celery settings a module's statements write, in order (a later one overrides an earlier one of
    the same name), and the `config_from_object` calls that say where an app reads them. Class bodies
    count too: class-based settings (django-configurations) write them there."""
    found: list[facts.Setting] = []
    sources: list[facts.ConfigSource] = []
    values = _Values(text_of)
    block, statement = "", None

    def add(written: str, key: str, value: ast.AST, line: int) -> None:
        name, reads_instead = _normalise(key)
        if name:
            read, note = values.read(value)
            found.append(facts.Setting(name, text_of(value), read, line, written, note, reads_instead, block, statement.lineno))

    for statement, block in _blocks(body):
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if len(targets) != 1:
                continue
            target = targets[0]
            if isinstance(target, ast.Name):
                if target.id.isupper() or (target.id in WATCHED and block != "nested"):  # celeryconfig, or a config class
                    add(target.id, target.id, statement.value, statement.lineno)
                values.names[target.id] = statement.value  # read only if a setting names it
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Attribute) and target.value.attr == "conf":
                add(text_of(target), target.attr, statement.value, statement.lineno)
        if isinstance(getattr(statement, "value", None), ast.Call) and (dotted(statement.value.func) or "").rsplit(".", 1)[-1] == "Celery":
            for keyword in statement.value.keywords:  # Celery("proj", broker="redis://...")
                if keyword.arg == "broker":
                    add("Celery(broker=...)", "broker_url", keyword.value, keyword.value.lineno)
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "config_from_object" and call.args:
                namespace = next((k.value for k in call.keywords if k.arg == "namespace"), None)
                sources.append(facts.ConfigSource(
                    dotted(func.value) or "", _source_name(call.args[0]), _literal(namespace) if namespace is not None else None, call.lineno
                ))
            if isinstance(func, ast.Attribute) and func.attr == "update" and isinstance(func.value, ast.Attribute) and func.value.attr == "conf":
                for keyword in call.keywords:
                    if keyword.arg:
                        add(f"{text_of(func)}({keyword.arg}=...)", keyword.arg, keyword.value, keyword.value.lineno)
                for arg in call.args:
                    if isinstance(arg, ast.Dict):
                        for key, value in zip(arg.keys, arg.values):
                            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                                add(f"{text_of(func)}({key.value!r}: ...)", key.value, value, value.lineno)
    return found, sources


def _source_name(node: ast.AST) -> str:
    """What config_from_object reads, as written: "django.conf:settings", "proj.celeryconfig", or the
    name of an imported module or object."""
    literal = _literal(node)
    return literal if isinstance(literal, str) else dotted(node) or ""


def _blocks(body, block: str = ""):
    """(statement, block) for the module's statements: block "" at module level, "class Name" directly in
    a class body (wherever the class is), "nested" inside `if` / `try` / `with` (a setting there holds
    only on that branch)."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _blocks(statement.body, "nested")
            yield from _blocks(statement.orelse, "nested")
        elif isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
            for part in (statement.body, *(h.body for h in statement.handlers), statement.orelse, statement.finalbody):
                yield from _blocks(part, "nested")
        elif isinstance(statement, ast.With):
            yield from _blocks(statement.body, "nested")
        elif isinstance(statement, ast.ClassDef):
            yield from ((inner, f"class {statement.name}") for inner in statement.body)  # also under an `if`
        else:
            yield statement, block
