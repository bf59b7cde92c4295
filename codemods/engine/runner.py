"""One run of the engine, shared by `apply` and `pr`: find files, index the project, then rule by rule\ndetect and rewrite, each step on the previous one's output. (`audit` indexes the same way, see assess.)"""

from __future__ import annotations

import collections
import gc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .config import Config
from .cache_dir import cache_dir_for
from .files import Files, find_files
from .levels import Applicability
from .loader import Cache
from .project import ParseError, Project
from .pool import parallel_map
from .rules import Finding, Options, Rule
from .writes import FileChange


@dataclass
class Run:
    project: Project  # the last step's index
    findings: list[Finding]
    changes: list[FileChange] = field(default_factory=list)
    options: Options = field(default_factory=Options)

    @property
    def errors(self) -> list[ParseError]:
        return errors_in_targets(self.project)


def errors_in_targets(project: Project) -> list[ParseError]:
    """Files that could not be read or parsed, among those the user named (not the context around them)."""
    targets = getattr(project, "targets", None)
    return [e for e in project.errors if targets is None or e.absolute in targets]


def index(
    paths: list[Path], options: Options, config: Config, use_cache: bool = True, jobs: int = 1, on_progress=None,
    overlay: dict | None = None, files: Files | None = None, cache: Cache | None = None,
):
    """The project around `paths` (see `context_root`), and the files inside `paths` themselves."""
    files = files or find_files(paths, config)
    project = Project(
        files.all,
        config,
        load_everything=options.scope == "all",
        cache_dir=cache_dir_for(files.roots) if use_cache else None,
        jobs=jobs,
        on_progress=on_progress,
        overlay=overlay or {},
        cache=cache,
    )
    project.targets = files.targets
    return project, files.targets


@dataclass(frozen=True)
class Step:
    """One rule's pass over the project: its findings, and the plans of those it writes."""

    rule: Rule
    writes: frozenset[Applicability]


def steps_for(rules: list[Rule], unsafe_fixes: bool, unsafe_apart: bool = False) -> list[Step]:
    """`apply`: a step per rule, writing its safe fixes (and unsafe ones when asked). With `unsafe_apart`
    (`pr`: a commit per step), the safe fixes of every rule first, then each rule's unsafe ones. Rules
    marked `last` (the Celery configuration) come after all the others."""
    if any(r.last for r in rules) and not all(r.last for r in rules):
        first, then = [r for r in rules if not r.last], [r for r in rules if r.last]
        return steps_for(first, unsafe_fixes, unsafe_apart) + steps_for(then, unsafe_fixes, unsafe_apart)
    safe = frozenset({Applicability.SAFE})
    unsafe = frozenset({Applicability.UNSAFE})
    if not unsafe_fixes:
        return [Step(rule, safe) for rule in rules]
    if unsafe_apart:
        return [Step(rule, safe) for rule in rules] + [Step(rule, unsafe) for rule in rules]
    return [Step(rule, safe | unsafe) for rule in rules]


def run_rules(
    paths: list[Path], steps: list[Step], options: Options, config: Config, use_cache: bool = True, jobs: int = 1,
    after_step: Callable[[Step, list[Finding], list[FileChange], Project], dict[Path, bytes]] | None = None,
    on_progress: Callable[[int, int], None] | None = None, on_stage: Callable[[str], None] | None = None,
) -> Run:
    """The steps in order, each on the previous ones' output (re-indexed, so its positions are right);
    nothing is written to disk. `after_step` sees each step's findings and changes and may hand back
    the files' new contents when it changed them further (`pr` formats them): the next step reads those.
    The run's findings are each rule's from its first step. `on_progress` sees the files read, `on_stage`
    what the run is doing (for a status line on long runs)."""
    stage = on_stage or (lambda text: None)
    files = find_files(paths, config)
    project, _ = index(paths, options, config, use_cache, jobs, on_progress, files=files)
    overlay: dict[Path, bytes] = {}
    changes: dict[Path, FileChange] = {}
    findings: dict[str, list[Finding]] = {}
    indexed = 0  # len(overlay changes) the current index has seen
    for step in steps:
        if overlay and indexed != _version(overlay):
            stage(f"reading the project again with {_files(len(overlay))} rewritten")
            cache = project.loader.cache
            project = None  # an index holds reference cycles, and the command line runs without the cyclic collector
            gc.collect()
            project, _ = index(paths, options, config, use_cache, jobs, overlay=dict(overlay), files=files, cache=cache)
            indexed = _version(overlay)
        stage(f"{step.rule.name}: looking for sites in {_files(len(files.all))}")
        found = sorted(_detect(step.rule, project, options), key=lambda f: (f.path, f.line))
        findings.setdefault(step.rule.name, found)
        stage(f"{step.rule.name}: rewriting {_files(len({f.module for f in found if f.applicability in step.writes}))}")
        done = _rewrite(project, step, found, overlay)
        for change in done:
            total = changes.setdefault(change.path, FileChange(change.path, change.old, change.old))
            total.error = total.error or change.error
            if not change.error:
                total.new = change.new
                for rule, plans in change.applied.items():
                    total.applied.setdefault(rule, []).extend(plans)
                if change.new != change.old:
                    overlay[change.path] = change.new
        if after_step is not None:
            overlay.update(after_step(step, found, done, project) or {})
    project.loader.cache.save()  # with what the rules made the index load
    every = sorted((f for found in findings.values() for f in found), key=lambda f: (f.path, f.line, f.rule))
    return Run(project, every, [changes[p] for p in sorted(changes)], options)


def _files(count: int) -> str:
    return f"{count} file{'s' * (count != 1)}"


def _version(overlay: dict[Path, bytes]) -> int:
    """Changes when the overlay does: the next step then needs a new index."""
    return hash(tuple((path, hash(data)) for path, data in overlay.items()))


def _detect(rule: Rule, project: Project, options: Options) -> list[Finding]:
    return [f for f in rule.detect(project, options) if _in_targets(f, project) and options.wants(f)]


def _in_targets(finding: Finding, project: Project) -> bool:
    return project.source_of(finding.module).path in project.targets


_REWRITE_POOL_THRESHOLD = 8  # files: each costs a libcst parse and metadata pass (~0.1-0.3 s)


def _rewrite_job(job) -> FileChange:
    """One file's rewrite (in a worker process when there are many)."""
    from .edits import rewrite_file  # libcst: only for runs that rewrite

    path, rule, plans, current = job
    try:
        return rewrite_file(path, [(rule, plans)], current)
    except OSError as error:
        return FileChange(path, b"", b"", error=f"cannot read: {error.strerror or error}")


def _rewrite(project: Project, step: Step, findings: list[Finding], overlay: dict[Path, bytes]) -> list[FileChange]:
    """New contents for the files with plans this step writes; the rule's files together or not at all
    when it asks for that (a field in models.py and its use in tasks.py)."""
    by_module: dict[str, list] = collections.defaultdict(list)
    for finding in findings:
        if finding.applicability in step.writes:
            by_module[finding.module].append(finding.plan)
    paths = {module: project.source_of(module).path for module in by_module}
    work = [(paths[m], step.rule, by_module[m], overlay.get(paths[m])) for m in sorted(by_module, key=lambda m: str(paths[m]))]
    results = list(parallel_map(_rewrite_job, work, project.jobs, _REWRITE_POOL_THRESHOLD))
    broken = [c for c in results if c.error]
    if broken and step.rule.all_or_nothing:
        for change in results:
            if not change.error:
                change.error = f"{step.rule.name} left this file unchanged because {broken[0].path.name} could not be rewritten"
                change.new, change.applied = change.old, {}
    module_of = {path: module for module, path in paths.items()}
    written = [(module_of[c.path], plan) for c in results if not c.error for plan in c.applied.get(step.rule.name, [])]
    for path, data in step.rule.companion_files(project, written) if written else ():
        if path not in overlay and not path.exists():
            results.append(FileChange(path, b"", data, created=True))
    return results
