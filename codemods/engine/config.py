"""`[tool.idem-fix]` in pyproject.toml: what a project tells the tool about itself."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class ConfigError(Exception):
    pass


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
        lookups = section.get("lookups", {})
        if not isinstance(lookups, dict) or not all(
            isinstance(v, list) and all(isinstance(f, str) for f in v) for v in lookups.values()
        ):
            raise ConfigError(f'{path}: [tool.idem-fix.lookups] maps a model to a list of field names, e.g. "payments.Payout" = ["account", "period"]')
        lists = {}
        for key in ("task-decorators", "external-clients", "src"):
            value = section.get(key, [])
            if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
                example = '["src"]' if key == "src" else '["payments.gateway"]'
                what = "folders" if key == "src" else "names"
                raise ConfigError(f"{path}: [tool.idem-fix] {key} is a list of {what}, e.g. {key} = {example}")
            lists[key] = list(value)
        return cls(
            lookups=dict(lookups),
            task_decorators=lists["task-decorators"],
            external_clients=lists["external-clients"],
            src=[(path.parent / folder).absolute() for folder in lists["src"]],
            section=dict(section),
            path=path,
        )

    def lookup_for(self, label: str, name: str) -> list[str] | None:
        return self.lookups.get(label) or self.lookups.get(name)
