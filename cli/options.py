"""Option values shared by the commands that run rules (`apply`, `pr`)."""

from __future__ import annotations

import enum


class Scope(str, enum.Enum):
    reachable = "reachable"
    all = "all"


class FlagMode(str, enum.Enum):
    claim_before = "claim-before"
    mark_after = "mark-after"


class FlagStore(str, enum.Enum):
    field = "field"
    cache = "cache"
