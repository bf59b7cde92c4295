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
        decorators = section.get("task-decorators", [])
        if not isinstance(decorators, list) or not all(isinstance(d, str) for d in decorators):
            raise ConfigError(f"{path}: [tool.idem-fix] task-decorators is a list of dotted names")
        return cls(lookups=dict(lookups), task_decorators=list(decorators), path=path)

    def lookup_for(self, label: str, name: str) -> list[str] | None:
        return self.lookups.get(label) or self.lookups.get(name)
