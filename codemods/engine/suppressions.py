"""Suppression comments that silence nothing: `# idem-fix: ignore[code]` on a line where no side effect of
that code (nor a site of the rule it names) is, on a `def` whose function has none, or `ignore-file[...]`
in a file that has none. Only modules the audit analysed are judged; a comment left over after the code
it silenced moved or was fixed is then reported, as ruff reports an unused `noqa`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .source import WHOLE_FILE

if TYPE_CHECKING:
    from .project import Project

# The side effects each rule looks at: a rule's name in a suppression silences its sites.
RULE_KINDS = {
    "create-to-get-or-create": {"db_create"},
    "atomic-multi-create": {"db_create", "db_save", "db_update", "db_delete"},
    "guard-external-call": {"external"},
    "sent-flag": {"send"},
}


@dataclass(frozen=True)
class Unused:
    path: str
    line: int  # 0: an ignore-file comment
    code: str


def unused_suppressions(project: Project, modules: list[str]) -> list[Unused]:
    unused = []
    for module in modules:
        summary = project.module(module)
        if summary is None or not summary.suppressions:
            continue
        source = project.source(module)
        functions = [*summary.functions.values(), *(m for c in summary.classes.values() for m in c.methods.values())]
        for line, codes in sorted(summary.suppressions.items()):
            for code in sorted(codes):
                if not any(_silences(code, line, function, source) for function in functions):
                    unused.append(Unused(project.display(module), line, code))
    return unused


def _silences(code: str, line: int, function, source) -> bool:
    """Whether a suppression of `code` on `line` covers something in `function`."""
    whole = line == WHOLE_FILE or line == function.line
    for effect in function.effects:
        first = effect.statement - 1 if source is not None and source.comment_only(effect.statement - 1) else effect.statement
        if (whole or first <= line <= effect.end_line) and _matches(code, effect.kind):
            return True
    if code in ("*", "not-followed"):
        return any(whole or called == line for called, _, _ in function.unfollowed)
    return False


def _matches(code: str, kind: str) -> bool:
    return code == "*" or code == kind.replace("_", "-") or kind in RULE_KINDS.get(code, ())
