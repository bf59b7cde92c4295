"""Which at-least-once settings a project lacks, and whether each can be written where Celery reads it.

Safe: the setting is missing and the configuration has one certain home (the module holding the settings
in effect, the DJANGO_SETTINGS_MODULE the app sets, or the one module config_from_object names), or it is
written there as a plain literal. Unsafe: it overrides a value the project chose (a prefetch of 8, a
shorter visibility_timeout). Manual: the value comes from the environment, is computed, or is written
in modules no code chooses between.
"""

from __future__ import annotations

import dataclasses
import math

from ..engine.celery_checks import DEFAULT_VISIBILITY_TIMEOUT
from ..engine.celery_config import REDELIVERING, CeleryConfig, Home, dict_display_keys, longest_countdown, longest_time_limit, transports
from ..engine.levels import Applicability, Risk
from ..engine.project import Project
from ..engine.rules import Finding, Options
from ..engine.source import one_line
from .plans import Insert, MergeKey, SetValue

NAME = "acks-late-config"
TWELVE_HOURS = 12 * 60 * 60  # the visibility_timeout written when no task says how long it may take

WANTED = {  # Celery name -> (value, risk when it is not so, what it does)
    "task_acks_late": (True, Risk.HIGH, "acknowledge a task after it runs, so a worker killed mid-task does not lose it"),
    "task_reject_on_worker_lost": (True, Risk.HIGH, "deliver a task again when its worker process is killed (else it is acknowledged as failed)"),
    "worker_prefetch_multiplier": (1, Risk.MODERATE, "reserve one message per worker process, so a dying worker sends back only the task it was running"),
}


def detect(project: Project, options: Options) -> list[Finding]:
    if not project.tasks:
        return []
    config = project.celery_config()
    home, doubt = config.home()
    visibility = _visibility(project, config, home, doubt)
    settings = {name: _setting(project, config, home, doubt, name) for name in WANTED}
    if _acks_late_before_its_timeout(settings["task_acks_late"], visibility):
        _hold_back(settings.values(), config, visibility)
    acks_late, reject = settings["task_acks_late"], settings["task_reject_on_worker_lost"]
    if acks_late is not None and acks_late.applicability is Applicability.MANUAL and reject is not None and reject.plan is not None:
        settings["task_reject_on_worker_lost"] = dataclasses.replace(
            reject, applicability=Applicability.MANUAL, plan=None,
            reason="it acts only together with task_acks_late, which is left to a person here")
    return [f for f in [*settings.values(), visibility] if f is not None]


def _left_off_in_a_comment(project: Project, config: CeleryConfig, home: Home, name: str) -> tuple[str, int, str] | None:
    """(module, line, comment) of a comment in the modules holding the Celery settings that names the setting
    (`# task_acks_late=True,` under `# we disabled task_acks_late because ...`): a setting the project left off
    on purpose, or turned off and kept the reason for."""
    key = name.split("_", 1)[1] if name.startswith(("task_", "worker_")) else name
    modules = dict.fromkeys([home.module, *(m for m, _ in config.written), *(app.module for app in config.apps)])
    for module in modules:
        source = project.source(module)
        for number, line in enumerate(source.text.splitlines() if source is not None else (), start=1):
            comment = line.partition("#")[2]
            if key in comment.lower():
                return module, number, comment.strip()
    return None


def _acks_late_before_its_timeout(acks_late: Finding | None, visibility: Finding | None) -> bool:
    """Acknowledging late would be written while a broker that redelivers by timeout keeps a visibility_timeout
    this fix does not set (the options dict is built elsewhere, say): a task running longer than that timeout
    would be delivered to a second worker while the first still runs it."""
    return (acks_late is not None and acks_late.applicability is Applicability.SAFE
            and visibility is not None and visibility.applicability is not Applicability.SAFE)


def _hold_back(findings, config: CeleryConfig, visibility: Finding) -> None:
    """The settings go in together or not at all: plain `apply` writes none of them, `--unsafe-fixes` all."""
    shown = ", ".join(sorted(transports(config) & REDELIVERING))
    for finding in (f for f in findings if f is not None and f.applicability is Applicability.SAFE):
        finding.applicability = Applicability.UNSAFE
        finding.reason = (f"the broker ({shown}) delivers an unacknowledged message again after its visibility_timeout, "
                          f"which this fix does not write ({visibility.reason}): set it above what tasks take first, or a "
                          "task that runs longer is delivered a second time while it runs")


def _setting(project: Project, config: CeleryConfig, home: Home | None, doubt: str, name: str) -> Finding | None:
    wanted, risk, does = WANTED[name]
    if name in config.in_effect:
        module, setting = config.in_effect[name]
        problem = _cannot_write(config, name, setting)
        if _right(setting, wanted) and not problem:
            return None
        where = _finding(project, module, setting.line, risk)
        if problem:
            return where(f"{setting.written} = {setting.source}: set it to {wanted!r} to {does}", Applicability.MANUAL, problem)
        plan = SetValue(setting.statement_line, setting.written, name, repr(wanted))
        chosen = name == "worker_prefetch_multiplier" and isinstance(setting.value, int) and setting.value > 1
        if chosen:
            return where(f"{setting.written} = {setting.source} -> {wanted!r}: {does}", Applicability.UNSAFE,
                         f"the project chose {setting.value}; 1 suits long tasks, a bigger value keeps short tasks flowing: review",
                         plan)
        return where(f"{setting.written} = {setting.source} -> {wanted!r}: {does}", Applicability.SAFE,
                     f"a literal in the module Celery reads ({project.display(module)})", plan)
    if home is None:
        return _finding(project, _nowhere(project, config), 1, risk)(f"{name} is not set: set it to {wanted!r} to {does}", Applicability.MANUAL, doubt)
    spelled = home.spelling(name)
    said = _left_off_in_a_comment(project, config, home, name)
    if said is not None:
        module, line, comment = said
        return _finding(project, module, line, risk)(
            f"{spelled} is not set: set it to {wanted!r} to {does}", Applicability.MANUAL,
            f"a comment here names it (`{one_line(comment, 70)}`): it may be off on purpose, so read why before turning it on")
    plan = Insert(_after(home), _class_of(home), spelled, repr(wanted), name)
    return _finding(project, home.module, plan.after or 1, risk)(
        f"{spelled} = {wanted!r} (not set): {does}", Applicability.SAFE, _home_reason(project, config, home), plan)


def _visibility(project: Project, config: CeleryConfig, home: Home | None, doubt: str) -> Finding | None:
    """A Redis / SQS visibility_timeout above the longest task time limit and countdown, 12 h when none is
    known; never for a broker that does not redeliver by timeout (RabbitMQ)."""
    if not transports(config) & REDELIVERING:
        return None
    limit, _ = longest_time_limit(project, config.in_effect)
    countdown, _ = longest_countdown(project)
    known = max((x for x in (limit, countdown) if x is not None), default=None)
    needed = TWELVE_HOURS if known is None else max(TWELVE_HOURS, 3600 * (math.floor(known / 3600) + 1))
    why = (f"above the longest time limit / countdown ({known:g} s)" if known is not None else "12 h: no task says how long it may take")
    computed = [s for n in ("task_time_limit", "task_soft_time_limit") for _, s in [config.in_effect.get(n, (None, None))]
                if s is not None and not isinstance(s.value, (int, float))]
    if computed:
        why = (f"12 h, a bound the time limit read at run time ({computed[0].written} = {one_line(computed[0].source, 50)}) "
               f"should stay below{f'; the longest known is {known:g} s' if known is not None else ''}")
    does = f"visibility_timeout = {needed} ({why}), so a message still running or waiting for its countdown is not delivered a second time"
    options = config.in_effect.get("broker_transport_options")
    if options is None:
        if home is None:
            return _finding(project, _nowhere(project, config), 1, Risk.HIGH)(f"broker_transport_options is not set: {does}", Applicability.MANUAL, doubt)
        spelled = home.spelling("broker_transport_options")
        plan = Insert(_after(home), _class_of(home), spelled, f'{{"visibility_timeout": {needed}}}', "broker_transport_options")
        return _finding(project, home.module, plan.after or 1, Risk.HIGH)(
            f"{spelled} = {{'visibility_timeout': {needed}}} (not set, so {DEFAULT_VISIBILITY_TIMEOUT} s): {does}",
            Applicability.SAFE, _home_reason(project, config, home), plan)
    module, setting = options
    where = _finding(project, module, setting.line, Risk.HIGH)
    current = setting.value.get("visibility_timeout") if isinstance(setting.value, dict) else None
    if isinstance(current, (int, float)) and not isinstance(current, bool) and (known is None or current > known):
        return None  # the project chose it, and nothing known runs or waits longer
    keys = dict_display_keys(setting.source)
    problem = _cannot_write(config, "broker_transport_options", setting)
    if keys is not None and "visibility_timeout" not in keys and problem.startswith("read from $"):
        problem = ""  # a dict written here whose other values come from the environment: the key is merged beside them
    elif not problem and keys is None:
        problem = f"its dict is built elsewhere ({setting.source}): add the key where it is written"
    if problem or (not isinstance(setting.value, dict) and (keys is None or "visibility_timeout" in keys)):
        return where(f"{setting.written} = {one_line(setting.source, 60)}: {does}", Applicability.MANUAL, problem or "computed, so it cannot be merged into")
    plan = MergeKey(setting.statement_line, setting.written, "visibility_timeout", str(needed))
    if current is not None:
        return where(f"{setting.written}: visibility_timeout {current:g} -> {needed}: {does}", Applicability.UNSAFE,
                     f"the project chose {current:g} s, below what its tasks take: review", plan)
    return where(f"{setting.written} += visibility_timeout {needed}: {does}", Applicability.SAFE,
                 f"merged into the literal dict Celery reads ({project.display(module)})", plan)


def _right(setting, wanted) -> bool:
    return setting.value == wanted and type(setting.value) is type(wanted) and not setting.note


def _cannot_write(config: CeleryConfig, name: str, setting) -> str:
    """Why the setting in effect must not be rewritten where it is written, or ""."""
    if setting.note.startswith("from $"):
        return f"read {setting.note}: set it where the workers' environment is configured, or write the value here"
    others = set(config.overridden_elsewhere(name))
    elsewhere = [(m, s) for m, s in config.writers(name) if m in others and (s.value != setting.value or s.note)]
    if elsewhere:
        shown = ", ".join(f"{s.source} in {config.project.display(m)}:{s.line}" for m, s in elsewhere)
        return f"also set to {shown}: which settings module a deployment loads is not in the code, set each one"
    if setting.value is None and name != "broker_transport_options":
        return "computed, so the tool cannot tell what it holds"
    return ""


def _after(home: Home) -> int:
    return home.after.statement_line if home.after else 0


def _class_of(home: Home) -> str:
    block = home.after.block if home.after else ""
    return block[len("class "):] if block.startswith("class ") else ""


def _home_reason(project: Project, config: CeleryConfig, home: Home) -> str:
    shown = project.display(home.module)
    if home.after:
        return f"written beside the Celery settings in effect ({shown}:{home.after.statement_line})"
    return f"written at the end of {shown}, the settings module the Celery app reads"


def _nowhere(project: Project, config: CeleryConfig) -> str:
    """Where a finding with no settings module to name is shown: the Celery app, else the first task."""
    return config.apps[0].module if config.apps else project.tasks[0].key.module


def _finding(project: Project, module: str, line: int, risk: Risk):
    def make(message: str, applicability: Applicability, reason: str, plan=None) -> Finding:
        return Finding(NAME, module, project.display(module), line, risk, message, applicability, reason, plan)

    return make
