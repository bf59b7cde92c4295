"""Is this Celery configuration at-least-once, and what does that mean for the tasks?

Reads the settings a project writes (Django `CELERY_*` names, `app.conf` assignments and updates) and
explains each one that decides whether a task can run twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .caches import shared_cache
from .celery_config import REDIS_SCHEMES, CeleryConfig, brokers, longest_countdown, longest_time_limit, scheme, transports
from .report import ConfigCheck
from .source import one_line

if TYPE_CHECKING:
    from .project import Project

DEFAULT_VISIBILITY_TIMEOUT = 3600  # seconds: Redis and SQS redeliver unacked messages after this


def check_config(project: Project) -> list[ConfigCheck]:
    config = project.celery_config()
    written, found, value = config.written, config.in_effect, config.value
    home = config.home_text()

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
            "off: a task is acknowledged when a worker receives it, so a worker killed "
            "mid-task loses it; fix the tasks above, then turn it on (`idem-fix apply --rule acks-late-config`)" + (
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
            "on: a task that raises or times out is acknowledged, not retried by the broker", default=True))

    prefetch = value("worker_prefetch_multiplier")
    if acks_late and (prefetch is None or (isinstance(prefetch, int) and prefetch > 1)):
        checks.append(check("worker_prefetch_multiplier", "info",
            f"{prefetch or 4}: each worker process reserves up to {prefetch or 4} messages; when it dies all of "
            "them are delivered again; 1 suits long tasks", default=4))

    checks.extend(_visibility(project, config, check, acks_late))
    checks.append(_claim_store(project))
    checks.append(_result_store(config, check))
    return checks


def _visibility(project: Project, config: CeleryConfig, check, acks_late: bool) -> list[ConfigCheck]:
    """The Redis / SQS visibility_timeout against the longest countdown and time limit. Every broker_url the
    settings write counts (an `if` on the environment may choose Redis over RabbitMQ's default)."""
    found = config.in_effect
    schemes = transports(config)
    uses_redis, uses_sqs = bool(schemes & REDIS_SCHEMES), "sqs" in schemes
    if not (uses_redis or uses_sqs):
        return []
    if len(schemes) > 1:  # the environment chooses: say which branch the check is about
        wanted = REDIS_SCHEMES if uses_redis else {"sqs"}
        module, branch = next((m, b) for m, b in brokers(config) if scheme(b) in wanted)
        inner = check

        def check(name, status, message, default=None):
            where = f"{project.display(module)}:{branch.line}"
            return inner(name, status, f"when the settings choose {scheme(branch)} ({where}): {message}", default)
    options = found.get("broker_transport_options")
    timeout, defaulted = DEFAULT_VISIBILITY_TIMEOUT, " (the default)"
    if options and isinstance(options[1].value, dict) and isinstance(options[1].value.get("visibility_timeout"), (int, float)):
        timeout, defaulted = options[1].value["visibility_timeout"], ""
    elif options and not isinstance(options[1].value, dict):
        return [check("broker_transport_options", "info",
            "computed, so its visibility_timeout cannot be read here; keep it above the longest task time limit and "
            "countdown / eta, or a message is delivered again while it still waits or runs", default=None)]
    longest, where = longest_time_limit(project, found)
    broker_name = "Redis" if uses_redis else "SQS"
    countdown, at = longest_countdown(project)
    if countdown is not None and countdown >= timeout:
        return [check("broker_transport_options", "risk",
            f"visibility_timeout = {timeout:g} s{defaulted} but a message waits "
            f"{countdown:g} s for its countdown / eta ({at}): {broker_name} delivers it again every {timeout:g} s until it "
            "runs, so it runs several times; raise the timeout above the longest countdown / eta", default=None)]
    if not acks_late:
        return [check("broker_transport_options", "info",
            f"visibility_timeout = {timeout:g} s{defaulted}: with task_acks_late off, "
            f"{broker_name} delivers again only messages a worker reserved but has not started (prefetched, or "
            "waiting for their countdown / eta) when it stays unacknowledged that long; with acks_late on, a task "
            "still running then runs a second time in parallel: keep it above the longest time limit and eta",
            default=None)]
    if longest is None:
        return [check("broker_transport_options", "warning",
            f"{broker_name} delivers an unacknowledged message again after visibility_timeout = {timeout:g} s"
            f"{defaulted}; no task sets a time limit, so any task still running then "
            "runs a second time in parallel: set task_time_limit below it", default=None)]
    if longest >= timeout:
        return [check("broker_transport_options", "risk",
            f"visibility_timeout = {timeout:g} s{defaulted} but {where} may run "
            f"{longest:g} s: {broker_name} delivers it again while it still runs; raise the timeout above the "
            "longest time limit", default=None)]
    return [check("broker_transport_options", "ok",
        f"visibility_timeout = {timeout:g} s is above the longest time limit ({longest:g} s, {where})", default=None)]


SHARED_RESULT_STORES = (
    "redis", "rediss", "sentinel", "db+", "django-db", "django-cache", "cache+memcached", "cache+pylibmc", "mongodb",
    "s3", "dynamodb", "elasticsearch", "couchbase", "couchdb", "cassandra", "azureblockblob", "gs", "arangodb", "consul",
)


def _result_store(config: CeleryConfig, check) -> ConfigCheck:
    """Where task results go: a store every worker reads (what chords and AsyncResult checks need), or not."""
    backend = config.value("result_backend")
    if "result_backend" not in config.in_effect or config.in_effect["result_backend"][1].source == "None":
        return check("result_backend", "info", "none: results are not stored, so no worker can tell from a "
                     "result that a task already ran (chords and AsyncResult checks need a shared result backend)")
    if not isinstance(backend, str):
        return check("result_backend", "info", "computed, so whether every worker shares it cannot be read here")
    scheme = backend.split("://", 1)[0].lower()
    if scheme.startswith("cache+memory") or scheme == "cache":
        return check("result_backend", "warning", "an in-memory cache: each worker process keeps its own results, "
                     "so a chord or a check of a task's result on another worker does not see them")
    if scheme == "rpc":
        return check("result_backend", "info", "rpc: results are sent back to the caller as messages and not kept "
                     "where another worker could read them")
    if scheme.startswith(SHARED_RESULT_STORES) or backend.startswith(SHARED_RESULT_STORES):
        return check("result_backend", "ok", "a store every worker shares")
    return check("result_backend", "info", f"{scheme or backend}: whether every worker shares it is not known to idem-fix")


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
