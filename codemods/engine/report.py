"""The audit's report as plain data: what the cache keeps, what the formats render. Nothing here
imports the analysis, so a warm audit that reuses the last report loads only this."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

RISKS = ("low", "moderate", "high", "critical")


NOT_FOLLOWED = "not_followed"  # the kind of a finding on a call the analysis cannot follow


@dataclass
class ConfigCheck:
    """One Celery setting that decides redelivery, as the audit judged it (see celery_checks)."""

    setting: str
    value: object  # as written, or None when the project does not set it
    path: str
    line: int
    status: str  # "ok" | "info" | "warning" | "risk"
    message: str


@dataclass
class AuditFinding:
    rule: str  # the rule whose ground it is (also when a person must fix it), or "manual" when no rule covers it
    path: str
    line: int
    risk: str
    message: str
    applicability: str = "manual"  # safe | unsafe | manual | "" (already safe)
    reason: str = ""  # one line: the proof, the guess's evidence, or what a person must decide
    kind: str = ""  # the side effect: db_create, send, external, ...
    advice: str = ""  # what to do about it, for people
    fingerprint: str = ""  # stable across edits elsewhere in the file: code, path, the line's text (see baseline)

    @property
    def fixable(self) -> bool:
        """Plain `idem-fix apply` rewrites it."""
        return self.applicability == "safe"

    @property
    def code(self) -> str:
        """What `# idem-fix: ignore[...]`, a baseline and SARIF call it: its rule, or its kind when no rule
        covers it (db-create, send, credential, external, fanout, storage, cache, not-followed, ...)."""
        return self.rule if self.rule != "manual" else (self.kind or "side-effect").replace("_", "-")


@dataclass
class TaskReport:
    name: str
    qualname: str
    module: str
    path: str
    line: int
    risk: str
    findings: list[AuditFinding] = field(default_factory=list)
    not_followed: int = 0  # calls whose target the analysis cannot tell: then "low" is not "safe to run twice"
    acks_late: bool | None = None  # set by the task itself (decorator, alias or base class); None: the global setting

    @property
    def fully_analysed(self) -> bool:
        return not self.not_followed


@dataclass
class Report:
    version: str
    tasks: list[TaskReport]
    config: list[ConfigCheck]
    files: int
    errors: list = field(default_factory=list)
    # (path, line, code) of `# idem-fix: ignore[code]` comments that silence nothing (line 0: ignore-file)
    unused_suppressions: list[tuple[str, int, str]] = field(default_factory=list)
    # (path, line, codes, reason) of every `# idem-fix: ignore[...] -- reason` in the analysed code: accepted risks
    accepted: list[tuple[str, int, str, str]] = field(default_factory=list)
    date: str = ""  # when the analysis ran (YYYY-MM-DD)
    commit: str = ""  # the git commit of the audited tree, when it is one ("" else)
    # Texts rendered from this report, by renderer: cached with it (the JSON of a 7,000-task report
    # takes longer to write than the cached report takes to read).
    renderings: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    task_count: int = field(default=0, init=False)  # readable without unpickling the tasks

    def __post_init__(self) -> None:
        self.task_count = len(self.tasks)

    def __getstate__(self) -> dict:
        """The tasks are stored as one pickled blob, unpickled on first use: a warm audit that prints
        a cached rendering never reads them (for the benchmark's 7,000 tasks, 0.05-0.1 s saved)."""
        state = dict(self.__dict__)
        pickled = state.pop("_pickled_tasks", None)
        if "tasks" in state:  # read, or set, since the report was loaded
            pickled = pickle.dumps(state["tasks"], protocol=pickle.HIGHEST_PROTOCOL)
        state["tasks"] = pickled
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__["_pickled_tasks"] = self.__dict__.pop("tasks")

    def __getattr__(self, name: str):  # only for attributes not set: `tasks` of an unpickled report
        if name == "tasks" and "_pickled_tasks" in self.__dict__:
            self.tasks = pickle.loads(self.__dict__.pop("_pickled_tasks"))
            return self.tasks
        raise AttributeError(name)

    def count(self, risk: str) -> int:
        """Tasks at this risk; low ones only when fully analysed (see `partly_analysed`)."""
        return sum(1 for t in self.tasks if t.risk == risk and (risk != "low" or t.fully_analysed))

    def partly_analysed(self) -> list[TaskReport]:
        """Low-risk tasks that make calls the analysis cannot follow: not known to be safe to run twice."""
        return [t for t in self.tasks if t.risk == "low" and not t.fully_analysed]



def highest(risks) -> str:
    return max(risks, key=RISKS.index, default="low")
