"""What a rule is, what it reports, and how rules find each other.

A rule module in `codemods/` defines `rule = SomeRule()`; `all_rules()` imports every such module.
Rules detect on the project index (no parsing of their own) and rewrite with libcst only the files
their findings name.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from . import facts
from .pool import as_if_serial
from .project import FunctionKey, Project, Reach

if TYPE_CHECKING:  # rules import libcst themselves; reading the index does not need it
    import libcst as cst

MONEY_WORDS = ("payout", "payment", "invoice", "refund", "transfer", "charge", "split", "ledger", "transaction", "credit", "debit", "wallet")


def money_risk(*names: str) -> bool:
    lowered = " ".join(names).lower()
    return any(word in lowered for word in MONEY_WORDS)


@dataclass
class Finding:
    rule: str
    module: str  # dotted module, to group edits per file
    path: str  # as shown to users
    line: int
    risk: str
    message: str
    status: str  # "fix": rewritten by the rule | "manual": risky, not fixable safely | "ok": left alone, and why
    plan: object | None = None
    task: str = ""  # the task that reaches the code

    @property
    def fixable(self) -> bool:
        return self.plan is not None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.message}"


@dataclass
class Options:
    scope: str = "reachable"  # or "all"
    flag_mode: str | None = None  # sent-flag: "claim-before" or "mark-after"; None: pyproject, else claim-before
    flag_store: str | None = None  # sent-flag: "field" or "cache"; None: pyproject, else field


@dataclass
class Doc:
    what: str
    why: str
    example: str
    use_instead: str
    fix_safety: str


@dataclass
class Rule:
    name: str
    summary: str
    fix_safety: str  # "safe" | "unsafe" | "display-only", as ruff rates fixes
    default_risk: str
    doc: Doc = field(repr=False, default=None)
    # The files a fix touches belong together (a field added in models.py, its claim in tasks.py):
    # when one of them cannot be rewritten, none is.
    all_or_nothing: bool = False

    def detect(self, project: Project, options: Options) -> list[Finding]:
        raise NotImplementedError

    def transform(self, module: cst.Module, plans: list) -> tuple[cst.Module, list]:
        """Rewrite `module` for `plans`; return the new module and the plans actually applied."""
        raise NotImplementedError


def functions_in_scope(
    project: Project, options: Options, worth_a_look: Callable[[facts.Function], bool] | None = None
) -> Iterator[tuple[FunctionKey, facts.Function, Reach | None]]:
    """Functions a rule acts on: those a task reaches, or all of them with --scope all. `worth_a_look`,
    a cheap test on the summary, runs first: a big repository has tens of thousands of functions."""
    if options.scope == "all":
        for key, function in project.all_functions():
            if worth_a_look is None or worth_a_look(function):
                yield key, function, project.reachable(key)
        return
    for key, function, reach in project.reachable_functions():
        if worth_a_look is None or worth_a_look(function):
            yield key, function, reach


FORK_THRESHOLD = 100  # modules loaded: below this, forking workers costs more than the rules take


def detect_each(rules: list[Rule], project: Project, options: Options) -> list[list[Finding]]:
    """Each rule's findings, as if the rules ran one after another; on a big project they run side by
    side in forked workers (`--jobs`)."""
    jobs = project.jobs if len(project.modules) >= FORK_THRESHOLD else 1
    if jobs > 1:
        project.reachable_functions()  # the lists every rule walks first: made once, not once per worker
    return as_if_serial([functools.partial(rule.detect, project, options) for rule in rules], jobs, project.load_state)


def suppressed(rule: str, *marks: frozenset[str]) -> bool:
    return any(rule in mark or "*" in mark for mark in marks)


def all_rules() -> dict[str, Rule]:
    """Every rule module in idem_fix.codemods, by rule name."""
    from idem_fix import codemods

    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(codemods.__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{codemods.__name__}.{info.name}")
        rule = getattr(module, "rule", None)
        if isinstance(rule, Rule):
            found[rule.name] = rule
    return dict(sorted(found.items()))
