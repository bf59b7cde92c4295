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
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from . import facts
from .levels import Applicability, Risk, Status
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
    """One site a rule looked at, and what `apply` may do there (see `levels.Applicability`)."""

    rule: str  # the rule whose ground it is, also when only a person can fix it
    module: str  # dotted module, to group edits per file
    path: str  # as shown to users
    line: int
    risk: Risk
    message: str  # what the site does and what the fix is (or why there is none)
    applicability: Applicability | None  # None: left alone, already safe
    reason: str = ""  # one line: the proof, the guess's evidence, or what a person must decide
    plan: object | None = None  # what `transform` rewrites, for safe and unsafe fixes
    task: str = ""  # the task that reaches the code
    covers: tuple = ()  # the effects (facts.Effect) a finding about several writes is about, to read them per task

    def __post_init__(self) -> None:
        self.risk = Risk(self.risk)
        if (self.plan is None) != (self.applicability in (None, Applicability.MANUAL)):
            raise ValueError(f"{self.rule}: a {self.applicability or 'left-alone'} finding {'needs' if self.plan is None else 'has no use for'} a plan")

    @property
    def status(self) -> Status:
        if self.applicability is None:
            return Status.OK
        return Status.MANUAL if self.applicability is Applicability.MANUAL else Status.FIX

    def written_by(self, unsafe_fixes: bool) -> bool:
        """Whether `apply` (with or without `--unsafe-fixes`) writes this site."""
        return self.applicability is Applicability.SAFE or (unsafe_fixes and self.applicability is Applicability.UNSAFE)

    def __str__(self) -> str:
        label = f" ({self.applicability})" if self.applicability else ""
        reason = f" [{self.reason}]" if self.reason else ""
        return f"{self.path}:{self.line}: [{self.rule}]{label} {self.message}{reason}"


@dataclass
class Options:
    scope: str = "reachable"  # or "all"
    flag_mode: str | None = None  # sent-flag: "claim-before" or "mark-after"; None: pyproject, else per task
    flag_store: str | None = None  # sent-flag: "cache" or "field"; None: pyproject, else cache
    unsafe_fixes: bool = False  # write unsafe fixes too
    tasks: tuple[str, ...] = ()  # only findings in these tasks (full name or the function's name), --task
    min_risk: str | None = None  # only findings at or above this risk, --min-risk
    sites: frozenset[tuple[str, str, int]] | None = None  # only these (rule, path, line): apply --interactive

    def wants(self, finding: "Finding") -> bool:
        if self.sites is not None and (finding.rule, finding.path, finding.line) not in self.sites:
            return False
        if self.tasks and not any(finding.task == t or finding.task.endswith("." + t) for t in self.tasks):
            return False
        return self.min_risk is None or finding.risk.rank >= Risk(self.min_risk).rank


DOC_SECTIONS = ("What it does", "Why is this bad", "Example", "Use instead", "Fix safety")


@dataclass
class Doc:
    """A rule's README.md, the one place its prose lives: `explain` prints it, docs/rules/ copies it."""

    text: str
    sections: dict[str, str]

    @classmethod
    def read(cls, path: Path) -> "Doc":
        text = path.read_text(encoding="utf-8")
        sections: dict[str, str] = {}
        title = None
        for line in text.splitlines():
            if line.startswith("## "):
                title = line[3:].strip()
                sections[title] = ""
            elif title is not None:
                sections[title] += line + "\n"
        return cls(text, {name: body.strip() for name, body in sections.items()})

    def missing(self) -> list[str]:
        return [name for name in DOC_SECTIONS if not self.sections.get(name)]


@dataclass
class Rule:
    name: str
    summary: str
    applicabilities: tuple[Applicability, ...]  # what its findings can be, best first
    readme: Path = field(repr=False, default=None)
    # The files a fix touches belong together (a field added in models.py, its claim in tasks.py):
    # when one of them cannot be rewritten, none is.
    all_or_nothing: bool = False
    # Runs after every other rule (`pr` commits it last): the configuration that relies on the tasks' fixes.
    last: bool = False
    # Reads only the Celery settings: a few look-ups, but they load settings modules the task rules never
    # read, so it runs in this process before the others fork (a load in a worker would send them all
    # back to run serially, see pool.as_if_serial).
    config_only: bool = False

    @property
    def doc(self) -> Doc:
        return Doc.read(self.readme)

    def detect(self, project: Project, options: Options) -> list[Finding]:
        raise NotImplementedError

    def transform(self, module: cst.Module, plans: list) -> tuple[cst.Module, list]:
        """Rewrite `module` for `plans`; return the new module and the plans actually applied."""
        raise NotImplementedError

    def companion_files(self, project: Project, written: list[tuple[str, object]]) -> list[tuple[Path, bytes]]:
        """New files that go with the plans a step wrote, as (module, plan): a test that pins a fix.
        A file that already exists is never replaced."""
        return []


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
    here = {rule.name: rule.detect(project, options) for rule in rules if rule.config_only}
    others = [rule for rule in rules if not rule.config_only]
    if jobs > 1:
        project.reachable_functions()  # the lists every rule walks first: made once, not once per worker
    found = iter(as_if_serial([functools.partial(rule.detect, project, options) for rule in others], jobs, project.load_state))
    return [here[rule.name] if rule.config_only else next(found) for rule in rules]


def all_rules() -> dict[str, Rule]:
    """Every rule module in idem_fix.codemods, by rule name."""
    from idem_fix import codemods

    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(codemods.__path__):
        if info.name.startswith("_") or info.name == "engine":
            continue
        module = importlib.import_module(f"{codemods.__name__}.{info.name}")
        rule = getattr(module, "rule", None)
        if isinstance(rule, Rule):
            found[rule.name] = rule
    return dict(sorted(found.items()))
