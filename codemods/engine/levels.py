"""The scales every finding is placed on: how much a redelivery hurts (`Risk`) and what `apply` may do
about it (`Applicability`, ruff's model). Plain strings underneath, so reports and JSON read them as is;
small and import-free, because a warm audit that reuses the last report loads it."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class _Level(str, enum.Enum):
    """A member is its value wherever text is made (`f"{risk}"`, `str(risk)`, JSON)."""

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__


class Risk(_Level):
    LOW = "low"  # idempotent by nature, or already guarded
    MODERATE = "moderate"  # duplicate notifications or non-financial rows, fan-out, repeated paid calls
    HIGH = "high"  # wrong state in an external system, a second full import, a half-done run
    CRITICAL = "critical"  # money moved or financial records duplicated, credentials changed

    @property
    def rank(self) -> int:
        return RISKS.index(self)


RISKS: tuple[Risk, ...] = tuple(Risk)


def highest(risks) -> Risk:
    return max((Risk(r) for r in risks), key=RISKS.index, default=Risk.LOW)


class Applicability(_Level):
    SAFE = "safe"  # proven at this site by facts the tool read: plain `apply` writes it
    UNSAFE = "unsafe"  # a best guess with named evidence: written only with `--unsafe-fixes`
    MANUAL = "manual"  # no rewrite: the finding says what a person must decide


class Status(_Level):
    """What became of a site, from its applicability: a fix `apply` can write, a person's call, or nothing
    to do."""

    FIX = "fix"  # safe or unsafe: a plan
    MANUAL = "manual"
    OK = "ok"  # left alone: already safe


@dataclass(frozen=True)
class Refusal:
    """No rewrite at this site: why (one line a person can act on), and whether the site is already safe."""

    reason: str
    already_safe: bool = False
