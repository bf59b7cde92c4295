"""Is this Celery configuration at-least-once, and what does that mean for the tasks?

Reads the settings a project writes (Django `CELERY_*` names, `app.conf` assignments and updates) and
explains each one that decides whether a task can run twice.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .caches import shared_cache
from .names import dotted
from .report import ConfigCheck
from .source import one_line

if TYPE_CHECKING:
    from .project import Project

DEFAULT_VISIBILITY_TIMEOUT = 3600  # seconds: Redis and SQS redeliver unacked messages after this


def check_config(project: Project) -> list[ConfigCheck]:
    written = [(m, s) for m, s in project.celery_settings() if not project.is_test_module(m)]  # not the workers' settings
    found = _in_effect(project, written)

    def value(name):
        return found[name][1].value if name in found else None

    home = _home(project, found)

    def check(name, status, message, default=None):
        if name in found:
            module, setting = found[name]
            note = f"{setting.note}: " if setting.note else ""
            return ConfigCheck(name, one_line(setting.source, 80), project.display(module), setting.line, status, note + message)
        return ConfigCheck(name, default, "", 0, status, message + (f" (not set: it belongs in {home})" if home and status != "ok" else ""))

    checks = [
        ConfigCheck(setting.written, one_line(setting.source, 80), project.display(module), setting.line, "warning",
                    f"not a Celery setting, so it is ignored: Celery reads {setting.ignored}")
        for module, setting in written if setting.ignored
    ]
    acks_late = value("task_acks_late") is True
    own = [t for t in project.tasks if isinstance(t.options.get("acks_late"), bool) and t.options["acks_late"] != acks_late]
    exceptions = ""
    if own:
        names = ", ".join(t.name.rsplit(".", 1)[-1] for t in own[:3]) + (f" and {len(own) - 3} more" if len(own) > 3 else "")
        many = len(own) != 1
        exceptions = f"; {len(own)} task{'s' * many} set{'' if many else 's'} acks_late={not acks_late} {'themselves' if many else 'itself'} ({names})"
    if acks_late:
        checks.append(check("task_acks_late", "warning",
            "on: a task is acknowledged after it runs, so a task whose worker dies runs again; every task "
            "must be safe to run twice" + exceptions))
    else:
        checks.append(check("task_acks_late", "warning" if own else "info",
            "off (Celery's default): a task is acknowledged when a worker receives it, so a worker killed "
            "mid-task loses it; fix the tasks above before turning it on" + (
                exceptions + ": those already run again after a crash" if own else ""), default=False))

    reject = value("task_reject_on_worker_lost") is True
    if acks_late and not reject:
        checks.append(check("task_reject_on_worker_lost", "warning",
            "off: with acks_late, a task whose worker process is killed is still acknowledged (WorkerLostError) "
            "and not run again; turn it on for at-least-once delivery", default=False))
    elif reject:
        checks.append(check("task_reject_on_worker_lost", "info" if acks_late else "warning",
            "on: a task whose worker is killed is delivered again" + (
                "" if acks_late else ", but only with task_acks_late on")))

    if "task_acks_on_failure_or_timeout" in found and value("task_acks_on_failure_or_timeout") is False:
        checks.append(check("task_acks_on_failure_or_timeout", "warning",
            "off: tasks that raise or time out are delivered again too, so they must be idempotent as well"))
    elif acks_late:
        checks.append(check("task_acks_on_failure_or_timeout", "ok",
            "on (default): a task that raises or times out is acknowledged, not retried by the broker", default=True))

    prefetch = value("worker_prefetch_multiplier")
    if acks_late and (prefetch is None or (isinstance(prefetch, int) and prefetch > 1)):
        checks.append(check("worker_prefetch_multiplier", "info",
            f"{prefetch or 4}: each worker process reserves up to {prefetch or 4} messages; when it dies all of "
            "them are delivered again; 1 suits long tasks", default=4))

    checks.extend(_visibility(project, found, check, acks_late, written))
    checks.append(_claim_store(project))
    return checks


def _visibility(project: Project, found, check, acks_late: bool, written) -> list[ConfigCheck]:
    """The Redis / SQS visibility_timeout against the longest countdown and time limit. Every broker_url the
    settings write counts (an `if` on the environment may choose Redis over RabbitMQ's default)."""
    brokers = [(module, setting) for module, setting in written if setting.name == "broker_url" and not setting.ignored]
    schemes = {_scheme(setting) for _, setting in brokers}
    uses_redis, uses_sqs = bool(schemes & {"redis", "rediss", "sentinel"}), "sqs" in schemes
    if not (uses_redis or uses_sqs):
        return []
    if len(schemes) > 1:  # the environment chooses: say which branch the check is about
        wanted = {"redis", "rediss", "sentinel"} if uses_redis else {"sqs"}
        module, branch = next((m, b) for m, b in brokers if _scheme(b) in wanted)
        inner = check

        def check(name, status, message, default=None):
            where = f"{project.display(module)}:{branch.line}"
            return inner(name, status, f"when the settings choose {_scheme(branch)} ({where}): {message}", default)
    options = found.get("broker_transport_options")
    timeout = DEFAULT_VISIBILITY_TIMEOUT
    if options and isinstance(options[1].value, dict) and isinstance(options[1].value.get("visibility_timeout"), (int, float)):
        timeout = options[1].value["visibility_timeout"]
    elif options and not isinstance(options[1].value, dict):
        return [check("broker_transport_options", "info",
            "computed, so its visibility_timeout cannot be read here; keep it above the longest task time limit and "
            "countdown / eta, or a message is delivered again while it still waits or runs", default=None)]
    longest, where = _longest_time_limit(project, found)
    broker_name = "Redis" if uses_redis else "SQS"
    countdown, at = _longest_countdown(project)
    if countdown is not None and countdown >= timeout:
        return [check("broker_transport_options", "risk",
            f"visibility_timeout = {timeout:g} s{' (the default)' if not options else ''} but a message waits "
            f"{countdown:g} s for its countdown ({at}): {broker_name} delivers it again every {timeout:g} s until it "
            "runs, so it runs several times; raise the timeout above the longest countdown / eta", default=None)]
    if not acks_late:
        return [check("broker_transport_options", "info",
            f"visibility_timeout = {timeout:g} s{' (the default)' if not options else ''}: with task_acks_late off, "
            f"{broker_name} delivers again only messages a worker reserved but has not started (prefetched, or "
            "waiting for their countdown / eta) when it stays unacknowledged that long; with acks_late on, a task "
            "still running then runs a second time in parallel: keep it above the longest time limit and eta",
            default=None)]
    if longest is None:
        return [check("broker_transport_options", "warning",
            f"{broker_name} delivers an unacknowledged message again after visibility_timeout = {timeout:g} s"
            f"{' (the default)' if not options else ''}; no task sets a time limit, so any task still running then "
            "runs a second time in parallel: set task_time_limit below it", default=None)]
    if longest >= timeout:
        return [check("broker_transport_options", "risk",
            f"visibility_timeout = {timeout:g} s{' (the default)' if not options else ''} but {where} may run "
            f"{longest:g} s: {broker_name} delivers it again while it still runs; raise the timeout above the "
            "longest time limit", default=None)]
    return [check("broker_transport_options", "ok",
        f"visibility_timeout = {timeout:g} s is above the longest time limit ({longest:g} s, {where})", default=None)]


def _longest_time_limit(project: Project, found) -> tuple[float | None, str]:
    longest, where = None, ""
    for name in ("task_time_limit", "task_soft_time_limit"):
        limit = found.get(name)
        if limit and isinstance(limit[1].value, (int, float)) and (longest is None or limit[1].value > longest):
            longest, where = limit[1].value, name
    for task in project.tasks:
        function = project.function(task.key)
        for decorator in function.decorators if function else ():
            for option in ("time_limit", "soft_time_limit"):
                limit = decorator.options.get(option)
                if isinstance(limit, (int, float)) and (longest is None or limit > longest):
                    longest, where = limit, f"task {task.name} ({option})"
    return longest, where


def _in_effect(project: Project, written) -> dict:
    """The setting Celery reads for each name: not an ignored spelling; the current name over a deprecated
    one; in a settings module that star-imports another (production over base) over that one; and the
    last assignment in a module over earlier ones."""
    from .celery_settings import OLD_NAMES

    def star_depth(module: str, seen=frozenset()) -> int:
        summary = project.module(module)
        stars = [found.name for m in summary.star_imports if (found := project.module(m))] if summary else []
        return max((1 + star_depth(m, seen | {module}) for m in stars if m not in seen), default=0)

    ranked = {}
    for module, setting in written:
        if setting.ignored:
            continue
        rank = (setting.written not in OLD_NAMES, star_depth(module), setting.line)
        if setting.name not in ranked or rank >= ranked[setting.name][0]:
            ranked[setting.name] = (rank, (module, setting))
    return {name: entry for name, (_, entry) in ranked.items()}



def _home(project: Project, found: dict) -> str:
    """Where a setting the project does not write belongs, as `path:line`: after the Celery settings it
    already writes (in the module whose values are in effect), else at the end of the settings module
    its Celery app reads (`os.environ.setdefault("DJANGO_SETTINGS_MODULE", ...)`), else of its settings."""
    if found:
        module = max((m for m, _ in found.values()), key=lambda m: sum(1 for n, _ in found.values() if n == m))
        last = max(setting.line for m, setting in found.values() if m == module)
        return f"{project.display(module)}, after line {last}"
    for module in project.modules_saying("DJANGO_SETTINGS_MODULE"):
        if project.is_test_module(module):
            continue
        tree = project.tree(module)
        for node in ast.walk(tree) if tree is not None else ():
            if (
                isinstance(node, ast.Call) and (dotted(node.func) or "").endswith("environ.setdefault")
                and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args)
                and node.args[0].value == "DJANGO_SETTINGS_MODULE" and project.has_module(str(node.args[1].value))
                and (named := project.module(str(node.args[1].value))) is not None and not project.is_test_module(named.name)
            ):
                return project.display(named.name)
    return ""


def _longest_countdown(project: Project) -> tuple[float | None, str]:
    """The longest literal `countdown=` the project's loaded code gives a message, and where."""
    longest, where = None, ""
    for summary in list(project.modules.values()):
        functions = [*summary.functions.values(), *(m for c in summary.classes.values() for m in c.methods.values())]
        for function in functions:
            for line, seconds in function.countdowns:
                if longest is None or seconds > longest:
                    longest, where = seconds, f"{project.display(summary.name)}:{line}"
    return longest, where


def _scheme(setting) -> str:
    """The transport a broker URL names (redis, rediss, sentinel, sqs, amqp, ...), read from its value or
    default, else from the text as written."""
    text = str(setting.value if isinstance(setting.value, str) else setting.source).strip("'\" ").lower()
    if "://" in text:
        return text.split("://", 1)[0].rsplit("+", 1)[-1].split("(")[-1].strip("'\"f ")
    return next((s for s in ("rediss", "redis", "sentinel", "sqs", "amqp") if s in text), "")



def _claim_store(project: Project) -> ConfigCheck:
    """The default cache, where sent-flag keeps its claims: one for every worker, or one per process."""
    backend, unshared = shared_cache(project)
    if backend:
        where = next((w for b, w, _ in project.cache_backends() if b == backend), "")
        path, _, line = where.rpartition(":")
        return ConfigCheck("CACHES default", backend, path, int(line or 0), "ok",
            "every worker shares it, so a claim on a message's task id (rule sent-flag) stops a redelivery on any worker")
    return ConfigCheck("CACHES default", None, "", 0, "info",
        f"{unshared}; configure a cache every worker shares (Redis, Memcached, the database) so that sent-flag's "
        "claims on a message's task id hold across workers")
