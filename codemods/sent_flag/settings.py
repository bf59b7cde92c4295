"""sent-flag's options: the command line wins over `[tool.idem-fix]`, which wins over the defaults.

- mode: claim-before (a claim before the task's first side effect: at most once) or mark-after (a check
  before, a mark after the send: at least once);
- store: cache (a claim per message, keyed on the task's own request id, in Django's cache) or field (a
  permanent flag per object, a BooleanField added to the model);
- sent-flag-names (task -> field name), sent-flag-helpers (more send helpers, as name globs),
  sent-flag-cache-timeout (seconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..engine.project import Project
from ..engine.rules import Options

MODES = ("claim-before", "mark-after")
STORES = ("cache", "field")
DEFAULT_TIMEOUT = 60 * 60 * 24 * 7  # a week: far longer than any broker redelivers a message
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Settings:
    mode: str = "claim-before"
    store: str = "cache"
    names: dict[str, str] = field(default_factory=dict)
    helpers: tuple[str, ...] = ()
    timeout: int = DEFAULT_TIMEOUT
    mode_chosen: bool = False  # said on the command line or in pyproject.toml (else per task: see claim.py)
    error: str = ""


def read_settings(project: Project, options: Options) -> Settings:
    section = project.config.section
    settings = Settings()
    problems = []

    def choose(key: str, option: str, allowed: tuple[str, ...]) -> tuple[str, bool]:
        cli = getattr(options, option, None)
        value = cli if cli is not None else section.get(key)
        if value is None:
            return allowed[0], False
        if value not in allowed:
            problems.append(f'{key} = {value!r} is not one of {", ".join(allowed)}')
            return allowed[0], False
        return value, True

    settings.mode, settings.mode_chosen = choose("sent-flag-mode", "flag_mode", MODES)
    settings.store, _ = choose("sent-flag-store", "flag_store", STORES)
    names = section.get("sent-flag-names", {})
    if not isinstance(names, dict) or not all(isinstance(v, str) and _IDENTIFIER.match(v) for v in names.values()):
        problems.append('sent-flag-names maps a task to a field name, e.g. "send_host_welcome_email" = "welcome_email_sent"')
    else:
        settings.names = dict(names)
    helpers = section.get("sent-flag-helpers", [])
    if not isinstance(helpers, list) or not all(isinstance(h, str) for h in helpers):
        problems.append('sent-flag-helpers is a list of function names or globs, e.g. ["deliver_*"]')
    else:
        settings.helpers = tuple(helpers)
    timeout = section.get("sent-flag-cache-timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        problems.append("sent-flag-cache-timeout is a number of seconds")
    else:
        settings.timeout = timeout
    if problems:
        settings.error = "[tool.idem-fix] in pyproject.toml: " + "; ".join(problems)
    return settings
