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


class UnknownRule(ValueError):
    pass


def rule_names(asked: list[str], known: list[str]) -> list[str]:
    """The rules `--rule` names, in order, each once: repeated options, comma lists (`-r a,b`) and `all`
    (every rule). Raises UnknownRule naming the ones that do not exist."""
    names: list[str] = []
    for option in asked:
        for name in (part.strip() for part in option.split(",")):
            if name:
                names.extend(known if name == "all" else [name])
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UnknownRule(f"unknown rule: {', '.join(dict.fromkeys(unknown))}. Rules: {', '.join(known)}, or all")
    return list(dict.fromkeys(names))
