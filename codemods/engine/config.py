"""`[tool.idem-fix]` in pyproject.toml: what a project tells the tool about itself."""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


# [tool.idem-fix.effects] values (effects.DECLARABLE's keys; kept here so reading a config imports no analysis)
DECLARABLE = ("send", "credential", "external", "payment", "paid_call", "webhook", "read", "fanout", "none")


class ConfigError(Exception):
    pass


# Every key [tool.idem-fix] may hold (a misspelt one is an error, not silently ignored), and the keys of
# the tables named after a rule.
KEYS = frozenset({
    "lookups", "task-decorators", "external-clients", "src", "select", "exclude", "extend-exclude",
    "harmless-calls", "atomic-wrappers", "sent-flag-mode", "sent-flag-store", "sent-flag-names",
    "sent-flag-helpers", "sent-flag-cache-timeout", "effects",
})
RULE_TABLES = {"atomic-multi-create": frozenset({"loops"})}


@dataclass
class Config:
    # "payments.Payout" or "Payout" -> the kwargs that identify a row, overriding constraints
    lookups: dict[str, list[str]] = field(default_factory=dict)
    # project decorators that make tasks, beyond the ones recognised by themselves
    task_decorators: list[str] = field(default_factory=list)
    # names of project objects or modules that call external systems, beyond client/api/gateway/sdk/wrapper
    external_clients: list[str] = field(default_factory=list)
    # folders (relative to pyproject.toml) that are import roots, as in ruff: `src/pkg/tasks.py` is `pkg.tasks`
    src: list[Path] = field(default_factory=list)
    # rules `apply` and `pr` run when no --rule is given
    select: list[str] = field(default_factory=list)
    # gitignore-style patterns (relative to pyproject.toml) of files and folders never read: `exclude`
    # replaces the default folders left out (SKIPPED_DIRS in files.py), `extend-exclude` adds to them
    exclude: list[str] | None = None
    extend_exclude: list[str] = field(default_factory=list)
    # the whole [tool.idem-fix] table, for rule-specific keys
    section: dict = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def find(cls, start: Path) -> "Config":
        """The nearest pyproject.toml at or above `start`; an empty config when there is none."""
        start = start.absolute()
        for directory in [start, *start.parents]:
            candidate = directory / "pyproject.toml"
            if candidate.is_file():
                return cls.load(candidate)
        return cls()

    @classmethod
    def load(cls, path: Path) -> "Config":
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: cannot read [tool.idem-fix]: {error}") from error
        section = data.get("tool", {}).get("idem-fix", {})
        _check_keys(path, section)
        lookups = section.get("lookups", {})
        if not isinstance(lookups, dict) or not all(
            isinstance(v, list) and all(isinstance(f, str) for f in v) for v in lookups.values()
        ):
            raise ConfigError(f'{path}: [tool.idem-fix.lookups] maps a model to a list of field names, e.g. "payments.Payout" = ["account", "period"]')
        declared = section.get("effects", {})
        if not isinstance(declared, dict) or not all(isinstance(v, str) and v in DECLARABLE for v in declared.values()):
            raise ConfigError(
                f'{path}: [tool.idem-fix.effects] maps a callee (a glob) to what it does, one of {", ".join(DECLARABLE)}; '
                'e.g. "billing.gateway.*" = "payment"'
            )
        lists = {}
        for key in ("task-decorators", "external-clients", "src", "select", "exclude", "extend-exclude"):
            value = section.get(key, [])
            if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
                example = EXAMPLES.get(key, '["payments.gateway"]')
                what = {"src": "folders", "select": "rule names", "exclude": "patterns", "extend-exclude": "patterns"}.get(key, "names")
                raise ConfigError(f"{path}: [tool.idem-fix] {key} is a list of {what}, e.g. {key} = {example}")
            lists[key] = list(value)
        return cls(
            lookups=dict(lookups),
            task_decorators=lists["task-decorators"],
            external_clients=lists["external-clients"],
            src=[(path.parent / folder).absolute() for folder in lists["src"]],
            select=lists["select"],
            exclude=lists["exclude"] if "exclude" in section else None,
            extend_exclude=lists["extend-exclude"],
            section=dict(section),
            path=path,
        )

    @property
    def root(self) -> Path | None:
        return self.path.parent if self.path else None

    def lookup_for(self, label: str, name: str) -> list[str] | None:
        return self.lookups.get(label) or self.lookups.get(name)


EXAMPLES = {"src": '["src"]', "select": '["create-to-get-or-create", "sent-flag"]', "exclude": '["legacy/", "*_old.py"]',
            "extend-exclude": '["legacy/", "*_old.py"]'}


def _check_keys(path: Path, section: dict) -> None:
    """A key idem-fix does not know is an error naming it (and the key it was probably meant to be)."""
    for key, value in section.items():
        if key in KEYS:
            continue
        if key in RULE_TABLES and isinstance(value, dict):
            unknown = sorted(set(value) - RULE_TABLES[key])
            if unknown:
                raise ConfigError(f"{path}: unknown key {unknown[0]!r} in [tool.idem-fix.{key}]; it takes: {', '.join(sorted(RULE_TABLES[key]))}")
            continue
        close = difflib.get_close_matches(key, [*KEYS, *RULE_TABLES], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(KEYS))}"
        raise ConfigError(f"{path}: unknown key {key!r} in [tool.idem-fix]{hint}")
